/* Elementwise primitives (IBackend: Unary, UnaryBackward, Binary, Axpby, Affine, CopyBlocks,
 * AddChannelBias). CPU reference: src/NoiseKD.Backends/Cpu/ElementwiseFunctions.cs. */
#include "portability.h"

/* Op codes: the order of UnaryOp and BinaryOp in IBackend.cs. */
#define UNARY_RELU 0
#define UNARY_RELU6 1
#define UNARY_LEAKY_RELU 2
#define UNARY_TANH 3
#define UNARY_SIGMOID 4
#define UNARY_ABS 5
#define UNARY_EXP 6
#define UNARY_LOG 7
#define UNARY_SQUARE 8
#define BINARY_ADD 0
#define BINARY_SUB 1
#define BINARY_MUL 2

DEVICE float unary_value(int op, float alpha, float x)
{
    switch (op)
    {
    case UNARY_RELU: return x < 0.0f ? 0.0f : x; /* keeps NaN, as torch.relu */
    case UNARY_RELU6: return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x);
    case UNARY_LEAKY_RELU: return x > 0.0f ? x : alpha * x;
    case UNARY_TANH: return TANHF(x);
    case UNARY_SIGMOID: return 1.0f / (1.0f + EXPF(-x));
    case UNARY_ABS: return FABSF(x);
    case UNARY_EXP: return EXPF(x);
    case UNARY_LOG: return LOGF(x);
    default: return x * x;
    }
}

/* dy * op'(.) where s is x (Relu, Relu6, LeakyRelu, Abs, Log, Square) or y (Tanh, Sigmoid, Exp).
 * Masks select dy rather than multiply it, so an infinite dy in a dead unit gives 0, not NaN. */
DEVICE float unary_gradient(int op, float alpha, float s, float dy)
{
    switch (op)
    {
    case UNARY_RELU: return s <= 0.0f ? 0.0f : dy;
    case UNARY_RELU6: return s <= 0.0f || s >= 6.0f ? 0.0f : dy;
    case UNARY_LEAKY_RELU: return s > 0.0f ? dy : alpha * dy;
    case UNARY_TANH: return dy * (1.0f - s * s);
    case UNARY_SIGMOID: return dy * (1.0f - s) * s;
    case UNARY_ABS: return s > 0.0f ? dy : (s < 0.0f ? -dy : 0.0f);
    case UNARY_EXP: return dy * s;
    case UNARY_LOG: return dy / s;
    default: return dy * 2.0f * s;
    }
}

KERNEL void unary_forward(int op, float alpha, GLOBAL const float* x, GLOBAL float* y, i64 n)
{
    FOR_EACH(i, n) y[i] = unary_value(op, alpha, x[i]);
}

KERNEL void unary_backward(int op, float alpha, GLOBAL const float* saved, GLOBAL const float* dy,
                           GLOBAL float* dx, i64 n, int accumulate)
{
    FOR_EACH(i, n)
    {
        float g = unary_gradient(op, alpha, saved[i], dy[i]);
        dx[i] = accumulate ? dx[i] + g : g;
    }
}

KERNEL void binary(int op, GLOBAL const float* a, GLOBAL const float* b, GLOBAL float* y, i64 n)
{
    FOR_EACH(i, n)
    {
        float u = a[i], v = b[i];
        y[i] = op == BINARY_ADD ? u + v : (op == BINARY_SUB ? u - v : u * v);
    }
}

/* y = alpha*x + beta*y; beta = 0 never reads y (a fresh pooled buffer may hold NaNs). */
KERNEL void axpby(float alpha, GLOBAL const float* x, float beta, GLOBAL float* y, i64 n)
{
    if (beta == 0.0f)
    {
        FOR_EACH(i, n) y[i] = alpha * x[i] + 0.0f;
    }
    else
    {
        FOR_EACH(i, n) y[i] = alpha * x[i] + beta * y[i];
    }
}

KERNEL void affine(float alpha, GLOBAL const float* x, float beta, GLOBAL float* y, i64 n)
{
    FOR_EACH(i, n) y[i] = alpha * x[i] + beta;
}

/* rows blocks of length elements; dimension 0 walks a block, dimension 1 the blocks. */
KERNEL void copy_blocks(GLOBAL const float* src, i64 srcOffset, i64 srcStride,
                        GLOBAL float* dst, i64 dstOffset, i64 dstStride, i64 rows, i64 length)
{
    for (i64 r = GLOBAL_ID(1); r < rows; r += GLOBAL_SIZE(1))
        for (i64 j = GLOBAL_ID(0); j < length; j += GLOBAL_SIZE(0))
            dst[dstOffset + r * dstStride + j] = src[srcOffset + r * srcStride + j];
}

/* y[n, c, hw] += bias[c] over n planes of channels x hw. */
KERNEL void add_channel_bias(GLOBAL float* y, GLOBAL const float* bias, int channels, int hw, i64 n)
{
    FOR_EACH(i, n) y[i] += bias[(i / hw) % channels];
}
