using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Kernels;

// Optimizer updates in torch.optim's order of operations: kernels/optim.cl.
public abstract partial class KernelBackend
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
        var s = AdamScalars.For(lr, beta1, beta2, weightDecay, decoupled, step);
        CheckRanges(count, param, grad, m, v);
        Run("adam_update", Grid.Elements(count),
            [Of(param), Of(grad), Of(m), Of(v), count, beta1, beta2, eps, s.StepSize, s.SqrtCorrection2, s.Decay, s.CoupledDecay]);
    }
}
