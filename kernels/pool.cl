/* Pooling and nearest upsampling over N*C independent planes (IBackend: MaxPool2d*, AvgPool2d*,
 * AdaptiveAvgPool2d*, UpsampleNearest*). Window rules follow PyTorch's CPU kernels; every backward
 * pass is a gather over input elements (each sums the outputs whose window holds it), so overlapping
 * windows need no atomics and the result does not depend on scheduling. CPU reference: Cpu/CpuBackend.Pool.cs. */
#include "portability.h"

#define POOL_GEOMETRY int planes, int h, int w, int outH, int outW, int kh, int kw, int sh, int sw, int ph, int pw

/* Plane index of the first maximum of window (oh, ow), row-major; padding never wins, a NaN does. */
DEVICE int max_index(GLOBAL const float* plane, int oh, int ow, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw)
{
    int h0 = oh * sh - ph, w0 = ow * sw - pw;
    int h1 = h0 + kh < h ? h0 + kh : h, w1 = w0 + kw < w ? w0 + kw : w;
    h0 = h0 > 0 ? h0 : 0;
    w0 = w0 > 0 ? w0 : 0;
    int best = h0 * w + w0;
    float bestValue = -INFINITY;
    for (int ih = h0; ih < h1; ih++)
        for (int iw = w0; iw < w1; iw++)
        {
            float v = plane[ih * w + iw];
            if (v > bestValue || ISNAN(v)) { bestValue = v; best = ih * w + iw; }
        }
    return best;
}

/* The outputs [lo, hi] of one axis whose strided window (start o*stride - pad, size k) holds input i. */
DEVICE int first_window(int i, int k, int stride, int pad)
{
    int a = i + pad - k + 1;
    return a <= 0 ? 0 : (a + stride - 1) / stride;
}

DEVICE int last_window(int i, int stride, int pad, int outSize)
{
    int b = (i + pad) / stride;
    return b < outSize - 1 ? b : outSize - 1;
}

/* Window (oh, ow) of an average pool as [h0, h1) x [w0, w1), returning its divisor. Strided: avg_pool2d,
 * whose count_include_pad divisor is the window clipped to the padded input. Adaptive: start =
 * floor(i*H/OH), end = ceil((i+1)*H/OH). */
DEVICE int average_window(int adaptive, int includePad, int oh, int ow, int h, int w, int outH, int outW,
                          int kh, int kw, int sh, int sw, int ph, int pw, int* h0, int* h1, int* w0, int* w1)
{
    if (adaptive)
    {
        *h0 = (int)((i64)oh * h / outH);
        *h1 = (int)(((i64)(oh + 1) * h + outH - 1) / outH);
        *w0 = (int)((i64)ow * w / outW);
        *w1 = (int)(((i64)(ow + 1) * w + outW - 1) / outW);
        return (*h1 - *h0) * (*w1 - *w0);
    }
    int a0 = oh * sh - ph, b0 = ow * sw - pw;
    int a1 = a0 + kh < h + ph ? a0 + kh : h + ph, b1 = b0 + kw < w + pw ? b0 + kw : w + pw;
    int padded = (a1 - a0) * (b1 - b0);
    *h0 = a0 > 0 ? a0 : 0;
    *w0 = b0 > 0 ? b0 : 0;
    *h1 = a1 < h ? a1 : h;
    *w1 = b1 < w ? b1 : w;
    return includePad ? padded : (*h1 - *h0) * (*w1 - *w0);
}

KERNEL void max_pool_forward(GLOBAL const float* x, GLOBAL float* y, POOL_GEOMETRY)
{
    i64 total = (i64)planes * outH * outW;
    FOR_EACH(e, total)
    {
        int ow = (int)(e % outW), oh = (int)((e / outW) % outH);
        GLOBAL const float* plane = x + (e / ((i64)outH * outW)) * h * w;
        y[e] = plane[max_index(plane, oh, ow, h, w, kh, kw, sh, sw, ph, pw)];
    }
}

