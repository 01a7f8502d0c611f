/* Optimizer updates in torch.optim's order of operations (IBackend: SgdUpdate, AdamUpdate); the
 * gradient is read, never written. CPU reference: Cpu/CpuBackend.Optim.cs. */
#include "portability.h"

/* g += wd*p; buf = momentum*buf + (1-dampening)*g (buf = g on the first step); g = nesterov ? g + momentum*buf : buf; p -= lr*g. */
KERNEL void sgd_update(GLOBAL float* p, GLOBAL const float* g, GLOBAL float* buf, i64 n, float lr, float momentum,
                       float dampening, float weightDecay, int nesterov, int firstStep)
{
    FOR_EACH(i, n)
    {
        float d = g[i];
        if (weightDecay != 0.0f) d += weightDecay * p[i];
        if (momentum != 0.0f)
        {
            float b = firstStep ? d : momentum * buf[i] + (1.0f - dampening) * d;
            buf[i] = b;
            d = nesterov ? d + momentum * b : b;
        }
        p[i] -= lr * d;
    }
}

/* Adam (coupledDecay = wd, decay = 1) and AdamW (coupledDecay = 0, decay = 1 - lr*wd); the host passes
 * stepSize = lr / (1 - beta1^t) and sqrtCorrection2 = sqrt(1 - beta2^t), computed in double as PyTorch does. */
KERNEL void adam_update(GLOBAL float* p, GLOBAL const float* g, GLOBAL float* m, GLOBAL float* v, i64 n,
                        float beta1, float beta2, float eps, float stepSize, float sqrtCorrection2,
                        float decay, float coupledDecay)
{
    FOR_EACH(i, n)
    {
        float pi = p[i] * decay;
        float gi = g[i] + coupledDecay * pi;
        float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        float denominator = SQRTF(vi) / sqrtCorrection2 + eps;
        p[i] = pi - stepSize * (mi / denominator);
    }
}
