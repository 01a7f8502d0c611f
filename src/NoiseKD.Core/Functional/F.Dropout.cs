using NoiseKD.Tensors;

namespace NoiseKD.Functional;

public static partial class F
{
    /// <summary>
    /// Inverted dropout: in training, zeroes each element with probability p and scales the rest by
    /// 1/(1-p); the identity otherwise. The mask comes from the counter-based generator, so it is the
    /// same on every device.
    /// </summary>
    public static Tensor Dropout(Tensor x, float p, bool training, Generator? generator = null)
    {
        if (p < 0f || p >= 1f) throw new ArgumentException($"dropout: p={p} must be in [0, 1)");
        if (!training || p == 0f) return x;
        var gen = generator ?? Generator.Default;
        var mask = Like(x);
        x.Backend.FillBernoulli(mask.Buffer, x.Numel, gen.Seed, gen.Take(x.Numel), 1f - p, 1f / (1f - p));
        return Mul(x, mask);
    }
}
