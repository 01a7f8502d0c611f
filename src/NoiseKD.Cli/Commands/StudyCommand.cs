using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using CommandLine;
using NoiseKD.Studies;
using NoiseKD.Tensors;

namespace NoiseKD.Cli.Commands;

[Verb("study", HelpText = "Run a paper's experiments on Fashion-MNIST (noise-kd and arbitrary also on CIFAR-10) and write REPORT.md with tables, SVG plots and CSV. Studies: noise-kd, arbitrary, pre-dfkd. " +
                         "With --plan DIR: write the study's runs as a Slurm job array instead (DIR/submit.sh), run one of its tasks with `study run-task --plan DIR --index I`, and write REPORT.md with `study collect --plan DIR`.")]
public sealed class StudyCommand : CommonOptions, ICommand
{
    [Value(0, MetaName = "name", Required = true, HelpText = "noise-kd, arbitrary or pre-dfkd; or run-task or collect with --plan DIR")] public string Name { get; set; } = "";
    [Option("out", HelpText = "Output folder (default: runs/study-NAME[-DATASET][-quick]).")] public string? Out { get; set; }
    [Option("quick", Default = false, HelpText = "A reduced version: narrower models, one seed, fewer settings.")] public bool Quick { get; set; }
    [Option("teacher", HelpText = "Use this teacher model file instead of training one.")] public string? Teacher { get; set; }
    [Option("seeds", HelpText = "Seeds per cell (default 3; 1 with --quick).")] public int? Seeds { get; set; }
    [Option("epochs", HelpText = "Distillation epochs per run.")] public int? Epochs { get; set; }
    [Option("steps", HelpText = "Noise batches (noise-kd) or generator steps (pre-dfkd) per distillation epoch.")] public int? Steps { get; set; }
    [Option("students", HelpText = "noise-kd: Table 1's student columns as ARCH:WIDTH,... (default resnet34:0.25,resnet18:0.25,mobilenetv2:0.25; 0.125 each with --quick; CIFAR-10: resnet18 and mobilenetv2 at 1, or 0.125 with --quick).")]
    public string? Students { get; set; }
    [Option("recipe", HelpText = "The students' recipe: paper (the paper's public code: noise-kd and arbitrary Adam 1e-3, batch 256, plateau; pre-dfkd see distill --recipe) or engine (SGD 0.1, cosine, batch 128; pre-dfkd: the engine's PRE-DFKD). Default: noise-kd " + Distillation.Recipes.StudyDefaultName + " (it reproduces the paper's tables), arbitrary " + Distillation.Recipes.DefaultName + ".")]
    public string? RecipeName { get; set; }

    [Option("dataset", HelpText = "noise-kd, arbitrary: fashion-mnist or cifar10 (default: the --teacher file's dataset, else fashion-mnist).")]
    public string? Dataset { get; set; }

    // The plan's options: where the plan lives and how it is cut, not what the study computes, so the manifest does not keep them.
    [Option("plan", HelpText = "A study plan folder: with a study's name, write DIR/manifest.json (every run, its cache key and options) and a Slurm job array (DIR/study.sbatch, DIR/submit.sh) instead of running; with run-task or collect, the plan to read.")]
    [JsonIgnore] public string? Plan { get; set; }
    [Option("index", HelpText = "run-task: the task of the plan to run ($SLURM_ARRAY_TASK_ID in study.sbatch).")]
    [JsonIgnore] public int? Index { get; set; }
    [Option("max-parallel", HelpText = "--plan: array tasks Slurm runs at once (--array=0-N%K; default " + DefaultMaxParallelText + ").")]
    [JsonIgnore] public int? MaxParallel { get; set; }
    [Option("pack", HelpText = "--plan: runs per array task (default 1); pack small runs so a task's start-up is not most of its time.")]
    [JsonIgnore] public int? Pack { get; set; }

    const int DefaultMaxParallel = 16;
    const string DefaultMaxParallelText = "16";

    (string Arch, float Width)[]? _students;
    Distillation.Recipe _recipe;
    string _dataset = "fashion-mnist";

