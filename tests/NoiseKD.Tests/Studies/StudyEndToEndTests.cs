using NoiseKD.Data;
using NoiseKD.Models;
using NoiseKD.Studies;
using NoiseKD.Tensors;
using NoiseKD.Training;
using Xunit;

namespace NoiseKD.Tests.Studies;

/// <summary>
/// The study commands end to end at toy sizes on a synthetic Fashion-MNIST-format dataset: every section
/// runs, the report, CSV and figures are written, and a second run reuses the cached runs.
/// </summary>
[Collection(SeededRunsCollection.Name)]
public class StudyEndToEndTests
{
    static string Teacher(TempDir dir)
    {
        SyntheticFashionMnist.Write(dir.Path, 256, 64);
        new Trainer(new TrainOptions(new ModelSpec("resnet18", 0.0625f), "fashion-mnist", dir.File("teacher"), 1, 32, Seed: 2, DataRoot: dir.Path)).Run();
        return dir.File("teacher/model.safetensors");
    }

    [Fact]
    public void NoiseKdStudyWritesEverySection()
    {
        using var dir = new TempDir();
        var config = new NoiseKdStudyConfig(dir.File("study"), TeacherPath: Teacher(dir), Students: [("resnet18", 0.0625f)], Seeds: 1, DistillEpochs: 1,
                                            Steps: 2, BatchSize: 16, TrainBatchSizes: [16], EvalBatchSizes: [16, 32], AdjustSamples: [0, 32],
                                            NoiseResolutions: [7, 28], PartialPercents: [100, 50], DataRoot: dir.Path, Quick: true);
        string report = new NoiseKdStudy(config, SilentProgress.Instance, Devices.Cpu).Run();
        string text = File.ReadAllText(report);
        foreach (var heading in new[] { "Table 1", "Table 3", "Batch size during distillation", "Batch size during inference", "Re-estimating", "Noise resolution", "Toy study" })
            Assert.Contains(heading, text);
        Assert.Contains("Gaussian + CS", text);
        foreach (var figure in new[] { "partial_bn.svg", "train_batch.svg", "eval_batch.svg", "adjust.svg", "noise_resolution.svg", "toy_embeddings.svg", "results.csv" })
            Assert.True(File.Exists(dir.File("study/" + figure)), figure);
        var csv = File.ReadAllLines(dir.File("study/results.csv"));
        Assert.Contains(csv, l => l.StartsWith("table3,50%,shift,", StringComparison.Ordinal));
        Assert.Equal(4, csv.Count(l => l.StartsWith("table1,", StringComparison.Ordinal)));
        // 100% on running statistics is the same teacher whatever the ordering, and Table 1's Gaussian + RS run:
        // one run (in Table 1's folder), three rows.
        Assert.Equal(6, csv.Count(l => l.StartsWith("table3,", StringComparison.Ordinal)));
        Assert.Equal(new[] { "t3-input-50-s0", "t3-output-50-s0", "t3-shift-50-s0" },
                     Directory.GetDirectories(dir.File("study/runs"), "t3-*").Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal).ToArray());

        // What the students saw: the runs' first batches, linked where the run lives (28x28 noise is Table 1's run).
        Assert.Contains("![Gaussian noise N(0, 1)](runs/t1-gaussian-current-resnet18-s0/transfer.png)", text);
        Assert.Contains("![7 x 7](runs/res-7-s0/transfer.png)", text);
        Assert.Contains("![28 x 28](runs/t1-gaussian-current-resnet18-s0/transfer.png)", text);
        Assert.True(File.Exists(dir.File("study/runs/res-7-s0/transfer.png")));
        Assert.Contains("Study runtime: ", text);
        Assert.DoesNotContain("read back from earlier", text);

