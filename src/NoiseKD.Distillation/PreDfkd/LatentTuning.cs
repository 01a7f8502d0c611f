using NoiseKD.Functional;
using NoiseKD.Nn;
using NoiseKD.Tensors;

namespace NoiseKD.Distillation.PreDfkd;

/// <summary>
/// The public PRE-DFKD code's replay latents (distillation.py, before each replay and each memory update):
/// z ~ N(0, I) moved by one Adam step (fresh state, the generator's learning rate) on the teacher's class
/// terms of decoder(z) (<see cref="GeneratorObjective.ClassTerms"/>: oh * one-hot CE + ie * entropy term)
/// plus <see cref="PriorPenalty"/>, which keeps the batch of codes near the standard normal prior. The step
/// pulls replay towards samples the teacher classifies confidently and evenly over the classes.
/// </summary>
public static class LatentTuning
{
    const float Beta1 = 0.9f, Beta2 = 0.999f, Eps = 1e-8f;

    /// <summary>MSE(var(z, 0), 1) + MSE(mean(z, 0), 0), torch.var's unbiased variance over the batch; z is [N, latent], N &gt;= 2.</summary>
    public static Tensor PriorPenalty(Tensor z)
    {
        int n = z.Shape[0];
        if (z.Rank != 2 || n < 2) throw new ArgumentException($"latent prior penalty: z {Shape.Format(z.Shape)} must be [N >= 2, latent] (unbiased variance)");
        var mean = F.MeanOverBatch(z);
        // var = n / (n - 1) * (mean(z^2) - mean(z)^2): no broadcast op is needed.
        var variance = F.Scale(F.Sub(F.MeanOverBatch(F.Square(z)), F.Square(mean)), n / (n - 1f));
        return F.Add(F.Mean(F.Square(F.AddScalar(variance, -1f))), F.Mean(F.Square(mean)));
    }

    /// <summary>
    /// Tuned codes [count, latent], detached. The backward pass also leaves the class terms' gradient in the
    /// decoder's parameters, as in the public code (its memory update zeroes gradients before tuning, so the
    /// decoder's step includes it); callers that must not keep it zero the decoder's gradients.
    /// </summary>
    public static Tensor Tune(DaflGenerator decoder, Module teacher, GeneratorObjective objective, int count, float learningRate, Generator noise)
    {
        var z = noise.Normal([count, decoder.LatentSize]);
        z.RequiresGrad = true;
        var loss = F.Add(objective.ClassTerms(teacher.Forward(decoder.Forward(z))), PriorPenalty(z));
        loss.Backward();
        // The first step of torch.optim.Adam from zero moments: z -= lr * g / (|g| + eps), through the same kernel as Optim.Adam.
        var m = Tensor.Zeros(z.Shape, z.Backend);
        var v = Tensor.Zeros(z.Shape, z.Backend);
        var grad = z.Grad!;
        z.Backend.AdamUpdate(z.Buffer, grad.Buffer, m.Buffer, v.Buffer, z.Numel, learningRate, Beta1, Beta2, Eps, 0f, false, 1);
        // A leaf's gradient lives outside any scope (for optimizers); this one is used once, so back to the pool.
        z.ZeroGrad();
        grad.Buffer.Dispose();
        return z.Detach();
    }
}
