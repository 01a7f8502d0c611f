using NoiseKD.Kernels;
using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Ilgpu;

// Optimizer updates in torch.optim's order of operations: kernels/Optim.cs.
public sealed partial class IlgpuBackend
{
    public void SgdUpdate(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer? momentumBuffer, long count,
                          float lr, float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep)
    {
        CheckRange(param, 0, count);
        CheckRange(grad, 0, count);
        CheckSgdMomentum(momentumBuffer, momentum, count);
        if (count == 0) return;
        Kernels.Optim.Sgd(Elements(count), V(param), V(grad), Optional(momentum == 0f ? null : momentumBuffer),
                          new SgdParams(Count(count), lr, momentum, dampening, weightDecay, nesterov, firstStep));
    }

    public void AdamUpdate(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, long count,
                           float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step)
    {
        var s = AdamScalars.For(lr, beta1, beta2, weightDecay, decoupled, step);
        CheckRanges(count, param, grad, m, v);
        if (count == 0) return;
        Kernels.Optim.Adam(Elements(count), V(param), V(grad), V(m), V(v),
                           new AdamParams(Count(count), beta1, beta2, eps, s.StepSize, s.SqrtCorrection2, s.Decay, s.CoupledDecay));
    }
}
