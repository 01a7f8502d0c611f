using NoiseKD.Tensors;

namespace NoiseKD.Functional;

/// <summary>The variational autoencoder's two ops (Kingma &amp; Welling 2014), composed from the differentiable ops.</summary>
public static partial class F
{
    /// <summary>
    /// The reparameterization trick (Sec. 2.4): z = mu + exp(logvar / 2) * eps with eps ~ N(0, I) a constant,
    /// so the sample is differentiable in mu and logvar.
    /// </summary>
    public static Tensor Reparameterize(Tensor mu, Tensor logVar, Tensor eps)
    {
        RequireSameShape(mu, logVar, "reparameterize");
        RequireSameShape(mu, eps, "reparameterize");
        return Add(mu, Mul(Exp(Scale(logVar, 0.5f)), eps));
    }

    /// <summary>z = mu + exp(logvar / 2) * eps with eps drawn from <paramref name="generator"/>.</summary>
    public static Tensor Reparameterize(Tensor mu, Tensor logVar, Generator generator) =>
        Reparameterize(mu, logVar, generator.Normal(mu.Shape, device: mu.Backend));

    /// <summary>
    /// KL(N(mu, diag exp(logvar)) || N(0, I)) summed over the latent axis and averaged over the batch
    /// (Kingma &amp; Welling, Appendix B): -1/2 mean_rows sum_j (1 + logvar - mu^2 - exp(logvar)).
    /// </summary>
    public static Tensor GaussianKlDivergence(Tensor mu, Tensor logVar)
    {
        RequireRank(mu, 2, "gaussian_kl mu");
        RequireSameShape(mu, logVar, "gaussian_kl");
        var terms = AddScalar(Sub(logVar, Add(Square(mu), Exp(logVar))), 1f);
        return Scale(Sum(terms), -0.5f / mu.Shape[0]);
    }
}
