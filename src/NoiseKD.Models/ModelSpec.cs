using System.Globalization;
using System.Text.RegularExpressions;
using NoiseKD.Nn;

namespace NoiseKD.Models;

/// <summary>
/// Everything needed to rebuild a model: architecture name, width multiplier, input shape and class
/// count. Stored in every model file's metadata so a file describes itself.
/// </summary>
public sealed record ModelSpec(string Arch, float Width = 1f, int InChannels = 3, int Classes = 10, int ImageSize = 32)
{
    /// <summary>The architecture names <see cref="Create"/> understands.</summary>
    public static readonly string[] Known =
        ["resnet18", "resnet34", "resnet50", "resnet101", "wrn-DEPTH-K (e.g. wrn-16-8, wrn-40-2)", "mobilenetv2", "lenet5", "lenet5-half", "mlp"];

    static readonly Regex Wrn = new(@"^wrn-(\d+)-(\d+)$", RegexOptions.Compiled);

    /// <summary>Builds the network, or throws ArgumentException naming the known architectures.</summary>
    public Module Create()
    {
        if (!(Width > 0f)) throw new ArgumentException($"width {Width} must be positive");
        if (InChannels <= 0 || Classes <= 1 || ImageSize <= 0)
            throw new ArgumentException($"model needs positive input channels, image size and at least 2 classes (got {InChannels}, {ImageSize}, {Classes})");
        string arch = Arch.ToLowerInvariant();
        var wrn = Wrn.Match(arch);
        if (wrn.Success)
            return new WideResNet(int.Parse(wrn.Groups[1].Value, CultureInfo.InvariantCulture),
                                  int.Parse(wrn.Groups[2].Value, CultureInfo.InvariantCulture), InChannels, Classes, Width);
        return arch switch
        {
            "resnet18" => ResNet.ResNet18(InChannels, Classes, Width),
            "resnet34" => ResNet.ResNet34(InChannels, Classes, Width),
            "resnet50" => ResNet.ResNet50(InChannels, Classes, Width),
            "resnet101" => ResNet.ResNet101(InChannels, Classes, Width),
            "mobilenetv2" => new MobileNetV2(InChannels, Classes, Width),
            "lenet5" => new LeNet5(InChannels, Classes, false, ImageSize),
            "lenet5-half" => new LeNet5(InChannels, Classes, true, ImageSize),
            "mlp" => new Mlp(InChannels * ImageSize * ImageSize, Classes, Math.Max(2, (int)MathF.Round(32 * Width))),
            _ => throw new ArgumentException($"unknown architecture '{Arch}'; known: {string.Join(", ", Known)}"),
        };
    }
}
