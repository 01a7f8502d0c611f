/* Batch normalization over [N, C, HW] (Ioffe & Szegedy 2015, Algorithm 1); the per-channel sums come
 * from reduce.cl. CPU reference: Cpu/CpuBackend.BatchNorm.cs. gamma/beta may be null (affine=false). */
#include "portability.h"

/* y = (x - mean) * (gamma / sqrt(var + eps)) + beta; total = N*C*HW. */
KERNEL void batchnorm_forward(GLOBAL const float* x, i64 total, int channels, int hw,
                              GLOBAL const float* mean, GLOBAL const float* variance, float eps,
                              GLOBAL const float* gamma, GLOBAL const float* beta, GLOBAL float* y)
{
    FOR_EACH(i, total)
    {
        int c = (int)((i / hw) % channels);
        float invStd = 1.0f / SQRTF(variance[c] + eps);
        float scale = gamma ? gamma[c] * invStd : invStd;
        float shift = beta ? beta[c] : 0.0f;
        y[i] = (x[i] - mean[c]) * scale + shift;
    }
}

/* sums[c] = sum(dy), sums[channels + c] = sum(dy * (x - mean)). dgamma += invstd * the second, dbeta += the first. */
KERNEL void batchnorm_parameter_gradients(GLOBAL const float* sums, GLOBAL const float* variance, float eps, int channels,
                                          GLOBAL float* dgamma, GLOBAL float* dbeta)
{
    FOR_EACH(c, channels)
    {
        float invStd = 1.0f / SQRTF(variance[c] + eps);
        if (dgamma) dgamma[c] += invStd * sums[channels + c];
        if (dbeta) dbeta[c] += sums[c];
    }
}

/* Current statistics: dx = gamma*invstd/M * (M*dy - sum(dy) - xhat*sum(dy*xhat)), written as
 * k*dy + (x - mean)*slope + shift. Running statistics (batchStatistics = 0, sums unused): dx = k*dy. */
KERNEL void batchnorm_backward_data(GLOBAL const float* x, GLOBAL const float* dy, i64 total, int channels, int hw,
                                    GLOBAL const float* mean, GLOBAL const float* variance, float eps,
                                    GLOBAL const float* gamma, GLOBAL const float* sums, int batchStatistics,
                                    float invCount, GLOBAL float* dx, int accumulate)
{
    FOR_EACH(i, total)
    {
        int c = (int)((i / hw) % channels);
        float invStd = 1.0f / SQRTF(variance[c] + eps);
        float k = (gamma ? gamma[c] : 1.0f) * invStd;
        float slope = 0.0f, shift = 0.0f;
        if (batchStatistics)
        {
            slope = -k * invStd * (invStd * sums[channels + c]) * invCount;
            shift = -k * sums[c] * invCount;
        }
        float g = k * dy[i] + (x[i] - mean[c]) * slope + shift;
        dx[i] = accumulate ? dx[i] + g : g;
    }
}
