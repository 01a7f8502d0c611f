using System.Diagnostics;
using System.Globalization;
using NoiseKD.Backends;
using NoiseKD.Data;
using NoiseKD.Distillation.PreDfkd;
using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.Training;

namespace NoiseKD.Studies;

/// <summary>Sizes of the PRE-DFKD study; <see cref="QuickConfig"/> is the reduced version.</summary>
public sealed record PreDfkdStudyConfig(
    string OutDir,
    string TeacherArch = "lenet5",
    int TeacherEpochs = 5,
    string? TeacherPath = null,
    string StudentArch = "lenet5-half",
    int Seeds = 3,
    int Epochs = 60,
    int Steps = 25,
    int BatchSize = 64,
    float GeneratorWidth = 0.25f,
    float VaeWidth = 0.25f,
    double BufferMegabytes = 64,
    string? DataRoot = null,
    bool Quick = false,
    string Recipe = PreDfkdRecipe.EngineName)
{
    public static PreDfkdStudyConfig QuickConfig(string outDir, string? dataRoot) =>
        new(outDir, TeacherEpochs: 3, Seeds: 1, Epochs: 30, Steps: 25, DataRoot: dataRoot, Quick: true);

    public string[] Methods => [ReplayMethod.PreDfkd, ReplayMethod.Dfad, $"{ReplayMethod.Buffer}:{BufferMegabytes.ToString("R", CultureInfo.InvariantCulture)}"];
}

/// <summary>
/// `noisekd study pre-dfkd`: PRE-DFKD against its no-replay ablation (DFAD-style) and a stored-sample
/// buffer on Fashion-MNIST, judged as the paper does by the student's accuracy over the whole run (mean
/// and variance over epochs, not only the best) and by the memory held for replay. Runs are cached in
/// OutDir/runs/NAME (summary.json; checkpoints resume); REPORT.md, results.csv and the SVG are rewritten at the end.
/// </summary>
public sealed class PreDfkdStudy(PreDfkdStudyConfig config, IProgress progress, IBackend device) : IStudy
{
    readonly StudyRuns _runs = new(config.OutDir, "fashion-mnist", config.DataRoot, progress, device);
    string _teacher = "";
    readonly StudyReport _report = new(config.OutDir, "Generative pseudo replay (PRE-DFKD) on Fashion-MNIST");

    /// <summary>Per-seed statistics of one method's accuracy curve.</summary>
    sealed record RunResult(double[] Accuracies, double ReplayBytes)
    {
        public double Final => Accuracies[^1];
        public double Mean => Accuracies.Average();
        public double Variance => Accuracies.Sum(a => (a - Mean) * (a - Mean)) / Accuracies.Length;
        public double Best => Accuracies.Max();
    }

    public StudyRuns Runs => _runs;

    /// <summary>The whole study on this machine: plan, every run, report.</summary>
    public string Run() => StudyTasks.RunLocally(this);

    public void Plan()
    {
        _teacher = _runs.Teacher(config.TeacherPath, new ModelSpec(config.TeacherArch), new OptimizerConfig("adam", 2e-3f, 0.9f, 0f, false, "cosine"), config.TeacherEpochs, null);
        foreach (string method in config.Methods)
            for (int seed = 0; seed < config.Seeds; seed++) _runs.Add(RunOf(method, seed));
    }

