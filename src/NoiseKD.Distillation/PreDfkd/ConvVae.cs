using NoiseKD.Functional;
using NoiseKD.Nn;
using NoiseKD.Tensors;

namespace NoiseKD.Distillation.PreDfkd;

/// <summary>
/// PRE-DFKD's memory: a small VAE that learns the distribution of past synthetic samples, so the student
/// can rehearse on its samples instead of a stored buffer (Binici et al. 2022, Sec. 3.2). Encoder:
/// conv3x3 -> BN -> LeakyReLU -> avg-pool 2 -> conv3x3 -> BN -> LeakyReLU -> avg-pool 2 -> flatten ->
/// linear heads for mu and log-variance. Decoder: a <see cref="DaflGenerator"/> (the paper's memory generator).
/// </summary>
public sealed class ConvVae : Module
{
    readonly Sequential _encoder;
    readonly Linear _mu, _logVar;

    public ConvVae(int latentSize, int channels, int imageSize, float width = 0.5f)
    {
        if (!(width > 0f)) throw new ArgumentException($"VAE: width {width} must be positive");
        int e = Math.Max(1, (int)MathF.Round(32 * width));
        Decoder = new DaflGenerator(latentSize, channels, imageSize, width);
        _encoder = RegisterModule("encoder", new Sequential(
            new Conv2d(channels, e, 3, 1, 1), new BatchNorm2d(e), new LeakyReLU(0.2f), new AvgPool2d(2),
            new Conv2d(e, e, 3, 1, 1), new BatchNorm2d(e), new LeakyReLU(0.2f), new AvgPool2d(2), new Flatten()));
        int features = e * (imageSize / 4) * (imageSize / 4);
        _mu = RegisterModule("fc_mu", new Linear(features, latentSize));
        _logVar = RegisterModule("fc_var", new Linear(features, latentSize));
        RegisterModule("decoder", Decoder);
    }

    public DaflGenerator Decoder { get; }
    public int LatentSize => Decoder.LatentSize;

    /// <summary>Bytes the memory holds: 4 per float32 parameter (what PRE-DFKD counts instead of a sample buffer).</summary>
    public long MemoryBytes => 4 * ParameterCount();

    public (Tensor Mu, Tensor LogVar) Encode(Tensor x)
    {
        var h = _encoder.Forward(x);
        return (_mu.Forward(h), _logVar.Forward(h));
    }

    /// <summary>Reconstruction of x through a sampled latent code, with the posterior's parameters for the KL term.</summary>
    public (Tensor Reconstruction, Tensor Mu, Tensor LogVar) Reconstruct(Tensor x, Generator noise)
    {
        var (mu, logVar) = Encode(x);
        return (Decoder.Forward(F.Reparameterize(mu, logVar, noise)), mu, logVar);
    }

    /// <summary>Reconstruction through the posterior mean (deterministic).</summary>
    protected override Tensor OnForward(Tensor x) => Decoder.Forward(Encode(x).Mu);
}
