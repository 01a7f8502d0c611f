using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Kernels;

/// <summary>
/// Conv2d passes (kernels/conv.cl): depthwise layers run direct kernels; all others are SGEMMs over
/// im2col columns, per group, on chunks of images as large as <see cref="ColumnBudget"/> allows:
///   forward          y_g      = W_g   * col            (CoutG x cols)
///   backward data    dcol     = W_g^T * dy_g, dx (+)= col2im(dcol)
///   backward weight  dW_g    (+)= dy_g  * colT        (im2col written transposed)
/// where dy_g / y_g of several images is the channel-major gather of their planes (one image reads
/// NCHW in place). The same plan as Cpu/GemmConv.cs, without its per-thread image ranges.
/// </summary>
public abstract partial class KernelBackend
{
    /// <summary>Floats of im2col scratch per chunk of images (64 MiB).</summary>
    const long ColumnBudget = 1L << 24;

    public void Conv2dForward(in ConvGeometry g, DeviceBuffer x, DeviceBuffer weight, DeviceBuffer y)
    {
        CheckConv(g, x, weight, y);
        if (g.IsDepthwise)
        {
            Run("depthwise_forward", Grid.Elements(g.OutputLength), [Of(x), Of(weight), Of(y), g.N, .. Geometry(g)]);
            return;
        }
        GemmForward(g, x, weight, y);
    }

    /// <summary>The im2col + SGEMM paths take the geometry by value, so the chunk bodies can capture it.</summary>
    void GemmForward(ConvGeometry g, DeviceBuffer x, DeviceBuffer weight, DeviceBuffer y)
    {
        int outHW = g.OutH * g.OutW, taps = Taps(g);
        ForEachChunk(g, (n0, images, grp, col, matrix) =>
        {
            int cols = images * outHW;
            Im2Col(g, x, n0, images, grp, col, transposed: false);
            long wOffset = (long)grp * g.CoutPerGroup * taps;
            if (images == 1)
                Gemm(false, false, g.CoutPerGroup, cols, taps, 1f, weight, wOffset, taps, col, 0, cols, 0f, y,
                     ((long)n0 * g.Cout + grp * g.CoutPerGroup) * outHW, outHW);
            else
            {
                Gemm(false, false, g.CoutPerGroup, cols, taps, 1f, weight, wOffset, taps, col, 0, cols, 0f, matrix, 0, cols);
                ChannelMajor(y, matrix, n0, images, g.Cout, grp * g.CoutPerGroup, g.CoutPerGroup, outHW, toMatrix: false);
            }
        });
    }

    public void Conv2dBackwardData(in ConvGeometry g, DeviceBuffer dy, DeviceBuffer weight, DeviceBuffer dx, bool accumulate)
    {
        CheckConv(g, dx, weight, dy);
        if (g.IsDepthwise)
        {
            Run("depthwise_backward_data", Grid.Elements(g.InputLength), [Of(dy), Of(weight), Of(dx), g.N, .. Geometry(g), accumulate]);
            return;
        }
        GemmBackwardData(g, dy, weight, dx, accumulate);
    }

    void GemmBackwardData(ConvGeometry g, DeviceBuffer dy, DeviceBuffer weight, DeviceBuffer dx, bool accumulate)
    {
        int outHW = g.OutH * g.OutW, taps = Taps(g);
        ForEachChunk(g, (n0, images, grp, col, matrix) =>
        {
            int cols = images * outHW;
            var (dyg, dyOffset) = DyColumns(g, dy, matrix, n0, images, grp);
            Gemm(true, false, taps, cols, g.CoutPerGroup, 1f, weight, (long)grp * g.CoutPerGroup * taps, taps, dyg, dyOffset,
                 images == 1 ? outHW : cols, 0f, col, 0, cols);
            Run("col2im", Grid.Elements((long)images * g.CinPerGroup * g.H * g.W),
                [Of(col), n0, images, grp * g.CinPerGroup, g.CinPerGroup, .. Geometry(g), Of(dx), accumulate]);
        });
    }

