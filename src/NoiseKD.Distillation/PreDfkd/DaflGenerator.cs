using NoiseKD.Functional;
using NoiseKD.Nn;
using NoiseKD.Tensors;

namespace NoiseKD.Distillation.PreDfkd;

/// <summary>
/// The DAFL generator (Chen et al. 2019, code), also PRE-DFKD's novel-sample generator and its memory
/// decoder: z -> linear -> [c1, s/4, s/4] -> BN -> upsample x2 -> conv3x3 -> BN -> LeakyReLU(0.2) -> upsample x2
/// -> conv3x3 -> BN -> LeakyReLU(0.2) -> conv3x3 -> tanh -> BN(affine=false). c1 = 128 x width, c2 = 64 x width.
/// The inner BNs use eps = 0.8, as DAFL's code (its BatchNorm2d(128, 0.8) passes 0.8 as eps); the last BN
/// puts the images on the per-channel scale of normalized data. Convolutions may be spectrally normalized
/// (PRE-DFKD's novel generator). Built for square images whose side is a multiple of 4 (28, 32).
/// </summary>
public sealed class DaflGenerator : Module
{
    readonly Linear _project;
    readonly Sequential _blocks0, _blocks1, _blocks2;
    readonly int _c1, _initSize;

    public DaflGenerator(int latentSize, int channels, int imageSize, float width = 1f, bool spectralNorm = false)
    {
        if (latentSize <= 0 || channels <= 0) throw new ArgumentException($"generator: latent size {latentSize} and channels {channels} must be positive");
        if (imageSize <= 0 || imageSize % 4 != 0) throw new ArgumentException($"generator: image size {imageSize} must be a positive multiple of 4");
        if (!(width > 0f)) throw new ArgumentException($"generator: width {width} must be positive");
        LatentSize = latentSize;
        Channels = channels;
        ImageSize = imageSize;
        _initSize = imageSize / 4;
        _c1 = Math.Max(1, (int)MathF.Round(128 * width));
        int c2 = Math.Max(1, (int)MathF.Round(64 * width));
        Module Conv(int cin, int cout) => spectralNorm ? new SpectralNormConv2d(cin, cout, 3, 1, 1) : new Conv2d(cin, cout, 3, 1, 1);
        _project = RegisterModule("l1", new Linear(latentSize, _c1 * _initSize * _initSize));
        _blocks0 = RegisterModule("conv_blocks0", new Sequential(new BatchNorm2d(_c1)));
        _blocks1 = RegisterModule("conv_blocks1", new Sequential(Conv(_c1, _c1), new BatchNorm2d(_c1, 0.8f), new LeakyReLU(0.2f)));
        _blocks2 = RegisterModule("conv_blocks2", new Sequential(Conv(_c1, c2), new BatchNorm2d(c2, 0.8f), new LeakyReLU(0.2f),
                                                                 Conv(c2, channels), new Tanh(), new BatchNorm2d(channels, affine: false)));
    }

    public int LatentSize { get; }
    public int Channels { get; }
    public int ImageSize { get; }

    /// <summary>z [N, latent] to images [N, channels, size, size].</summary>
    protected override Tensor OnForward(Tensor z)
    {
        var h = F.Reshape(_project.Forward(z), z.Shape[0], _c1, _initSize, _initSize);
        h = F.UpsampleNearest(_blocks0.Forward(h), 2, 2);
        h = F.UpsampleNearest(_blocks1.Forward(h), 2, 2);
        return _blocks2.Forward(h);
    }

    /// <summary>Images from fresh latent codes z ~ N(0, I).</summary>
    public Tensor Sample(int count, Generator noise) => Forward(noise.Normal([count, LatentSize]));
}
