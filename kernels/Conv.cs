using ILGPU;

namespace NoiseKD.Kernels;

/// <summary>
/// A convolution's geometry (ConvGeometry on the host: Cin input channels of H x W, KH x KW taps, stride,
/// zero padding, OutH x OutW outputs) and the slice a kernel works on: images [N0, N0 + Images) and
/// channels [C0, C0 + Channels) (one group's input channels for im2col/col2im, output channels for the
/// channel-major moves). Depthwise kernels use N0 = 0, Images = N. Flag is accumulate, transposed or toMatrix.
/// </summary>
public readonly struct ConvParams(int cin, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int outH, int outW,
                                  int n0, int images, int c0, int channels, int totalChannels, bool flag)
{
    public readonly int Cin = cin, H = h, W = w, KH = kh, KW = kw, SH = sh, SW = sw, PH = ph, PW = pw, OutH = outH, OutW = outW;
    public readonly int N0 = n0, Images = images, C0 = c0, Channels = channels, TotalChannels = totalChannels, Flag = flag ? 1 : 0;
}

/// <summary>
/// Convolution pieces (IBackend: Conv2dForward, Conv2dBackwardData, Conv2dBackwardWeight). Dense and grouped
/// layers lower to SGEMM (<see cref="Gemm"/>) over im2col columns (Chellapilla, Puri &amp; Simard 2006): one
/// row per weight tap (c, kh, kw), one column per output pixel (image, oh, ow) of a chunk of images;
/// col2im is its adjoint written as a gather. Depthwise layers (groups == Cin == Cout) run direct kernels.
/// CPU reference: Cpu/Im2Col.cs, Cpu/GemmConv.cs, Cpu/DepthwiseConv.cs. PyTorch's output size
/// (H + 2*pad - K) / stride + 1.
/// </summary>
public static class Conv
{
    /// <summary>The output index of one axis that reads input i through tap k (o*stride - pad + k = i), or -1.</summary>
    static int OutputOf(int i, int pad, int k, int stride, int outSize)
    {
        int o = i + pad - k;
        return o < 0 || o % stride != 0 || o / stride >= outSize ? -1 : o / stride;
    }

    /// <summary>
    /// col[tap, image*OHW + pixel] for the slice's channels and images, or its transpose col[image*OHW + pixel, tap]
    /// when Flag (the weight gradient reads it so: dW = dy * colT keeps both GEMM operands walking K contiguously).
    /// </summary>
    public static void Im2Col(ArrayView<float> x, ArrayView<float> col, ConvParams p)
    {
        int outHW = p.OutH * p.OutW, taps = p.Channels * p.KH * p.KW, cols = p.Images * outHW;
        long total = (long)taps * cols;
        for (long e = Loops.First; e < total; e += Loops.Stride)
        {
            int t = (int)(e / cols), j = (int)(e - (long)t * cols);
            int ch = t / (p.KH * p.KW), r = t - ch * p.KH * p.KW, ki = r / p.KW, kj = r - ki * p.KW;
            int image = j / outHW, pixel = j - image * outHW, oh = pixel / p.OutW, ow = pixel - oh * p.OutW;
            int ih = oh * p.SH - p.PH + ki, iw = ow * p.SW - p.PW + kj;
            float v = 0f;
            if (ih >= 0 && ih < p.H && iw >= 0 && iw < p.W) v = x[(((long)(p.N0 + image) * p.Cin + p.C0 + ch) * p.H + ih) * p.W + iw];
            col[p.Flag != 0 ? (long)j * taps + t : e] = v;
        }
    }

    /// <summary>dx (+)= col2im(col) for the slice (Flag: accumulate): the adjoint of im2col, taps on padding dropped.</summary>
    public static void Col2Im(ArrayView<float> col, ArrayView<float> dx, ConvParams p)
    {
        int outHW = p.OutH * p.OutW;
        long cols = (long)p.Images * outHW, total = (long)p.Images * p.Channels * p.H * p.W;
        for (long e = Loops.First; e < total; e += Loops.Stride)
        {
            int iw = (int)(e % p.W), ih = (int)((e / p.W) % p.H), ch = (int)((e / ((long)p.W * p.H)) % p.Channels);
            int image = (int)(e / ((long)p.W * p.H * p.Channels));
            float sum = 0f;
            for (int ki = 0; ki < p.KH; ki++)
            {
                int oh = OutputOf(ih, p.PH, ki, p.SH, p.OutH);
                for (int kj = 0; kj < p.KW && oh >= 0; kj++)
                {
                    int ow = OutputOf(iw, p.PW, kj, p.SW, p.OutW);
                    if (ow >= 0) sum += col[((long)(ch * p.KH + ki) * p.KW + kj) * cols + (long)image * outHW + oh * p.OutW + ow];
                }
            }
            long at = (((long)(p.N0 + image) * p.Cin + p.C0 + ch) * p.H + ih) * p.W + iw;
            dx[at] = p.Flag != 0 ? dx[at] + sum : sum;
        }
    }

