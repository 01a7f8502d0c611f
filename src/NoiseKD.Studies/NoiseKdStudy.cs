using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NoiseKD.Backends;
using NoiseKD.Data;
using NoiseKD.Distillation;
using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.Training;

namespace NoiseKD.Studies;

/// <summary>Sizes of the noise-KD study; <see cref="Quick"/> is the reduced version.</summary>
public sealed record NoiseKdStudyConfig(
    string OutDir,
    string TeacherArch = "resnet34",
    float TeacherWidth = 0.25f,
    int TeacherEpochs = 4,
    string? TeacherPath = null,
    (string Arch, float Width)[]? Students = null,
    int Seeds = 3,
    int DistillEpochs = 3,
    int Steps = 200,
    int? BatchSize = null,
    Recipe Recipe = Recipe.Engine,
    int[]? TrainBatchSizes = null,
    int[]? EvalBatchSizes = null,
    int[]? AdjustSamples = null,
    int[]? NoiseResolutions = null,
    int[]? PartialPercents = null,
    string? DataRoot = null,
    bool Quick = false,
    string Dataset = "fashion-mnist")
{
    /// <summary>The distillation batch: as given, else the recipe's.</summary>
    public int Batch => BatchSize ?? NoiseRecipe.For(Recipe).BatchSize;

    public (string Arch, float Width)[] StudentList => Students ?? [("resnet34", 0.25f), ("resnet18", 0.25f), ("mobilenetv2", 0.25f)];

    /// <summary>
    /// The reduced study. Fashion-MNIST: a one-epoch ResNet-34 x0.125 teacher, three x0.125 students, every section.
    /// CIFAR-10 (issue 21's shape): a ResNet-34 x0.25 teacher trained for 12 epochs (about an hour on 2 cores, see
    /// benchmarks/RESULTS.md), ResNet-18 and MobileNetV2 x0.125 students, Table 1 and Table 3; the batch-size and
    /// noise-resolution sections are left out (each would add a run per setting and seed).
    /// </summary>
    public static NoiseKdStudyConfig QuickConfig(string outDir, string? dataRoot, string dataset = "fashion-mnist") => dataset == "cifar10"
        ? new(outDir, "resnet34", 0.25f, 12, null, [("resnet18", 0.125f), ("mobilenetv2", 0.125f)], Seeds: 1, DistillEpochs: 1, Steps: 300,
              TrainBatchSizes: [], EvalBatchSizes: [16, 128, 500], AdjustSamples: [0, 100, 1000], NoiseResolutions: [], PartialPercents: [100, 75, 50, 25, 0],
              DataRoot: dataRoot, Quick: true, Dataset: dataset)
        : new(outDir, "resnet34", 0.125f, 1, null,
              [("resnet34", 0.125f), ("resnet18", 0.125f), ("mobilenetv2", 0.125f)], Seeds: 1, DistillEpochs: 1, Steps: 300, TrainBatchSizes: [32, 128], EvalBatchSizes: [16, 128, 500],
              AdjustSamples: [0, 100, 1000], NoiseResolutions: [4], PartialPercents: [100, 75, 50, 25, 0], DataRoot: dataRoot, Quick: true, Dataset: dataset);

    /// <summary>
    /// The full study, for a bigger machine. CIFAR-10 follows the paper's public code's sizes (README of
    /// Piyush-555/GaussianDistillation: a ResNet-34 teacher trained for 100 epochs; students distilled for 200 epochs
    /// of len(train_loader) = 196 batches of 256) at full width, ResNet-18 and MobileNetV2 students.
    /// </summary>
    public static NoiseKdStudyConfig FullConfig(string outDir, string? dataRoot, string dataset = "fashion-mnist") => dataset == "cifar10"
        ? new(outDir, "resnet34", 1f, 100, null, [("resnet18", 1f), ("mobilenetv2", 1f)], DistillEpochs: 200, Steps: 196, DataRoot: dataRoot, Dataset: dataset)
        : new(outDir, DataRoot: dataRoot, Dataset: dataset);
}

