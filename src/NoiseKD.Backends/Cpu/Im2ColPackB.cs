namespace NoiseKD.Backends.Cpu;

/// <summary>
/// The im2col matrix of <see cref="Im2Col"/> (rows = taps (c, kh, kw), columns = output pixels
/// (img, oh, ow)) written straight into SGEMM's packed-B slivers. The forward GEMM then never
/// materialises the column matrix: for a layer with few output channels the pass that writes it
/// and the pass that packs it back would cost about as much as the multiply-adds.
/// </summary>
internal readonly unsafe struct Im2ColPackB(ConvGeometry g, float* x, int n0, int c0) : Sgemm.IPackB
{
    /// <summary>A run of a sliver's columns that lie in one output row: sliver column, image, oh, first ow, length.</summary>
    readonly record struct Run(int Column, int Image, int Oh, int Ow, int Length);

    public void Pack(int pc, int jc, int kc, int nc, float* dst)
    {
        const int NR = Sgemm.NR;
        int outW = g.OutW, outHW = g.OutH * outW, plane = g.H * g.W, kernel = g.KH * g.KW;
        var columns = stackalloc (int Lo, int Hi)[g.KW];
        for (int kw = 0; kw < g.KW; kw++) columns[kw] = ConvWindow.ValidOutputs(outW, g.W, g.StrideW, g.PadW, kw);
        // Tap p = (c*KH + kh)*KW + kw, unravelled once per call rather than once per sliver.
        var taps = stackalloc (int Channel, int Kh, int Kw)[kc];
        for (int t = 0; t < kc; t++)
        {
            int p = pc + t;
            taps[t] = (p / kernel, p % kernel / g.KW, p % g.KW);
        }
        var runs = stackalloc Run[NR];
        for (int s0 = 0; s0 < nc; s0 += NR)
        {
            int nr = Math.Min(NR, nc - s0), count = 0;
            int j = jc + s0, img = j / outHW, oh = j % outHW / outW, ow = j % outW;
            for (int col = 0; col < nr;)
            {
                int length = Math.Min(nr - col, outW - ow);
                runs[count++] = new Run(col, img, oh, ow, length);
                col += length;
                ow += length;
                if (ow == outW) { ow = 0; if (++oh == g.OutH) { oh = 0; img++; } }
            }
            float* sliver = dst + (long)s0 * kc;
            for (int t = 0; t < kc; t++)
            {
                float* row = sliver + t * NR;
                var (channel, kh, kw) = taps[t];
                var (lo, hi) = columns[kw];
                for (int r = 0; r < count; r++)
                {
                    var run = runs[r];
                    float* d = row + run.Column;
                    int ih = run.Oh * g.StrideH - g.PadH + kh, end = run.Ow + run.Length;
                    if ((uint)ih >= (uint)g.H)
                    {
                        RowOps.Zero(d, run.Length);
                        continue;
                    }
                    int first = Math.Clamp(lo, run.Ow, end), last = Math.Clamp(hi, first, end);
                    float* src = x + ((long)(n0 + run.Image) * g.Cin + c0 + channel) * plane + (long)ih * g.W + first * g.StrideW - g.PadW + kw;
                    RowOps.Zero(d, first - run.Ow);
                    RowOps.Copy(d + first - run.Ow, src, last - first, g.StrideW);
                    RowOps.Zero(d + last - run.Ow, end - last);
                }
                RowOps.Zero(row + nr, NR - nr);
            }
        }
    }
}
