using System.Globalization;
using CommandLine;
using NoiseKD.Backends;
using NoiseKD.Data;
using NoiseKD.Export;
using NoiseKD.Models;
using NoiseKD.Tensors;
using NoiseKD.Training;

namespace NoiseKD.Cli.Commands;

[Verb("export", HelpText = "Write a model file as a standard ONNX inference graph (input 'input' [N, C, S, S], output 'logits' [N, classes]).")]
public sealed class ExportCommand : CommonOptions, ICommand
{
    [Option("model", Required = true, HelpText = "A model file (model.safetensors, student.safetensors) written by train, import or distill.")]
    public string Model { get; set; } = "";

    [Option("format", Default = "onnx", HelpText = "Output format: onnx.")]
    public string Format { get; set; } = "";

    [Option("out", Required = true, HelpText = "File to write (student.onnx).")]
    public string Out { get; set; } = "";

    [Option("opset", Default = OnnxExportOptions.DefaultOpset, HelpText = "ONNX operator set, 11 to 21.")]
    public int Opset { get; set; }

    [Option("batch", Default = "dynamic", HelpText = "Batch dimension: dynamic (any N) or a fixed N.")]
    public string Batch { get; set; } = "";

    [Option("include-normalization", Default = false, HelpText = "The graph takes raw pixels in [0, 1] and applies the model file's (x - mean) / std itself.")]
    public bool IncludeNormalization { get; set; }

    [Option("recalibrate", Default = 0, HelpText = "Re-estimate the BatchNorm running statistics from this many (at least 2) real training images first (0: export them as stored).")]
    public int Recalibrate { get; set; }

    [Option("dataset", HelpText = "Dataset for --recalibrate (default: the one the model file names).")]
    public string? Dataset { get; set; }

    public int Run()
    {
        if (!Format.Equals("onnx", StringComparison.OrdinalIgnoreCase)) throw new ArgumentException($"--format '{Format}' is not supported; use onnx");
        var options = new OnnxExportOptions(Opset, OnnxExportOptions.ParseBatch(Batch), IncludeNormalization);
        options.Validate();
        if (Recalibrate is < 0 or 1) throw new ArgumentException($"--recalibrate {Recalibrate} must be 0 (off) or at least 2 images (batch statistics need two)");
        var device = OpenDevice();
        var note = ExportOnnx(Model, Out, options, Recalibrate, Dataset, DataRoot, device);
        if (note is not null) Console.Error.WriteLine($"noisekd: note: {note}");
        Console.WriteLine($"{Out}: ONNX opset {Opset}, input '{OnnxExporter.InputName}' [{BatchText(options)}, C, H, W] " +
                          $"({(IncludeNormalization ? "raw pixels in [0, 1]" : "normalized pixels")}), output '{OnnxExporter.OutputName}' [{BatchText(options)}, classes]");
        return 0;
    }

    /// <summary>
    /// Loads a model file, optionally re-estimates its running statistics from <paramref name="recalibrate"/> real
    /// training images (what `distill` reports as acc_rs_adjusted), and writes the ONNX file. Returns the
    /// exporter's BatchNorm note, or null. Shared by `export` and `quickstart`.
    /// </summary>
    public static string? ExportOnnx(string modelPath, string outPath, OnnxExportOptions options, int recalibrate, string? dataset, string? dataRoot, IBackend device)
    {
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"model file '{modelPath}' does not exist");
        var (model, file) = ModelFile.Load(modelPath);
        if (recalibrate > 0)
        {
            string name = (dataset ?? file.Metadata.GetValueOrDefault("dataset") ?? "fashion-mnist").ToLowerInvariant();
            var images = DatasetCatalog.Load(name, train: true, dataRoot);
            int count = Math.Min(recalibrate, images.Count);
            BnRecalibration.Reestimate(model, images.Take(count), new Normalization(file.NormMean, file.NormStd), Math.Min(500, count), device);
            var meta = new Dictionary<string, string>(file.Metadata)
            {
                [OnnxExporter.RecalibratedKey] = $"{count.ToString(CultureInfo.InvariantCulture)} {name} training images",
            };
            file = file with { Metadata = meta };
        }
        model.Eval();
        return OnnxExporter.Write(outPath, model, file, options);
    }

    static string BatchText(OnnxExportOptions options) => options.Batch?.ToString(CultureInfo.InvariantCulture) ?? "batch";
}
