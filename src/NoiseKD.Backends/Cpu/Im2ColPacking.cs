namespace NoiseKD.Backends.Cpu;

/// <summary>
/// The im2col matrix of <see cref="Im2Col"/> (rows = taps (c, kh, kw), columns = output pixels
/// (img, oh, ow)) written straight into SGEMM's packed-B slivers, so the GEMM never materialises
/// it: for a layer with few output channels the pass that writes the column matrix and the pass
/// that packs it back would cost about as much as the multiply-adds. Forward multiplies by the
/// column matrix (<see cref="Im2ColPackB"/>), backward weight by its transpose (<see cref="Im2ColPackBT"/>).
/// </summary>
internal static unsafe class Im2ColPacking
{
    /// <summary>Columns [Column, Column + Length) of a sliver that lie in one output row (Image, Oh), from Ow.</summary>
    public readonly record struct Run(int Column, int Image, int Oh, int Ow, int Length);

    /// <summary>Splits output pixels [j, j + count) into runs along output rows; returns how many.</summary>
    public static int SplitIntoRows(in ConvGeometry g, int j, int count, Run* runs)
    {
        int outW = g.OutW, outHW = g.OutH * outW, n = 0;
        int img = j / outHW, oh = j % outHW / outW, ow = j % outW;
        for (int col = 0; col < count;)
        {
            int length = Math.Min(count - col, outW - ow);
            runs[n++] = new Run(col, img, oh, ow, length);
            col += length;
            ow += length;
            if (ow == outW) { ow = 0; if (++oh == g.OutH) { oh = 0; img++; } }
        }
        return n;
    }

    /// <summary>Tap p = (c*KH + kh)*KW + kw unravelled.</summary>
    public static (int Channel, int Kh, int Kw) Tap(in ConvGeometry g, int p)
        => (p / (g.KH * g.KW), p % (g.KH * g.KW) / g.KW, p % g.KW);

    /// <summary>
    /// d[q*dstStride] = the input under tap (channel, kh, kw) at the run's q-th pixel, 0 on padding.
    /// valid is the tap's column range from <see cref="ConvWindow.ValidOutputs"/>.
    /// </summary>
    public static void WriteRun(in ConvGeometry g, float* x, int n0, int c0, (int Channel, int Kh, int Kw) tap,
                                (int Lo, int Hi) valid, in Run run, float* d, int dstStride)
    {
        int ih = run.Oh * g.StrideH - g.PadH + tap.Kh, end = run.Ow + run.Length;
        int first = (uint)ih >= (uint)g.H ? end : Math.Clamp(valid.Lo, run.Ow, end);
        int last = Math.Clamp(valid.Hi, first, end);
        if (dstStride == 1)
        {
            RowOps.Zero(d, first - run.Ow);
            RowOps.Zero(d + last - run.Ow, end - last);
        }
        else
        {
            for (int q = run.Ow; q < first; q++) d[(q - run.Ow) * dstStride] = 0f;
            for (int q = last; q < end; q++) d[(q - run.Ow) * dstStride] = 0f;
        }
        if (last == first) return;
        float* src = x + ((long)(n0 + run.Image) * g.Cin + c0 + tap.Channel) * g.H * g.W + (long)ih * g.W + first * g.StrideW - g.PadW + tap.Kw;
        float* dst = d + (first - run.Ow) * dstStride;
        if (dstStride == 1) RowOps.Copy(dst, src, last - first, g.StrideW);
        else for (int q = 0; q < last - first; q++) dst[q * dstStride] = src[q * g.StrideW];
    }

    /// <summary>Each tap's valid output-column range, indexed by kw.</summary>
    public static void ValidColumns(in ConvGeometry g, (int Lo, int Hi)* columns)
    {
        for (int kw = 0; kw < g.KW; kw++) columns[kw] = ConvWindow.ValidOutputs(g.OutW, g.W, g.StrideW, g.PadW, kw);
    }
}

/// <summary>op(B) = the column matrix (taps x pixels) of images from n0 and channels from c0.</summary>
internal readonly unsafe struct Im2ColPackB(ConvGeometry g, float* x, int n0, int c0) : Sgemm.IPackB
{
    public void Pack(int pc, int jc, int kc, int nc, float* dst)
    {
        const int NR = Sgemm.NR;
        var columns = stackalloc (int Lo, int Hi)[g.KW];
        Im2ColPacking.ValidColumns(g, columns);
        // Taps unravelled once per call rather than once per sliver.
        var taps = stackalloc (int Channel, int Kh, int Kw)[kc];
        for (int t = 0; t < kc; t++) taps[t] = Im2ColPacking.Tap(g, pc + t);
        var runs = stackalloc Im2ColPacking.Run[NR];
        for (int s0 = 0; s0 < nc; s0 += NR)
        {
            int nr = Math.Min(NR, nc - s0), count = Im2ColPacking.SplitIntoRows(g, jc + s0, nr, runs);
            float* sliver = dst + (long)s0 * kc;
            for (int t = 0; t < kc; t++)
            {
                float* row = sliver + t * NR;
                for (int r = 0; r < count; r++)
                    Im2ColPacking.WriteRun(g, x, n0, c0, taps[t], columns[taps[t].Kw], runs[r], row + runs[r].Column, 1);
                RowOps.Zero(row + nr, NR - nr);
            }
        }
    }
}

/// <summary>op(B) = the transposed column matrix (pixels x taps), for dW = dy * col^T.</summary>
internal readonly unsafe struct Im2ColPackBT(ConvGeometry g, float* x, int n0, int c0) : Sgemm.IPackB
{
    public void Pack(int pc, int jc, int kc, int nc, float* dst)
    {
        const int NR = Sgemm.NR;
        var columns = stackalloc (int Lo, int Hi)[g.KW];
        Im2ColPacking.ValidColumns(g, columns);
        // Here k runs over pixels: split them into output-row runs once per call.
        var runs = stackalloc Im2ColPacking.Run[kc];
        int count = Im2ColPacking.SplitIntoRows(g, pc, kc, runs);
        for (int s0 = 0; s0 < nc; s0 += NR)
        {
            int nr = Math.Min(NR, nc - s0);
            float* sliver = dst + (long)s0 * kc;
            for (int jj = 0; jj < NR; jj++)
            {
                if (jj >= nr)
                {
                    for (int t = 0; t < kc; t++) sliver[t * NR + jj] = 0f;
                    continue;
                }
                var tap = Im2ColPacking.Tap(g, jc + s0 + jj);
                for (int r = 0; r < count; r++)
                    Im2ColPacking.WriteRun(g, x, n0, c0, tap, columns[tap.Kw], runs[r], sliver + runs[r].Column * NR + jj, NR);
            }
        }
    }
}
