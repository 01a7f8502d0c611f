using NoiseKD.Functional;
using NoiseKD.Tensors;

namespace NoiseKD.Nn;

/// <summary>torch.nn.Linear: weight [out, in], bias [out].</summary>
public sealed class Linear : Module
{
    public Linear(int inFeatures, int outFeatures, bool bias = true)
    {
        if (inFeatures <= 0 || outFeatures <= 0) throw new ArgumentException($"Linear({inFeatures}, {outFeatures}): sizes must be positive");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = RegisterParameter("weight", () => Init.DefaultUniform([outFeatures, inFeatures], inFeatures));
        Bias = bias ? RegisterParameter("bias", () => Init.DefaultUniform([outFeatures], inFeatures)) : null;
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    protected override Tensor OnForward(Tensor input) => F.Linear(input, Weight, Bias);
}