/// <summary>
/// `noisekd study noise-kd`: the Gaussian-noise KD paper's experiments on Fashion-MNIST or CIFAR-10, in one command.
/// Every distillation is cached in OutDir/runs/NAME (summary.json; checkpoints resume), so an interrupted
/// study continues where it stopped; REPORT.md, results.csv and SVG figures are rewritten at the end.
/// </summary>
public sealed class NoiseKdStudy(NoiseKdStudyConfig config, IProgress progress, IBackend device) : IStudy
{
    readonly StudyRuns _runs = new(config.OutDir, config.Dataset, config.DataRoot, progress, device);
    readonly StudyReport _report = new(config.OutDir, $"Gaussian-noise knowledge distillation on {DatasetCatalog.DisplayName(config.Dataset)}");
    readonly NoiseRecipe _recipe = NoiseRecipe.For(config.Recipe);
    string _teacher = "";
    int _imageSize;

    public StudyRuns Runs => _runs;

    /// <summary>The whole study on this machine: plan, every run, report.</summary>
    public string Run() => StudyTasks.RunLocally(this);

    public void Plan()
    {
        _teacher = _runs.Teacher(config.TeacherPath, config.TeacherArch, config.TeacherWidth, config.TeacherEpochs);
        _imageSize = _runs.TeacherShape(_teacher).ImageSize;
        foreach (var (transfer, bn, _) in Table1Rows)
            foreach (var s in config.StudentList)
                foreach (int seed in Seeds) _runs.Add(Table1Run(transfer, bn, s, seed));
        foreach (var s in KlStudents)
            foreach (int seed in Seeds) _runs.Add(KlRun(s, seed));
        foreach (var side in PartialSides)
            foreach (int p in PartialPercents)
                foreach (int seed in Seeds) _runs.Add(PartialRun(side, p, seed));
        _runs.Add(ReferenceRun);
        foreach (int b in TrainBatchSizes)
            foreach (int seed in Seeds) _runs.Add(BatchRun(b, seed));
        foreach (int r in Resolutions)
            foreach (int seed in Seeds) _runs.Add(ResolutionRun(r, seed));
    }

    public string Report()
    {
        string teacher = _teacher;
        var (teacherAccuracy, teacherFile) = _runs.Describe(teacher);
        var normalization = new Normalization(teacherFile.NormMean, teacherFile.NormStd);
        var test = DatasetCatalog.Load(config.Dataset, false, config.DataRoot);
        _report.Paragraph($"Teacher: {teacherFile.Spec.Arch} at width {teacherFile.Spec.Width} ({teacher}), {teacherAccuracy * 100:F2}% test accuracy. " +
                          $"Students distilled for {config.DistillEpochs} epoch(s) of {config.Steps} batches of {config.Batch}, {config.Seeds} seed(s), with the {_recipe.Describe()} " +
                          $"({(config.Recipe == Recipe.Paper ? "the public code's recipe" : "the engine's own recipe, not the paper's")}). Student accuracy is measured on the 10,000 test images with the student's BN on current statistics " +
                          $"at batch {_recipe.EvalBatchSize} unless a table says otherwise; mean ± sample std over seeds. Widths are scaled for a 2-core CPU.");
        _report.Cell("teacher", teacherFile.Spec.Arch, "accuracy", [teacherAccuracy]);

        Table1(teacherAccuracy);
        PartialBn();
        var reference = Numbers(ReferenceRun);
        if (TrainBatchSizes.Length > 0) TrainBatchSize();
        EvalBatchSize(reference, test, normalization);
        AdjustSamples(reference, test, normalization);
        if (Resolutions.Length > 0) NoiseResolution();
        Toy();
        _report.Paragraph(_runs.RuntimeLine(config.Quick));
        _report.Write();
        return Path.Combine(config.OutDir, "REPORT.md");
    }

    const string ReferenceName = "resnet18-ref";

    static readonly (string Transfer, string Bn, string Label)[] Table1Rows =
        [("real", "running", "real data + RS"), ("real", "current", "real data + CS"), ("gaussian", "running", "Gaussian + RS"), ("gaussian", "current", "Gaussian + CS")];

    static readonly string[] PartialSides = ["input", "output", "shift"];

    IEnumerable<int> Seeds => Enumerable.Range(0, config.Seeds);
    int[] PartialPercents => config.PartialPercents ?? [100, 90, 75, 50, 25, 0];
    int[] TrainBatchSizes => config.TrainBatchSizes ?? [32, 64, 128, 256];

