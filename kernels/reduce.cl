/* Per-channel sums over [N, C, HW] in two deterministic stages (IBackend: Sum, ChannelSum, and the
 * statistics of BatchNorm): channel_partials gives chunk g of channel c to work-group (g, c), which
 * sums a fixed slice of the channel's N*HW elements; channel_finish adds a channel's chunks in order.
 * The split depends only on the shape, never on timing. Partials are acc_t (double where the device
 * has it: the host sizes the scratch for 8 bytes each). CPU reference: Cpu/CpuBackend.Reduce.cs. */
#include "portability.h"

/* What is summed: a, (a - mean[c])^2 (second pass of a two-pass variance) or (a - mean[c]) * b. */
#define TERM_PLAIN 0
#define TERM_SQUARED_DEVIATION 1
#define TERM_CENTERED_PRODUCT 2

/* partials[c * chunks + g] = sum of term over slice g of channel c. Launch: (chunks*REDUCE_GROUP, channels). */
KERNEL void channel_partials(int term, GLOBAL const float* a, GLOBAL const float* b, GLOBAL const float* mean,
                             int n, int channels, int hw, int chunks, GLOBAL acc_t* partials)
{
    LOCAL acc_t scratch[REDUCE_GROUP];
    int g = (int)GROUP_ID(0), c = (int)GROUP_ID(1);
    i64 count = (i64)n * hw;
    i64 start = count * g / chunks, end = count * (g + 1) / chunks;
    acc_t mu = term == TERM_PLAIN ? 0.0f : mean[c];
    acc_t sum = 0.0f;
    for (i64 k = start + LOCAL_ID(0); k < end; k += LOCAL_SIZE(0))
    {
        i64 image = k / hw, pixel = k - image * hw;
        i64 i = (image * channels + c) * hw + pixel;
        acc_t v = a[i];
        if (term == TERM_SQUARED_DEVIATION) { acc_t d = v - mu; v = d * d; }
        else if (term == TERM_CENTERED_PRODUCT) v = (v - mu) * b[i];
        sum += v;
    }
    sum = group_sum(scratch, sum);
    if (LOCAL_ID(0) == 0) partials[(i64)c * chunks + g] = sum;
}

/* result[offset + c] (+)= (sum of channel c's partials, in chunk order) / divisor. */
KERNEL void channel_finish(GLOBAL const acc_t* partials, int chunks, int channels, float divisor,
                           GLOBAL float* result, i64 offset, int accumulate)
{
    FOR_EACH(c, channels)
    {
        acc_t sum = 0.0f;
        for (int g = 0; g < chunks; g++) sum += partials[c * chunks + g];
        sum /= divisor;
        result[offset + c] = (float)(accumulate ? result[offset + c] + sum : sum);
    }
}
