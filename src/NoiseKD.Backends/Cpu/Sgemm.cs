using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NoiseKD.Backends.Cpu;

/// <summary>
/// Row-major single-precision GEMM, C = alpha*op(A)*op(B) + beta*C, after Goto and van de Geijn,
/// "Anatomy of high-performance matrix multiplication" (TOMS 2008), in the loop order of BLIS
/// (Van Zee and van de Geijn, TOMS 2015): a KC x NC slab of op(B) is packed once per (jc, pc) and
/// reused by every MC x KC block of op(A); inside, a register tile is updated from an MR-row sliver
/// of packed A and one or more NR-column slivers of packed B. Packing turns both transposes into
/// the same contiguous layout, so one micro-kernel serves all four cases. The register tile, MR and
/// the cache blocks KC and MC come from the vector path (<see cref="CpuVector"/>): 6x16 with 256-bit
/// vectors (<see cref="SgemmKernel256"/>), 8x48 with 512-bit ones (<see cref="SgemmKernel512"/>);
/// packed B keeps 16-column slivers on both, so every producer of packed B serves both.
/// </summary>
internal static unsafe class Sgemm
{
    // Width of a packed B sliver: one 16-float row per k, two ymm or one zmm register.
    internal const int NR = 16;

    // NC bounds the packed B slab (4 MiB at KC = 256) in L3; a multiple of every tile's width.
    internal const int NC = 4080;

