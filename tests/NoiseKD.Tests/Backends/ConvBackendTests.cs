using NoiseKD.Backends;
using NoiseKD.Backends.Cpu;
using Xunit;

namespace NoiseKD.Tests.Backends;

/// <summary>
/// CpuBackend's conv2d passes against float64 direct loops that follow PyTorch's definition
/// (NCHW input, OIHW weight [Cout, Cin/groups, KH, KW], zero padding). The reference's own
/// gradients are checked once against finite differences of the reference forward.
/// </summary>
public class ConvBackendTests
{
    const double ForwardTolerance = 1e-5, GradientTolerance = 1e-4;

    // (N, Cin, H, W, Cout, K, stride, pad, groups)
    public static TheoryData<int, int, int, int, int, int, int, int, int> Shapes => new()
    {
        { 1, 3, 7, 9, 5, 1, 1, 0, 1 },     // pointwise: the GEMM reads the image directly
        { 3, 13, 5, 5, 5, 1, 1, 0, 1 },    // pointwise on a small map: several images per GEMM
        { 1, 6, 5, 5, 4, 1, 2, 0, 2 },     // 1x1 stride-2 shortcut, grouped
        { 3, 3, 7, 9, 5, 3, 1, 1, 1 },
        { 3, 5, 7, 9, 13, 3, 2, 1, 1 },
        { 1, 13, 5, 5, 3, 5, 1, 2, 1 },
        { 2, 5, 7, 9, 3, 5, 2, 0, 1 },
        { 3, 3, 9, 7, 5, 7, 2, 3, 1 },
        { 1, 3, 5, 5, 5, 3, 1, 3, 1 },     // padding wider than the kernel reach
        { 3, 6, 7, 9, 4, 3, 1, 1, 2 },     // grouped, not depthwise
        { 3, 16, 12, 12, 32, 3, 1, 1, 1 }, // large enough for the blocked GEMM
        { 1, 16, 16, 16, 24, 3, 1, 1, 1 }, // batch 1: the GEMM itself runs on both threads
        { 5, 4, 9, 10, 7, 3, 1, 1, 1 },    // shifted slices: several images per GEMM, slivers across images
        { 2, 32, 10, 10, 20, 3, 1, 1, 1 }, // shifted slices: more taps than one k block (288 > 256)
        { 3, 8, 10, 10, 4, 3, 1, 1, 2 },   // shifted slices, grouped
        { 2, 4, 8, 14, 5, 5, 1, 2, 1 },    // shifted slices, 5x5 pad 2
        { 2, 4, 8, 11, 5, 3, 1, 0, 1 },    // shifted slices, no padding (backward data pads by 2)
        { 19, 8, 7, 7, 16, 3, 1, 1, 1 },   // shifted slices, 16 images side by side per plane, last group partial
        { 21, 6, 4, 4, 10, 3, 1, 1, 1 },   // shifted slices on 4x4 maps: 16 per plane, a 2-row tile edge
        { 6, 4, 8, 14, 5, 5, 1, 2, 1 },    // shifted slices, 5x5 pad 2: gaps of 2 between the images of a plane
        { 3, 5, 33, 35, 13, 3, 2, 1, 1 },  // stride 2, odd sizes: phase-split rows with vector bodies and scalar tails
        { 1, 7, 32, 32, 9, 3, 2, 1, 1 },   // stride 2, batch 1 (the GEMM on both threads)
        { 3, 5, 17, 21, 7, 3, 2, 0, 1 },   // stride 2, no padding
        { 3, 12, 8, 8, 20, 3, 2, 1, 1 },   // stride 2 onto 4x4: several images per GEMM, 4-wide rows
        { 2, 8, 18, 18, 6, 3, 2, 1, 2 },   // stride 2, grouped
        { 3, 6, 20, 21, 10, 1, 2, 0, 1 },  // 1x1 stride-2 shortcut, rows long enough for vectors
        { 1, 3, 34, 34, 6, 1, 2, 1, 1 },   // 1x1 stride 2 with padding
        { 3, 12, 8, 8, 20, 3, 1, 1, 1 },   // rows of 8: backward weight packs the copy transposed, across images
        { 2, 8, 16, 16, 6, 3, 1, 1, 2 },   // rows of 16, grouped
        { 2, 70, 8, 9, 66, 3, 1, 1, 1 },   // stride 1 outside the shifted path's rule (many rows, narrow map)
        { 3, 5, 7, 9, 5, 3, 1, 1, 5 },     // depthwise
        { 1, 5, 7, 9, 5, 3, 2, 1, 5 },
        { 3, 5, 5, 5, 5, 5, 1, 2, 5 },
        { 2, 5, 9, 7, 5, 7, 2, 3, 5 },
        { 1, 5, 9, 20, 5, 3, 1, 0, 5 },    // depthwise, rows long enough for the vector loop
        { 2, 5, 9, 7, 5, 7, 1, 3, 5 },
        { 1, 5, 5, 5, 5, 3, 1, 3, 5 },     // depthwise, padding past the kernel: general backward data
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesFloat64Reference(int n, int cin, int h, int w, int cout, int k, int stride, int pad, int groups)
    {
        using (CpuVector.Force(wide: false)) Check(n, cin, h, w, cout, k, stride, pad, groups);
    }

    /// <summary>The same on the 512-bit path (SGEMM's 8x48 tiles under every convolution path), emulated where the CPU lacks AVX-512.</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesFloat64ReferenceOn512BitPath(int n, int cin, int h, int w, int cout, int k, int stride, int pad, int groups)
    {
        using (CpuVector.Force(wide: true)) Check(n, cin, h, w, cout, k, stride, pad, groups);
    }

    static void Check(int n, int cin, int h, int w, int cout, int k, int stride, int pad, int groups)
    {
        var g = new ConvGeometry(n, cin, h, w, cout, k, k, stride, stride, pad, pad, groups);
        var rng = new Random(HashCode.Combine(n, cin, h, w, cout, k, stride, pad) & 0x7fffffff);
        float[] x = RandomArray(rng, g.InputLength), wt = RandomArray(rng, g.WeightLength), dy = RandomArray(rng, g.OutputLength);
        var backend = CpuBackend.Instance;
        using DeviceBuffer xb = Upload(backend, x), wb = Upload(backend, wt), dyb = Upload(backend, dy);

        var y = Run(backend, Filled(g.OutputLength, float.NaN), o => backend.Conv2dForward(g, xb, wb, o));
        Assert.True(RelativeError(Reference.Forward(g, x, wt), y) <= ForwardTolerance, "forward");

        var dxRef = Reference.BackwardData(g, dy, wt);
        var dwRef = Reference.BackwardWeight(g, x, dy);
        foreach (bool accumulate in new[] { false, true })
        {
            float[] dxStart = accumulate ? RandomArray(rng, g.InputLength) : Filled(g.InputLength, float.NaN);
            float[] dwStart = accumulate ? RandomArray(rng, g.WeightLength) : Filled(g.WeightLength, float.NaN);
            var dx = Run(backend, dxStart, o => backend.Conv2dBackwardData(g, dyb, wb, o, accumulate));
            var dw = Run(backend, dwStart, o => backend.Conv2dBackwardWeight(g, xb, dyb, o, accumulate));
            Assert.True(RelativeError(Plus(dxRef, dxStart, accumulate), dx) <= GradientTolerance, $"backward data, accumulate={accumulate}");
            Assert.True(RelativeError(Plus(dwRef, dwStart, accumulate), dw) <= GradientTolerance, $"backward weight, accumulate={accumulate}");
        }
    }

    [Theory]
    [InlineData(2, 6, 5, 7, 4, 3, 2, 1, 2)]
    [InlineData(1, 3, 5, 5, 3, 3, 1, 1, 3)]
    public void ReferenceGradientsMatchFiniteDifferences(int n, int cin, int h, int w, int cout, int k, int stride, int pad, int groups)
    {
        // L = sum(forward(x, w) * r) has dL/dx = BackwardData(r) and dL/dw = BackwardWeight(r).
        var g = new ConvGeometry(n, cin, h, w, cout, k, k, stride, stride, pad, pad, groups);
        var rng = new Random(7);
        float[] x = RandomArray(rng, g.InputLength), wt = RandomArray(rng, g.WeightLength), r = RandomArray(rng, g.OutputLength);
        var dx = Reference.BackwardData(g, r, wt);
        var dw = Reference.BackwardWeight(g, x, r);
        double Loss(float[] xs, float[] ws) => Reference.Forward(g, xs, ws).Select((v, i) => v * r[i]).Sum();
        const float eps = 1e-2f;
        for (int i = 0; i < x.Length; i += 7)
            Assert.Equal(dx[i], CentralDifference(x, i, eps, () => Loss(x, wt)), 3);
        for (int i = 0; i < wt.Length; i += 3)
            Assert.Equal(dw[i], CentralDifference(wt, i, eps, () => Loss(x, wt)), 3);
    }

    static double CentralDifference(float[] values, int i, float eps, Func<double> loss)
    {
        float saved = values[i];
        values[i] = saved + eps;
        double up = loss();
        values[i] = saved - eps;
        double down = loss();
        values[i] = saved;
        return (up - down) / ((double)(saved + eps) - (double)(saved - eps));
    }

    /// <summary>Plain float64 loops over every (input, weight, output) triple that a conv2d multiplies.</summary>
    static class Reference
    {
        public static double[] Forward(ConvGeometry g, float[] x, float[] w)
        {
            var y = new double[g.OutputLength];
            ForEachTerm(g, (xi, wi, yi) => y[yi] += (double)x[xi] * w[wi]);
            return y;
        }

        public static double[] BackwardData(ConvGeometry g, float[] dy, float[] w)
        {
            var dx = new double[g.InputLength];
            ForEachTerm(g, (xi, wi, yi) => dx[xi] += (double)dy[yi] * w[wi]);
            return dx;
        }

        public static double[] BackwardWeight(ConvGeometry g, float[] x, float[] dy)
        {
            var dw = new double[g.WeightLength];
            ForEachTerm(g, (xi, wi, yi) => dw[wi] += (double)dy[yi] * x[xi]);
            return dw;
        }

        static void ForEachTerm(ConvGeometry g, Action<long, long, long> term)
        {
            int cinG = g.CinPerGroup, coutG = g.CoutPerGroup;
            for (int n = 0; n < g.N; n++)
                for (int co = 0; co < g.Cout; co++)
                    for (int oh = 0; oh < g.OutH; oh++)
                        for (int ow = 0; ow < g.OutW; ow++)
                            for (int ci = 0; ci < cinG; ci++)
                                for (int kh = 0; kh < g.KH; kh++)
                                    for (int kw = 0; kw < g.KW; kw++)
                                    {
                                        int ih = oh * g.StrideH - g.PadH + kh, iw = ow * g.StrideW - g.PadW + kw;
                                        if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                                        int c = co / coutG * cinG + ci;
                                        term((((long)n * g.Cin + c) * g.H + ih) * g.W + iw,
                                             (((long)co * cinG + ci) * g.KH + kh) * g.KW + kw,
                                             (((long)n * g.Cout + co) * g.OutH + oh) * g.OutW + ow);
                                    }
        }
    }

    static DeviceBuffer Upload(IBackend backend, float[] values)
    {
        var buffer = backend.Allocate(values.Length);
        backend.Upload(values, buffer, 0);
        return buffer;
    }

    static float[] Run(IBackend backend, float[] start, Action<DeviceBuffer> pass)
    {
        using var output = Upload(backend, start);
        pass(output);
        var result = new float[start.Length];
        backend.Download(output, 0, result);
        return result;
    }

    static double[] Plus(double[] reference, float[] start, bool accumulate)
        => accumulate ? reference.Select((v, i) => v + start[i]).ToArray() : reference;

    static double RelativeError(double[] expected, float[] actual)
    {
        double err = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = actual[i] - expected[i];
            err += d * d;
            norm += expected[i] * expected[i];
        }
        return double.IsNaN(err) ? double.PositiveInfinity : Math.Sqrt(err) / Math.Max(Math.Sqrt(norm), 1e-30);
    }

    static float[] Filled(long length, float value)
    {
        var v = new float[length];
        Array.Fill(v, value);
        return v;
    }

    static float[] RandomArray(Random rng, long length)
    {
        var v = new float[length];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }
}
