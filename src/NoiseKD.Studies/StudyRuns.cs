using System.Diagnostics;
using System.Text.Json;
using NoiseKD.Backends;
using NoiseKD.Data;
using NoiseKD.Distillation;
using NoiseKD.Models;
using NoiseKD.Training;

namespace NoiseKD.Studies;

/// <summary>
/// What every study shares: a teacher trained once (or given), and distillations cached by name in
/// OutDir/runs/NAME (a finished run's summary.json is reused; an interrupted one resumes from its checkpoint).
/// </summary>
public sealed class StudyRuns(string outDir, string? dataRoot, IProgress progress, IBackend device)
{
    readonly Stopwatch _clock = Stopwatch.StartNew();

    public string OutDir { get; } = outDir;
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

    /// <summary>The teacher file: <paramref name="given"/>, or one trained on Fashion-MNIST under runs/teacher.</summary>
    public string Teacher(string? given, string arch, float width, int epochs)
    {
        return given ?? StudyTeacher.TrainOrReuse(OutDir, new ModelSpec(arch, width), epochs, new OptimizerConfig("sgd", 0.1f, 0.9f, 5e-4f, true, "cosine"),
                                                  new Augmentation(2, true), DataRoot, Progress, Device);
    }

    /// <summary>Test accuracy of a model file with running statistics, and the file's description.</summary>
    public (double Accuracy, ModelFile File) Describe(string modelPath)
    {
        var (model, file) = ModelFile.Load(modelPath);
        var test = DatasetCatalog.Load("fashion-mnist", false, DataRoot);
        return (Evaluator.Evaluate(model, test, new Normalization(file.NormMean, file.NormStd), 500, Nn.BnStatistics.Running, Device).Accuracy, file);
    }

    public string RunDir(string name) => Path.Combine(OutDir, "runs", name);

    /// <summary>One cached distillation; <paramref name="options"/> gets its OutDir and Resume filled in here.</summary>
    public IReadOnlyDictionary<string, JsonElement> Distill(string name, DistillOptions options, string description)
    {
        string dir = RunDir(name), summaryPath = Path.Combine(dir, "summary.json");
        if (!File.Exists(summaryPath))
        {
            Progress.Message($"[{_clock.Elapsed:hh\\:mm\\:ss}] {name}: {description}");
            new Distiller(options with { OutDir = dir, Resume = File.Exists(Path.Combine(dir, "checkpoint.safetensors")), DataRoot = DataRoot },
                          Progress, Device).Run();
            _ran.Add(name);
        }
        else if (!_ran.Contains(name)) _reused.Add(name);
        return JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(summaryPath))!;
    }

    public static double Number(IReadOnlyDictionary<string, JsonElement> summary, string key) =>
        summary.TryGetValue(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;

    public static int[] Ints(IReadOnlyDictionary<string, JsonElement> summary, string key) =>
        summary.TryGetValue(key, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Select(e => e.GetInt32()).ToArray() : [];
}