    /// <summary>Steps at batch <paramref name="b"/> for the same number of noise images as a run at the study's batch.</summary>
    int StepsAt(int b) => (int)Math.Max(1, (long)config.Steps * config.Batch / b);

    /// <summary>Noise drawn at R x R for each configured R below the input size (default 1, 2, 4, size/4, size/2), then at full size; none when the configuration lists none.</summary>
    int[] Resolutions => config.NoiseResolutions is [] ? []
        : [.. (config.NoiseResolutions ?? [1, 2, 4, _imageSize / 4, _imageSize / 2]).Where(r => r < _imageSize).Distinct().Order(), _imageSize];

    /// <summary>Table 1's students distilled a second time from Gaussian noise on the teacher's current statistics with KL at T = 4: the MobileNetV2s (issue 18).</summary>
    (string Arch, float Width)[] KlStudents => [.. config.StudentList.Where(s => s.Arch == "mobilenetv2")];

    const string KlLoss = "kl:4";

    string ResolutionTransfer(int r) => r == _imageSize ? "gaussian" : $"gaussian-lowres:{r}";

    (string Arch, float Width) StudentAt(int i) => config.StudentList.FirstOrDefault(s => s.Arch == "resnet18") is { Arch: not null } r ? r : config.StudentList[i];

    void Table1(double teacherAccuracy)
    {
        _report.Heading("Table 1: transfer data x teacher BatchNorm statistics");
        _report.Paragraph("Rows: the transfer set (real training images without labels, or N(0,1) noise) and the teacher's BN statistics " +
                          "(RS running, CS current). The paper (CIFAR-10, ResNet-34 teacher 93.29%): Gaussian + RS 13.49%, Gaussian + CS 85.98% for a ResNet-18 student.");
        var students = config.StudentList;
        var rows = new List<IReadOnlyList<string>>();
        var adjusted = new List<IReadOnlyList<string>>();
        var gaussianCs = new Dictionary<(string Arch, float Width), double>(); // mean over seeds, for the shares below
        foreach (var (transfer, bn, label) in Table1Rows)
        {
            var row = new List<string> { label };
            var adjRow = new List<string> { label };
            foreach (var student in students)
            {
                var runs = Seeds.Select(seed => Numbers(Table1Run(transfer, bn, student, seed))).ToList();
                var cs = runs.Select(r => r["acc_cs"]).ToList();
                var adj = runs.Select(r => r["acc_rs_adjusted"]).ToList();
                row.Add(StudyReport.Percent(cs));
                adjRow.Add(StudyReport.Percent(adj));
                _report.Cell("table1", label, $"{student.Arch} x{student.Width}", cs);
                _report.Cell("table1-adjusted", label, $"{student.Arch} x{student.Width}", adj);
                if (transfer == "gaussian" && bn == "current") gaussianCs[student] = cs.Average();
            }
            rows.Add(row);
            adjusted.Add(adjRow);
        }
        var header = new[] { "transfer + teacher BN" }.Concat(students.Select(s => $"{s.Arch} x{s.Width}")).ToList();
        _report.Table("table1", header, rows);
        // The paper states its targets as shares of its teacher (85.98 / 93.29 = 92% for ResNet-18, 82.47 / 93.29 = 88% for MobileNetV2).
        var shares = students.Select(student =>
        {
            double mean = gaussianCs[student];
            _report.Cell("table1-share", "Gaussian + CS / teacher", $"{student.Arch} x{student.Width}", [mean / teacherAccuracy]);
            return $"{student.Arch} x{student.Width} {mean / teacherAccuracy * 100:F1}%";
        });
        _report.Paragraph($"Gaussian + CS as a share of the teacher's {teacherAccuracy * 100:F2}% (mean over seeds): {string.Join(", ", shares)}. " +
                          "The paper: ResNet-18 92% (85.98 / 93.29), MobileNetV2 88% (82.47 / 93.29).");
        _report.Paragraph("The same students evaluated with running statistics re-estimated from 1,000 real training images (no labels, forward passes only):");
        _report.Table("table1-adjusted", header, adjusted);
        if (KlStudents.Length > 0)
        {
            _report.Paragraph($"MobileNetV2 again, Gaussian + CS with the loss changed from soft-target cross-entropy at T = 1 to KL divergence at T = 4 ({KlLoss}; T² times KL of the softened outputs), every other setting as above:");
            var klRows = new List<IReadOnlyList<string>>();
            foreach (var student in KlStudents)
            {
                var cs = Seeds.Select(seed => Numbers(KlRun(student, seed))["acc_cs"]).ToList();
                var t1 = Seeds.Select(seed => Numbers(Table1Run("gaussian", "current", student, seed))["acc_cs"]).ToList();
                klRows.Add([$"{student.Arch} x{student.Width}", StudyReport.Percent(t1), StudyReport.Percent(cs)]);
                _report.Cell("table1-kl4", "Gaussian + CS", $"{student.Arch} x{student.Width}", cs);
            }
            _report.Table("table1-kl4", ["student", "soft-ce, T = 1 (%)", $"{KlLoss} (%)"], klRows);
        }
        _report.Pictures(["transfer set", $"the first batch the {students[0].Arch} student saw (seed 0), shown as images: x * std + mean, clipped to [0, 1]"],
                         new[] { ("real", "real training images"), ("gaussian", "Gaussian noise N(0, 1)") }
                             .Select(t => (t.Item2, (IReadOnlyList<string>)[TransferPicture(Table1Run(t.Item1, "current", students[0], 0))])));
    }