    public int Run()
    {
        string name = Name.ToLowerInvariant();
        if (name is "run-task" or "collect") return FromPlan(name);
        if (Index is not null) throw new ArgumentException("--index applies to `study run-task` only");
        var device = Prepare(name);
        if (Plan is not null) return WritePlan(name, device);
        if (MaxParallel is not null || Pack is not null) throw new ArgumentException("--max-parallel and --pack apply to a plan: add --plan DIR");
        var clock = Stopwatch.StartNew();
        string report = ConsoleProgress.Run(p => StudyTasks.RunLocally(Create(name, p, device)));
        Console.WriteLine($"report written to {report} ({clock.Elapsed.TotalMinutes:F1} min)");
        return 0;
    }

    /// <summary>Checks the study's options and opens the device; what a local study, a plan and every task of it do alike.</summary>
    Backends.IBackend Prepare(string name)
    {
        var device = OpenDevice();
        Devices.Default = device;
        if (name is not ("noise-kd" or "arbitrary" or "pre-dfkd")) throw new ArgumentException($"unknown study '{Name}'; studies: noise-kd, arbitrary, pre-dfkd (and run-task, collect with --plan DIR)");
        if (Teacher is not null && !File.Exists(Teacher)) throw new FileNotFoundException($"teacher model file '{Teacher}' does not exist");
        if (Seeds is <= 0 || Epochs is <= 0 || Steps is <= 0) throw new ArgumentException("--seeds, --epochs and --steps must be positive");
        if (Students is not null && name != "noise-kd") throw new ArgumentException("--students applies to the noise-kd study only");
        _students = Students is null ? null : ParseStudents(Students);
        _recipe = Distillation.Recipes.Parse(RecipeName ?? (name == "noise-kd" ? Distillation.Recipes.StudyDefaultName : Distillation.Recipes.DefaultName));
        _dataset = (Dataset ?? (Teacher is null ? null : Studies.StudyTeacher.DatasetOf(Models.ModelFile.Load(Teacher).File)) ?? "fashion-mnist").ToLowerInvariant();
        if (_dataset is not ("fashion-mnist" or "cifar10") || name == "pre-dfkd" && _dataset != "fashion-mnist")
            throw new ArgumentException($"--dataset {_dataset}: the {name} study runs on {(name == "pre-dfkd" ? "fashion-mnist" : "fashion-mnist or cifar10")}");
        return device;
    }

    string OutDir(string name) => Out ?? Path.Combine("runs", "study-" + name + (_dataset == "fashion-mnist" ? "" : "-" + _dataset) + (Quick ? "-quick" : ""));

    IStudy Create(string name, Training.IProgress progress, Backends.IBackend device) => name switch
    {
        "noise-kd" => NoiseKd(OutDir(name), progress, device),
        "arbitrary" => Arbitrary(OutDir(name), progress, device),
        _ => PreDfkd(OutDir(name), progress, device),
    };

    /// <summary>`study NAME ... --plan DIR`: the manifest and the job array, nothing trained.</summary>
    int WritePlan(string name, Backends.IBackend device)
    {
        int pack = Pack ?? 1, maxParallel = MaxParallel ?? DefaultMaxParallel;
        if (pack <= 0 || maxParallel <= 0) throw new ArgumentException($"--pack {pack} and --max-parallel {maxParallel} must be positive");
        string dir = Path.GetFullPath(Plan!);
        if (File.Exists(dir)) throw new ArgumentException($"--plan '{Plan}' is a file, not a folder");
        var study = ConsoleProgress.Run(p => { var s = Create(name, p, device); s.Plan(); return s; });
        var tasks = StudyTasks.Split(study.Runs.Plan, pack);
        var manifest = StudyManifest.For(name, JsonSerializer.SerializeToElement(this), pack, tasks);
        manifest.Write(dir);
        SlurmArray.Write(dir, manifest, maxParallel, ["dotnet", typeof(StudyCommand).Assembly.Location]);
        Console.WriteLine($"plan written to {dir}: {study.Runs.Plan.Count} runs in {tasks.Count} tasks{(manifest.TeacherTask ? " (task 0 trains the teacher; the others start after it)" : "")}.");
        Console.WriteLine($"submit: bash {Path.Combine(dir, SlurmArray.Submit)}    afterwards: noisekd study collect --plan {dir}");
        return 0;
    }

