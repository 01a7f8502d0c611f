/* Convolution pieces (IBackend: Conv2dForward, Conv2dBackwardData, Conv2dBackwardWeight). Dense and
 * grouped layers lower to SGEMM over im2col columns (Chellapilla, Puri & Simard 2006): the column
 * matrix has one row per weight tap (c, kh, kw) and one column per output pixel (image, oh, ow) of a
 * chunk of images; col2im is its adjoint, written as a gather (each input element sums the columns
 * that read it) so no two items write one address. Depthwise layers (groups == Cin == Cout) run direct
 * kernels. CPU reference: Cpu/Im2Col.cs, Cpu/GemmConv.cs, Cpu/DepthwiseConv.cs. Zero padding, PyTorch's
 * output size (H + 2*pad - K) / stride + 1. */
#include "portability.h"

/* The geometry every kernel here takes, in this order (ConvGeometry on the host). */
#define CONV_GEOMETRY int cin, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int outH, int outW

/* The output index o of one axis that reads input i through tap k (o*stride - pad + k = i), or -1 when
 * no output does (the gathers of the backward passes walk taps and ask this). */
DEVICE int output_of(int i, int pad, int k, int stride, int outSize)
{
    int o = i + pad - k;
    return o < 0 || o % stride != 0 || o / stride >= outSize ? -1 : o / stride;
}

/* col[tap, image*outHW + pixel] for channels [c0, c0 + cinG) of images [n0, n0 + images), or its
 * transpose col[image*outHW + pixel, tap] (the weight gradient reads it so: dW = dy * colT keeps both
 * GEMM operands walking K contiguously). Launch 2-d: dimension 0 walks columns, dimension 1 taps. */
KERNEL void im2col(GLOBAL const float* x, int n0, int images, int c0, int cinG, CONV_GEOMETRY, GLOBAL float* col, int transposed)
{
    int outHW = outH * outW, taps = cinG * kh * kw, cols = images * outHW;
    for (int t = (int)GLOBAL_ID(1); t < taps; t += (int)GLOBAL_SIZE(1))
    {
        int ch = t / (kh * kw), r = t - ch * kh * kw, ki = r / kw, kj = r - ki * kw;
        for (int j = (int)GLOBAL_ID(0); j < cols; j += (int)GLOBAL_SIZE(0))
        {
            int image = j / outHW, pixel = j - image * outHW, oh = pixel / outW, ow = pixel - oh * outW;
            int ih = oh * sh - ph + ki, iw = ow * sw - pw + kj;
            float v = 0.0f;
            if (ih >= 0 && ih < h && iw >= 0 && iw < w) v = x[(((i64)(n0 + image) * cin + c0 + ch) * h + ih) * w + iw];
            col[transposed ? (i64)j * taps + t : (i64)t * cols + j] = v;
        }
    }
}

/* dx (+)= col2im(col) for the same channels and images: the adjoint of im2col (taps on padding drop out). */
KERNEL void col2im(GLOBAL const float* col, int n0, int images, int c0, int cinG, CONV_GEOMETRY,
                   GLOBAL float* dx, int accumulate)
{
    int outHW = outH * outW;
    i64 cols = (i64)images * outHW, total = (i64)images * cinG * h * w;
    FOR_EACH(e, total)
    {
        int iw = (int)(e % w), ih = (int)((e / w) % h), ch = (int)((e / ((i64)w * h)) % cinG);
        int image = (int)(e / ((i64)w * h * cinG));
        float sum = 0.0f;
        for (int ki = 0; ki < kh; ki++)
        {
            int oh = output_of(ih, ph, ki, sh, outH);
            for (int kj = 0; kj < kw && oh >= 0; kj++)
            {
                int ow = output_of(iw, pw, kj, sw, outW);
                if (ow >= 0) sum += col[((i64)(ch * kh + ki) * kw + kj) * cols + (i64)image * outHW + oh * outW + ow];
            }
        }
        i64 at = (((i64)(n0 + image) * cin + c0 + ch) * h + ih) * w + iw;
        dx[at] = accumulate ? dx[at] + sum : sum;
    }
}

/* Moves channels [c0, c0 + channels) of images [n0, n0 + images) between NCHW and the channel-major
 * matrix [channels, images*plane] a GEMM over several images reads or writes. */
