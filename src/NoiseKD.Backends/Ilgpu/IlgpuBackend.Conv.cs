using NoiseKD.Kernels;
using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Ilgpu;

/// <summary>
/// Conv2d passes (kernels/Conv.cs): depthwise layers run direct kernels; all others are SGEMMs over
/// im2col columns, per group, on chunks of images as large as <see cref="ColumnBudget"/> allows:
///   forward          y_g      = W_g   * col            (CoutG x cols)
///   backward data    dcol     = W_g^T * dy_g, dx (+)= col2im(dcol)
///   backward weight  dW_g    (+)= dy_g  * colT        (im2col written transposed)
/// where dy_g / y_g of several images is the channel-major gather of their planes (one image reads NCHW
/// in place). The same plan as Cpu/GemmConv.cs, without its per-thread image ranges.
/// </summary>
public sealed partial class IlgpuBackend
{
    /// <summary>Floats of im2col scratch per chunk of images (64 MiB).</summary>
    const long ColumnBudget = 1L << 24;

    public void Conv2dForward(in ConvGeometry g, DeviceBuffer x, DeviceBuffer weight, DeviceBuffer y)
    {
        CheckConv(g, x, weight, y);
        Count(Math.Max(g.InputLength, g.OutputLength));
        if (g.IsDepthwise)
        {
            Kernels.Conv.DepthwiseForward(Elements(g.OutputLength), V(x), V(weight), V(y), Slice(g, 0, g.N, 0, g.Cin, false));
            return;
        }
        GemmForward(g, x, weight, y);
    }

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
                ChannelMajor(g, y, matrix, n0, images, grp, toMatrix: false);
            }
        });
    }

    public void Conv2dBackwardData(in ConvGeometry g, DeviceBuffer dy, DeviceBuffer weight, DeviceBuffer dx, bool accumulate)
    {
        CheckConv(g, dx, weight, dy);
        Count(Math.Max(g.InputLength, g.OutputLength));
        if (g.IsDepthwise)
        {
            Kernels.Conv.DepthwiseBackwardData(Elements(g.InputLength), V(dy), V(weight), V(dx), Slice(g, 0, g.N, 0, g.Cin, accumulate));
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
            Kernels.Conv.Col2Im(Elements((long)images * g.CinPerGroup * g.H * g.W), V(col), V(dx),
                                Slice(g, n0, images, grp * g.CinPerGroup, g.CinPerGroup, accumulate));
        });
    }

    public void Conv2dBackwardWeight(in ConvGeometry g, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dweight, bool accumulate)
    {
        CheckConv(g, x, dweight, dy);
        Count(Math.Max(g.InputLength, g.OutputLength));
        if (g.IsDepthwise)
        {
            Kernels.Conv.DepthwiseBackwardWeight(Groups((long)g.Cin * g.KH * g.KW), V(x), V(dy), V(dweight), Slice(g, 0, g.N, 0, g.Cin, accumulate));
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

    /// <summary>The kernels' view of the geometry for images [n0, n0 + images) and channels [c0, c0 + channels) (see <see cref="ConvParams"/>).</summary>
    static ConvParams Slice(in ConvGeometry g, int n0, int images, int c0, int channels, bool flag)
        => new(g.Cin, g.H, g.W, g.KH, g.KW, g.StrideH, g.StrideW, g.PadH, g.PadW, g.OutH, g.OutW, n0, images, c0, channels, g.Cout, flag);

    void Im2Col(in ConvGeometry g, DeviceBuffer x, int n0, int images, int grp, DeviceBuffer col, bool transposed)
        => Kernels.Conv.Im2Col(Elements((long)images * g.OutH * g.OutW * Taps(g)), V(x), V(col),
                               Slice(g, n0, images, grp * g.CinPerGroup, g.CinPerGroup, transposed));

    /// <summary>Output channels of group grp of images [n0, n0 + images) between NCHW and the channel-major matrix.</summary>
    void ChannelMajor(in ConvGeometry g, DeviceBuffer nchw, DeviceBuffer matrix, int n0, int images, int grp, bool toMatrix)
        => Kernels.Conv.ChannelMajor(Elements((long)images * g.CoutPerGroup * g.OutH * g.OutW), V(nchw), V(matrix),
                                     Slice(g, n0, images, grp * g.CoutPerGroup, g.CoutPerGroup, toMatrix));

    /// <summary>dy of group grp for images [n0, n0 + images) as a CoutG x (images*OHW) matrix: dy itself for one image, else gathered.</summary>
    (DeviceBuffer Buffer, long Offset) DyColumns(in ConvGeometry g, DeviceBuffer dy, DeviceBuffer scratch, int n0, int images, int grp)
    {
        int outHW = g.OutH * g.OutW;
        if (images == 1) return (dy, ((long)n0 * g.Cout + grp * g.CoutPerGroup) * outHW);
        ChannelMajor(g, dy, scratch, n0, images, grp, toMatrix: true);
        return (scratch, 0);
    }
}
