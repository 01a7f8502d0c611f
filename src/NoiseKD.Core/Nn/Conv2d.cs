using NoiseKD.Functional;
using NoiseKD.Tensors;

namespace NoiseKD.Nn;

/// <summary>torch.nn.Conv2d: weight [out, in/groups, k, k], optional bias [out].</summary>
public sealed class Conv2d : Module
{
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0,
                  int groups = 1, bool bias = true)
    {
        if (inChannels <= 0 || outChannels <= 0 || kernelSize <= 0 || stride <= 0 || padding < 0 || groups <= 0)
            throw new ArgumentException($"Conv2d({inChannels}, {outChannels}, k={kernelSize}, s={stride}, p={padding}, g={groups}): invalid sizes");
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv2d: groups={groups} must divide {inChannels} and {outChannels}");
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        Groups = groups;
        int fanIn = inChannels / groups * kernelSize * kernelSize;
        Weight = RegisterParameter("weight", () => Init.DefaultUniform([outChannels, inChannels / groups, kernelSize, kernelSize], fanIn));
        Bias = bias ? RegisterParameter("bias", () => Init.DefaultUniform([outChannels], fanIn)) : null;
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public int KernelSize { get; }
    public int Stride { get; }
    public int Padding { get; }
    public int Groups { get; }
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    protected override Tensor OnForward(Tensor input) => F.Conv2d(input, Weight, Bias, Stride, Padding, Groups);
}
