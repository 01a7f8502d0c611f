using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NoiseKD.Backends.Cpu;

/// <summary>
/// Row-major single-precision GEMM, C = alpha*op(A)*op(B) + beta*C, after Goto and van de Geijn,
/// "Anatomy of high-performance matrix multiplication" (TOMS 2008), in the loop order of BLIS
/// (Van Zee and van de Geijn, TOMS 2015): a KC x NC slab of op(B) is packed once per (jc, pc) and
/// reused by every MC x KC block of op(A); inside, an MR x NR register tile is updated from an
/// MR-row sliver of packed A and an NR-column sliver of packed B. Packing turns both transposes into
/// the same contiguous layout, so one micro-kernel serves all four cases.
/// </summary>
internal static unsafe class Sgemm
{
    // Register tile: 6x16 = 12 ymm accumulators, 2 for the B row and 1 broadcast of A = 15 of the 16
    // AVX2 registers (the BLIS Haswell/Zen sgemm shape).
    internal const int MR = 6, NR = 16;

    // Cache blocks, BLIS's Zen values: a KC x NR sliver of B (16 KiB) stays in the 32 KiB L1 while the
    // MC x KC block of A (144 KiB) stays in the 512 KiB L2; NC bounds the packed B slab (4 MiB) in L3.
    internal const int KC = 256, MC = 144, NC = 4080;

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
            Blocked(transA, m, n, k, alpha, a, lda, b, 0, beta, c, ldc);
            return;
        }
        // Each part is an independent GEMM on contiguous rows (or columns) of C, so no two threads
        // write one cache line except at a chunk seam. Splitting rows makes every thread pack all of
        // op(B) (k*n extra copies), splitting columns all of op(A) (m*k): split the larger side.
        bool splitRows = m >= n;
        int extent = splitRows ? m : n, unit = splitRows ? MR : NR;
        int chunk = (extent + parts - 1) / parts;
        chunk = (chunk + unit - 1) / unit * unit;
        parts = (extent + chunk - 1) / chunk;
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
        {
            int start = part * chunk, size = Math.Min(chunk, extent - start);
            if (splitRows)
            {
                float* aPart = transA ? a + start : a + (long)start * lda;
                Blocked(transA, size, n, k, alpha, aPart, lda, b, 0, beta, c + (long)start * ldc, ldc);
            }
            else
            {
                Blocked(transA, m, size, k, alpha, a, lda, b, start, beta, c + start, ldc);
            }
        });
    }

    /// <summary>
    /// The five Goto loops around the micro-kernel, on the calling thread, for columns
    /// [j0, j0 + n) of op(B) (c points at the first of them).
    /// </summary>
    static void Blocked<TB>(bool transA, int m, int n, int k, float alpha, float* a, int lda, TB b, int j0,
                            float beta, float* c, int ldc) where TB : struct, IPackB
    {
        var arena = PackArena.ForThisThread(Math.Min(m, MC), Math.Min(n, NC), Math.Min(k, KC));
        for (int jc = 0; jc < n; jc += NC)
        {
            int nc = Math.Min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC)
            {
                int kc = Math.Min(KC, k - pc);
                b.Pack(pc, j0 + jc, kc, nc, arena.B);
                // Only the first slice of k applies beta; later slices add to what it left.
                float betaSlice = pc == 0 ? beta : 1f;
                for (int ic = 0; ic < m; ic += MC)
                {
                    int mc = Math.Min(MC, m - ic);
                    SgemmPack.A(transA, a, lda, ic, pc, mc, kc, arena.A);
                    MacroKernel(mc, nc, kc, alpha, arena.A, arena.B, betaSlice, c + (long)ic * ldc + jc, ldc);
                }
            }
        }
    }

    /// <summary>Sweeps one packed MC x KC block of A against one packed KC x NC slab of B.</summary>
    static void MacroKernel(int mc, int nc, int kc, float alpha, float* packedA, float* packedB,
                            float beta, float* c, int ldc)
    {
        float* edge = stackalloc float[MR * NR];
        // jr outside ir: the B sliver is reused from L1 by every A sliver of the block.
        for (int jr = 0; jr < nc; jr += NR)
        {
            int nr = Math.Min(NR, nc - jr);
            float* bp = packedB + (long)jr * kc;
            for (int ir = 0; ir < mc; ir += MR)
            {
                int mr = Math.Min(MR, mc - ir);
                float* ap = packedA + (long)ir * kc;
                float* cTile = c + (long)ir * ldc + jr;
                if (mr == MR && nr == NR)
                {
                    SgemmMicroKernel.Run(kc, ap, bp, cTile, ldc, alpha, beta);
                }
                else if (mr == 4 && nr == NR)
                {
                    SgemmMicroKernel.Run4(kc, ap, bp, cTile, ldc, alpha, beta);
                }
                else if (mr == 2 && nr == NR)
                {
                    SgemmMicroKernel.Run2(kc, ap, bp, cTile, ldc, alpha, beta);
                }
                else
                {
                    // Packing zero-padded the slivers, so the full tile is computed into a scratch
                    // tile and only its valid corner touches C (no reads or writes past C's edge).
                    SgemmMicroKernel.Run(kc, ap, bp, edge, NR, alpha, 0f);
                    MergeEdge(mr, nr, edge, beta, cTile, ldc);
                }
            }
        }
    }

    static void MergeEdge(int mr, int nr, float* tile, float beta, float* c, int ldc)
    {
        for (int r = 0; r < mr; r++)
        {
            float* row = c + (long)r * ldc;
            float* t = tile + r * NR;
            if (beta == 0f)
                for (int j = 0; j < nr; j++) row[j] = t[j];
            else
                for (int j = 0; j < nr; j++) row[j] = t[j] + beta * row[j];
        }
    }

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

        public static PackArena ForThisThread(int mc, int nc, int kc)
        {
            var arena = _current ??= new PackArena();
            arena.Ensure(RoundUp(mc, MR) * (long)kc, RoundUp(nc, NR) * (long)kc);
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

        static int RoundUp(int x, int unit) => (x + unit - 1) / unit * unit;

        ~PackArena()
        {
            if (A != null) NativeMemory.AlignedFree(A);
            if (B != null) NativeMemory.AlignedFree(B);
        }
    }
}
