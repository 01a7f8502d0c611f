namespace NoiseKD.Backends.Cpu;

/// <summary>
/// col2im, the adjoint of im2col (Chellapilla, Puri and Simard 2006; Caffe): the column matrix has
/// one row per weight tap (c, kh, kw), in the order of the OIHW weight's inner dimensions, and one
/// column per output pixel (img, oh, ow) of a chunk of images. Backward data computes that matrix
/// as W^T * dy and adds every entry back onto the input pixel its tap read (taps on padding are
/// dropped). The forward direction is never stored: see <see cref="Im2ColPacking"/>.
/// </summary>
internal static unsafe class Col2Im
{
    /// <summary>x[n0 + img, c0 + c] += the entries of col that read it, for images [n0, n0 + images).</summary>
    public static void Accumulate(in ConvGeometry g, float* col, float* x, int n0, int images, int c0)
    {
        int outH = g.OutH, outW = g.OutW, outHW = outH * outW, plane = g.H * g.W;
        long ldcol = (long)images * outHW;
        float* row = col;
        for (int c = 0; c < g.CinPerGroup; c++)
            for (int kh = 0; kh < g.KH; kh++)
                for (int kw = 0; kw < g.KW; kw++, row += ldcol)
                {
                    var (owLo, owHi) = ConvWindow.ValidOutputs(outW, g.W, g.StrideW, g.PadW, kw);
                    if (owHi == owLo) continue;
                    for (int img = 0; img < images; img++)
                    {
                        float* xPlane = x + ((long)(n0 + img) * g.Cin + c0 + c) * plane;
                        float* r = row + (long)img * outHW;
                        for (int oh = 0; oh < outH; oh++, r += outW)
                        {
                            int ih = oh * g.StrideH - g.PadH + kh;
                            if ((uint)ih >= (uint)g.H) continue;
                            float* xRow = xPlane + (long)ih * g.W + owLo * g.StrideW - g.PadW + kw;
                            RowOps.MulAdd(xRow, g.StrideW, 1f, r + owLo, 1, owHi - owLo);
                        }
                    }
                }
    }
}