    /// <summary>
    /// Moves channels [C0, C0 + Channels) of images [N0, N0 + Images) of an NCHW tensor with TotalChannels
    /// planes of OutH*OutW into (Flag) or out of the channel-major matrix [Channels, Images*plane] that a
    /// GEMM over several images reads or writes.
    /// </summary>
    public static void ChannelMajor(ArrayView<float> nchw, ArrayView<float> matrix, ConvParams p)
    {
        int plane = p.OutH * p.OutW;
        long total = (long)p.Images * p.Channels * plane;
        for (long e = Loops.First; e < total; e += Loops.Stride)
        {
            int pixel = (int)(e % plane), ch = (int)((e / plane) % p.Channels), image = (int)(e / ((long)plane * p.Channels));
            long at = ((long)(p.N0 + image) * p.TotalChannels + p.C0 + ch) * plane + pixel;
            long m = (long)ch * p.Images * plane + (long)image * plane + pixel;
            if (p.Flag != 0) matrix[m] = nchw[at];
            else nchw[at] = matrix[m];
        }
    }

    /// <summary>Depthwise: y[n, c] = sum over taps of w[c, kh, kw] * x[n, c] under the tap; one thread per output.</summary>
    public static void DepthwiseForward(ArrayView<float> x, ArrayView<float> weight, ArrayView<float> y, ConvParams p)
    {
        int outHW = p.OutH * p.OutW;
        long total = (long)p.Images * p.Cin * outHW;
        for (long e = Loops.First; e < total; e += Loops.Stride)
        {
            int ow = (int)(e % p.OutW), oh = (int)((e / p.OutW) % p.OutH);
            long plane = e / outHW;
            int c = (int)(plane % p.Cin);
            float sum = 0f;
            for (int ki = 0; ki < p.KH; ki++)
            {
                int ih = oh * p.SH - p.PH + ki;
                if (ih < 0 || ih >= p.H) continue;
                for (int kj = 0; kj < p.KW; kj++)
                {
                    int iw = ow * p.SW - p.PW + kj;
                    if (iw < 0 || iw >= p.W) continue;
                    sum += weight[(c * p.KH + ki) * p.KW + kj] * x[(plane * p.H + ih) * p.W + iw];
                }
            }
            y[e] = sum;
        }
    }

    /// <summary>dx (+)= the transpose of <see cref="DepthwiseForward"/> applied to dy (Flag: accumulate); a gather per input.</summary>
    public static void DepthwiseBackwardData(ArrayView<float> dy, ArrayView<float> weight, ArrayView<float> dx, ConvParams p)
    {
        long total = (long)p.Images * p.Cin * p.H * p.W;
        for (long e = Loops.First; e < total; e += Loops.Stride)
        {
            int iw = (int)(e % p.W), ih = (int)((e / p.W) % p.H);
            long plane = e / ((long)p.H * p.W);
            int c = (int)(plane % p.Cin);
            float sum = 0f;
            for (int ki = 0; ki < p.KH; ki++)
            {
                int oh = OutputOf(ih, p.PH, ki, p.SH, p.OutH);
                for (int kj = 0; kj < p.KW && oh >= 0; kj++)
                {
                    int ow = OutputOf(iw, p.PW, kj, p.SW, p.OutW);
                    if (ow >= 0) sum += weight[(c * p.KH + ki) * p.KW + kj] * dy[(plane * p.OutH + oh) * p.OutW + ow];
                }
            }
            dx[e] = p.Flag != 0 ? dx[e] + sum : sum;
        }
    }

    /// <summary>
    /// dw[c, tap] (+)= sum over images and output pixels of dy * x under the tap (Flag: accumulate), in double
    /// through a fixed-tree group sum: group c*KH*KW + tap; launch Cin*KH*KW groups of a power-of-two size.
    /// </summary>
    public static void DepthwiseBackwardWeight(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw, ConvParams p)
    {
        var scratch = SharedMemory.Allocate<double>(Loops.MaxGroup);
        int taps = p.KH * p.KW, c = Grid.IdxX / taps, tap = Grid.IdxX - c * taps, ki = tap / p.KW, kj = tap - ki * p.KW;
        int outHW = p.OutH * p.OutW;
        double sum = 0;
        for (long k = Group.IdxX; k < (long)p.Images * outHW; k += Group.DimX)
        {
            int image = (int)(k / outHW), pixel = (int)(k % outHW), oh = pixel / p.OutW, ow = pixel - oh * p.OutW;
            int ih = oh * p.SH - p.PH + ki, iw = ow * p.SW - p.PW + kj;
            if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
            long plane = (long)image * p.Cin + c;
            sum += (double)dy[plane * outHW + pixel] * x[(plane * p.H + ih) * p.W + iw];
        }
        sum = Loops.GroupSum(scratch, sum);
        if (Group.IdxX == 0) dw[Grid.IdxX] = (float)(p.Flag != 0 ? dw[Grid.IdxX] + sum : sum);
    }
}
