using NoiseKD.Backends.Cpu;
using Xunit;

namespace NoiseKD.Tests.Backends;

/// <summary>
/// Sgemm (blocked, parallel and small paths) against a float64 triple loop, every product on both
/// vector paths: the 256-bit 6x16 kernels and the 512-bit 8x48 ones (the latter emulated in software,
/// still exact to the same rounding, on a CPU without AVX-512).
/// </summary>
public unsafe class SgemmTests
{
    const double Tolerance = 1e-5;

    public static TheoryData<int, int, int> Sizes => new()
    {
        { 1, 1, 1 }, { 7, 13, 1 }, { 1, 257, 33 }, { 257, 1, 65 }, { 17, 33, 65 }, { 13, 7, 127 },
        { 65, 127, 17 }, { 127, 257, 33 }, { 257, 65, 300 }, { 150, 130, 513 }, { 6, 16, 256 }, { 33, 4100, 7 },
        // Row counts whose last tile has 4 or 2 rows (the 4- and 2-row kernels), with k over one KC slice.
        { 16, 64, 300 }, { 32, 48, 520 }, { 128, 96, 144 }, { 64, 33, 9 },
        // 512-bit tiles: 8x48 with column edges of one and two slivers, rows past MC = 384, k past KC = 128.
        { 8, 48, 129 }, { 24, 80, 260 }, { 16, 32, 5 }, { 400, 100, 140 }, { 72, 112, 40 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void AllTransposesMatchFloat64(int m, int n, int k)
    {
        foreach (bool transA in new[] { false, true })
            foreach (bool transB in new[] { false, true })
                Check(transA, transB, m, n, k, alpha: 1f, beta: 0f, pad: 0, seed: m * 31 + n * 7 + k);
    }

    [Theory]
    [InlineData(0.5f, 0f)]
    [InlineData(1f, 1f)]
    [InlineData(-1.5f, 0.25f)]
    [InlineData(2f, -1f)]
    public void AlphaBetaAndLeadingDimensions(float alpha, float beta)
    {
        foreach (bool transA in new[] { false, true })
            foreach (bool transB in new[] { false, true })
            {
                Check(transA, transB, 65, 33, 129, alpha, beta, pad: 3, seed: 1);
                Check(transA, transB, 13, 17, 7, alpha, beta, pad: 5, seed: 2);
                Check(transA, transB, 257, 127, 300, alpha, beta, pad: 1, seed: 3);
                Check(transA, transB, 16, 48, 144, alpha, beta, pad: 2, seed: 10);
                Check(transA, transB, 32, 40, 260, alpha, beta, pad: 1, seed: 11);
            }
    }

    [Fact]
    public void ZeroKScalesC()
    {
        Check(false, false, 7, 9, 0, 1f, 0f, pad: 0, seed: 4);
        Check(false, false, 7, 9, 0, 1f, 0.5f, pad: 0, seed: 5);
    }

    [Fact]
    public void SingleThreadedBlockedPathMatches()
    {
        Check(false, true, 130, 140, 300, 1f, 0f, pad: 2, seed: 6, threads: 1);
        Check(true, false, 130, 140, 300, 1f, 1f, pad: 2, seed: 7, threads: 1);
    }

    [Fact]
    public void ReferencePathMatches()
    {
        // The small-matrix and no-vector fallback, exercised here on sizes that would otherwise go blocked.
        Check(true, true, 70, 50, 90, 0.5f, 0.5f, pad: 1, seed: 8, reference: true);
        Check(false, false, 70, 50, 90, 1f, 0f, pad: 1, seed: 9, reference: true);
    }

    static void Check(bool transA, bool transB, int m, int n, int k, float alpha, float beta, int pad, int seed,
                      int threads = 2, bool reference = false)
    {
        var rng = new Random(seed);
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
        float[] a = RandomArray(rng, Math.Max(1, aRows * lda)), b = RandomArray(rng, Math.Max(1, bRows * ldb));
        float[] c = RandomArray(rng, m * ldc);
        if (beta == 0f) Array.Fill(c, float.NaN); // beta = 0 must not read C
        var expected = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                    sum += (double)(transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j]);
                expected[i * n + j] = alpha * sum + (beta == 0f ? 0 : beta * (double)c[i * ldc + j]);
            }
        foreach (bool wide in new[] { false, true })
        {
            var result = (float[])c.Clone();
            fixed (float* pa = a, pb = b, pc = result)
            using (CpuVector.Force(wide))
            {
                if (reference) Sgemm.Reference(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
                else Sgemm.Multiply(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, threads);
            }
            Compare(c, result, expected, m, n, ldc, $"{m}x{n}x{k} tA={transA} tB={transB} alpha={alpha} beta={beta} {(wide ? "avx512" : "avx2")}");
        }
    }

    static void Compare(float[] before, float[] c, double[] expected, int m, int n, int ldc, string what)
    {
        double err = 0, norm = 0;
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double d = c[i * ldc + j] - expected[i * n + j];
                err += d * d;
                norm += expected[i * n + j] * expected[i * n + j];
            }
            for (int j = n; j < ldc; j++)
                Assert.True(before[i * ldc + j].Equals(c[i * ldc + j]), $"{what}: wrote outside C at ({i}, {j})");
        }
        double rel = Math.Sqrt(err) / Math.Max(Math.Sqrt(norm), 1e-30);
        Assert.True(rel <= Tolerance, $"{what}: relative error {rel:E2}");
    }

    static float[] RandomArray(Random rng, int length)
    {
        var v = new float[length];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }
}
