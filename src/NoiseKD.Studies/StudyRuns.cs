using System.Diagnostics;
using System.Text.Json;
using NoiseKD.Backends;
using NoiseKD.Data;
using NoiseKD.Distillation;
using NoiseKD.Models;
using NoiseKD.Training;
using NoiseKD.IO;

namespace NoiseKD.Studies;

/// <summary>
/// What every study shares: its plan (every run the report reads, a trained teacher first), the idempotent
/// execution of one planned run in OutDir/runs/NAME (a finished run is skipped; an interrupted one resumes from
/// its checkpoint; the folder is locked while it runs), and the report's reads of finished runs.
/// </summary>
public sealed class StudyRuns(string outDir, string dataset, string? dataRoot, IProgress progress, IBackend device)
{
    readonly Stopwatch _clock = Stopwatch.StartNew();

    public string OutDir { get; } = outDir;
    /// <summary>The dataset the teacher is trained on; every distillation follows the teacher file's.</summary>
    public string Dataset { get; } = dataset;
    public string? DataRoot { get; } = dataRoot;
    public IProgress Progress { get; } = progress;
    public IBackend Device { get; } = device;
    public TimeSpan Elapsed => _clock.Elapsed;

    readonly List<StudyRun> _plan = [];
    readonly Dictionary<string, string> _plannedByKey = [], _aliases = [];
    readonly HashSet<string> _ran = [], _reused = [];

    /// <summary>Every distinct run of the study, in the order a local study runs them.</summary>
    public IReadOnlyList<StudyRun> Plan => _plan;

    /// <summary>Distinct distillations run by this invocation, and those read back from an earlier one's cache.</summary>
    public int Ran => _ran.Count;
    public int Reused => _reused.Count;

    /// <summary>The report's runtime line: this invocation's wall clock, and how many runs came from the cache.</summary>
    public string RuntimeLine(bool quick) => _collected > 0
        ? $"Study runtime: not measured here{(quick ? " (--quick)" : "")}; collected from a plan's tasks (`study collect`): {_collected} distillations, each run by `study run-task` (their time is in each run's metrics.jsonl)."
        : StudyReport.RuntimeLine(Elapsed, Ran, Reused, quick);

    int _collected;

    /// <summary>For `study collect`: every planned distillation has finished elsewhere (by the plan's tasks); the report's runtime line says so.</summary>
    public void MarkCollected() => _collected = _plan.Count(r => r is not TeacherRun);

    /// <summary>
    /// Adds a run to the plan. A run whose options equal a planned run's under another name (the study's reference
    /// student is also Table 1's Gaussian + CS cell, the batch-128 row and the 28x28 noise row) is that run.
    /// </summary>
    public void Add(StudyRun run)
    {
        if (_plannedByKey.TryGetValue(run.Key, out string? same)) { if (same != run.Name) _aliases[run.Name] = same; return; }
        if (_plan.Any(r => r.Name == run.Name)) throw new InvalidOperationException($"the plan holds two different runs named '{run.Name}'");
        _plannedByKey[run.Key] = run.Name;
        _plan.Add(run);
    }

    /// <summary>The teacher file: <paramref name="given"/> (trained on <see cref="Dataset"/>), or runs/teacher's, whose training is planned.</summary>
    public string Teacher(string? given, string arch, float width, int epochs) =>
        Teacher(given, new ModelSpec(arch, width), new OptimizerConfig("sgd", 0.1f, 0.9f, 5e-4f, true, "cosine"), epochs, Augmentation.Standard(Dataset));

    public string Teacher(string? given, ModelSpec spec, OptimizerConfig optimizer, int epochs, Augmentation? augment)
    {
        if (given is not null) return StudyTeacher.CheckDataset(given, Dataset);
        var run = StudyTeacher.Plan(OutDir, Dataset, spec, epochs, optimizer, augment, DataRoot);
        Add(run);
        return Path.Combine(RunDir(run.Name), run.FinishedFile);
    }

    /// <summary>The teacher's input size and class count, known before it is trained (a trained teacher takes them from its dataset).</summary>
    public (int ImageSize, int Classes) TeacherShape(string teacher)
    {
        if (!_plan.Any(r => r is TeacherRun))
        {
            var spec = ModelFile.Load(teacher).File.Spec;
            return (spec.ImageSize, spec.Classes);
        }
        var test = DatasetCatalog.Load(Dataset, false, DataRoot);
        return (test.Height, test.Classes);
    }

    /// <summary>Test accuracy of a model file with running statistics, and the file's description.</summary>
    public (double Accuracy, ModelFile File) Describe(string modelPath)
    {
        var (model, file) = ModelFile.Load(modelPath);
        var test = DatasetCatalog.Load(StudyTeacher.DatasetOf(file), false, DataRoot);
        return (Evaluator.Evaluate(model, test, new Normalization(file.NormMean, file.NormStd), 500, Nn.BnStatistics.Running, Device).Accuracy, file);
    }

