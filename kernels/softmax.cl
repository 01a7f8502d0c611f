/* Row-wise softmax and log-softmax of a [rows, cols] matrix (IBackend: Softmax, SoftmaxBackward):
 * one work-group of REDUCE_GROUP items per row; launch (rows*REDUCE_GROUP). The row maximum is
 * subtracted before exp so it cannot overflow (it cancels in the ratio); sums are acc_t, as the CPU's
 * are double. CPU reference: Cpu/CpuBackend.Softmax.cs. */
#include "portability.h"

KERNEL void softmax_forward(GLOBAL const float* x, GLOBAL float* y, int cols, int logarithm)
{
    LOCAL float maxima[REDUCE_GROUP];
    LOCAL acc_t scratch[REDUCE_GROUP];
    i64 row = GROUP_ID(0) * cols;
    float max = -INFINITY;
    for (int j = LOCAL_ID(0); j < cols; j += LOCAL_SIZE(0))
    {
        float v = x[row + j];
        if (v > max || ISNAN(v)) max = v;
    }
    max = group_max(maxima, max);
    acc_t sum = 0.0f;
    for (int j = LOCAL_ID(0); j < cols; j += LOCAL_SIZE(0)) sum += EXPF(x[row + j] - max);
    sum = group_sum(scratch, sum);
    if (logarithm)
    {
        float logSum = (float)log(sum);
        for (int j = LOCAL_ID(0); j < cols; j += LOCAL_SIZE(0)) y[row + j] = x[row + j] - max - logSum;
    }
    else
    {
        float inverse = (float)(1.0f / sum);
        for (int j = LOCAL_ID(0); j < cols; j += LOCAL_SIZE(0)) y[row + j] = EXPF(x[row + j] - max) * inverse;
    }
}

/* softmax: dx = y * (dy - sum(dy*y)); log_softmax: dx = dy - exp(y) * sum(dy). dx += when accumulating. */
KERNEL void softmax_backward(GLOBAL const float* y, GLOBAL const float* dy, int cols, int logarithm,
                             GLOBAL float* dx, int accumulate)
{
    LOCAL acc_t scratch[REDUCE_GROUP];
    i64 row = GROUP_ID(0) * cols;
    acc_t total = 0.0f;
    for (int j = LOCAL_ID(0); j < cols; j += LOCAL_SIZE(0)) total += logarithm ? (acc_t)dy[row + j] : (acc_t)dy[row + j] * y[row + j];
    float sum = (float)group_sum(scratch, total);
    for (int j = LOCAL_ID(0); j < cols; j += LOCAL_SIZE(0))
    {
        float v = y[row + j], d = dy[row + j];
        float g = logarithm ? d - EXPF(v) * sum : v * (d - sum);
        dx[row + j] = accumulate ? dx[row + j] + g : g;
    }
}