    public void Conv2dBackwardWeight(in ConvGeometry g, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dweight, bool accumulate)
    {
        CheckConv(g, x, dweight, dy);
        if (g.IsDepthwise)
        {
            Run("depthwise_backward_weight", Grid.Groups(g.KH * g.KW, g.Cin), [Of(x), Of(dy), Of(dweight), g.N, .. Geometry(g), accumulate]);
            return;
        }
        GemmBackwardWeight(g, x, dy, dweight, accumulate);
    }

    void GemmBackwardWeight(ConvGeometry g, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dweight, bool accumulate)
    {
        int outHW = g.OutH * g.OutW, taps = Taps(g);
        ForEachChunk(g, (n0, images, grp, col, matrix) =>
        {
            int cols = images * outHW;
            // The first chunk overwrites dW unless the caller asked to accumulate.
            float beta = n0 == 0 && !accumulate ? 0f : 1f;
            Im2Col(g, x, n0, images, grp, col, transposed: true);
            var (dyg, dyOffset) = DyColumns(g, dy, matrix, n0, images, grp);
            Gemm(false, false, g.CoutPerGroup, taps, cols, 1f, dyg, dyOffset, images == 1 ? outHW : cols, col, 0, taps, beta,
                 dweight, (long)grp * g.CoutPerGroup * taps, taps);
        });
    }

    delegate void ChunkBody(int n0, int images, int grp, DeviceBuffer col, DeviceBuffer matrix);

    /// <summary>
    /// Calls <paramref name="body"/> for every group of every chunk of images, with scratch for the chunk's
    /// im2col columns and, when a chunk holds several images, for a CoutG x (images*OHW) channel-major matrix.
    /// </summary>
    void ForEachChunk(in ConvGeometry g, ChunkBody body)
    {
        int outHW = g.OutH * g.OutW, chunk = ImagesPerChunk(g);
        using var col = Allocate((long)Taps(g) * chunk * outHW);
        using var matrix = Allocate(chunk == 1 ? 0 : (long)g.CoutPerGroup * chunk * outHW);
        for (int n0 = 0; n0 < g.N; n0 += chunk)
            for (int grp = 0; grp < g.Groups; grp++)
                body(n0, Math.Min(chunk, g.N - n0), grp, col, matrix);
    }

    static int Taps(in ConvGeometry g) => g.CinPerGroup * g.KH * g.KW;

    static int ImagesPerChunk(in ConvGeometry g)
        => (int)Math.Clamp(ColumnBudget / ((long)Taps(g) * g.OutH * g.OutW), 1, g.N);

    /// <summary>The CONV_GEOMETRY arguments of kernels/conv.cl, in order.</summary>
    static KernelArg[] Geometry(in ConvGeometry g)
        => [g.Cin, g.H, g.W, g.KH, g.KW, g.StrideH, g.StrideW, g.PadH, g.PadW, g.OutH, g.OutW];

    void Im2Col(in ConvGeometry g, DeviceBuffer x, int n0, int images, int grp, DeviceBuffer col, bool transposed)
        => Run("im2col", Grid.Plane((long)images * g.OutH * g.OutW, Taps(g)),
               [Of(x), n0, images, grp * g.CinPerGroup, g.CinPerGroup, .. Geometry(g), Of(col), transposed]);

    void ChannelMajor(DeviceBuffer nchw, DeviceBuffer matrix, int n0, int images, int totalChannels, int c0, int channels, int plane, bool toMatrix)
        => Run("channel_major", Grid.Elements((long)images * channels * plane),
               [Of(nchw), Of(matrix), n0, images, totalChannels, c0, channels, plane, toMatrix]);

    /// <summary>dy of group grp for images [n0, n0 + images) as a CoutG x (images*OHW) matrix: dy itself for one image, else gathered.</summary>
    (DeviceBuffer Buffer, long Offset) DyColumns(in ConvGeometry g, DeviceBuffer dy, DeviceBuffer scratch, int n0, int images, int grp)
    {
        int outHW = g.OutH * g.OutW;
        if (images == 1) return (dy, ((long)n0 * g.Cout + grp * g.CoutPerGroup) * outHW);
        ChannelMajor(dy, scratch, n0, images, g.Cout, grp * g.CoutPerGroup, g.CoutPerGroup, outHW, toMatrix: true);
        return (scratch, 0);
    }
}
