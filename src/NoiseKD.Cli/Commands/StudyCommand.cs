using System.Diagnostics;
using CommandLine;
using NoiseKD.Studies;
using NoiseKD.Tensors;

namespace NoiseKD.Cli.Commands;

[Verb("study", HelpText = "Run a paper's experiments on Fashion-MNIST and write REPORT.md with tables, SVG plots and CSV. Studies: noise-kd, arbitrary, pre-dfkd.")]
public sealed class StudyCommand : CommonOptions, ICommand
{
    [Value(0, MetaName = "name", Required = true, HelpText = "noise-kd, arbitrary or pre-dfkd")] public string Name { get; set; } = "";
    [Option("out", HelpText = "Output folder (default: runs/study-NAME).")] public string? Out { get; set; }
    [Option("quick", Default = false, HelpText = "A reduced version: narrower models, one seed, fewer settings.")] public bool Quick { get; set; }
    [Option("teacher", HelpText = "Use this teacher model file instead of training one.")] public string? Teacher { get; set; }
    [Option("seeds", HelpText = "Seeds per cell (default 3; 1 with --quick).")] public int? Seeds { get; set; }
    [Option("epochs", HelpText = "Distillation epochs per run.")] public int? Epochs { get; set; }
    [Option("steps", HelpText = "Noise batches (noise-kd) or generator steps (pre-dfkd) per distillation epoch.")] public int? Steps { get; set; }

    public int Run()
    {
        var device = OpenDevice();
        Devices.Default = device;
        string name = Name.ToLowerInvariant();
        if (name is not ("noise-kd" or "arbitrary" or "pre-dfkd")) throw new ArgumentException($"unknown study '{Name}'; studies: noise-kd, arbitrary, pre-dfkd");
        string outDir = Out ?? Path.Combine("runs", "study-" + name + (Quick ? "-quick" : ""));
        if (Teacher is not null && !File.Exists(Teacher)) throw new FileNotFoundException($"teacher model file '{Teacher}' does not exist");
        if (Seeds is <= 0 || Epochs is <= 0 || Steps is <= 0) throw new ArgumentException("--seeds, --epochs and --steps must be positive");
        var clock = Stopwatch.StartNew();
        string report = ConsoleProgress.Run(p => name switch { "noise-kd" => NoiseKd(outDir, p, device), "arbitrary" => Arbitrary(outDir, p, device), _ => PreDfkd(outDir, p, device) });
        Console.WriteLine($"report written to {report} ({clock.Elapsed.TotalMinutes:F1} min)");
        return 0;
    }

    string NoiseKd(string outDir, Training.IProgress progress, Backends.IBackend device)
    {
        var config = Quick ? NoiseKdStudyConfig.QuickConfig(outDir, DataRoot) : new NoiseKdStudyConfig(outDir, DataRoot: DataRoot);
        config = config with { TeacherPath = Teacher ?? config.TeacherPath, Seeds = Seeds ?? config.Seeds, DistillEpochs = Epochs ?? config.DistillEpochs,
                               Steps = Steps ?? config.Steps };
        return new NoiseKdStudy(config, progress, device).Run();
    }

    string Arbitrary(string outDir, Training.IProgress progress, Backends.IBackend device)
    {
        var config = Quick ? ArbitraryStudyConfig.QuickConfig(outDir, DataRoot) : new ArbitraryStudyConfig(outDir, DataRoot: DataRoot);
        config = config with { TeacherPath = Teacher ?? config.TeacherPath, Seeds = Seeds ?? config.Seeds, DistillEpochs = Epochs ?? config.DistillEpochs,
                               Steps = Steps ?? config.Steps };
        return new ArbitraryTransferStudy(config, progress, device).Run();
    }

    string PreDfkd(string outDir, Training.IProgress progress, Backends.IBackend device)
    {
        var config = Quick ? PreDfkdStudyConfig.QuickConfig(outDir, DataRoot) : new PreDfkdStudyConfig(outDir, DataRoot: DataRoot);
        config = config with { TeacherPath = Teacher ?? config.TeacherPath, Seeds = Seeds ?? config.Seeds, Epochs = Epochs ?? config.Epochs, Steps = Steps ?? config.Steps };
        return new PreDfkdStudy(config, progress, device).Run();
    }
}