    void PartialBn()
    {
        _report.Heading("Table 3: share of teacher BN layers on running statistics");
        _report.Paragraph("P% of the teacher's BN layers use running statistics, the rest current statistics, counted from the input side, from the output side, " +
                          "or least-shifted first (the layers whose running statistics best match the noise's, measured from noise alone as in bn-report). " +
                          "The paper (CIFAR-10, counted from the input): 100% -> 13.49, 50% -> 79.54, 0% -> 89.4.");
        var student = StudentAt(0);
        var rows = new List<IReadOnlyList<string>>();
        var series = new List<SvgChart.Series>();
        foreach (var side in PartialSides)
        {
            var cells = new List<(double, IReadOnlyList<double>)>();
            foreach (int p in PartialPercents)
            {
                // At 0% and 100% every ordering picks the same layers (and Table 1's runs): StudyRuns reads them from one run.
                var accs = Seeds.Select(seed => Numbers(PartialRun(side, p, seed))["acc_cs"]).ToList();
                rows.Add([$"{p}%", side, StudyReport.Percent(accs)]);
                _report.Cell("table3", $"{p}%", side, accs);
                cells.Add((p, accs));
            }
            series.Add(SvgChart.OverSeeds($"from {side}", cells));
        }
        _report.Table("table3", ["BN layers on RS", "counted from", $"{student.Arch} x{student.Width} accuracy (%)"], rows);
        _report.Figure("partial_bn.svg", SvgChart.Line("Teacher BN layers on running statistics", "% of BN layers on RS", "student accuracy (%)", series),
                       "Student accuracy against the share of teacher BN layers on running statistics (mean ± std over seeds).");
    }

    void TrainBatchSize()
    {
        _report.Heading("Batch size during distillation");
        _report.Paragraph("Gaussian + CS with the same number of noise images per run (steps scaled inversely to the batch size).");
        var rows = new List<IReadOnlyList<string>>();
        var cells = new List<(double, IReadOnlyList<double>)>();
        foreach (int b in TrainBatchSizes)
        {
            var accs = Seeds.Select(seed => Numbers(BatchRun(b, seed))["acc_cs"]).ToList();
            rows.Add([b.ToString(CultureInfo.InvariantCulture), StudyReport.Percent(accs)]);
            _report.Cell("train-batch", b.ToString(CultureInfo.InvariantCulture), "acc_cs", accs);
            cells.Add((b, accs));
        }
        _report.Table("train-batch", ["batch size", "student accuracy (%)"], rows);
        _report.Figure("train_batch.svg", SvgChart.Line("Batch size during distillation", "batch size", "student accuracy (%)", [SvgChart.OverSeeds("Gaussian + CS", cells)], logX: true),
                       "Student accuracy against the distillation batch size (mean ± std over seeds).");
    }