    public string Report()
    {
        string teacher = _teacher;
        var (teacherModel, teacherFile) = ModelFile.Load(teacher);
        var test = DatasetCatalog.Load("fashion-mnist", false, config.DataRoot);
        double teacherAccuracy = Evaluator.Evaluate(teacherModel, test, new Normalization(teacherFile.NormMean, teacherFile.NormStd), 500,
                                                    BnStatistics.Running, device).Accuracy;
        var recipe = Options(ReplayMethod.PreDfkd, 0);
        _report.Paragraph($"Teacher: {teacherFile.Spec.Arch} ({teacher}), {teacherAccuracy * 100:F2}% test accuracy. Student: {config.StudentArch}. " +
                          $"Recipe `{config.Recipe}`: each run {config.Epochs} epochs of {config.Steps} steps; a step is one generator update (DAFL terms " +
                          (recipe.GeneratorOrDefault.Disagreement == AdversarialTerm.Js ? "plus 1 - JS(teacher, student) at T = 3" : "minus the L1 teacher-student disagreement") +
                          $") and {recipe.KdIterationsOrDefault} student updates on {config.BatchSize} novel samples plus {recipe.Replay} replayed ones " +
                          $"(L1 on logits, {recipe.OptimizerOrDefault.Name} lr {recipe.OptimizerOrDefault.Lr.ToString("G", CultureInfo.InvariantCulture)}, schedule {recipe.OptimizerOrDefault.Schedule}); " +
                          $"replay scheme {recipe.SchemeOrDefault}, latent size {recipe.LatentSizeOrDefault}, activation term on the teacher's {recipe.ActivationFeaturesOrDefault} features; " +
                          $"generator width {config.GeneratorWidth}, VAE width {config.VaeWidth}; {config.Seeds} seed(s). " +
                          "Accuracy is measured on the 10,000 real test images after every epoch, for this report only (the student is never chosen by it). " +
                          "Variance is over the epochs of a run; ± is the sample standard deviation over seeds. Widths are scaled for a 2-core CPU.");
        _report.Cell("teacher", teacherFile.Spec.Arch, "accuracy", [teacherAccuracy]);

        var results = config.Methods.ToDictionary(m => m, m => Enumerable.Range(0, config.Seeds).Select(seed => Result(m, seed)).ToList());
        Table(results);
        Curves(results);
        Samples();
        Verdict(results);
        _report.Paragraph(_runs.RuntimeLine(config.Quick));
        _report.Write();
        return Path.Combine(config.OutDir, "REPORT.md");
    }

    void Table(Dictionary<string, List<RunResult>> results)
    {
        _report.Heading("Accuracy over training and replay memory");
        double bufferBytes = results[config.Methods[2]].Average(r => r.ReplayBytes);
        var rows = new List<IReadOnlyList<string>>();
        foreach (var (method, runs) in results)
        {
            double bytes = runs.Average(r => r.ReplayBytes);
            rows.Add([method, StudyReport.Percent(runs.Select(r => r.Mean).ToList()), Variance(runs.Select(r => r.Variance).ToList()),
                      StudyReport.Percent(runs.Select(r => r.Best).ToList()), StudyReport.Percent(runs.Select(r => r.Final).ToList()),
                      (bytes / (1024 * 1024)).ToString("F2", CultureInfo.InvariantCulture),
                      bufferBytes > 0 ? (100 * bytes / bufferBytes).ToString("F1", CultureInfo.InvariantCulture) : "–"]);
            foreach (var (column, values) in new[] { ("mean", runs.Select(r => r.Mean)), ("variance", runs.Select(r => r.Variance)),
                                                     ("best", runs.Select(r => r.Best)), ("final", runs.Select(r => r.Final)), ("replay_bytes", runs.Select(r => r.ReplayBytes)) })
                _report.Cell("methods", method, column, values.ToList());
        }
        _report.Table("methods", ["method", "mean accuracy over epochs (%)", "variance over epochs (%²)", "best (%)", "final (%)", "replay memory (MiB)", "memory / buffer's (%)"], rows);
        _report.Paragraph("Replay memory is what the method holds to rehearse: the VAE's parameters (4 bytes each) for pre-dfkd, the stored samples " +
                          "for the buffer (its cap is a maximum; it holds what it has seen up to the cap), nothing for dfad.");
    }

    static string Variance(IReadOnlyList<double> values)
    {
        var (mean, std) = StudyReport.MeanStd(values);
        return values.Count > 1 ? $"{mean * 1e4:F2} ± {std * 1e4:F2}" : $"{mean * 1e4:F2}";
    }

