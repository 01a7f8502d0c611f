namespace NoiseKD.Backends.Cpu;

/// <summary>
/// Depthwise convolution for any stride and padding (the stride-1 case has the faster
/// <see cref="DepthwiseConv"/>). Every pass walks (output row, tap) pairs and does one strided row
/// operation per pair, so the three passes share <see cref="ForEachTapRow"/> and differ only in the
/// row operation (a struct, so the JIT inlines it and nothing is allocated per plane).
/// </summary>
internal static unsafe class DepthwiseConvGeneral
{
    /// <summary>y[n, c] = sum over taps of w[c, kh, kw] * x[n, c] shifted by the tap.</summary>
    public static void Forward(ConvGeometry g, float* x, float* w, float* y)
    {
        int inPlane = g.H * g.W, outPlane = g.OutH * g.OutW;
        CpuParallel.For(g.N * g.Cin, (double)outPlane * g.KH * g.KW * 2, p =>
        {
            var op = new ForwardRow(y + (long)p * outPlane, x + (long)p * inPlane, w + (long)(p % g.Cin) * g.KH * g.KW, g.StrideW);
            new Span<float>(op.Y, outPlane).Clear();
            ForEachTapRow(g, ref op);
        });
    }

    /// <summary>dx[n, c] (+)= the transpose of <see cref="Forward"/> applied to dy[n, c].</summary>
    public static void BackwardData(ConvGeometry g, float* dy, float* w, float* dx, bool accumulate)
    {
        int inPlane = g.H * g.W, outPlane = g.OutH * g.OutW;
        CpuParallel.For(g.N * g.Cin, (double)outPlane * g.KH * g.KW * 2, p =>
        {
            var op = new DataRow(dx + (long)p * inPlane, dy + (long)p * outPlane, w + (long)(p % g.Cin) * g.KH * g.KW, g.StrideW);
            if (!accumulate) new Span<float>(op.Dx, inPlane).Clear();
            ForEachTapRow(g, ref op);
        });
    }

    /// <summary>dw[c, kh, kw] (+)= sum over n and output pixels of dy * the input under that tap.</summary>
    public static void BackwardWeight(ConvGeometry g, float* x, float* dy, float* dw, bool accumulate)
    {
        int inPlane = g.H * g.W, outPlane = g.OutH * g.OutW, taps = g.KH * g.KW;
        // One channel per work item: each owns its taps' sums, so no two threads write one weight.
        CpuParallel.For(g.Cin, (double)g.N * outPlane * taps * 2, c =>
        {
            double* sums = stackalloc double[taps];
            new Span<double>(sums, taps).Clear();
            for (int n = 0; n < g.N; n++)
            {
                long p = (long)n * g.Cin + c;
                var op = new WeightRow(sums, dy + p * outPlane, x + p * inPlane, g.StrideW);
                ForEachTapRow(g, ref op);
            }
            float* dwc = dw + (long)c * taps;
            for (int t = 0; t < taps; t++) dwc[t] = (float)(accumulate ? dwc[t] + sums[t] : sums[t]);
        });
    }

    /// <summary>
    /// One (output row, tap) pair: outRow is the output row's offset in its plane, inRow the offset of
    /// the first input read (at output column lo), tap = kh*KW + kw, and count the output columns
    /// from lo whose input lies inside the image.
    /// </summary>
    interface ITapRow
    {
        void Run(int outRow, long inRow, int tap, int lo, int count);
    }

    readonly struct ForwardRow(float* y, float* x, float* w, int stride) : ITapRow
    {
        public float* Y => y;
        public void Run(int outRow, long inRow, int tap, int lo, int count)
            => RowOps.MulAdd(y + outRow + lo, 1, w[tap], x + inRow, stride, count);
    }

    readonly struct DataRow(float* dx, float* dy, float* w, int stride) : ITapRow
    {
        public float* Dx => dx;
        public void Run(int outRow, long inRow, int tap, int lo, int count)
            => RowOps.MulAdd(dx + inRow, stride, w[tap], dy + outRow + lo, 1, count);
    }

    readonly struct WeightRow(double* sums, float* dy, float* x, int stride) : ITapRow
    {
        public void Run(int outRow, long inRow, int tap, int lo, int count)
            => sums[tap] += RowOps.Dot(dy + outRow + lo, x + inRow, stride, count);
    }

    static unsafe void ForEachTapRow<TRow>(in ConvGeometry g, ref TRow row) where TRow : struct, ITapRow
    {
        int outW = g.OutW;
        // The valid column range depends only on kw: work it out once, not per output row.
        var ranges = stackalloc (int Lo, int Hi)[g.KW];
        for (int kw = 0; kw < g.KW; kw++) ranges[kw] = ConvWindow.ValidOutputs(outW, g.W, g.StrideW, g.PadW, kw);
        for (int oh = 0; oh < g.OutH; oh++)
            for (int kh = 0; kh < g.KH; kh++)
            {
                int ih = oh * g.StrideH - g.PadH + kh;
                if ((uint)ih >= (uint)g.H) continue;
                for (int kw = 0; kw < g.KW; kw++)
                {
                    var (lo, hi) = ranges[kw];
                    if (hi > lo)
                        row.Run(oh * outW, (long)ih * g.W + lo * g.StrideW - g.PadW + kw, kh * g.KW + kw, lo, hi - lo);
                }
            }
    }
}
