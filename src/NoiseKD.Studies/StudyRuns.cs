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
/// What every study shares: a teacher trained once (or given), and distillations cached by name in
/// OutDir/runs/NAME (a finished run's summary.json is reused; an interrupted one resumes from its checkpoint).
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

    readonly HashSet<string> _ran = [], _reused = [];

    /// <summary>Distinct distillations run by this invocation, and those read back from an earlier one's cache.</summary>
    public int Ran => _ran.Count;
    public int Reused => _reused.Count;

    /// <summary>The report's runtime line: this invocation's wall clock, and how many runs came from the cache.</summary>
    public string RuntimeLine(bool quick) => StudyReport.RuntimeLine(Elapsed, Ran, Reused, quick);

    /// <summary>The teacher file: <paramref name="given"/> (trained on <see cref="Dataset"/>), or one trained on it under runs/teacher.</summary>
    public string Teacher(string? given, string arch, float width, int epochs)
    {
        return given is not null ? StudyTeacher.CheckDataset(given, Dataset)
            : StudyTeacher.TrainOrReuse(OutDir, Dataset, new ModelSpec(arch, width), epochs, new OptimizerConfig("sgd", 0.1f, 0.9f, 5e-4f, true, "cosine"),
                                        Augmentation.Standard(Dataset), DataRoot, Progress, Device);
    }

    /// <summary>Test accuracy of a model file with running statistics, and the file's description.</summary>
    public (double Accuracy, ModelFile File) Describe(string modelPath)
    {
        var (model, file) = ModelFile.Load(modelPath);
        var test = DatasetCatalog.Load(StudyTeacher.DatasetOf(file), false, DataRoot);
        return (Evaluator.Evaluate(model, test, new Normalization(file.NormMean, file.NormStd), 500, Nn.BnStatistics.Running, Device).Accuracy, file);
    }

    /// <summary>The folder of run <paramref name="name"/>, or of the finished run with the same options it was read from.</summary>
    public string RunDir(string name) => Path.Combine(OutDir, "runs", _aliases.GetValueOrDefault(name, name));

    readonly Dictionary<string, string> _aliases = [];

    /// <summary>
    /// One cached distillation; <paramref name="options"/> gets its OutDir and Resume filled in here. A run whose
    /// options equal a finished run's under another name (the study's reference student is also Table 1's
    /// Gaussian + CS cell, the batch-128 row and the 28x28 noise row) is read from that run instead of run again.
    /// </summary>
    public IReadOnlyDictionary<string, JsonElement> Distill(string name, DistillOptions options, string description)
    {
        string key = Key(options);
        name = _aliases.GetValueOrDefault(name, name);
        if (!File.Exists(Path.Combine(RunDir(name), "summary.json")) && FinishedWithKey(key) is string same) _aliases[name] = name = same;
        string dir = RunDir(name), summaryPath = Path.Combine(dir, "summary.json"), keyPath = Path.Combine(dir, KeyFile);
        // Held from the check to the key file: two processes sharing a study folder never run (or half-read) the same run.
        using var runLock = RunLock.Acquire(dir);
        if (!File.Exists(summaryPath))
        {
            Progress.Message($"[{_clock.Elapsed:hh\\:mm\\:ss}] {name}: {description}");
            new Distiller(options with { OutDir = dir, Resume = File.Exists(Path.Combine(dir, "checkpoint.safetensors")), DataRoot = DataRoot },
                          Progress, Device).Run();
            _ran.Add(name);
        }
        else
        {
            // A finished run of this name made with other options (another --epochs, say) is refused, not reported as this cell.
            if (File.Exists(keyPath) && RunConfig.ParseFingerprint(File.ReadAllText(keyPath)) is { } stored && RunConfig.ParseFingerprint(key) is { } asked
                && RunConfig.Diff(stored, asked) is { } diff)
                throw new ArgumentException($"study run '{name}' in '{dir}' was made with other options ({diff}); give the same options, another --out, or delete that folder");
            if (!_ran.Contains(name)) _reused.Add(name);
        }
        if (!File.Exists(keyPath)) AtomicFile.WriteAllText(keyPath, key);
        return RunFiles.ReadSummary(summaryPath);
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

    /// <summary>The name of a finished run in this study whose key is <paramref name="key"/>, if there is one.</summary>
    string? FinishedWithKey(string key)
    {
        string runs = Path.Combine(OutDir, "runs");
        if (!Directory.Exists(runs)) return null;
        foreach (string dir in Directory.EnumerateDirectories(runs).Order(StringComparer.Ordinal))
        {
            string keyPath = Path.Combine(dir, KeyFile);
            if (File.Exists(keyPath) && File.Exists(Path.Combine(dir, "summary.json")) && File.ReadAllText(keyPath) == key)
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
