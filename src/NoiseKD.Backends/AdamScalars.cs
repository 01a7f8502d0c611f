namespace NoiseKD.Backends;

/// <summary>
/// The per-step scalars of one torch.optim.Adam/AdamW update, computed in double as Python does before
/// handing them to the float kernels: the bias-corrected step size lr / (1 - beta1^t), sqrt(1 - beta2^t),
/// AdamW's decoupled decay factor 1 - lr*wd (Loshchilov &amp; Hutter 2019) and Adam's coupled L2 weight.
/// </summary>
internal readonly record struct AdamScalars(float StepSize, float SqrtCorrection2, float Decay, float CoupledDecay)
{
    public static AdamScalars For(float lr, float beta1, float beta2, float weightDecay, bool decoupled, int step)
    {
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "Adam steps count from 1.");
        return new((float)(lr / (1.0 - Math.Pow(beta1, step))), (float)Math.Sqrt(1.0 - Math.Pow(beta2, step)),
                   decoupled ? (float)(1.0 - (double)lr * weightDecay) : 1f, decoupled ? 0f : weightDecay);
    }
}