    void Curves(Dictionary<string, List<RunResult>> results)
    {
        var series = results.Select(kv => SvgChart.OverSeeds(kv.Key,
            Enumerable.Range(0, config.Epochs).Select(e => ((double)(e + 1), (IReadOnlyList<double>)kv.Value.Select(r => r.Accuracies[e]).ToList())))).ToList();
        _report.Figure("accuracy_over_epochs.svg", SvgChart.Line("Student accuracy over training", "epoch", "test accuracy (%)", series),
                       "Student test accuracy after every epoch (mean ± std over seeds).");
    }

    /// <summary>The generator's samples and the replayed ones at the first, middle and last epoch (seed 0), as the runs drew them.</summary>
    void Samples()
    {
        _report.Heading("What the student learns from");
        _report.Paragraph("Seed 0 of each method, after the epoch named in the column: row 1, eight generator samples (the same latent vectors every epoch); " +
                          "row 2, eight replayed samples (VAE decoder samples for pre-dfkd, the first stored samples for the buffer, none for dfad). " +
                          "Shown as images: x * std + mean, clipped to [0, 1].");
        int[] epochs = [.. new[] { 1, (config.Epochs + 1) / 2, config.Epochs }.Distinct()];
        _report.Pictures(["method", .. epochs.Select(e => $"epoch {e}")],
                         config.Methods.Select(m => (m, (IReadOnlyList<string>)[.. epochs.Select(e => ReplayPictures.PathFor(_runs.RunDir(RunName(m, 0)), e))])));
    }

    void Verdict(Dictionary<string, List<RunResult>> results)
    {
        _report.Heading("Targets");
        double pre = results[ReplayMethod.PreDfkd].Average(r => r.Mean), dfad = results[ReplayMethod.Dfad].Average(r => r.Mean);
        var buffer = results[config.Methods[2]];
        double bufferMean = buffer.Average(r => r.Mean);
        double memoryShare = results[ReplayMethod.PreDfkd].Average(r => r.ReplayBytes) / Math.Max(1, buffer.Average(r => r.ReplayBytes));
        _report.Paragraph($"PRE-DFKD's mean accuracy over training is {pre * 100:F2}% against {dfad * 100:F2}% without replay " +
                          $"({(pre > dfad ? "above" : "not above")}). Its replay memory is {memoryShare * 100:F1}% of the buffer's " +
                          $"({(memoryShare < 0.05 ? "below" : "not below")} 5%), at a mean accuracy of {pre * 100:F2}% against the buffer's {bufferMean * 100:F2}% " +
                          $"({(pre >= bufferMean ? "equal or better" : "lower")}).");
    }

    /// <summary>One run's options: the recipe's, at the study's budget and widths.</summary>
    PreDfkdOptions Options(string method, int seed) => PreDfkdRecipe.Apply(config.Recipe,
        new PreDfkdOptions(_teacher, config.StudentArch, "", ReplayMethod.Parse(method),
                           GeneratorWidth: config.GeneratorWidth, VaeWidth: config.VaeWidth, Epochs: config.Epochs, StepsPerEpoch: config.Steps,
                           BatchSize: config.BatchSize, DataRoot: config.DataRoot, Seed: (ulong)seed));

    static string RunName(string method, int seed) => $"{method.Replace(':', '-')}-s{seed}";

    PreDfkdRun RunOf(string method, int seed) => new(RunName(method, seed), $"{method}, seed {seed}", Options(method, seed));

    /// <summary>One finished run's accuracy curve (runs/NAME/metrics.jsonl) and replay memory.</summary>
    RunResult Result(string method, int seed)
    {
        var run = RunOf(method, seed);
        _runs.Summary(run); // finished, and the run the plan holds
        var log = new MetricsLog(Path.Combine(_runs.RunDir(run.Name), "metrics.jsonl"));
        double[] replayBytes = log.Column("replay_bytes");
        if (replayBytes.Length == 0) throw new InvalidDataException($"'{log.Path}' has no rows");
        return new RunResult(log.Column("accuracy"), replayBytes[^1]);
    }
}
