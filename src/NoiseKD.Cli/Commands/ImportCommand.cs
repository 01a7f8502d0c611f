using System.Globalization;
using CommandLine;
using NoiseKD.Data;
using NoiseKD.Models;
using NoiseKD.Serialization;
using NoiseKD.Tensors;

namespace NoiseKD.Cli.Commands;

[Verb("import", HelpText = "Turn a PyTorch state_dict saved as safetensors into a self-describing NoiseKD model file.")]
public sealed class ImportCommand : CommonOptions, ICommand
{
    [Option("arch", Required = true, HelpText = "Architecture of the state dict: resnet18|34|50|101, wrn-D-K, mobilenetv2, lenet5, lenet5-half, mlp.")]
    public string Arch { get; set; } = "";

    [Option("width", HelpText = "Width multiplier the network was built with (default: read from the first convolution's channels, else 1).")]
    public float? WidthOption { get; set; }

    float Width = 1f;

    [Option("in-channels", HelpText = "Input channels (default: read from the first convolution's weight, else 3).")]
    public int? InChannelsOption { get; set; }

    [Option("classes", HelpText = "Output classes (default: read from the classifier's weight, else 10).")]
    public int? ClassesOption { get; set; }

    int InChannels = 3, Classes = 10;

    [Option("image-size", HelpText = "Input height and width (default: 28 for the MNIST datasets, else 32).")]
    public int? ImageSize { get; set; }

    [Option("from", Required = true, HelpText = "The state dict: safetensors with PyTorch's state_dict names (e.g. conv1.weight, bn1.running_mean).")]
    public string From { get; set; } = "";

    [Option("prefix", Default = "", HelpText = "Take only tensors whose names start with this prefix, and strip it (e.g. 'module.'); a prefix every name shares is suggested when it is missing.")]
    public string Prefix { get; set; } = "";

    [Option("out", Required = true, HelpText = "Model file to write.")]
    public string Out { get; set; } = "";

    [Option("dataset", HelpText = "Dataset the weights were trained on; sets the input normalization (default: fashion-mnist for 1 channel, else cifar10).")]
    public string? Dataset { get; set; }

    [Option("mean", HelpText = "Per-channel normalization mean, comma-separated (instead of the dataset's).")]
    public string? Mean { get; set; }

    [Option("std", HelpText = "Per-channel normalization standard deviation, comma-separated (instead of the dataset's).")]
    public string? Std { get; set; }

    public int Run()
    {
        Devices.Default = OpenDevice();
        if (!File.Exists(From)) throw new FileNotFoundException($"state dict '{From}' does not exist");
        var (arrays, _) = Safetensors.Read(From);
        (InChannels, Width, Classes) = StateDictShape.Infer(Arch, WidthOption, arrays, Prefix, InChannelsOption, ClassesOption);
        string dataset = (Dataset ?? (InChannels == 1 ? "fashion-mnist" : "cifar10")).ToLowerInvariant();
        var normalization = ResolveNormalization(dataset);
        var spec = new ModelSpec(Arch, Width, InChannels, Classes, ImageSize ?? (dataset.Contains("mnist", StringComparison.Ordinal) ? 28 : 32));
        var model = spec.Create();
        try { StateDictIo.Load(model, arrays, Prefix); }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{From}' does not fit {spec.Arch} (width {spec.Width.ToString(CultureInfo.InvariantCulture)}, {spec.InChannels} input channels, {spec.Classes} classes)" +
                                           $"{StateDictShape.Hint(model, arrays, Prefix)}: {e.Message}");
        }
        ModelFile.Save(Out, model, spec, normalization.Mean, normalization.Std,
                       new Dictionary<string, string> { ["dataset"] = dataset, ["imported_from"] = Path.GetFileName(From) });
        Console.WriteLine($"imported {model.StateDict().Count} tensors ({model.ParameterCount():N0} parameters) of {spec.Arch} into {Out}");
        return 0;
    }

    /// <summary>--mean/--std when given (both, one value per input channel), else the dataset's constants.</summary>
    Normalization ResolveNormalization(string dataset)
    {
        if (Mean is null != Std is null) throw new ArgumentException("--mean and --std must be given together");
        var normalization = Mean is null ? DatasetCatalog.NormalizationOf(dataset) : new Normalization(ParseList(Mean, "--mean"), ParseList(Std!, "--std"));
        if (normalization.Mean.Length != InChannels || normalization.Std.Length != InChannels)
            throw new ArgumentException($"normalization of {dataset} has {normalization.Mean.Length} channels, the model {InChannels}; give --mean and --std with {InChannels} values");
        if (normalization.Std.Any(s => !(s > 0f))) throw new ArgumentException($"--std values must be positive, got {Std}");
        return normalization;
    }

    static float[] ParseList(string text, string option)
    {
        try { return text.Split(',').Select(v => float.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray(); }
        catch (FormatException) { throw new ArgumentException($"{option} '{text}' must be comma-separated numbers"); }
    }
}
