namespace NoiseKD.Data;

/// <summary>Per-channel (x/255 - mean) / std, as torchvision's ToTensor + Normalize.</summary>
public sealed record Normalization(float[] Mean, float[] Std)
{
    public static readonly Normalization FashionMnist = new([0.2860f], [0.3530f]);
    public static readonly Normalization Mnist = new([0.1307f], [0.3081f]);
    // The per-channel mean and std of the 50,000 training images' pixels (checked against the data in
    // NormalizationTests). pytorch-cifar's widely copied std 0.2023/0.1994/0.2010 is not the pixels' std.
    public static readonly Normalization Cifar10 = new([0.4914f, 0.4822f, 0.4465f], [0.2470f, 0.2435f, 0.2616f]);
    public static readonly Normalization Cifar100 = new([0.5071f, 0.4865f, 0.4409f], [0.2673f, 0.2564f, 0.2762f]);

    public static Normalization Identity(int channels) => new(Enumerable.Repeat(0f, channels).ToArray(), Enumerable.Repeat(1f, channels).ToArray());

    public float Apply(byte pixel, int channel) => (pixel * (1f / 255f) - Mean[channel]) / Std[channel];

    public string Format() => $"mean={string.Join(",", Mean)};std={string.Join(",", Std)}";
}
