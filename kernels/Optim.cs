using ILGPU;

namespace NoiseKD.Kernels;

/// <summary>torch.optim.SGD's hyper-parameters for Count elements; HasMomentum = momentum != 0 (the buffer is real).</summary>
public readonly struct SgdParams(int count, float lr, float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep)
{
    public readonly int Count = count, Nesterov = nesterov ? 1 : 0, FirstStep = firstStep ? 1 : 0;
    public readonly float Lr = lr, Momentum = momentum, Dampening = dampening, WeightDecay = weightDecay;
}

/// <summary>Adam's per-step scalars (AdamScalars on the host, computed in double as PyTorch does).</summary>
public readonly struct AdamParams(int count, float beta1, float beta2, float eps, float stepSize, float sqrtCorrection2, float decay, float coupledDecay)
{
    public readonly int Count = count;
    public readonly float Beta1 = beta1, Beta2 = beta2, Eps = eps, StepSize = stepSize, SqrtCorrection2 = sqrtCorrection2;
    public readonly float Decay = decay, CoupledDecay = coupledDecay;
}

/// <summary>Optimizer updates in torch.optim's order of operations; the gradient is read, never written. CPU reference: Cpu/CpuBackend.Optim.cs.</summary>
public static class Optim
{
    /// <summary>g += wd*p; buf = momentum*buf + (1-dampening)*g (buf = g on the first step); g = nesterov ? g + momentum*buf : buf; p -= lr*g.</summary>
    public static void Sgd(ArrayView<float> param, ArrayView<float> grad, ArrayView<float> buffer, SgdParams p)
    {
        for (int i = Loops.First; i < p.Count; i += Loops.Stride)
        {
            float d = grad[i];
            if (p.WeightDecay != 0f) d += p.WeightDecay * param[i];
            if (p.Momentum != 0f)
            {
                float b = p.FirstStep != 0 ? d : p.Momentum * buffer[i] + (1f - p.Dampening) * d;
                buffer[i] = b;
                d = p.Nesterov != 0 ? d + p.Momentum * b : b;
            }
            param[i] -= p.Lr * d;
        }
    }

    /// <summary>Adam (CoupledDecay = wd, Decay = 1) and AdamW (CoupledDecay = 0, Decay = 1 - lr*wd).</summary>
    public static void Adam(ArrayView<float> param, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v, AdamParams p)
    {
        for (int i = Loops.First; i < p.Count; i += Loops.Stride)
        {
            float pi = param[i] * p.Decay;
            float gi = grad[i] + p.CoupledDecay * pi;
            float mi = p.Beta1 * m[i] + (1f - p.Beta1) * gi;
            float vi = p.Beta2 * v[i] + (1f - p.Beta2) * gi * gi;
            m[i] = mi;
            v[i] = vi;
            float denominator = MathF.Sqrt(vi) / p.SqrtCorrection2 + p.Eps;
            param[i] = pi - p.StepSize * (mi / denominator);
        }
    }
}
