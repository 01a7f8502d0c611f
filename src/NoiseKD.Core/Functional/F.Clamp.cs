using NoiseKD.Tensors;

namespace NoiseKD.Functional;

public static partial class F
{
    /// <summary>
    /// torch.clamp(x, low, high) = x - relu(x - high) + relu(low - x), composed from existing ops so every
    /// backend has it. The gradient is 1 inside [low, high] (ends included, as torch) and 0 outside.
    /// </summary>
    public static Tensor Clamp(Tensor x, float low, float high)
    {
        if (!(low <= high)) throw new ArgumentException($"clamp: low {low} must not exceed high {high}");
        return Add(Sub(x, Relu(AddScalar(x, -high))), Relu(Affine(x, -1f, low)));
    }
}
