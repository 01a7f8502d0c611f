/* Counter-based fills (IBackend: FillUniform, FillNormal, FillBernoulli): element i is a pure
 * function of (seed, offset + i), bit for bit the integer math of src/NoiseKD.Backends/CounterRng.cs. */
#include "portability.h"

/* SplitMix64's finalizer (Steele, Lea, Flood 2014) on a seed-keyed counter. */
DEVICE u64 rng_mix(u64 seed, u64 counter)
{
    u64 z = seed * U64(0x9E3779B97F4A7C15) + counter * U64(0xD1B54A32D192ED03) + U64(0x632BE59BD9B4E019);
    z = (z ^ (z >> 30)) * U64(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * U64(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 24 bits (exact in float). */
DEVICE float rng_uniform(u64 seed, u64 counter)
{
    return (float)(u32)(rng_mix(seed, counter) >> 40) * (1.0f / 16777216.0f);
}

/* Box-Muller on two 24-bit halves of one draw; u1 in (0, 1] keeps the log finite. */
DEVICE float rng_normal(u64 seed, u64 counter)
{
    u64 r = rng_mix(seed, counter);
    float u1 = (float)((u32)(r >> 40) + 1u) * (1.0f / 16777216.0f);
    float u2 = (float)((u32)(r >> 8) & 0xFFFFFFu) * (1.0f / 16777216.0f);
    return SQRTF(-2.0f * LOGF(u1)) * COSF(2.0f * 3.14159274f * u2);
}

KERNEL void fill_uniform(GLOBAL float* y, i64 n, u64 seed, u64 offset, float low, float width)
{
    FOR_EACH(i, n) y[i] = low + width * rng_uniform(seed, offset + (u64)i);
}

KERNEL void fill_normal(GLOBAL float* y, i64 n, u64 seed, u64 offset, float mean, float std)
{
    FOR_EACH(i, n) y[i] = mean + std * rng_normal(seed, offset + (u64)i);
}

KERNEL void fill_bernoulli(GLOBAL float* y, i64 n, u64 seed, u64 offset, float keep, float scale)
{
    FOR_EACH(i, n) y[i] = rng_uniform(seed, offset + (u64)i) < keep ? scale : 0.0f;
}
