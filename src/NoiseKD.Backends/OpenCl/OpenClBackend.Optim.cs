using static NoiseKD.Backends.BackendChecks;
using static NoiseKD.Backends.OpenCl.KernelArg;

namespace NoiseKD.Backends.OpenCl;

// Optimizer updates in torch.optim's order of operations: kernels/optim.cl.
public sealed partial class OpenClBackend
{
    public void SgdUpdate(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer? momentumBuffer, long count,
                          float lr, float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep)
    {
        CheckRange(param, 0, count);
        CheckRange(grad, 0, count);
        CheckSgdMomentum(momentumBuffer, momentum, count);
        Run("sgd_update", Grid.Elements(count),
            [Of(param), Of(grad), Of(momentum == 0f ? null : momentumBuffer), count, lr, momentum, dampening, weightDecay, nesterov, firstStep]);
    }

    public void AdamUpdate(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, long count,
                           float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step)
    {
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "Adam steps count from 1.");
        CheckRange(param, 0, count);
        CheckRange(grad, 0, count);
        CheckRange(m, 0, count);
        CheckRange(v, 0, count);
        // Python computes these scalars in double and hands them to the float kernels.
        float stepSize = (float)(lr / (1.0 - Math.Pow(beta1, step)));
        float sqrtCorrection2 = (float)Math.Sqrt(1.0 - Math.Pow(beta2, step));
        float decay = decoupled ? (float)(1.0 - (double)lr * weightDecay) : 1f;
        float coupledDecay = decoupled ? 0f : weightDecay;
        Run("adam_update", Grid.Elements(count),
            [Of(param), Of(grad), Of(m), Of(v), count, beta1, beta2, eps, stepSize, sqrtCorrection2, decay, coupledDecay]);
    }
}