        // The same settings under another name are one run: Table 1's Gaussian + CS cell is also the reference student
        // (evaluated at other test batch sizes), the batch-16 row and the 28x28 noise row, and they report its accuracy.
        var names = Directory.GetDirectories(dir.File("study/runs")).Select(d => Path.GetFileName(d)!).ToHashSet();
        Assert.Contains("t1-gaussian-current-resnet18-s0", names);
        foreach (var alias in new[] { "resnet18-ref", "bs-16-s0", "res-28-s0" }) Assert.DoesNotContain(alias, names);
        Assert.Contains("res-7-s0", names);
        string reference = csv.Single(l => l.StartsWith("table1,Gaussian + CS,", StringComparison.Ordinal)).Split(',')[3];
        // The Gaussian + CS cell as a share of the teacher: that cell's mean over the teacher's accuracy from its own evaluation.
        double teacher = double.Parse(csv.Single(l => l.StartsWith("teacher,", StringComparison.Ordinal)).Split(',')[3], System.Globalization.CultureInfo.InvariantCulture);
        double share = double.Parse(csv.Single(l => l.StartsWith("table1-share,", StringComparison.Ordinal)).Split(',')[3], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(double.Parse(reference, System.Globalization.CultureInfo.InvariantCulture) / teacher, share, 6);
        Assert.Contains($"Gaussian + CS as a share of the teacher's {teacher * 100:F2}% (mean over seeds): resnet18 x0.0625 {share * 100:F1}%", text);
        Assert.Equal(reference, csv.Single(l => l.StartsWith("noise-resolution,28,", StringComparison.Ordinal)).Split(',')[3]);

        // Cached: a second run distills nothing new, writes the same tables, and its runtime line says
        // that every run came from the cache (its minutes are not the study's cost).
        var before = Directory.GetDirectories(dir.File("study/runs")).Length;
        new NoiseKdStudy(config, SilentProgress.Instance, Devices.Cpu).Run();
        Assert.Equal(before, Directory.GetDirectories(dir.File("study/runs")).Length);
        string again = File.ReadAllText(report);
        int runs = Directory.GetDirectories(dir.File("study/runs")).Count(d => Path.GetFileName(d) != "teacher");
        Assert.Contains($"{runs} of {runs} distillations were read back from earlier invocations' cached runs", again);
        Assert.Equal(csv, File.ReadAllLines(dir.File("study/results.csv")));
    }

