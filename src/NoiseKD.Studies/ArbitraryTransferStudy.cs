using System.Diagnostics;
using System.Globalization;
using NoiseKD.Backends;
using NoiseKD.Data;
using NoiseKD.Distillation;
using NoiseKD.Training;

namespace NoiseKD.Studies;

/// <summary>Sizes of the arbitrary-transfer-set study.</summary>
public sealed record ArbitraryStudyConfig(
    string OutDir,
    string TeacherArch = "resnet34",
    float TeacherWidth = 0.25f,
    int TeacherEpochs = 4,
    string? TeacherPath = null,
    string StudentArch = "resnet18",
    float StudentWidth = 0.25f,
    int Seeds = 3,
    int DistillEpochs = 3,
    int Steps = 200,
    int? BatchSize = null,
    Recipe Recipe = Recipe.Engine,
    int PerClass = 500,
    int PoolFactor = 10,
    string? NaturalImages = null,
    string? DataRoot = null,
    bool Quick = false,
    string Dataset = "fashion-mnist")
{
    /// <summary>The distillation batch: as given, else the recipe's.</summary>
    public int Batch => BatchSize ?? NoiseRecipe.For(Recipe).BatchSize;

    public static ArbitraryStudyConfig QuickConfig(string outDir, string? dataRoot) =>
        new(outDir, "resnet34", 0.125f, 1, null, "resnet18", 0.125f, Seeds: 1, DistillEpochs: 1, Steps: 60, PerClass: 100,
            PoolFactor: 10, DataRoot: dataRoot, Quick: true);
}

/// <summary>
/// `noisekd study arbitrary`: Nayak et al.'s question on Fashion-MNIST or CIFAR-10 — which arbitrary transfer sets work,
/// and does balancing them over the teacher's predicted classes help? Rows are transfer sources, columns
/// unbalanced vs balanced sets of the same size, each with the teacher's BN on current and on running
/// statistics. The unbalanced control is a fixed set of the same size drawn from the same source.
/// </summary>
public sealed class ArbitraryTransferStudy(ArbitraryStudyConfig config, IProgress progress, IBackend device) : IStudy
{
    readonly StudyRuns _runs = new(config.OutDir, config.Dataset, config.DataRoot, progress, device);
    readonly StudyReport _report = new(config.OutDir, $"Arbitrary transfer sets with target-class balancing on {DatasetCatalog.DisplayName(config.Dataset)}");
    string _teacher = "";
    int _classes = 10;
    string? _natural;
    readonly List<(string Transfer, string Label)> _sources = [];

    static readonly (string Balance, string Bn)[] Columns = [("unbalanced", "current"), ("balanced", "current"), ("unbalanced", "running"), ("balanced", "running")];

    public StudyRuns Runs => _runs;

    /// <summary>The whole study on this machine: plan, every run, report.</summary>
    public string Run() => StudyTasks.RunLocally(this);

    public void Plan()
    {
        _teacher = _runs.Teacher(config.TeacherPath, config.TeacherArch, config.TeacherWidth, config.TeacherEpochs);
        _classes = _runs.TeacherShape(_teacher).Classes;
        _natural = NaturalImagesFolder();
        _sources.AddRange([("gaussian", "Gaussian noise N(0,1)"), ("uniform", "uniform noise"), ("shapes", "random shapes"), ("plasma", "plasma (fractal noise)"),
                           ("dead-leaves", "dead leaves")]);
        if (_natural is not null) _sources.Add(($"folder:{_natural}", "natural photos (scikit-image samples)"));
        _sources.Add(("real", $"{DatasetCatalog.DisplayName(config.Dataset)} train images (oracle)"));
        foreach (var (transfer, _) in _sources)
            foreach (var (balance, bn) in Columns)
                for (int seed = 0; seed < config.Seeds; seed++) _runs.Add(DistillRun(transfer, balance, bn, seed));
    }

