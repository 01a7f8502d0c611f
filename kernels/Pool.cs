using ILGPU;

namespace NoiseKD.Kernels;

/// <summary>
/// Planes independent H x W planes pooled to OutH x OutW by KH x KW windows (stride, zero padding);
/// IncludePad is avg_pool2d's count_include_pad; Adaptive selects PyTorch's adaptive windows (KH.. unused).
/// Upsampling reuses it with KH, KW the scale factors.
/// </summary>
public readonly struct PoolParams(int planes, int h, int w, int outH, int outW, int kh, int kw, int sh, int sw, int ph, int pw,
                                  bool includePad, bool adaptive)
{
    public readonly int Planes = planes, H = h, W = w, OutH = outH, OutW = outW, KH = kh, KW = kw, SH = sh, SW = sw, PH = ph, PW = pw;
    public readonly int IncludePad = includePad ? 1 : 0, Adaptive = adaptive ? 1 : 0;
}

/// <summary>A window [H0, H1) x [W0, W1) of a plane and the divisor of its average.</summary>
public readonly struct Window(int h0, int h1, int w0, int w1, int divisor)
{
    public readonly int H0 = h0, H1 = h1, W0 = w0, W1 = w1, Divisor = divisor;
    public bool Holds(int ih, int iw) => ih >= H0 && ih < H1 && iw >= W0 && iw < W1;
}

/// <summary>
/// Pooling and nearest upsampling over N*C planes (IBackend: MaxPool2d*, AvgPool2d*, AdaptiveAvgPool2d*,
/// UpsampleNearest*). Window rules follow PyTorch's CPU kernels; every backward pass is a gather over input
/// elements (each sums the outputs whose window holds it), so overlapping windows need no atomics.
/// CPU reference: Cpu/CpuBackend.Pool.cs.
/// </summary>
public static class Pool
{
    /// <summary>Plane index of the first maximum of window (oh, ow), row-major; padding never wins, a NaN does.</summary>
    static int MaxIndex(ArrayView<float> x, long plane, int oh, int ow, PoolParams p)
    {
        int h0 = oh * p.SH - p.PH, w0 = ow * p.SW - p.PW;
        int h1 = h0 + p.KH < p.H ? h0 + p.KH : p.H, w1 = w0 + p.KW < p.W ? w0 + p.KW : p.W;
        h0 = h0 > 0 ? h0 : 0;
        w0 = w0 > 0 ? w0 : 0;
        int best = h0 * p.W + w0;
        float bestValue = float.NegativeInfinity;
        for (int ih = h0; ih < h1; ih++)
            for (int iw = w0; iw < w1; iw++)
            {
                float v = x[plane + ih * p.W + iw];
                if (v > bestValue || float.IsNaN(v))
                {
                    bestValue = v;
                    best = ih * p.W + iw;
                }
            }
        return best;
    }

    /// <summary>The first output of one axis whose strided window (size k) holds input i.</summary>
    static int FirstWindow(int i, int k, int stride, int pad)
    {
        int a = i + pad - k + 1;
        return a <= 0 ? 0 : (a + stride - 1) / stride;
    }

    /// <summary>The last output of one axis whose window holds input i.</summary>
    static int LastWindow(int i, int stride, int pad, int outSize)
    {
        int b = (i + pad) / stride;
        return b < outSize - 1 ? b : outSize - 1;
    }

    /// <summary>
    /// Window (oh, ow) of an average pool. Strided: avg_pool2d, whose count_include_pad divisor is the window
    /// clipped to the padded input. Adaptive: start = floor(i*H/OH), end = ceil((i+1)*H/OH).
    /// </summary>
    static Window AverageWindow(int oh, int ow, PoolParams p)
    {
        if (p.Adaptive != 0)
        {
            int ah0 = (int)((long)oh * p.H / p.OutH), ah1 = (int)(((long)(oh + 1) * p.H + p.OutH - 1) / p.OutH);
            int aw0 = (int)((long)ow * p.W / p.OutW), aw1 = (int)(((long)(ow + 1) * p.W + p.OutW - 1) / p.OutW);
            return new Window(ah0, ah1, aw0, aw1, (ah1 - ah0) * (aw1 - aw0));
        }
        int a0 = oh * p.SH - p.PH, b0 = ow * p.SW - p.PW;
        int a1 = a0 + p.KH < p.H + p.PH ? a0 + p.KH : p.H + p.PH, b1 = b0 + p.KW < p.W + p.PW ? b0 + p.KW : p.W + p.PW;
        int padded = (a1 - a0) * (b1 - b0);
        int h0 = a0 > 0 ? a0 : 0, w0 = b0 > 0 ? b0 : 0, h1 = a1 < p.H ? a1 : p.H, w1 = b1 < p.W ? b1 : p.W;
        return new Window(h0, h1, w0, w1, p.IncludePad != 0 ? padded : (h1 - h0) * (w1 - w0));
    }

