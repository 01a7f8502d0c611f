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
