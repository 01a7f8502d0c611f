using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Cpu;

// One optimizer step for one parameter tensor, in the order of operations of torch.optim (1.13,
// single-tensor path), so a run matches PyTorch step for step. The gradient is read, never written.
public sealed unsafe partial class CpuBackend
{
    public void SgdUpdate(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer? momentumBuffer, long count,
                          float lr, float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep)
    {
        CheckRange(param, 0, count);
        CheckRange(grad, 0, count);
        CheckSgdMomentum(momentumBuffer, momentum, count);
        float* p = P(param), g = P(grad), buf = P(momentumBuffer, allowNull: true);
        CpuParallel.ForRange(count, 6, (start, end) =>
        {
            for (long i = start; i < end; i++)
            {
                float d = g[i];
                if (weightDecay != 0f) d += weightDecay * p[i];
                if (momentum != 0f)
                {
                    float b = firstStep ? d : momentum * buf[i] + (1f - dampening) * d;
                    buf[i] = b;
                    d = nesterov ? d + momentum * b : b;
                }
                p[i] -= lr * d;
            }
        });
    }

    public void AdamUpdate(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, long count,
                           float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step)
    {
        var scalars = AdamScalars.For(lr, beta1, beta2, weightDecay, decoupled, step);
        CheckRanges(count, param, grad, m, v);
        float* p = P(param), g = P(grad), pm = P(m), pv = P(v);
        var (stepSize, sqrtCorrection2, decay, coupledDecay) = scalars;
        CpuParallel.ForRange(count, 12, (start, end) =>
        {
            for (long i = start; i < end; i++)
            {
                float pi = p[i] * decay;              // AdamW: p *= 1 - lr*wd (Loshchilov & Hutter 2019)
                float gi = g[i] + coupledDecay * pi;  // Adam: g += wd*p (L2 penalty)
                float mi = beta1 * pm[i] + (1f - beta1) * gi;
                float vi = beta2 * pv[i] + (1f - beta2) * gi * gi;
                pm[i] = mi;
                pv[i] = vi;
                float denominator = MathF.Sqrt(vi) / sqrtCorrection2 + eps;
                p[i] = pi - stepSize * (mi / denominator);
            }
        });
    }
}
