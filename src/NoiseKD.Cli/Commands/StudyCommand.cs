using System.Diagnostics;
using CommandLine;
using NoiseKD.Studies;
using NoiseKD.Tensors;

namespace NoiseKD.Cli.Commands;

[Verb("study", HelpText = "Run a paper's experiments on Fashion-MNIST (noise-kd and arbitrary also on CIFAR-10) and write REPORT.md with tables, SVG plots and CSV. Studies: noise-kd, arbitrary, pre-dfkd.")]
public sealed class StudyCommand : CommonOptions, ICommand
{
    [Value(0, MetaName = "name", Required = true, HelpText = "noise-kd, arbitrary or pre-dfkd")] public string Name { get; set; } = "";
    [Option("out", HelpText = "Output folder (default: runs/study-NAME[-DATASET][-quick]).")] public string? Out { get; set; }
    [Option("quick", Default = false, HelpText = "A reduced version: narrower models, one seed, fewer settings.")] public bool Quick { get; set; }
    [Option("teacher", HelpText = "Use this teacher model file instead of training one.")] public string? Teacher { get; set; }
    [Option("seeds", HelpText = "Seeds per cell (default 3; 1 with --quick).")] public int? Seeds { get; set; }
    [Option("epochs", HelpText = "Distillation epochs per run.")] public int? Epochs { get; set; }
    [Option("steps", HelpText = "Noise batches (noise-kd) or generator steps (pre-dfkd) per distillation epoch.")] public int? Steps { get; set; }
    [Option("students", HelpText = "noise-kd: Table 1's student columns as ARCH:WIDTH,... (default resnet34:0.25,resnet18:0.25,mobilenetv2:0.25; 0.125 each with --quick).")]
    public string? Students { get; set; }
    [Option("recipe", HelpText = "The students' recipe: paper (the paper's public code: noise-kd and arbitrary Adam 1e-3, batch 256, plateau; pre-dfkd see distill --recipe) or engine (SGD 0.1, cosine, batch 128; pre-dfkd: the engine's PRE-DFKD). Default: " + Distillation.Recipes.DefaultName + ".")]
    public string? RecipeName { get; set; }

    [Option("dataset", HelpText = "noise-kd, arbitrary: fashion-mnist or cifar10 (default: the --teacher file's dataset, else fashion-mnist).")]
    public string? Dataset { get; set; }

    (string Arch, float Width)[]? _students;
    Distillation.Recipe _recipe;
    string _dataset = "fashion-mnist";

    public int Run()
    {
        var device = OpenDevice();
        Devices.Default = device;
        string name = Name.ToLowerInvariant();
        if (name is not ("noise-kd" or "arbitrary" or "pre-dfkd")) throw new ArgumentException($"unknown study '{Name}'; studies: noise-kd, arbitrary, pre-dfkd");
        if (Teacher is not null && !File.Exists(Teacher)) throw new FileNotFoundException($"teacher model file '{Teacher}' does not exist");
        if (Seeds is <= 0 || Epochs is <= 0 || Steps is <= 0) throw new ArgumentException("--seeds, --epochs and --steps must be positive");
        if (Students is not null && name != "noise-kd") throw new ArgumentException("--students applies to the noise-kd study only");
        _students = Students is null ? null : ParseStudents(Students);
        _recipe = Distillation.Recipes.Parse(RecipeName ?? Distillation.Recipes.DefaultName);
        _dataset = (Dataset ?? (Teacher is null ? null : Studies.StudyTeacher.DatasetOf(Models.ModelFile.Load(Teacher).File)) ?? "fashion-mnist").ToLowerInvariant();
        if (_dataset is not ("fashion-mnist" or "cifar10") || name == "pre-dfkd" && _dataset != "fashion-mnist")
            throw new ArgumentException($"--dataset {_dataset}: the {name} study runs on {(name == "pre-dfkd" ? "fashion-mnist" : "fashion-mnist or cifar10")}");
        string outDir = Out ?? Path.Combine("runs", "study-" + name + (_dataset == "fashion-mnist" ? "" : "-" + _dataset) + (Quick ? "-quick" : ""));
        var clock = Stopwatch.StartNew();
        string report = ConsoleProgress.Run(p => name switch { "noise-kd" => NoiseKd(outDir, p, device), "arbitrary" => Arbitrary(outDir, p, device), _ => PreDfkd(outDir, p, device) });
        Console.WriteLine($"report written to {report} ({clock.Elapsed.TotalMinutes:F1} min)");
        return 0;
    }

    string NoiseKd(string outDir, Training.IProgress progress, Backends.IBackend device)
    {
        var config = Quick ? NoiseKdStudyConfig.QuickConfig(outDir, DataRoot) : new NoiseKdStudyConfig(outDir, DataRoot: DataRoot);
        config = config with { TeacherPath = Teacher ?? config.TeacherPath, Seeds = Seeds ?? config.Seeds, DistillEpochs = Epochs ?? config.DistillEpochs,
                               Steps = Steps ?? config.Steps, Students = _students ?? config.Students, Recipe = _recipe, Dataset = _dataset };
        return new NoiseKdStudy(config, progress, device).Run();
    }

    /// <summary>"resnet34:0.25,resnet18:0.25" -> [(resnet34, 0.25), (resnet18, 0.25)]; unknown names and bad widths are input errors.</summary>
    public static (string Arch, float Width)[] ParseStudents(string text)
    {
        var list = new List<(string, float)>();
        foreach (string item in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = item.Split(':');
            string arch = parts[0].ToLowerInvariant();
            float width = 1f;
            if (parts.Length > 2 || parts.Length == 2 && (!float.TryParse(parts[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out width)
                                                          || !float.IsFinite(width) || width <= 0))
                throw new ArgumentException($"--students: '{item}' is not ARCH or ARCH:WIDTH with a positive width");
            try { new Models.ModelSpec(arch, width, 1, 10, 28).Create(); }
            catch (ArgumentException e) { throw new ArgumentException($"--students: {e.Message}"); }
            list.Add((arch, width));
        }
        if (list.Count == 0) throw new ArgumentException("--students: give at least one ARCH:WIDTH");
        return [.. list];
    }

    string Arbitrary(string outDir, Training.IProgress progress, Backends.IBackend device)
    {
        var config = Quick ? ArbitraryStudyConfig.QuickConfig(outDir, DataRoot) : new ArbitraryStudyConfig(outDir, DataRoot: DataRoot);
        config = config with { TeacherPath = Teacher ?? config.TeacherPath, Seeds = Seeds ?? config.Seeds, DistillEpochs = Epochs ?? config.DistillEpochs,
                               Steps = Steps ?? config.Steps, Recipe = _recipe, Dataset = _dataset };
        return new ArbitraryTransferStudy(config, progress, device).Run();
    }

    string PreDfkd(string outDir, Training.IProgress progress, Backends.IBackend device)
    {
        var config = Quick ? PreDfkdStudyConfig.QuickConfig(outDir, DataRoot) : new PreDfkdStudyConfig(outDir, DataRoot: DataRoot);
        config = config with { TeacherPath = Teacher ?? config.TeacherPath, Seeds = Seeds ?? config.Seeds, Epochs = Epochs ?? config.Epochs, Steps = Steps ?? config.Steps,
                               Recipe = Distillation.PreDfkd.PreDfkdRecipe.Normalize(RecipeName ?? config.Recipe) };
        return new PreDfkdStudy(config, progress, device).Run();
    }
}