    [Fact]
    public void MobileNetStudentsGetAKlRowAndEmptySectionsAreLeftOut()
    {
        using var dir = new TempDir();
        var config = new NoiseKdStudyConfig(dir.File("study"), TeacherPath: Teacher(dir), Students: [("mobilenetv2", 0.125f)], Seeds: 1, DistillEpochs: 1,
                                            Steps: 2, BatchSize: 16, TrainBatchSizes: [], EvalBatchSizes: [16], AdjustSamples: [0],
                                            NoiseResolutions: [], PartialPercents: [100, 0], DataRoot: dir.Path, Quick: true);
        string text = File.ReadAllText(new NoiseKdStudy(config, SilentProgress.Instance, Devices.Cpu).Run());
        Assert.DoesNotContain("Batch size during distillation", text);
        Assert.DoesNotContain("Noise resolution", text);
        Assert.Contains("KL divergence at T = 4", text);
        // The kl:4 run is its own run, made with that loss (its config.json says so), beside the T = 1 run of Table 1.
        var names = Directory.GetDirectories(dir.File("study/runs")).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(new[] { "t1-gaussian-current-mobilenetv2-kl4-s0", "t1-gaussian-current-mobilenetv2-s0", "t1-gaussian-running-mobilenetv2-s0",
                             "t1-real-current-mobilenetv2-s0", "t1-real-running-mobilenetv2-s0" }, names);
        var options = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.File("study/runs/t1-gaussian-current-mobilenetv2-kl4-s0/config.json"))).RootElement.GetProperty("options");
        Assert.Equal("kl:4", options.GetProperty("--loss").GetString());
        Assert.Equal("soft-ce", System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.File("study/runs/t1-gaussian-current-mobilenetv2-s0/config.json")))
                                    .RootElement.GetProperty("options").GetProperty("--loss").GetString());
        var csv = File.ReadAllLines(dir.File("study/results.csv"));
        string kl = csv.Single(l => l.StartsWith("table1-kl4,Gaussian + CS,mobilenetv2 x0.125,", StringComparison.Ordinal)).Split(',')[3];
        var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.File("study/runs/t1-gaussian-current-mobilenetv2-kl4-s0/summary.json"))).RootElement;
        Assert.Equal(summary.GetProperty("acc_cs").GetDouble(), double.Parse(kl, System.Globalization.CultureInfo.InvariantCulture), 6);
    }

    [Fact]
    public void CifarQuickPlanIsTheIssuesShape()
    {
        using var dir = new TempDir();
        string folder = dir.File("cifar10");
        Directory.CreateDirectory(folder);
        var rng = new Random(5);
        foreach (string file in new[] { "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin" })
        {
            var pixels = new byte[4 * 3 * 32 * 32];
            rng.NextBytes(pixels);
            CifarFormat.Write(Path.Combine(folder, file), new Dataset("t", pixels, [0, 1, 2, 3], 3, 32, 32, 10), false);
        }
        var config = NoiseKdStudyConfig.QuickConfig(dir.File("study"), dir.Path, "cifar10") with { Seeds = 3, Recipe = NoiseKD.Distillation.Recipe.Paper };
        var study = new NoiseKdStudy(config, SilentProgress.Instance, Devices.Cpu);
        study.Plan();
        var plan = study.Runs.Plan;
        var teacher = Assert.IsType<TeacherRun>(plan[0]);
        var train = Assert.IsType<TrainOptions>(teacher.Options);
        Assert.Equal(("resnet34", 0.25f, 12, "cifar10"), (train.Spec.Arch, train.Spec.Width, train.Epochs, train.Dataset));
        var names = plan.Skip(1).Select(r => r.Name).ToList();
        // Table 1: 2 students x 4 rows x 3 seeds, MobileNetV2 at kl:4 x 3 seeds, Table 3: 3 orderings x 75/50/25% x 3 seeds
        // (0% and 100% are Table 1's runs); no batch-size or noise-resolution runs.
        Assert.Equal(24 + 3 + 27, names.Count);
        Assert.Equal(24, names.Count(n => n.StartsWith("t1-", StringComparison.Ordinal) && !n.Contains("kl4", StringComparison.Ordinal)));
        Assert.All(names.Where(n => n.StartsWith("t1-", StringComparison.Ordinal)), n => Assert.True(n.Contains("resnet18", StringComparison.Ordinal) || n.Contains("mobilenetv2", StringComparison.Ordinal), n));
        Assert.DoesNotContain(names, n => n.StartsWith("bs-", StringComparison.Ordinal) || n.StartsWith("res-", StringComparison.Ordinal));
        var full = NoiseKdStudyConfig.FullConfig("x", null, "cifar10");
        Assert.Equal((1f, 100, 200, 196), (full.TeacherWidth, full.TeacherEpochs, full.DistillEpochs, full.Steps));
        Assert.Equal(new[] { ("resnet18", 1f), ("mobilenetv2", 1f) }, full.StudentList);
    }

    [Fact]
    public void RunKeysIgnoreWhereARunIsWrittenAndTheOrderOfAllOrNoLayers()
    {
        var a = new NoiseKD.Distillation.DistillOptions("/t/model.safetensors", "resnet18", "/a", 0.25f, TeacherBn: new NoiseKD.Distillation.TeacherBn(0, "shift"), Seed: 1);
        Assert.Equal(StudyRuns.Key(a), StudyRuns.Key(a with { OutDir = "/b", Resume = true, DataRoot = "/data", TeacherBn = new NoiseKD.Distillation.TeacherBn(0, "input") }));
        Assert.Equal(StudyRuns.Key(a with { TeacherBn = new NoiseKD.Distillation.TeacherBn(100, "output") }), StudyRuns.Key(a with { TeacherBn = new NoiseKD.Distillation.TeacherBn(100) }));
        Assert.NotEqual(StudyRuns.Key(a with { TeacherBn = new NoiseKD.Distillation.TeacherBn(50, "shift") }), StudyRuns.Key(a with { TeacherBn = new NoiseKD.Distillation.TeacherBn(50, "input") }));
        foreach (var other in new[] { a with { Seed = 2 }, a with { StepsPerEpoch = 7 }, a with { Epochs = 2 }, a with { BatchSize = 32 }, a with { Transfer = "uniform" },
                                      a with { StudentWidth = 0.5f }, a with { AdjustSamples = 0 }, a with { EvalBatchSize = 16 }, a with { TeacherPath = "/u/model.safetensors" } })
            Assert.NotEqual(StudyRuns.Key(a), StudyRuns.Key(other));
    }

    [Fact]
    public void ArbitraryStudyComparesBalancedAndUnbalancedSets()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("photos"));
        NoiseKD.Tests.Data.TestImages.Write(dir.File("photos/a.png"), new HostImage(1, 40, 40, Enumerable.Range(0, 1600).Select(i => (i * 7 % 256) / 255f).ToArray()));
        var config = new ArbitraryStudyConfig(dir.File("study"), TeacherPath: Teacher(dir), StudentArch: "resnet18", StudentWidth: 0.0625f, Seeds: 1,
                                              DistillEpochs: 1, Steps: 2, BatchSize: 16, PerClass: 4, PoolFactor: 2, NaturalImages: dir.File("photos"),
                                              DataRoot: dir.Path, Quick: true);
        string report = new ArbitraryTransferStudy(config, SilentProgress.Instance, Devices.Cpu).Run();
        string text = File.ReadAllText(report);
        foreach (var row in new[] { "Gaussian noise", "uniform noise", "random shapes", "plasma", "dead leaves", "natural photos", "Fashion-MNIST train images" })
            Assert.Contains(row, text);
        Assert.Contains("gain > spread", text);
        Assert.True(File.Exists(dir.File("study/histogram_current.svg")));
        Assert.True(File.Exists(dir.File("study/histogram_running.svg")));
        Assert.Contains("![random shapes](runs/shapes-balanced-current-s0/transfer.png)", text);
        Assert.True(File.Exists(dir.File("study/runs/natural-unbalanced-current-s0/transfer.png")));
        Assert.Equal(7 * 4, File.ReadAllLines(dir.File("study/results.csv")).Count(l => l.StartsWith("arbitrary,", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(0.042, "+4.20")]
    [InlineData(-0.0222, "-2.22")]
    [InlineData(-0.0000001, "0.00")]
    [InlineData(0.0, "0.00")]
    public void GainsAreSignedPoints(double difference, string expected) => Assert.Equal(expected, ArbitraryTransferStudy.FormatPoints(difference));
}
