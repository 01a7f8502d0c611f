using System.Text.Json;
using CommandLine;
using NoiseKD.Data;
using NoiseKD.Models;
using NoiseKD.Tensors;
using NoiseKD.Training;

namespace NoiseKD.Cli.Commands;

[Verb("eval", HelpText = "Accuracy of a model file on a dataset's test split.")]
public sealed class EvalCommand : CommonOptions, ICommand
{
    [Option("model", Required = true, HelpText = "A model file (model.safetensors) written by train, import or distill.")]
    public string Model { get; set; } = "";

    [Option("dataset", HelpText = "Dataset to evaluate on (default: the one the model file names, else fashion-mnist).")]
    public string? Dataset { get; set; }

    [Option("bn", Default = "running", HelpText = "BatchNorm statistics: running (stored) or current (each batch's own).")]
    public string Bn { get; set; } = "";

    [Option("batch-size", Default = 500)] public int BatchSize { get; set; }
    [Option("test-limit", HelpText = "Evaluate on only the first N test images.")] public int? TestLimit { get; set; }
    /// <summary>The old name of --test-limit.</summary>
    [Option("limit", Hidden = true)] public int? Limit { get; set; }
    [Option("json", Default = false, HelpText = "Print one JSON line instead of text.")] public bool Json { get; set; }

    public int Run()
    {
        var device = OpenDevice();
        Devices.Default = device;
        var statistics = BnControl.Parse(Bn);
        if (BatchSize <= 0) throw new ArgumentException($"--batch-size {BatchSize} must be positive");
        if (!File.Exists(Model)) throw new FileNotFoundException($"model file '{Model}' does not exist");
        var (model, file) = ModelFile.Load(Model);
        string dataset = (Dataset ?? file.Metadata.GetValueOrDefault("dataset") ?? "fashion-mnist").ToLowerInvariant();
        var test = DatasetCatalog.Load(dataset, train: false, DataRoot);
        if (Renamed(TestLimit, "--test-limit", Limit, "--limit") is int n) test = test.Take(n > 0 ? n : throw new ArgumentException("--test-limit must be positive"));
        if (test.Channels != file.Spec.InChannels || test.Height != file.Spec.ImageSize)
            throw new ArgumentException($"model expects {file.Spec.InChannels}x{file.Spec.ImageSize}x{file.Spec.ImageSize} inputs, {dataset} has {test.Channels}x{test.Height}x{test.Width}");
        var result = Evaluator.Evaluate(model, test, new Normalization(file.NormMean, file.NormStd), BatchSize, statistics, device);
        if (Json)
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["accuracy"] = result.Accuracy, ["samples"] = result.Samples, ["loss"] = result.Loss,
                ["bn"] = Bn.ToLowerInvariant(), ["dataset"] = dataset, ["arch"] = file.Spec.Arch, ["batch_size"] = BatchSize,
            }));
        else
            Console.WriteLine($"{file.Spec.Arch} on {dataset} test ({result.Samples} images, BN {Bn}): accuracy {result.Accuracy:P2}, loss {result.Loss:F4}");
        return 0;
    }
}
