namespace NoiseKD.Backends.Cpu;

/// <summary>
/// Lowers a convolution to a matrix product (Chellapilla, Puri and Simard 2006; Caffe's im2col):
/// the column matrix has one row per weight tap (c, kh, kw), in the order of the OIHW weight's
/// inner dimensions, and one column per output pixel (img, oh, ow) of a chunk of images, so that
/// y[co, (img, oh, ow)] = sum over taps of w[co, tap] * col[tap, (img, oh, ow)].
/// </summary>
internal static unsafe class Im2Col
{
    /// <summary>col = the taps of channels [c0, c0 + CinPerGroup) of images [n0, n0 + images); padding reads 0.</summary>
    public static void Pack(in ConvGeometry g, float* x, int n0, int images, int c0, float* col)
        => Walk<PackRows>(g, x, n0, images, c0, col);

    /// <summary>x += col2im(col): the adjoint of <see cref="Pack"/> (taps on padding are dropped).</summary>
    public static void Accumulate(in ConvGeometry g, float* col, float* x, int n0, int images, int c0)
        => Walk<AccumulateRows>(g, x, n0, images, c0, col);

    /// <summary>What to do with one row segment: inputs in range, and outputs that read padding.</summary>
    interface IRowAction
    {
        static abstract void Inside(float* colRow, float* xRow, int count, int stride);
        static abstract void Padding(float* colRow, int count);
    }

    struct PackRows : IRowAction
    {
        public static void Inside(float* colRow, float* xRow, int count, int stride) => RowOps.Copy(colRow, xRow, count, stride);
        public static void Padding(float* colRow, int count) => RowOps.Zero(colRow, count);
    }

    struct AccumulateRows : IRowAction
    {
        public static void Inside(float* colRow, float* xRow, int count, int stride) => RowOps.MulAdd(xRow, stride, 1f, colRow, 1, count);
        public static void Padding(float* colRow, int count) { }
    }

    static void Walk<TAction>(in ConvGeometry g, float* x, int n0, int images, int c0, float* col)
        where TAction : struct, IRowAction
    {
        int outH = g.OutH, outW = g.OutW, outHW = outH * outW, plane = g.H * g.W;
        long ldcol = (long)images * outHW;
        float* row = col;
        for (int c = 0; c < g.CinPerGroup; c++)
            for (int kh = 0; kh < g.KH; kh++)
                for (int kw = 0; kw < g.KW; kw++, row += ldcol)
                {
                    var (owLo, owHi) = ConvWindow.ValidOutputs(outW, g.W, g.StrideW, g.PadW, kw);
                    for (int img = 0; img < images; img++)
                    {
                        float* xPlane = x + ((long)(n0 + img) * g.Cin + c0 + c) * plane;
                        float* r = row + (long)img * outHW;
                        for (int oh = 0; oh < outH; oh++, r += outW)
                        {
                            int ih = oh * g.StrideH - g.PadH + kh;
                            if ((uint)ih >= (uint)g.H)
                            {
                                TAction.Padding(r, outW);
                                continue;
                            }
                            TAction.Padding(r, owLo);
                            TAction.Inside(r + owLo, xPlane + (long)ih * g.W + owLo * g.StrideW - g.PadW + kw, owHi - owLo, g.StrideW);
                            TAction.Padding(r + owHi, outW - owHi);
                        }
                    }
                }
    }
}