    /// <summary>
    /// The folder of planned run <paramref name="name"/> (or of the planned run it is an alias of); when that holds
    /// no finished run but another folder holds one with the same key (cached under another name), that folder.
    /// </summary>
    public string RunDir(string name)
    {
        name = _aliases.GetValueOrDefault(name, name);
        string dir = Path.Combine(OutDir, "runs", name);
        var run = _plan.FirstOrDefault(r => r.Name == name);
        if (run is null || IsFinishedIn(dir, run)) return dir;
        return FinishedWithKey(run) is string same ? Path.Combine(OutDir, "runs", same) : dir;
    }

    public bool IsFinished(StudyRun run) => IsFinishedIn(RunDir(run.Name), run);

    static bool IsFinishedIn(string dir, StudyRun run) => File.Exists(Path.Combine(dir, run.FinishedFile));

    /// <summary>
    /// Runs one planned run unless it has finished: idempotent, so a Slurm task that is started twice, or a local
    /// study after an interruption, does only what is left. The folder is locked from the check to the key file:
    /// two processes sharing a study folder never run (or half-read) the same run.
    /// </summary>
    public void Execute(StudyRun run)
    {
        string dir = RunDir(run.Name), keyPath = Path.Combine(dir, KeyFile);
        using var runLock = RunLock.Acquire(dir);
        bool counted = run is not TeacherRun;
        if (!IsFinishedIn(dir, run))
        {
            Progress.Message($"[{_clock.Elapsed:hh\\:mm\\:ss}] {run.Name}: {run.Description}");
            run.Execute(dir, Progress, Device);
            if (counted) _ran.Add(run.Name);
        }
        else
        {
            // A finished run of this name made with other options (another --epochs, say) is refused, not reported as this cell.
            if (File.Exists(keyPath)) RunConfig.CheckSameFingerprint(dir, File.ReadAllText(keyPath), run.Key, $"study run '{run.Name}'");
            if (run is TeacherRun teacher) RunConfig.CheckSame(dir, teacher.Settings(), "the study's teacher");
            if (counted && !_ran.Contains(run.Name)) _reused.Add(run.Name);
        }
        if (!File.Exists(keyPath)) AtomicFile.WriteAllText(keyPath, run.Key);
    }

    /// <summary>
    /// The summary.json of the finished run the report asks for. The report builds each run as the plan did; a run
    /// the plan does not hold is a bug in the study (plan and report disagree), a run not finished is the user's to run.
    /// </summary>
    public IReadOnlyDictionary<string, JsonElement> Summary(StudyRun run)
    {
        string name = _aliases.GetValueOrDefault(run.Name, run.Name);
        if (!_plannedByKey.TryGetValue(run.Key, out string? planned) || planned != name)
            throw new InvalidOperationException($"the report reads run '{run.Name}' with options the study's plan does not hold");
        string summary = Path.Combine(RunDir(name), run.FinishedFile);
        if (!File.Exists(summary)) throw new ArgumentException($"run '{name}' of the study in '{OutDir}' has not finished ({summary} is missing); run the plan's remaining tasks first");
        return RunFiles.ReadSummary(summary);
    }

    const string KeyFile = "study-key.txt";

    /// <summary>Everything that decides a distillation's result (where it is written and whether it resumes do not).</summary>
    public static string Key(DistillOptions options)
    {
        var bn = options.TeacherBnOrDefault;
        if (bn.RunningPercent is 0 or 100) bn = bn with { From = "input" }; // all or no layers on RS: the order does not matter
        var o = options with { TeacherBn = bn };
        return o.Fingerprint();
    }

    /// <summary>The name of a finished run in this study whose key is <paramref name="run"/>'s, if there is one.</summary>
    string? FinishedWithKey(StudyRun run)
    {
        string runs = Path.Combine(OutDir, "runs");
        if (!Directory.Exists(runs)) return null;
        foreach (string dir in Directory.EnumerateDirectories(runs).Order(StringComparer.Ordinal))
        {
            string keyPath = Path.Combine(dir, KeyFile);
            if (File.Exists(keyPath) && IsFinishedIn(dir, run) && File.ReadAllText(keyPath) == run.Key)
                return Path.GetFileName(dir);
        }
        return null;
    }

    public static double Number(IReadOnlyDictionary<string, JsonElement> summary, string key) =>
        summary.TryGetValue(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;

    public static int[] Ints(IReadOnlyDictionary<string, JsonElement> summary, string key) =>
        summary.TryGetValue(key, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int i) ? i
                                             : throw new InvalidDataException($"run summary entry '{key}' holds a non-integer")).ToArray()
            : [];
}
