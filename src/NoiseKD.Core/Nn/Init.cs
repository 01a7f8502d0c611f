using NoiseKD.Tensors;

namespace NoiseKD.Nn;

/// <summary>Parameter initializers (torch.nn.init), drawing from the default generator.</summary>
public static class Init
{
    /// <summary>
    /// PyTorch's default for Conv and Linear weights, kaiming_uniform_(a=sqrt(5)): U(-b, b) with
    /// b = gain * sqrt(3 / fan_in), gain = sqrt(2 / (1 + a^2)) = sqrt(1/3), so b = 1/sqrt(fan_in).
    /// Biases use the same bound.
    /// </summary>
    public static Tensor DefaultUniform(int[] shape, int fanIn, Generator? generator = null)
    {
        float bound = 1f / MathF.Sqrt(fanIn);
        return (generator ?? Generator.Default).Uniform(shape, -bound, bound);
    }

    /// <summary>kaiming_normal_(mode='fan_out', nonlinearity='relu'): N(0, 2/fan_out), common for ResNet convs.</summary>
    public static Tensor KaimingNormalFanOut(int[] shape, int fanOut, Generator? generator = null) =>
        (generator ?? Generator.Default).Normal(shape, 0f, MathF.Sqrt(2f / fanOut));
}
