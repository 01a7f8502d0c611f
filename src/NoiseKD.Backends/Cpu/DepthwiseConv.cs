using System.Runtime.Intrinsics;

namespace NoiseKD.Backends.Cpu;

/// <summary>
/// Depthwise convolution (groups == Cin == Cout) computed directly: with one input channel per
/// output channel the im2col matrix would have only KH*KW rows, too few for a GEMM to pay off.
/// Stride 1 runs on zero-padded copies of each plane, so the inner loops are 8-wide and free of
/// bounds tests; backward data at stride 1 is the same correlation with the kernel flipped and
/// padding K-1-pad. Other strides take <see cref="DepthwiseConvGeneral"/>.
/// </summary>
internal static unsafe class DepthwiseConv
{
    public static void Forward(CpuBackend backend, ConvGeometry g, float* x, float* w, float* y)
    {
        if (!IsFast(g)) { DepthwiseConvGeneral.Forward(g, x, w, y); return; }
        CorrelatePlanes(backend, g, x, g.H, g.W, w, flip: false, g.PadH, g.PadW, y, g.OutH, g.OutW, accumulate: false);
    }

    public static void BackwardData(CpuBackend backend, ConvGeometry g, float* dy, float* w, float* dx, bool accumulate)
    {
        if (!IsFast(g) || g.PadH > g.KH - 1 || g.PadW > g.KW - 1)
        {
            DepthwiseConvGeneral.BackwardData(g, dy, w, dx, accumulate);
            return;
        }
        CorrelatePlanes(backend, g, dy, g.OutH, g.OutW, w, flip: true, g.KH - 1 - g.PadH, g.KW - 1 - g.PadW, dx, g.H, g.W, accumulate);
    }

    public static void BackwardWeight(CpuBackend backend, ConvGeometry g, float* x, float* dy, float* dw, bool accumulate)
    {
        if (!IsFast(g)) { DepthwiseConvGeneral.BackwardWeight(g, x, dy, dw, accumulate); return; }
        int taps = g.KH * g.KW, outW8 = RoundUp8(g.OutW);
        var padded = new PaddedPlane(g.H, g.W, g.PadH, g.PadW, g.OutH + g.KH - 1, outW8 + g.KW - 1);
        // One channel per work item: each owns its taps' sums, so no two threads write one weight.
        CpuParallel.ForRange(g.Cin, (double)g.N * g.OutH * g.OutW * taps * 2, (c0, c1) =>
        {
            using var scratch = backend.Allocate(padded.Length + outW8);
            float* xp = CpuBackend.P(scratch), dyRow = xp + padded.Length;
            var acc = stackalloc Vector256<float>[taps];
            for (long c = c0; c < c1; c++)
            {
                for (int t = 0; t < taps; t++) acc[t] = Vector256<float>.Zero;
                for (int n = 0; n < g.N; n++)
                {
                    long plane = n * g.Cin + c;
                    padded.Fill(x + plane * g.H * g.W, xp);
                    for (int oh = 0; oh < g.OutH; oh++)
                    {
                        // dy's row, zero-extended to whole vectors so the tail lanes add nothing.
                        RowOps.Copy(dyRow, dy + (plane * g.OutH + oh) * g.OutW, g.OutW, 1);
                        RowOps.Zero(dyRow + g.OutW, outW8 - g.OutW);
                        for (int ob = 0; ob < outW8; ob += 8)
                        {
                            var d = Vector256.Load(dyRow + ob);
                            for (int kh = 0; kh < g.KH; kh++)
                            {
                                float* row = xp + (long)(oh + kh) * padded.Width + ob;
                                for (int kw = 0; kw < g.KW; kw++)
                                    acc[kh * g.KW + kw] += d * Vector256.Load(row + kw);
                            }
                        }
                    }
                }
                float* dwc = dw + c * taps;
                for (int t = 0; t < taps; t++) dwc[t] = accumulate ? dwc[t] + Vector256.Sum(acc[t]) : Vector256.Sum(acc[t]);
            }
        });
    }

    static bool IsFast(in ConvGeometry g) => g.StrideH == 1 && g.StrideW == 1 && Vector256.IsHardwareAccelerated;

    static int RoundUp8(int x) => (x + 7) & ~7;

    /// <summary>
    /// out[p] (+)= the stride-1 correlation of in[p] (inH x inW, zero-padded by padH/padW) with channel
    /// p % C's kernel, for every plane p; flip rotates the kernel by 180 degrees.
    /// </summary>
    static void CorrelatePlanes(CpuBackend backend, ConvGeometry g, float* input, int inH, int inW, float* w, bool flip,
                                int padH, int padW, float* output, int outH, int outW, bool accumulate)
    {
        int taps = g.KH * g.KW, outW8 = RoundUp8(outW);
        var padded = new PaddedPlane(inH, inW, padH, padW, outH + g.KH - 1, outW8 + g.KW - 1);
        CpuParallel.ForRange((long)g.N * g.Cin, (double)outH * outW * taps * 2, (p0, p1) =>
        {
            using var scratch = backend.Allocate(padded.Length + outW8);
            float* xp = CpuBackend.P(scratch), outRow = xp + padded.Length;
            var wv = stackalloc Vector256<float>[taps];
            for (long p = p0; p < p1; p++)
            {
                float* wc = w + p % g.Cin * taps;
                for (int t = 0; t < taps; t++) wv[t] = Vector256.Create(wc[flip ? taps - 1 - t : t]);
                padded.Fill(input + p * inH * inW, xp);
                float* outPlane = output + p * outH * outW;
                for (int oh = 0; oh < outH; oh++)
                {
                    for (int ob = 0; ob < outW8; ob += 8)
                    {
                        var sum = Vector256<float>.Zero;
                        for (int kh = 0; kh < g.KH; kh++)
                        {
                            float* row = xp + (long)(oh + kh) * padded.Width + ob;
                            for (int kw = 0; kw < g.KW; kw++) sum += wv[kh * g.KW + kw] * Vector256.Load(row + kw);
                        }
                        Vector256.Store(sum, outRow + ob);
                    }
                    // Computed 8-wide into a row buffer; only the real outW columns reach the output.
                    float* dst = outPlane + (long)oh * outW;
                    if (accumulate) RowOps.MulAdd(dst, 1, 1f, outRow, 1, outW);
                    else RowOps.Copy(dst, outRow, outW, 1);
                }
            }
        });
    }

    /// <summary>
    /// A plane copied into a zero border: pad rows/columns before it, and enough after it that every
    /// 8-wide read of the correlation stays inside the buffer.
    /// </summary>
    readonly struct PaddedPlane(int h, int w, int padH, int padW, int height, int width)
    {
        public int Width => width;
        public long Length => (long)height * width;

        public void Fill(float* plane, float* dst)
        {
            new Span<float>(dst, checked((int)Length)).Clear();
            for (int r = 0; r < h; r++) RowOps.Copy(dst + (long)(r + padH) * width + padW, plane + (long)r * w, w, 1);
        }
    }
}
