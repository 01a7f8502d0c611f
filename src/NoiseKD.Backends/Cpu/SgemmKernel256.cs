using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NoiseKD.Backends.Cpu;

/// <summary>
/// The 256-bit (AVX2) register tile of <see cref="Sgemm"/>: C[6x16] = alpha * Apanel * Bpanel + beta * C,
/// where Apanel is a packed 6 x kc sliver (6 floats per k) and Bpanel a packed kc x 16 sliver (16 floats
/// per k). Each k step is an outer product: two 8-wide loads of B, six broadcasts of A, twelve FMAs into
/// twelve independent accumulators, enough to cover the FMA latency (4 cycles) on both FMA pipes.
/// </summary>
internal readonly unsafe struct SgemmKernel256 : ISgemmKernel
{
    // Register tile: 6x16 = 12 ymm accumulators, 2 for the B row and 1 broadcast of A = 15 of the 16
    // AVX2 registers (the BLIS Haswell/Zen sgemm shape).
    const int Rows = 6;
    public static int MR => Rows;
    public static int Columns => Sgemm.NR;

    // Cache blocks, BLIS's Zen values: a KC x 16 sliver of B (16 KiB) stays in the 32 KiB L1 while the
    // MC x KC block of A (144 KiB) stays in the 512 KiB L2.
    public static int KC => 256;
    public static int MC => 144;

    /// <summary>Sweeps one packed MC x KC block of A against one packed KC x NC slab of B.</summary>
    public static void MacroKernel(int mc, int nc, int kc, float alpha, float* packedA, float* packedB,
                                   float beta, float* c, int ldc)
    {
        float* edge = stackalloc float[Rows * Sgemm.NR];
        // jr outside ir: the B sliver is reused from L1 by every A sliver of the block.
        for (int jr = 0; jr < nc; jr += Sgemm.NR)
        {
            int nr = Math.Min(Sgemm.NR, nc - jr);
            float* bp = packedB + (long)jr * kc;
            for (int ir = 0; ir < mc; ir += Rows)
            {
                int mr = Math.Min(Rows, mc - ir);
                float* ap = packedA + (long)ir * kc;
                float* cTile = c + (long)ir * ldc + jr;
                if (mr == Rows && nr == Sgemm.NR)
                {
                    Run(kc, ap, bp, cTile, ldc, alpha, beta);
                }
                else if (mr == 4 && nr == Sgemm.NR)
                {
                    Run4(kc, ap, bp, cTile, ldc, alpha, beta);
                }
                else if (mr == 2 && nr == Sgemm.NR)
                {
                    Run2(kc, ap, bp, cTile, ldc, alpha, beta);
                }
                else
                {
                    Run(kc, ap, bp, edge, Sgemm.NR, alpha, 0f);
                    Sgemm.MergeEdge(mr, nr, edge, Sgemm.NR, beta, cTile, ldc);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, int ldc, float alpha, float beta)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c00 = MulAdd(a0, b0, c00); c01 = MulAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]);
            c10 = MulAdd(a1, b0, c10); c11 = MulAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[2]);
            c20 = MulAdd(a2, b0, c20); c21 = MulAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[3]);
            c30 = MulAdd(a3, b0, c30); c31 = MulAdd(a3, b1, c31);
            var a4 = Vector256.Create(a[4]);
            c40 = MulAdd(a4, b0, c40); c41 = MulAdd(a4, b1, c41);
            var a5 = Vector256.Create(a[5]);
            c50 = MulAdd(a5, b0, c50); c51 = MulAdd(a5, b1, c51);
            a += Rows;
            b += Sgemm.NR;
        }
        var va = Vector256.Create(alpha);
        StoreRow(c, c00, c01, va, beta);
        StoreRow(c + ldc, c10, c11, va, beta);
        StoreRow(c + 2 * ldc, c20, c21, va, beta);
        StoreRow(c + 3 * ldc, c30, c31, va, beta);
        StoreRow(c + 4 * ldc, c40, c41, va, beta);
        StoreRow(c + 5 * ldc, c50, c51, va, beta);
    }

    /// <summary>
    /// The first 4 rows of a 6-row sliver: C[4x16] from the same packed operands (A still advances by
    /// 6 per k). The last tile of a GEMM with 16, 64, 160 or 256 rows, which would otherwise run
    /// the full 6-row kernel into a scratch tile (a third of its multiply-adds wasted) and then merge it.
    /// Eight accumulators still cover the FMA latency; the k loop's order per element is the 6-row
    /// kernel's, so a row's result does not depend on which kernel computed it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run4(int kc, float* a, float* b, float* c, int ldc, float alpha, float beta)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c00 = MulAdd(a0, b0, c00); c01 = MulAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]);
            c10 = MulAdd(a1, b0, c10); c11 = MulAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[2]);
            c20 = MulAdd(a2, b0, c20); c21 = MulAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[3]);
            c30 = MulAdd(a3, b0, c30); c31 = MulAdd(a3, b1, c31);
            a += Rows;
            b += Sgemm.NR;
        }
        var va = Vector256.Create(alpha);
        StoreRow(c, c00, c01, va, beta);
        StoreRow(c + ldc, c10, c11, va, beta);
        StoreRow(c + 2 * ldc, c20, c21, va, beta);
        StoreRow(c + 3 * ldc, c30, c31, va, beta);
    }

    /// <summary>The first 2 rows of a 6-row sliver (the last tile of 32, 128 or 512 rows); see <see cref="Run4"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run2(int kc, float* a, float* b, float* c, int ldc, float alpha, float beta)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c00 = MulAdd(a0, b0, c00); c01 = MulAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]);
            c10 = MulAdd(a1, b0, c10); c11 = MulAdd(a1, b1, c11);
            a += Rows;
            b += Sgemm.NR;
        }
        var va = Vector256.Create(alpha);
        StoreRow(c, c00, c01, va, beta);
        StoreRow(c + ldc, c10, c11, va, beta);
    }

    /// <summary>x*y + z, fused where the CPU has FMA (the branch folds away at JIT time).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> MulAdd(Vector256<float> x, Vector256<float> y, Vector256<float> z)
        => Fma.IsSupported ? Fma.MultiplyAdd(x, y, z) : x * y + z;

    /// <summary>Writes one 16-wide row: alpha*acc, plus beta*C only when beta is non-zero (C may be garbage then).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow(float* c, Vector256<float> lo, Vector256<float> hi, Vector256<float> alpha, float beta)
    {
        if (beta == 0f)
        {
            Vector256.Store(lo * alpha, c);
            Vector256.Store(hi * alpha, c + 8);
        }
        else if (beta == 1f)
        {
            Vector256.Store(MulAdd(lo, alpha, Vector256.Load(c)), c);
            Vector256.Store(MulAdd(hi, alpha, Vector256.Load(c + 8)), c + 8);
        }
        else
        {
            var vb = Vector256.Create(beta);
            Vector256.Store(MulAdd(lo, alpha, Vector256.Load(c) * vb), c);
            Vector256.Store(MulAdd(hi, alpha, Vector256.Load(c + 8) * vb), c + 8);
        }
    }
}