    void EvalBatchSize(IReadOnlyDictionary<string, double> reference, Dataset test, Normalization normalization)
    {
        _report.Heading("Batch size during inference (student on current statistics)");
        var (student, _) = ModelFile.Load(ReferenceStudent());
        var sizes = config.EvalBatchSizes ?? [8, 16, 32, 64, 128, 256, 500, 1000];
        var rows = new List<IReadOnlyList<string>>();
        var points = new List<(double, double)>();
        foreach (int b in sizes)
        {
            double acc = Evaluator.Evaluate(student, test, normalization, b, BnStatistics.Current, device).Accuracy;
            rows.Add([b.ToString(CultureInfo.InvariantCulture), $"{acc * 100:F2}"]);
            _report.Cell("eval-batch", b.ToString(CultureInfo.InvariantCulture), "acc_cs", [acc]);
            points.Add((b, acc * 100));
        }
        rows.Add(["running statistics (as trained)", $"{reference["acc_rs"] * 100:F2}"]);
        _report.Table("eval-batch", ["test batch size", "accuracy (%)"], rows);
        _report.Figure("eval_batch.svg", SvgChart.Line("Batch size at inference (CS)", "test batch size", "accuracy (%)", [new("student, CS", points)], logX: true),
                       "Accuracy of the Gaussian + CS student evaluated with current statistics at different test batch sizes.");
    }

    void AdjustSamples(IReadOnlyDictionary<string, double> reference, Dataset test, Normalization normalization)
    {
        _report.Heading("Re-estimating the student's running statistics from real samples");
        var train = DatasetCatalog.Load(config.Dataset, true, config.DataRoot);
        var counts = config.AdjustSamples ?? [0, 10, 50, 100, 500, 1000, 5000];
        var rows = new List<IReadOnlyList<string>>();
        var points = new List<(double, double)>();
        foreach (int n in counts)
        {
            var (student, _) = ModelFile.Load(ReferenceStudent());
            if (n > 0) BnRecalibration.Reestimate(student, train.Take(n), normalization, Math.Min(n, 500), device);
            double acc = Evaluator.Evaluate(student, test, normalization, 500, BnStatistics.Running, device).Accuracy;
            rows.Add([n == 0 ? "0 (running statistics from the noise)" : n.ToString(CultureInfo.InvariantCulture), $"{acc * 100:F2}"]);
            _report.Cell("adjust", n.ToString(CultureInfo.InvariantCulture), "acc_rs", [acc]);
            points.Add((Math.Max(n, 1), acc * 100));
        }
        rows.Add(["(current statistics, batch 500)", $"{reference["acc_cs"] * 100:F2}"]);
        _report.Table("adjust", ["real images", "accuracy with RS (%)"], rows);
        _report.Figure("adjust.svg", SvgChart.Line("Running statistics re-estimated from N real images", "N (0 plotted at 1)", "accuracy (%)", [new("student, RS", points)], logX: true),
                       "Accuracy with running statistics re-estimated from N unlabeled real training images.");
    }

    void NoiseResolution()
    {
        int size = _imageSize;
        _report.Heading("Noise resolution");
        _report.Paragraph($"N(0,1) noise drawn at R x R and upsampled (nearest) to {size} x {size}: the paper's future-work item.");
        var rows = new List<IReadOnlyList<string>>();
        var cells = new List<(double, IReadOnlyList<double>)>();
        int[] resolutions = Resolutions;
        foreach (int r in resolutions)
        {
            var accs = Seeds.Select(seed => Numbers(ResolutionRun(r, seed))["acc_cs"]).ToList();
            rows.Add([$"{r} x {r}", StudyReport.Percent(accs)]);
            _report.Cell("noise-resolution", r.ToString(CultureInfo.InvariantCulture), "acc_cs", accs);
            cells.Add((r, accs));
        }
        _report.Table("noise-resolution", ["noise resolution", "student accuracy (%)"], rows);
        _report.Pictures(["noise resolution", "the first batch the student saw (seed 0), shown as images: x * std + mean, clipped to [0, 1]"],
                         resolutions.Select(r => ($"{r} x {r}", (IReadOnlyList<string>)[TransferPicture(ResolutionRun(r, 0))])));
        _report.Figure("noise_resolution.svg", SvgChart.Line("Noise resolution", "R (noise drawn at R x R)", "student accuracy (%)", [SvgChart.OverSeeds("Gaussian + CS", cells)], logX: true),
                       "Student accuracy against the resolution at which the noise is drawn (mean ± std over seeds).");
    }