    public string Report()
    {
        string teacher = _teacher;
        var (teacherAccuracy, teacherFile) = _runs.Describe(teacher);
        string? natural = _natural;
        var sources = _sources;
        int classes = _classes, setSize = config.PerClass * classes;
        _report.Paragraph($"Teacher: {teacherFile.Spec.Arch} x{teacherFile.Spec.Width} ({teacherAccuracy * 100:F2}% test accuracy). Student: {config.StudentArch} x{config.StudentWidth}, " +
                          $"{config.DistillEpochs} epoch(s) of {config.Steps} batches of {config.Batch}, {NoiseRecipe.For(config.Recipe).Describe()}. Each transfer set is fixed at " +
                          $"{setSize} images: **balanced** keeps {config.PerClass} per teacher-predicted class from a pool of {setSize * config.PoolFactor} candidates " +
                          "(classes the teacher predicts too rarely are topped up with the candidates most probable for them); **unbalanced** keeps the first " +
                          $"{setSize} candidates as drawn. The teacher labels candidates with the BN statistics of its column. Student accuracy: test set, student BN on " +
                          $"current statistics at batch 500; mean ± std over {config.Seeds} seed(s)." +
                          (natural is null ? " Natural photos were not available (tools/natural-images.sh failed), so that row is missing." :
                           $" Natural photos: the scikit-image sample photographs from Debian's python3-skimage package (tools/natural-images.sh), random crops resized to {teacherFile.Spec.ImageSize}x{teacherFile.Spec.ImageSize}{(teacherFile.Spec.InChannels == 1 ? ", grey" : "")}."));

        var rows = new List<IReadOnlyList<string>>();
        var gains = new List<IReadOnlyList<string>>();
        var histograms = new Dictionary<string, List<(string, double[])>> { ["current"] = new(), ["running"] = new() };
        foreach (var (transfer, label) in sources)
        {
            var row = new List<string> { label };
            var cells = new Dictionary<(string, string), List<double>>();
            foreach (var (balance, bn) in Columns)
            {
                var accs = new List<double>();
                for (int seed = 0; seed < config.Seeds; seed++)
                {
                    var summary = _runs.Summary(DistillRun(transfer, balance, bn, seed));
                    accs.Add(StudyRuns.Number(summary, "acc_cs"));
                    if (seed == 0 && balance == "unbalanced")
                        histograms[bn].Add((Short(transfer), StudyRuns.Ints(summary, "histogram_before").Select(c => c * 100.0 / setSize).ToArray()));
                }
                cells[(balance, bn)] = accs;
                row.Add(StudyReport.Percent(accs));
                _report.Cell("arbitrary", label, $"{balance} {bn}", accs);
            }
            rows.Add(row);
            foreach (var bn in new[] { "current", "running" })
            {
                var (mb, sb) = StudyReport.MeanStd(cells[("balanced", bn)]);
                var (mu, su) = StudyReport.MeanStd(cells[("unbalanced", bn)]);
                double gain = mb - mu, spread = sb + su;
                string verdict = config.Seeds < 2 ? "one seed: no spread" : gain > spread ? "yes" : "no";
                gains.Add([label, bn == "current" ? "CS" : "RS", FormatPoints(gain), $"{spread * 100:F2}", verdict]);
            }
        }
        _report.Heading("Student accuracy (%)");
        _report.Table("arbitrary", ["transfer source", "unbalanced, teacher CS", "balanced, teacher CS", "unbalanced, teacher RS", "balanced, teacher RS"], rows);
        _report.Heading("Does balancing help more than the seed-to-seed spread?");
        _report.Table("gain", ["transfer source", "teacher BN", "balanced - unbalanced (points)", "spread (std sum, points)", "gain > spread"], gains);
        _report.Heading("What the student saw");
        _report.Paragraph("Each fixed transfer set (seed 0), one row per class the teacher assigns (row 1: class 0, T-shirt/top, ... row 10: class 9, " +
                          "ankle boot; an empty row: no image of that class), up to 8 images per row, shown as images (x * std + mean, clipped to [0, 1]).");
        _report.Pictures(["transfer source", "unbalanced, teacher CS", "balanced, teacher CS", "balanced, teacher RS"],
                         sources.Select(t => (t.Label, (IReadOnlyList<string>)[.. new[] { ("unbalanced", "current"), ("balanced", "current"), ("balanced", "running") }
                             .Select(c => Path.Combine(_runs.RunDir($"{Short(t.Transfer)}-{c.Item1}-{c.Item2}-s0"), "transfer.png"))])));
        _report.Heading("What the teacher sees in each source");
        foreach (var bn in new[] { "current", "running" })
            _report.Figure($"histogram_{bn}.svg",
                SvgChart.Bars($"Teacher's predicted classes on unbalanced sets (BN {bn})", "% of the set", Enumerable.Range(0, classes).Select(c => c.ToString(CultureInfo.InvariantCulture)).ToList(), histograms[bn]),
                $"Share of each unbalanced transfer set that the teacher assigns to each {DatasetCatalog.DisplayName(config.Dataset)} class, teacher BN on {bn} statistics (seed 0). Balanced sets hold {config.PerClass} per class by construction.");
        _report.Paragraph(_runs.RuntimeLine(config.Quick));
        _report.Write();
        return Path.Combine(config.OutDir, "REPORT.md");
    }

    /// <summary>One cell's distillation, as the plan holds it and the report reads it.</summary>
    DistillRun DistillRun(string transfer, string balance, string bn, int seed)
    {
        var options = NoiseRecipe.For(config.Recipe).Apply(new DistillOptions(_teacher, config.StudentArch, "", config.StudentWidth, Transfer: transfer,
                                         TeacherBn: TeacherBn.Parse(bn, "input"), Epochs: config.DistillEpochs, StepsPerEpoch: config.Steps, BatchSize: config.Batch,
                                         Seed: (ulong)seed, AdjustSamples: 0, // the table reads the student on current statistics only
                                         Balance: balance == "balanced" ? new BalanceOptions(config.PerClass, config.PerClass * _classes * config.PoolFactor)
                                                                        : BalanceOptions.Unbalanced(config.PerClass), DataRoot: config.DataRoot));
        return new DistillRun($"{Short(transfer)}-{balance}-{bn}-s{seed}", $"{transfer}, {balance}, teacher BN {bn}, seed {seed}", options);
    }

    /// <summary>A difference of accuracies in signed percentage points, "+4.20"; a difference that rounds to zero is "0.00", not "-+0.00".</summary>
    public static string FormatPoints(double difference) =>
        (Math.Round(difference * 100, 2) + 0.0).ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture); // + 0.0 turns -0 into +0

    static string Short(string transfer) => transfer.StartsWith("folder:", StringComparison.Ordinal) ? "natural" : transfer;

    /// <summary>The natural-photo folder: given, already made, or made now by tools/natural-images.sh (needs apt-get).</summary>
    string? NaturalImagesFolder()
    {
        string folder = config.NaturalImages ?? Path.Combine(config.OutDir, "natural-images");
        if (Directory.Exists(folder) && Directory.EnumerateFiles(folder).Any()) return folder;
        string script = Path.Combine(AppContext.BaseDirectory, "tools", "natural-images.sh");
        if (!File.Exists(script)) script = Path.Combine("tools", "natural-images.sh");
        if (!File.Exists(script)) return null;
        try
        {
            using var process = Process.Start(new ProcessStartInfo("bash", [script, folder]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            process.WaitForExit();
            return process.ExitCode == 0 && Directory.Exists(folder) && Directory.EnumerateFiles(folder).Any() ? folder : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }
}
