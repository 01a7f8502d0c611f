using CommandLine;
using NoiseKD.Studies;
using NoiseKD.Tensors;

namespace NoiseKD.Cli.Commands;

[Verb("bn-report", HelpText = "Per-BatchNorm-layer statistics on real data and on a transfer set: the covariate shift, with SVG plots and CSV.")]
public sealed class BnReportCommand : CommonOptions, ICommand
{
    [Option("model", Required = true, HelpText = "Model file.")] public string Model { get; set; } = "";
    [Option("data", HelpText = "Real dataset (its test split; default: the one the model file names, else fashion-mnist).")] public string? Data { get; set; }
    [Option("transfer", Default = "gaussian", HelpText = "Transfer set, as for distill --transfer.")] public string Transfer { get; set; } = "";
    [Option("samples", Default = 1000)] public int Samples { get; set; }
    [Option("batch-size", Default = 200)] public int BatchSize { get; set; }
    [Option("seed", Default = 0UL)] public ulong Seed { get; set; }
    [Option("out", Required = true)] public string Out { get; set; } = "";

    public int Run()
    {
        var device = OpenDevice();
        Devices.Default = device;
        if (!File.Exists(Model)) throw new FileNotFoundException($"model file '{Model}' does not exist");
        if (Samples < 2 || BatchSize < 2) throw new ArgumentException("--samples and --batch-size must be at least 2");
        string report = BnReport.Write(new BnReport.Options(Model, Data?.ToLowerInvariant(), Transfer, Out, Samples, Math.Min(BatchSize, Samples), DataRoot, Seed), device);
        Console.WriteLine($"report written to {report}");
        return 0;
    }
}
