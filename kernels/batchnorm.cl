/* Batch normalization over [N, C, HW] (Ioffe & Szegedy 2015, Algorithm 1). Per-channel coefficients
 * are computed once per channel in acc_t (the CPU reference uses double), from the chunk partials of
 * reduce.cl; the elementwise passes then cost two multiply-adds per element. CPU reference:
 * Cpu/CpuBackend.BatchNorm.cs. gamma/beta may be null (affine=false). */
#include "portability.h"

DEVICE acc_t inverse_std(GLOBAL const float* variance, int c, float eps)
{
    return (acc_t)1.0f / sqrt((acc_t)variance[c] + eps);
}

/* scale[c] = gamma[c] / sqrt(var[c] + eps). */
KERNEL void batchnorm_scale(GLOBAL const float* variance, float eps, GLOBAL const float* gamma, int channels, GLOBAL float* scale)
{
    FOR_EACH(c, channels)
    {
        acc_t invStd = inverse_std(variance, (int)c, eps);
        scale[c] = (float)(gamma ? gamma[c] * invStd : invStd);
    }
}

/* y = (x - mean) * scale + beta; (x - mean) first, so nothing cancels when |mean| >> std. total = N*C*HW. */
KERNEL void batchnorm_forward(GLOBAL const float* x, i64 total, int channels, int hw, GLOBAL const float* mean,
                              GLOBAL const float* scale, GLOBAL const float* beta, GLOBAL float* y)
{
    FOR_EACH(i, total)
    {
        int c = (int)((i / hw) % channels);
        y[i] = (x[i] - mean[c]) * scale[c] + (beta ? beta[c] : 0.0f);
    }
}

/* Current statistics: dx = gamma*invstd/M * (M*dy - sum(dy) - xhat*sum(dy*xhat)) = k*dy + (x - mean)*slope + shift;
 * running statistics: slope = shift = 0. coefficients[3c..3c+2] = (k, slope, shift). dgamma += sum(dy*xhat),
 * dbeta += sum(dy). The sums come as chunk partials (null when nothing needs them). */
KERNEL void batchnorm_backward_coefficients(GLOBAL const acc_t* partialDy, GLOBAL const acc_t* partialCentered, int chunks,
                                            GLOBAL const float* variance, float eps, GLOBAL const float* gamma, int channels,
                                            float count, int batchStatistics, GLOBAL float* coefficients,
                                            GLOBAL float* dgamma, GLOBAL float* dbeta)
{
    FOR_EACH(c, channels)
    {
        acc_t invStd = inverse_std(variance, (int)c, eps);
        acc_t sumDy = 0.0f, sumDyXhat = 0.0f;
        if (partialDy)
        {
            for (int g = 0; g < chunks; g++)
            {
                sumDy += partialDy[c * chunks + g];
                sumDyXhat += partialCentered[c * chunks + g];
            }
            sumDyXhat *= invStd;
        }
        if (dgamma) dgamma[c] = (float)(dgamma[c] + sumDyXhat);
        if (dbeta) dbeta[c] = (float)(dbeta[c] + sumDy);
        acc_t k = (gamma ? gamma[c] : 1.0f) * invStd;
        coefficients[3 * c] = (float)k;
        coefficients[3 * c + 1] = batchStatistics ? (float)(-k * invStd * sumDyXhat / count) : 0.0f;
        coefficients[3 * c + 2] = batchStatistics ? (float)(-k * sumDy / count) : 0.0f;
    }
}

KERNEL void batchnorm_backward_data(GLOBAL const float* x, GLOBAL const float* dy, i64 total, int channels, int hw,
                                    GLOBAL const float* mean, GLOBAL const float* coefficients, GLOBAL float* dx, int accumulate)
{
    FOR_EACH(i, total)
    {
        int c = (int)((i / hw) % channels);
        float g = coefficients[3 * c] * dy[i] + (x[i] - mean[c]) * coefficients[3 * c + 1] + coefficients[3 * c + 2];
        dx[i] = accumulate ? dx[i] + g : g;
    }
}