    public static void MaxForward(ArrayView<float> x, ArrayView<float> y, PoolParams p)
    {
        long total = (long)p.Planes * p.OutH * p.OutW;
        for (long e = Loops.First; e < total; e += Loops.Stride)
        {
            int ow = (int)(e % p.OutW), oh = (int)((e / p.OutW) % p.OutH);
            long plane = e / ((long)p.OutH * p.OutW) * p.H * p.W;
            y[e] = x[plane + MaxIndex(x, plane, oh, ow, p)];
        }
    }

    /// <summary>dx += dy routed to the first maximum of each window (PyTorch's tie rule), recomputed from x.</summary>
    public static void MaxBackward(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, PoolParams p)
    {
        long total = (long)p.Planes * p.H * p.W;
        for (long e = Loops.First; e < total; e += Loops.Stride)
        {
            int iw = (int)(e % p.W), ih = (int)((e / p.W) % p.H);
            long index = e / ((long)p.H * p.W), plane = index * p.H * p.W;
            int here = ih * p.W + iw, ohHi = LastWindow(ih, p.SH, p.PH, p.OutH), owHi = LastWindow(iw, p.SW, p.PW, p.OutW);
            float sum = 0f;
            for (int oh = FirstWindow(ih, p.KH, p.SH, p.PH); oh <= ohHi; oh++)
                for (int ow = FirstWindow(iw, p.KW, p.SW, p.PW); ow <= owHi; ow++)
                    if (MaxIndex(x, plane, oh, ow, p) == here) sum += dy[(index * p.OutH + oh) * p.OutW + ow];
            dx[e] += sum;
        }
    }

    public static void AverageForward(ArrayView<float> x, ArrayView<float> y, PoolParams p)
    {
        long total = (long)p.Planes * p.OutH * p.OutW;
        for (long e = Loops.First; e < total; e += Loops.Stride)
        {
            int ow = (int)(e % p.OutW), oh = (int)((e / p.OutW) % p.OutH);
            long plane = e / ((long)p.OutH * p.OutW) * p.H * p.W;
            var window = AverageWindow(oh, ow, p);
            float sum = 0f;
            for (int ih = window.H0; ih < window.H1; ih++)
                for (int iw = window.W0; iw < window.W1; iw++) sum += x[plane + ih * p.W + iw];
            y[e] = sum / window.Divisor;
        }
    }

    /// <summary>dx += the adjoint of <see cref="AverageForward"/> applied to dy.</summary>
    public static void AverageBackward(ArrayView<float> dy, ArrayView<float> dx, PoolParams p)
    {
        long total = (long)p.Planes * p.H * p.W;
        for (long e = Loops.First; e < total; e += Loops.Stride)
        {
            int iw = (int)(e % p.W), ih = (int)((e / p.W) % p.H);
            long index = e / ((long)p.H * p.W);
            bool adaptive = p.Adaptive != 0;
            int ohLo = adaptive ? 0 : FirstWindow(ih, p.KH, p.SH, p.PH), ohHi = adaptive ? p.OutH - 1 : LastWindow(ih, p.SH, p.PH, p.OutH);
            int owLo = adaptive ? 0 : FirstWindow(iw, p.KW, p.SW, p.PW), owHi = adaptive ? p.OutW - 1 : LastWindow(iw, p.SW, p.PW, p.OutW);
            float sum = 0f;
            for (int oh = ohLo; oh <= ohHi; oh++)
                for (int ow = owLo; ow <= owHi; ow++)
                {
                    var window = AverageWindow(oh, ow, p);
                    if (window.Holds(ih, iw)) sum += dy[(index * p.OutH + oh) * p.OutW + ow] / window.Divisor;
                }
            dx[e] += sum;
        }
    }

    /// <summary>y[p, i, j] = x[p, i / KH, j / KW] (KH, KW the scale factors; OutH = H*KH, OutW = W*KW).</summary>
    public static void UpsampleForward(ArrayView<float> x, ArrayView<float> y, PoolParams p)
    {
        long total = (long)p.Planes * p.OutH * p.OutW;
        for (long e = Loops.First; e < total; e += Loops.Stride)
        {
            int j = (int)(e % p.OutW), i = (int)((e / p.OutW) % p.OutH);
            long index = e / ((long)p.OutH * p.OutW);
            y[e] = x[(index * p.H + i / p.KH) * p.W + j / p.KW];
        }
    }

    /// <summary>dx += the sum of dy over each source pixel's KH x KW block.</summary>
    public static void UpsampleBackward(ArrayView<float> dy, ArrayView<float> dx, PoolParams p)
    {
        long total = (long)p.Planes * p.H * p.W;
        for (long e = Loops.First; e < total; e += Loops.Stride)
        {
            int j = (int)(e % p.W), i = (int)((e / p.W) % p.H);
            long index = e / ((long)p.H * p.W);
            float sum = 0f;
            for (int a = 0; a < p.KH; a++)
                for (int b = 0; b < p.KW; b++) sum += dy[(index * p.OutH + i * p.KH + a) * p.OutW + j * p.KW + b];
            dx[e] += sum;
        }
    }
}