    void Toy()
    {
        _report.Heading("Toy study: an MLP with BatchNorm on two circles (the paper's Figure 3)");
        var toy = ToyCirclesStudy.Run();
        _report.Paragraph($"The MLP (2-32-32-2, BatchNorm1d after each hidden layer) reaches {toy.DataAccuracy * 100:F1}% on the circles. Fed N(0,1) noise, " +
                          $"it predicts class 0 for {toy.PredictedShareRs[0] * 100:F1}% of the noise with running statistics and {toy.PredictedShareCs[0] * 100:F1}% with current statistics. " +
                          $"Distance of the mean noise embedding from the mean data embedding, in units of the data's spread: RS {toy.ShiftRs:F2}, CS {toy.ShiftCs:F2}.");
        _report.Cell("toy", "shift", "rs", [toy.ShiftRs]);
        _report.Cell("toy", "shift", "cs", [toy.ShiftCs]);
        _report.Figure("toy_embeddings.svg", SvgChart.Scatter("Hidden embeddings (data PCA axes)", "PC 1", "PC 2", toy.Embeddings),
                       "Last hidden layer of the MLP for data, noise with running statistics, and noise with current statistics.");
    }

    /// <summary>The transfer.png that `distill` wrote for a run (its first batch).</summary>
    string TransferPicture(DistillRun run) => Path.Combine(_runs.RunDir(run.Name), "transfer.png");

    string ReferenceStudent() => Path.Combine(_runs.RunDir(ReferenceName), "student.safetensors");

    // Every run of the study, by section: Plan adds them and the report reads them through the same method, so a run's
    // name and settings are written once.
    DistillRun Table1Run(string transfer, string bn, (string Arch, float Width) s, int seed) =>
        DistillRun($"t1-{transfer}-{bn}-{s.Arch}-s{seed}", s, transfer, bn, seed, config.Batch);

    DistillRun KlRun((string Arch, float Width) s, int seed) =>
        DistillRun($"t1-gaussian-current-{s.Arch}-{KlLoss.Replace(":", "")}-s{seed}", s, "gaussian", "current", seed, config.Batch, loss: KlLoss);

    DistillRun PartialRun(string side, int p, int seed) => DistillRun($"t3-{side}-{p}-s{seed}", StudentAt(0), "gaussian", $"partial:{p}", seed, config.Batch, side);

    DistillRun ReferenceRun => DistillRun(ReferenceName, StudentAt(0), "gaussian", "current", 0, config.Batch);

    DistillRun BatchRun(int b, int seed) => DistillRun($"bs-{b}-s{seed}", StudentAt(0), "gaussian", "current", seed, b, steps: StepsAt(b));

    DistillRun ResolutionRun(int r, int seed) => DistillRun($"res-{r}-s{seed}", StudentAt(0), ResolutionTransfer(r), "current", seed, config.Batch);

    /// <summary>One distillation of the study's standard settings, as the plan holds it and the report reads it.</summary>
    DistillRun DistillRun(string name, (string Arch, float Width) student, string transfer, string teacherBn, int seed, int batchSize,
                          string partialFrom = "input", int? steps = null, string? loss = null)
    {
        var options = _recipe.Apply(new DistillOptions(_teacher, student.Arch, "", student.Width, Transfer: transfer, TeacherBn: TeacherBn.Parse(teacherBn, partialFrom),
                                                       Epochs: config.DistillEpochs, StepsPerEpoch: steps ?? config.Steps, BatchSize: batchSize, Seed: (ulong)seed,
                                                       DataRoot: config.DataRoot));
        if (loss is not null) options = options with { Loss = KdObjective.Parse(loss) };
        return new DistillRun(name, $"{student.Arch} x{student.Width}, transfer {transfer}, teacher BN {teacherBn}, batch {batchSize}, seed {seed}" +
                                    (loss is null ? "" : $", loss {loss}"), options);
    }

    /// <summary>The numbers of a finished run's summary.</summary>
    IReadOnlyDictionary<string, double> Numbers(DistillRun run) =>
        _runs.Summary(run).Where(kv => kv.Value.ValueKind == JsonValueKind.Number).ToDictionary(kv => kv.Key, kv => kv.Value.GetDouble());
}