    /// <summary>
    /// `study run-task|collect --plan DIR`: the study rebuilt from the manifest's options in its working directory,
    /// planned again and checked against the manifest (the same runs, keys and tasks), then one task or the report.
    /// </summary>
    int FromPlan(string verb)
    {
        if (Plan is null) throw new ArgumentException($"study {verb} needs --plan DIR (a folder written by `noisekd study NAME ... --plan DIR`)");
        if (verb == "run-task" && Index is null) throw new ArgumentException("study run-task needs --index N (the array task, $SLURM_ARRAY_TASK_ID)");
        if (verb == "collect" && Index is not null) throw new ArgumentException("--index applies to `study run-task` only");
        if (MaxParallel is not null || Pack is not null) throw new ArgumentException($"--max-parallel and --pack apply when a plan is written; study {verb} follows the plan's");
        string dir = Path.GetFullPath(Plan);
        var manifest = StudyManifest.Read(dir);
        if (Index is int index) manifest.CheckIndex(index);
        StudyCommand command;
        try { command = manifest.Options.Deserialize<StudyCommand>() ?? throw new JsonException("null"); }
        catch (JsonException) { throw new ArgumentException($"'{Path.Combine(dir, StudyManifest.FileName)}' holds no study options; plan the study again"); }
        if (!Directory.Exists(manifest.WorkingDirectory)) throw new ArgumentException($"the plan's working directory '{manifest.WorkingDirectory}' does not exist on this machine");
        Directory.SetCurrentDirectory(manifest.WorkingDirectory);
        var device = command.Prepare(manifest.Study);
        var clock = Stopwatch.StartNew();
        string done = ConsoleProgress.Run(p =>
        {
            var study = command.Create(manifest.Study, p, device);
            if (verb == "collect") return StudyTasks.Collect(study, manifest.Pack, tasks => manifest.CheckSame(tasks, dir));
            study.Plan();
            var tasks = StudyTasks.Split(study.Runs.Plan, manifest.Pack);
            manifest.CheckSame(tasks, dir);
            StudyTasks.Run(study, tasks, Index!.Value);
            return $"task {Index} of {dir} done ({tasks[Index.Value].Count} run(s))";
        });
        Console.WriteLine(verb == "collect" ? $"report written to {done} ({clock.Elapsed.TotalMinutes:F1} min)" : done);
        return 0;
    }

    NoiseKdStudy NoiseKd(string outDir, Training.IProgress progress, Backends.IBackend device)
    {
        var config = Quick ? NoiseKdStudyConfig.QuickConfig(outDir, DataRoot, _dataset) : NoiseKdStudyConfig.FullConfig(outDir, DataRoot, _dataset);
        config = config with { TeacherPath = Teacher ?? config.TeacherPath, Seeds = Seeds ?? config.Seeds, DistillEpochs = Epochs ?? config.DistillEpochs,
                               Steps = Steps ?? config.Steps, Students = _students ?? config.Students, Recipe = _recipe, Dataset = _dataset };
        return new NoiseKdStudy(config, progress, device);
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

    ArbitraryTransferStudy Arbitrary(string outDir, Training.IProgress progress, Backends.IBackend device)
    {
        var config = Quick ? ArbitraryStudyConfig.QuickConfig(outDir, DataRoot) : new ArbitraryStudyConfig(outDir, DataRoot: DataRoot);
        config = config with { TeacherPath = Teacher ?? config.TeacherPath, Seeds = Seeds ?? config.Seeds, DistillEpochs = Epochs ?? config.DistillEpochs,
                               Steps = Steps ?? config.Steps, Recipe = _recipe, Dataset = _dataset };
        return new ArbitraryTransferStudy(config, progress, device);
    }

    PreDfkdStudy PreDfkd(string outDir, Training.IProgress progress, Backends.IBackend device)
    {
        var config = Quick ? PreDfkdStudyConfig.QuickConfig(outDir, DataRoot) : new PreDfkdStudyConfig(outDir, DataRoot: DataRoot);
        config = config with { TeacherPath = Teacher ?? config.TeacherPath, Seeds = Seeds ?? config.Seeds, Epochs = Epochs ?? config.Epochs, Steps = Steps ?? config.Steps,
                               Recipe = Distillation.PreDfkd.PreDfkdRecipe.Normalize(RecipeName ?? config.Recipe) };
        return new PreDfkdStudy(config, progress, device);
    }
}