KERNEL void channel_major(GLOBAL float* nchw, GLOBAL float* matrix, int n0, int images, int totalChannels,
                          int c0, int channels, int plane, int toMatrix)
{
    i64 total = (i64)images * channels * plane;
    FOR_EACH(e, total)
    {
        int pixel = (int)(e % plane), ch = (int)((e / plane) % channels), image = (int)(e / ((i64)plane * channels));
        i64 at = ((i64)(n0 + image) * totalChannels + c0 + ch) * plane + pixel;
        i64 m = (i64)ch * images * plane + (i64)image * plane + pixel;
        if (toMatrix) matrix[m] = nchw[at];
        else nchw[at] = matrix[m];
    }
}

/* Depthwise: y[n, c] = sum over taps of w[c, kh, kw] * x[n, c] under the tap; one item per output. */
KERNEL void depthwise_forward(GLOBAL const float* x, GLOBAL const float* wt, GLOBAL float* y, int n, CONV_GEOMETRY)
{
    int outHW = outH * outW;
    i64 total = (i64)n * cin * outHW;
    FOR_EACH(e, total)
    {
        int ow = (int)(e % outW), oh = (int)((e / outW) % outH);
        i64 plane = e / outHW;
        int c = (int)(plane % cin);
        float sum = 0.0f;
        for (int ki = 0; ki < kh; ki++)
        {
            int ih = oh * sh - ph + ki;
            if (ih < 0 || ih >= h) continue;
            for (int kj = 0; kj < kw; kj++)
            {
                int iw = ow * sw - pw + kj;
                if (iw < 0 || iw >= w) continue;
                sum += wt[(c * kh + ki) * kw + kj] * x[(plane * h + ih) * w + iw];
            }
        }
        y[e] = sum;
    }
}

/* dx[n, c] (+)= the transpose of depthwise_forward applied to dy; one item per input, a gather. */
KERNEL void depthwise_backward_data(GLOBAL const float* dy, GLOBAL const float* wt, GLOBAL float* dx, int n,
                                    CONV_GEOMETRY, int accumulate)
{
    i64 total = (i64)n * cin * h * w;
    FOR_EACH(e, total)
    {
        int iw = (int)(e % w), ih = (int)((e / w) % h);
        i64 plane = e / ((i64)h * w);
        int c = (int)(plane % cin);
        float sum = 0.0f;
        for (int ki = 0; ki < kh; ki++)
        {
            int oh = output_of(ih, ph, ki, sh, outH);
            for (int kj = 0; kj < kw && oh >= 0; kj++)
            {
                int ow = output_of(iw, pw, kj, sw, outW);
                if (ow >= 0) sum += wt[(c * kh + ki) * kw + kj] * dy[(plane * outH + oh) * outW + ow];
            }
        }
        dx[e] = accumulate ? dx[e] + sum : sum;
    }
}

/* dw[c, tap] (+)= sum over images and output pixels of dy * x under the tap. Work-group (tap, c),
 * REDUCE_GROUP items in dimension 0; launch (taps*REDUCE_GROUP, channels). */
KERNEL void depthwise_backward_weight(GLOBAL const float* x, GLOBAL const float* dy, GLOBAL float* dw, int n,
                                      CONV_GEOMETRY, int accumulate)
{
    LOCAL acc_t scratch[REDUCE_GROUP];
    int tap = (int)GROUP_ID(0), c = (int)GROUP_ID(1), ki = tap / kw, kj = tap % kw, outHW = outH * outW;
    acc_t sum = 0.0f;
    for (i64 k = LOCAL_ID(0); k < (i64)n * outHW; k += LOCAL_SIZE(0))
    {
        int image = (int)(k / outHW), pixel = (int)(k % outHW), oh = pixel / outW, ow = pixel % outW;
        int ih = oh * sh - ph + ki, iw = ow * sw - pw + kj;
        if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
        i64 plane = (i64)image * cin + c;
        sum += (acc_t)dy[plane * outHW + pixel] * x[(plane * h + ih) * w + iw];
    }
    sum = group_sum(scratch, sum);
    if (LOCAL_ID(0) == 0)
    {
        i64 at = (i64)c * kh * kw + tap;
        dw[at] = (float)(accumulate ? dw[at] + sum : sum);
    }
}