    // Below this many multiply-adds the packing costs more than it saves.
    const long SmallWork = 32 * 1024;
    // Below this many multiply-adds a second thread costs more (wake-up, duplicate packing) than it saves.
    const long ParallelWork = 64 * 64 * 64;

    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda,
                                float* b, int ldb, float beta, float* c, int ldc)
        => Multiply(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, CpuParallel.Threads);

    /// <summary>As above with an explicit thread budget (1 = run on the calling thread).</summary>
    internal static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda,
                                  float* b, int ldb, float beta, float* c, int ldc, int threads)
    {
        if (m <= 0 || n <= 0) return;
        if (k <= 0 || alpha == 0)
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }
        long work = (long)m * n * k;
        if (work < SmallWork || !Vector256.IsHardwareAccelerated)
        {
            Reference(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        Multiply(transA, m, n, k, alpha, a, lda, new MatrixB(b, ldb, transB), beta, c, ldc, threads);
    }

    /// <summary>
    /// The blocked product with op(B) supplied by a packer instead of a stored matrix, so a producer
    /// such as im2col can write straight into the packed layout (no intermediate matrix to write and
    /// read back). Always takes the blocked path, whatever the size.
    /// </summary>
    internal static void Multiply<TB>(bool transA, int m, int n, int k, float alpha, float* a, int lda, TB b,
                                      float beta, float* c, int ldc, int threads) where TB : struct, IPackB
    {
        if (CpuVector.Wide) Multiply<TB, SgemmKernel512>(transA, m, n, k, alpha, a, lda, b, beta, c, ldc, threads);
        else Multiply<TB, SgemmKernel256>(transA, m, n, k, alpha, a, lda, b, beta, c, ldc, threads);
    }

    static void Multiply<TB, TK>(bool transA, int m, int n, int k, float alpha, float* a, int lda, TB b,
                                 float beta, float* c, int ldc, int threads) where TB : struct, IPackB where TK : struct, ISgemmKernel
    {
        if (m <= 0 || n <= 0) return;
        if (k <= 0 || alpha == 0)
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }
        long work = (long)m * n * k;
        int parts = work < ParallelWork ? 1 : Math.Max(1, threads);
        if (parts == 1)
        {
            Blocked<TB, TK>(transA, m, n, k, alpha, a, lda, b, 0, beta, c, ldc);
            return;
        }
        // Each part is an independent GEMM on contiguous rows (or columns) of C, so no two threads
        // write one cache line except at a chunk seam. Splitting rows makes every thread pack all of
        // op(B) (k*n extra copies), splitting columns all of op(A) (m*k): split the larger side.
        bool splitRows = m >= n;
        int extent = splitRows ? m : n, unit = splitRows ? TK.MR : TK.Columns;
        int chunk = (extent + parts - 1) / parts;
        chunk = (chunk + unit - 1) / unit * unit;
        parts = (extent + chunk - 1) / chunk;
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
        {
            int start = part * chunk, size = Math.Min(chunk, extent - start);
            if (splitRows)
            {
                float* aPart = transA ? a + start : a + (long)start * lda;
                Blocked<TB, TK>(transA, size, n, k, alpha, aPart, lda, b, 0, beta, c + (long)start * ldc, ldc);
            }
            else
            {
                Blocked<TB, TK>(transA, m, size, k, alpha, a, lda, b, start, beta, c + start, ldc);
            }
        });
    }

    /// <summary>
    /// The five Goto loops around the micro-kernel, on the calling thread, for columns
    /// [j0, j0 + n) of op(B) (c points at the first of them).
    /// </summary>
    static void Blocked<TB, TK>(bool transA, int m, int n, int k, float alpha, float* a, int lda, TB b, int j0,
                                float beta, float* c, int ldc) where TB : struct, IPackB where TK : struct, ISgemmKernel
    {
        var arena = PackArena.ForThisThread(RoundUp(Math.Min(m, TK.MC), TK.MR) * (long)Math.Min(k, TK.KC),
                                            RoundUp(Math.Min(n, NC), NR) * (long)Math.Min(k, TK.KC));
        for (int jc = 0; jc < n; jc += NC)
        {
            int nc = Math.Min(NC, n - jc);
            for (int pc = 0; pc < k; pc += TK.KC)
            {
                int kc = Math.Min(TK.KC, k - pc);
                b.Pack(pc, j0 + jc, kc, nc, arena.B);
                // Only the first slice of k applies beta; later slices add to what it left.
                float betaSlice = pc == 0 ? beta : 1f;
                for (int ic = 0; ic < m; ic += TK.MC)
                {
                    int mc = Math.Min(TK.MC, m - ic);
                    SgemmPack.A(transA, a, lda, ic, pc, mc, kc, TK.MR, arena.A);
                    TK.MacroKernel(mc, nc, kc, alpha, arena.A, arena.B, betaSlice, c + (long)ic * ldc + jc, ldc);
                }
            }
        }
    }

    /// <summary>
    /// Writes the valid mr x nr corner of a tile computed into scratch (rows tileColumns apart) to C:
    /// packing zero-padded the slivers, so edge tiles run the full kernel and only this touches C
    /// (no reads or writes past its edge).
    /// </summary>
    internal static void MergeEdge(int mr, int nr, float* tile, int tileColumns, float beta, float* c, int ldc)
    {
        for (int r = 0; r < mr; r++)
        {
            float* row = c + (long)r * ldc;
            float* t = tile + r * tileColumns;
            if (beta == 0f)
                for (int j = 0; j < nr; j++) row[j] = t[j];
            else
                for (int j = 0; j < nr; j++) row[j] = t[j] + beta * row[j];
        }
    }

    static int RoundUp(int x, int unit) => (x + unit - 1) / unit * unit;

    /// <summary>C = beta*C (k = 0 or alpha = 0); beta = 0 writes zeros without reading C.</summary>
    static void ScaleC(int m, int n, float beta, float* c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (long)i * ldc, n);
            if (beta == 0f) row.Clear();
            else if (beta != 1f)
                for (int j = 0; j < n; j++) row[j] *= beta;
        }
    }

    /// <summary>
    /// Plain dot-product GEMM: the path for small products (where packing does not pay) and for CPUs
    /// without 256-bit vectors. Also the in-library reference the blocked path is tested against.
    /// </summary>
    internal static void Reference(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda,
                                   float* b, int ldb, float beta, float* c, int ldc)
    {
        long aRow = transA ? 1 : lda, aCol = transA ? lda : 1;
        long bRow = transB ? 1 : ldb, bCol = transB ? ldb : 1;
        for (int i = 0; i < m; i++)
        {
            float* ai = a + i * aRow;
            float* ci = c + (long)i * ldc;
            for (int j = 0; j < n; j++)
            {
                float* bj = b + j * bCol;
                float sum = 0f;
                for (int p = 0; p < k; p++) sum += ai[p * aCol] * bj[p * bRow];
                ci[j] = beta == 0f ? alpha * sum : alpha * sum + beta * ci[j];
            }
        }
    }

    /// <summary>
    /// Supplies op(B) to the blocked loops: Pack writes rows [pc, pc + kc) and columns [jc, jc + nc)
    /// of op(B) in NR-column slivers, k-major (NR floats per k), the last sliver zero-padded.
    /// </summary>
    internal interface IPackB
    {
        void Pack(int pc, int jc, int kc, int nc, float* dst);
    }

    /// <summary>op(B) read from a stored row-major matrix.</summary>
    readonly struct MatrixB(float* b, int ldb, bool trans) : IPackB
    {
        public void Pack(int pc, int jc, int kc, int nc, float* dst) => SgemmPack.B(trans, b, ldb, pc, jc, kc, nc, dst);
    }

    /// <summary>
    /// Per-thread packing buffers, grown on demand and kept for the thread's lifetime so that steady
    /// state allocates nothing; native and 64-byte aligned so the kernel's loads never split a line.
    /// </summary>
    sealed class PackArena
    {
        [ThreadStatic] static PackArena? _current;

        public float* A { get; private set; }
        public float* B { get; private set; }
        long _aLength, _bLength;

        public static PackArena ForThisThread(long aLength, long bLength)
        {
            var arena = _current ??= new PackArena();
            arena.Ensure(aLength, bLength);
            return arena;
        }

        void Ensure(long aLength, long bLength)
        {
            if (aLength > _aLength) A = Grow(A, _aLength = aLength);
            if (bLength > _bLength) B = Grow(B, _bLength = bLength);
        }

        static float* Grow(float* old, long length)
        {
            if (old != null) NativeMemory.AlignedFree(old);
            return (float*)NativeMemory.AlignedAlloc((nuint)(length * sizeof(float)), 64);
        }

        ~PackArena()
        {
            if (A != null) NativeMemory.AlignedFree(A);
            if (B != null) NativeMemory.AlignedFree(B);
        }
    }
}