/* dx += dy routed to the first maximum of each window (PyTorch's tie rule), recomputed from x. */
KERNEL void max_pool_backward(GLOBAL const float* x, GLOBAL const float* dy, GLOBAL float* dx, POOL_GEOMETRY)
{
    i64 total = (i64)planes * h * w;
    FOR_EACH(e, total)
    {
        int iw = (int)(e % w), ih = (int)((e / w) % h);
        i64 p = e / ((i64)h * w);
        GLOBAL const float* plane = x + p * h * w;
        int here = ih * w + iw, ohHi = last_window(ih, sh, ph, outH), owHi = last_window(iw, sw, pw, outW);
        float sum = 0.0f;
        for (int oh = first_window(ih, kh, sh, ph); oh <= ohHi; oh++)
            for (int ow = first_window(iw, kw, sw, pw); ow <= owHi; ow++)
                if (max_index(plane, oh, ow, h, w, kh, kw, sh, sw, ph, pw) == here)
                    sum += dy[(p * outH + oh) * outW + ow];
        dx[e] += sum;
    }
}

KERNEL void avg_pool_forward(GLOBAL const float* x, GLOBAL float* y, POOL_GEOMETRY, int includePad, int adaptive)
{
    i64 total = (i64)planes * outH * outW;
    FOR_EACH(e, total)
    {
        int ow = (int)(e % outW), oh = (int)((e / outW) % outH), h0, h1, w0, w1;
        GLOBAL const float* plane = x + (e / ((i64)outH * outW)) * h * w;
        int divisor = average_window(adaptive, includePad, oh, ow, h, w, outH, outW, kh, kw, sh, sw, ph, pw, &h0, &h1, &w0, &w1);
        float sum = 0.0f;
        for (int ih = h0; ih < h1; ih++)
            for (int iw = w0; iw < w1; iw++) sum += plane[ih * w + iw];
        y[e] = sum / (float)divisor;
    }
}

/* dx += the adjoint of avg_pool_forward applied to dy. */
KERNEL void avg_pool_backward(GLOBAL const float* dy, GLOBAL float* dx, POOL_GEOMETRY, int includePad, int adaptive)
{
    i64 total = (i64)planes * h * w;
    FOR_EACH(e, total)
    {
        int iw = (int)(e % w), ih = (int)((e / w) % h);
        i64 p = e / ((i64)h * w);
        int ohLo = adaptive ? 0 : first_window(ih, kh, sh, ph), ohHi = adaptive ? outH - 1 : last_window(ih, sh, ph, outH);
        int owLo = adaptive ? 0 : first_window(iw, kw, sw, pw), owHi = adaptive ? outW - 1 : last_window(iw, sw, pw, outW);
        float sum = 0.0f;
        for (int oh = ohLo; oh <= ohHi; oh++)
            for (int ow = owLo; ow <= owHi; ow++)
            {
                int h0, h1, w0, w1;
                int divisor = average_window(adaptive, includePad, oh, ow, h, w, outH, outW, kh, kw, sh, sw, ph, pw, &h0, &h1, &w0, &w1);
                if (ih >= h0 && ih < h1 && iw >= w0 && iw < w1) sum += dy[(p * outH + oh) * outW + ow] / (float)divisor;
            }
        dx[e] += sum;
    }
}

/* y[p, i, j] = x[p, i / scaleH, j / scaleW]. */
KERNEL void upsample_forward(GLOBAL const float* x, GLOBAL float* y, int planes, int h, int w, int scaleH, int scaleW)
{
    int outH = h * scaleH, outW = w * scaleW;
    i64 total = (i64)planes * outH * outW;
    FOR_EACH(e, total)
    {
        int j = (int)(e % outW), i = (int)((e / outW) % outH);
        i64 p = e / ((i64)outH * outW);
        y[e] = x[(p * h + i / scaleH) * w + j / scaleW];
    }
}

/* dx += the sum of dy over each source pixel's scaleH x scaleW block. */
KERNEL void upsample_backward(GLOBAL const float* dy, GLOBAL float* dx, int planes, int h, int w, int scaleH, int scaleW)
{
    int outH = h * scaleH, outW = w * scaleW;
    i64 total = (i64)planes * h * w;
    FOR_EACH(e, total)
    {
        int j = (int)(e % w), i = (int)((e / w) % h);
        i64 p = e / ((i64)h * w);
        float sum = 0.0f;
        for (int a = 0; a < scaleH; a++)
            for (int b = 0; b < scaleW; b++) sum += dy[(p * outH + i * scaleH + a) * outW + j * scaleW + b];
        dx[e] += sum;
    }
}
