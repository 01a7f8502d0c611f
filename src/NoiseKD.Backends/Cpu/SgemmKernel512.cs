using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NoiseKD.Backends.Cpu;

/// <summary>
/// The 512-bit (AVX-512) register tile of <see cref="Sgemm"/>: C[8x48] = alpha * Apanel * Bpanel + beta * C,
/// where Apanel is a packed 8 x kc sliver (8 floats per k) and Bpanel three adjacent packed kc x 16
/// slivers of B (the layout every B packer writes, so none of them changes with the vector width).
/// Each k step loads one zmm row from each sliver, broadcasts eight A values and issues 24 FMAs into
/// 24 independent accumulators: 24 + 3 + 1 of the 32 zmm registers, 11 loads per 24 FMAs (within two
/// loads per cycle at two FMAs per cycle), and three times the accumulators the FMA latency needs.
/// Eight rows divide the channel counts of every network here (8..512), so row edges are rare;
/// column edges of 16 or 32 run the same kernel over one or two slivers.
/// </summary>
internal readonly unsafe struct SgemmKernel512 : ISgemmKernel
{
    const int Rows = 8, Slivers = 3, Width = Slivers * Sgemm.NR;
    public static int MR => Rows;
    public static int Columns => Width;

    // A KC x 48 panel of B (24 KiB at KC = 128) stays in a 32 KiB L1 while the A slivers stream from
    // the MC x KC block (192 KiB) in L2; chosen from cache sizes, not yet measured (see RESULTS.md).
    public static int KC => 128;
    public static int MC => 384;

    /// <summary>Sweeps one packed MC x KC block of A against one packed KC x NC slab of B.</summary>
    public static void MacroKernel(int mc, int nc, int kc, float alpha, float* packedA, float* packedB,
                                   float beta, float* c, int ldc)
    {
        float* edge = stackalloc float[Rows * Width];
        long sliver = (long)Sgemm.NR * kc;
        // jr outside ir: the B panel is reused from L1 by every A sliver of the block.
        for (int jr = 0; jr < nc; jr += Width)
        {
            int nr = Math.Min(Width, nc - jr), slivers = (nr + Sgemm.NR - 1) / Sgemm.NR;
            float* bp = packedB + (long)jr * kc;
            for (int ir = 0; ir < mc; ir += Rows)
            {
                int mr = Math.Min(Rows, mc - ir);
                float* ap = packedA + (long)ir * kc;
                float* cTile = c + (long)ir * ldc + jr;
                if (mr == Rows && nr == slivers * Sgemm.NR)
                {
                    Tile(slivers, kc, ap, bp, sliver, cTile, ldc, alpha, beta);
                }
                else
                {
                    Tile(slivers, kc, ap, bp, sliver, edge, Width, alpha, 0f);
                    Sgemm.MergeEdge(mr, nr, edge, Width, beta, cTile, ldc);
                }
            }
        }
    }

    static void Tile(int slivers, int kc, float* a, float* b, long sliver, float* c, int ldc, float alpha, float beta)
    {
        if (slivers == 3) Run<Three>(kc, a, b, sliver, c, ldc, alpha, beta);
        else if (slivers == 2) Run<Two>(kc, a, b, sliver, c, ldc, alpha, beta);
        else Run<One>(kc, a, b, sliver, c, ldc, alpha, beta);
    }

    /// <summary>How many 16-column slivers a tile spans; a type so each count compiles to its own kernel.</summary>
    interface ISliverCount { static abstract int Count { get; } }
    readonly struct One : ISliverCount { public static int Count => 1; }
    readonly struct Two : ISliverCount { public static int Count => 2; }
    readonly struct Three : ISliverCount { public static int Count => 3; }

    /// <summary>
    /// C[8 x 16*TS.Count]: the tests on TS.Count are constants once the kernel is compiled for a count,
    /// so the 8x32 and 8x16 kernels are this loop with the unused accumulators gone. Every element sums
    /// its k terms in the same order whatever the count. Loads and stores are pointer dereferences
    /// (unaligned vmovups): compiled ahead of time for x86-64-v4 (crossgen2 --instruction-set, see
    /// RESULTS.md), Vector512.Load/Store stayed calls, and a call after the loop made the register
    /// allocator store 23 of the 24 accumulators to the stack in every k step; with dereferences the
    /// loop is 3 loads, 8 broadcasts and 24 FMAs on 29 zmm registers, no spills.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Run<TS>(int kc, float* a, float* b, long sliver, float* c, int ldc, float alpha, float beta) where TS : struct, ISliverCount
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        Vector512<float> c40 = default, c41 = default, c42 = default, c50 = default, c51 = default, c52 = default;
        Vector512<float> c60 = default, c61 = default, c62 = default, c70 = default, c71 = default, c72 = default;
        float* b1 = b + sliver, b2 = b + 2 * sliver;
        for (int p = 0; p < kc; p++)
        {
            int o = p * Sgemm.NR;
            var v0 = *(Vector512<float>*)(b + o);
            var v1 = TS.Count > 1 ? *(Vector512<float>*)(b1 + o) : default;
            var v2 = TS.Count > 2 ? *(Vector512<float>*)(b2 + o) : default;
            var x = Vector512.Create(a[0]);
            c00 = MulAdd(x, v0, c00); if (TS.Count > 1) c01 = MulAdd(x, v1, c01); if (TS.Count > 2) c02 = MulAdd(x, v2, c02);
            x = Vector512.Create(a[1]);
            c10 = MulAdd(x, v0, c10); if (TS.Count > 1) c11 = MulAdd(x, v1, c11); if (TS.Count > 2) c12 = MulAdd(x, v2, c12);
            x = Vector512.Create(a[2]);
            c20 = MulAdd(x, v0, c20); if (TS.Count > 1) c21 = MulAdd(x, v1, c21); if (TS.Count > 2) c22 = MulAdd(x, v2, c22);
            x = Vector512.Create(a[3]);
            c30 = MulAdd(x, v0, c30); if (TS.Count > 1) c31 = MulAdd(x, v1, c31); if (TS.Count > 2) c32 = MulAdd(x, v2, c32);
            x = Vector512.Create(a[4]);
            c40 = MulAdd(x, v0, c40); if (TS.Count > 1) c41 = MulAdd(x, v1, c41); if (TS.Count > 2) c42 = MulAdd(x, v2, c42);
            x = Vector512.Create(a[5]);
            c50 = MulAdd(x, v0, c50); if (TS.Count > 1) c51 = MulAdd(x, v1, c51); if (TS.Count > 2) c52 = MulAdd(x, v2, c52);
            x = Vector512.Create(a[6]);
            c60 = MulAdd(x, v0, c60); if (TS.Count > 1) c61 = MulAdd(x, v1, c61); if (TS.Count > 2) c62 = MulAdd(x, v2, c62);
            x = Vector512.Create(a[7]);
            c70 = MulAdd(x, v0, c70); if (TS.Count > 1) c71 = MulAdd(x, v1, c71); if (TS.Count > 2) c72 = MulAdd(x, v2, c72);
            a += Rows;
        }
        var va = Vector512.Create(alpha);
        StoreRow<TS>(c, c00, c01, c02, va, beta);
        StoreRow<TS>(c + ldc, c10, c11, c12, va, beta);
        StoreRow<TS>(c + 2 * ldc, c20, c21, c22, va, beta);
        StoreRow<TS>(c + 3 * ldc, c30, c31, c32, va, beta);
        StoreRow<TS>(c + 4 * ldc, c40, c41, c42, va, beta);
        StoreRow<TS>(c + 5 * ldc, c50, c51, c52, va, beta);
        StoreRow<TS>(c + 6 * ldc, c60, c61, c62, va, beta);
        StoreRow<TS>(c + 7 * ldc, c70, c71, c72, va, beta);
    }

    /// <summary>x*y + z in one rounding (one vfmadd231ps where AVX-512 is present).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> MulAdd(Vector512<float> x, Vector512<float> y, Vector512<float> z) => Vector512.FusedMultiplyAdd(x, y, z);

    /// <summary>Writes one row of TS.Count zmm vectors; see <see cref="Store"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow<TS>(float* c, Vector512<float> x0, Vector512<float> x1, Vector512<float> x2, Vector512<float> alpha, float beta)
        where TS : struct, ISliverCount
    {
        Store(c, x0, alpha, beta);
        if (TS.Count > 1) Store(c + Sgemm.NR, x1, alpha, beta);
        if (TS.Count > 2) Store(c + 2 * Sgemm.NR, x2, alpha, beta);
    }

    /// <summary>c = alpha*acc, plus beta*c only when beta is non-zero (c may be garbage then).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* c, Vector512<float> acc, Vector512<float> alpha, float beta)
    {
        var p = (Vector512<float>*)c;
        if (beta == 0f) *p = acc * alpha;
        else if (beta == 1f) *p = MulAdd(acc, alpha, *p);
        else *p = MulAdd(acc, alpha, *p * Vector512.Create(beta));
    }
}
