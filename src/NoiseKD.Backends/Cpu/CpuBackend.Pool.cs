using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Cpu;

// Pooling and nearest upsampling over N*C independent planes (the parallel axis). Window rules follow
// PyTorch's CPU kernels (aten/src/ATen/native/cpu/{MaxPool,AvgPool,AdaptiveAvgPool}Kernel.cpp).
public sealed unsafe partial class CpuBackend
{
    public void MaxPool2dForward(in PoolGeometry g, DeviceBuffer x, DeviceBuffer y)
    {
        CheckPool(g, x, y);
        var geometry = g;
        float* px = P(x), py = P(y);
        CpuParallel.For(g.Planes, (double)g.OutH * g.OutW * g.KH * g.KW, plane =>
        {
            float* xp = px + (long)plane * geometry.H * geometry.W, yp = py + (long)plane * geometry.OutH * geometry.OutW;
            for (int oh = 0; oh < geometry.OutH; oh++)
                for (int ow = 0; ow < geometry.OutW; ow++)
                    yp[oh * geometry.OutW + ow] = xp[MaxIndex(geometry, xp, oh, ow)];
        });
    }

    public void MaxPool2dBackward(in PoolGeometry g, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx)
    {
        CheckPool(g, x, dy);
        CheckRange(dx, 0, g.InputLength);
        var geometry = g;
        float* px = P(x), pdy = P(dy), pdx = P(dx);
        CpuParallel.For(g.Planes, (double)g.OutH * g.OutW * g.KH * g.KW, plane =>
        {
            long inOffset = (long)plane * geometry.H * geometry.W;
            float* dyp = pdy + (long)plane * geometry.OutH * geometry.OutW;
            for (int oh = 0; oh < geometry.OutH; oh++)
                for (int ow = 0; ow < geometry.OutW; ow++)
                    pdx[inOffset + MaxIndex(geometry, px + inOffset, oh, ow)] += dyp[oh * geometry.OutW + ow];
        });
    }

    public void AvgPool2dForward(in PoolGeometry g, DeviceBuffer x, DeviceBuffer y)
    {
        CheckPool(g, x, y);
        AverageWindowsForward(g.Planes, g.H, g.W, g.OutH, g.OutW, new StridedWindows(g), P(x), P(y));
    }

    public void AvgPool2dBackward(in PoolGeometry g, DeviceBuffer dy, DeviceBuffer dx)
    {
        CheckPool(g, dx, dy);
        AverageWindowsBackward(g.Planes, g.H, g.W, g.OutH, g.OutW, new StridedWindows(g), P(dy), P(dx));
    }

    public void AdaptiveAvgPool2dForward(int planes, int h, int w, int outH, int outW, DeviceBuffer x, DeviceBuffer y)
    {
        CheckAdaptive(planes, h, w, outH, outW, x, y);
        AverageWindowsForward(planes, h, w, outH, outW, new AdaptiveWindows(h, w, outH, outW), P(x), P(y));
    }

    public void AdaptiveAvgPool2dBackward(int planes, int h, int w, int outH, int outW, DeviceBuffer dy, DeviceBuffer dx)
    {
        CheckAdaptive(planes, h, w, outH, outW, dx, dy);
        AverageWindowsBackward(planes, h, w, outH, outW, new AdaptiveWindows(h, w, outH, outW), P(dy), P(dx));
    }

    public void UpsampleNearestForward(int planes, int h, int w, int scaleH, int scaleW, DeviceBuffer x, DeviceBuffer y)
    {
        CheckUpsample(planes, h, w, scaleH, scaleW, x, y);
        UpsamplePairs(planes, h, w, scaleH, scaleW, P(x), P(y), backward: false);
    }

    public void UpsampleNearestBackward(int planes, int h, int w, int scaleH, int scaleW, DeviceBuffer dy, DeviceBuffer dx)
    {
        CheckUpsample(planes, h, w, scaleH, scaleW, dx, dy);
        UpsamplePairs(planes, h, w, scaleH, scaleW, P(dx), P(dy), backward: true);
    }

    /// <summary>
    /// Visits every (source pixel, upsampled pixel) pair: forward copies small into large, backward
    /// adds large into small (the adjoint). Planes are independent, so both run plane-parallel.
    /// </summary>
    static void UpsamplePairs(int planes, int h, int w, int scaleH, int scaleW, float* small, float* large, bool backward)
    {
        int outW = w * scaleW;
        CpuParallel.For(planes, (double)h * w * scaleH * scaleW, plane =>
        {
            float* sp = small + (long)plane * h * w, lp = large + (long)plane * h * scaleH * outW;
            for (int i = 0; i < h * scaleH; i++)
                for (int j = 0; j < outW; j++)
                {
                    ref float source = ref sp[(i / scaleH) * w + j / scaleW];
                    if (backward) source += lp[(long)i * outW + j];
                    else lp[(long)i * outW + j] = source;
                }
        });
    }

