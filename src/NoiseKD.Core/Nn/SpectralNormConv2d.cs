using NoiseKD.Functional;
using NoiseKD.Tensors;

namespace NoiseKD.Nn;

/// <summary>
/// torch.nn.utils.spectral_norm(nn.Conv2d(...)): the convolution uses weight_orig / sigma, sigma the
/// largest singular value of weight_orig viewed as [out, in*k*k], estimated by power iteration with the
/// persistent buffers weight_u and weight_v (one step per training forward, none in eval). State-dict
/// names are torch's: weight_orig, bias, weight_u, weight_v.
/// </summary>
public sealed class SpectralNormConv2d : Module
{
    public SpectralNormConv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, bool bias = true,
                              int powerIterations = 1)
    {
        if (inChannels <= 0 || outChannels <= 0 || kernelSize <= 0 || stride <= 0 || padding < 0 || powerIterations < 1)
            throw new ArgumentException($"SpectralNormConv2d({inChannels}, {outChannels}, k={kernelSize}, s={stride}, p={padding}, iterations={powerIterations}): invalid sizes");
        Stride = stride;
        Padding = padding;
        PowerIterations = powerIterations;
        int fanIn = inChannels * kernelSize * kernelSize;
        WeightOrig = RegisterParameter("weight_orig", () => Init.DefaultUniform([outChannels, inChannels, kernelSize, kernelSize], fanIn));
        Bias = bias ? RegisterParameter("bias", () => Init.DefaultUniform([outChannels], fanIn)) : null;
        U = RegisterBuffer("weight_u", () => UnitNormal(outChannels));
        V = RegisterBuffer("weight_v", () => UnitNormal(fanIn));
    }

    public int Stride { get; }
    public int Padding { get; }
    public int PowerIterations { get; }
    public Tensor WeightOrig { get; }
    public Tensor? Bias { get; }
    public Tensor U { get; }
    public Tensor V { get; }

    /// <summary>The normalized weight the convolution uses (power iteration only in training, as torch).</summary>
    public Tensor Weight() => F.SpectralNormWeight(WeightOrig, U, V, Training ? PowerIterations : 0);

    protected override Tensor OnForward(Tensor input) => F.Conv2d(input, Weight(), Bias, Stride, Padding);

    /// <summary>torch's initialization of u and v: normalize(randn(n)).</summary>
    static Tensor UnitNormal(int n)
    {
        var values = Generator.Default.Normal([n]).ToArray();
        float norm = MathF.Sqrt(values.Sum(x => x * x));
        return Tensor.FromArray(values.Select(x => x / Math.Max(norm, 1e-12f)).ToArray(), [n]);
    }
}