    /// <summary>
    /// Plane index of the first maximum of window (oh, ow) in row-major order; padding never wins
    /// (every window holds a real pixel because padding is at most half the kernel). A NaN takes over
    /// as the maximum, as in PyTorch's `val > maxval || isnan(val)`.
    /// </summary>
    static int MaxIndex(in PoolGeometry g, float* plane, int oh, int ow)
    {
        int h0 = oh * g.StrideH - g.PadH, w0 = ow * g.StrideW - g.PadW;
        int h1 = Math.Min(h0 + g.KH, g.H), w1 = Math.Min(w0 + g.KW, g.W);
        h0 = Math.Max(h0, 0);
        w0 = Math.Max(w0, 0);
        int best = h0 * g.W + w0;
        float bestValue = float.NegativeInfinity;
        for (int ih = h0; ih < h1; ih++)
            for (int iw = w0; iw < w1; iw++)
            {
                float v = plane[ih * g.W + iw];
                if (v > bestValue || float.IsNaN(v))
                {
                    bestValue = v;
                    best = ih * g.W + iw;
                }
            }
        return best;
    }

    /// <summary>The input rectangle [h0, h1) x [w0, w1) that output (oh, ow) averages, and its divisor.</summary>
    interface IAverageWindows
    {
        void Window(int oh, int ow, out int h0, out int h1, out int w0, out int w1, out int divisor);
    }

    /// <summary>
    /// avg_pool2d's windows. The count_include_pad divisor is the window clipped to the padded input,
    /// measured before clipping to the real input (so a window hanging past the padding counts less).
    /// </summary>
    readonly struct StridedWindows(PoolGeometry g) : IAverageWindows
    {
        public void Window(int oh, int ow, out int h0, out int h1, out int w0, out int w1, out int divisor)
        {
            h0 = oh * g.StrideH - g.PadH;
            w0 = ow * g.StrideW - g.PadW;
            h1 = Math.Min(h0 + g.KH, g.H + g.PadH);
            w1 = Math.Min(w0 + g.KW, g.W + g.PadW);
            int paddedSize = (h1 - h0) * (w1 - w0);
            h0 = Math.Max(h0, 0);
            w0 = Math.Max(w0, 0);
            h1 = Math.Min(h1, g.H);
            w1 = Math.Min(w1, g.W);
            divisor = g.CountIncludePad ? paddedSize : (h1 - h0) * (w1 - w0);
        }
    }

    /// <summary>adaptive_avg_pool2d's windows: start = floor(i*H/OH), end = ceil((i+1)*H/OH).</summary>
    readonly struct AdaptiveWindows(int h, int w, int outH, int outW) : IAverageWindows
    {
        public void Window(int oh, int ow, out int h0, out int h1, out int w0, out int w1, out int divisor)
        {
            h0 = (int)((long)oh * h / outH);
            h1 = (int)(((long)(oh + 1) * h + outH - 1) / outH);
            w0 = (int)((long)ow * w / outW);
            w1 = (int)(((long)(ow + 1) * w + outW - 1) / outW);
            divisor = (h1 - h0) * (w1 - w0);
        }
    }

    static void AverageWindowsForward<TWindows>(int planes, int h, int w, int outH, int outW, TWindows windows, float* x, float* y)
        where TWindows : struct, IAverageWindows
    {
        CpuParallel.For(planes, (double)h * w + outH * outW, plane =>
        {
            float* xp = x + (long)plane * h * w, yp = y + (long)plane * outH * outW;
            for (int oh = 0; oh < outH; oh++)
                for (int ow = 0; ow < outW; ow++)
                {
                    windows.Window(oh, ow, out int h0, out int h1, out int w0, out int w1, out int divisor);
                    double sum = 0;
                    for (int ih = h0; ih < h1; ih++)
                        for (int iw = w0; iw < w1; iw++)
                            sum += xp[ih * w + iw];
                    yp[oh * outW + ow] = (float)(sum / divisor);
                }
        });
    }

    /// <summary>dx += the adjoint of <see cref="AverageWindowsForward"/> applied to dy.</summary>
    static void AverageWindowsBackward<TWindows>(int planes, int h, int w, int outH, int outW, TWindows windows, float* dy, float* dx)
        where TWindows : struct, IAverageWindows
    {
        CpuParallel.For(planes, (double)h * w + outH * outW, plane =>
        {
            float* dxp = dx + (long)plane * h * w, dyp = dy + (long)plane * outH * outW;
            for (int oh = 0; oh < outH; oh++)
                for (int ow = 0; ow < outW; ow++)
                {
                    windows.Window(oh, ow, out int h0, out int h1, out int w0, out int w1, out int divisor);
                    float share = dyp[oh * outW + ow] / divisor;
                    for (int ih = h0; ih < h1; ih++)
                        for (int iw = w0; iw < w1; iw++)
                            dxp[ih * w + iw] += share;
                }
        });
    }
}
