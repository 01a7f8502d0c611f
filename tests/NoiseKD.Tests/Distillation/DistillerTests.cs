using NoiseKD.Data;
using NoiseKD.Distillation;
using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.Serialization;
using NoiseKD.Tensors;
using NoiseKD.Training;
using Xunit;

namespace NoiseKD.Tests.Distillation;

/// <summary>Short end-to-end distillations on tiny models and a synthetic Fashion-MNIST-format dataset.</summary>
[Collection(SeededRunsCollection.Name)]
public class DistillerTests
{
    /// <summary>A tiny ResNet teacher trained for two epochs on the band task; shared by the tests of this class.</summary>
    sealed class TeacherFixture : IDisposable
    {
        public TempDir Dir { get; } = new();
        public string Teacher => Dir.File("teacher/model.safetensors");
        public double Accuracy { get; }

        public TeacherFixture()
        {
            SyntheticFashionMnist.Write(Dir.Path, 512, 200);
            Accuracy = new Trainer(new TrainOptions(new ModelSpec("resnet18", 0.0625f), "fashion-mnist", Dir.File("teacher"), 2, 32,
                                                    new OptimizerConfig("sgd", 0.05f, 0.9f, 5e-4f, false, "cosine"), Seed: 3, DataRoot: Dir.Path)).Run().Accuracy;
        }

        public void Dispose() => Dir.Dispose();
    }

    static readonly Lazy<TeacherFixture> Shared = new(() => new TeacherFixture());

    static DistillOptions Options(string outDir, string teacherBn, int epochs = 2, bool resume = false) =>
        new(Shared.Value.Teacher, "resnet18", outDir, 0.0625f, TeacherBn: TeacherBn.Parse(teacherBn, "input"), Epochs: epochs, StepsPerEpoch: 12,
            BatchSize: 32, EvalBatchSize: 100, AdjustSamples: 64, DataRoot: Shared.Value.Dir.Path, Seed: 5, Resume: resume,
            Optimizer: new OptimizerConfig("sgd", 0.05f, 0.9f, 5e-4f, false, "cosine"));

    [Fact]
    public void NoiseDistillationWritesStudentMetricsAndSummary()
    {
        Assert.True(Shared.Value.Accuracy > 0.9, $"teacher accuracy {Shared.Value.Accuracy}");
        using var dir = new TempDir();
        var summary = new Distiller(Options(dir.Path, "current")).Run();
        foreach (var key in new[] { "teacher_accuracy", "acc_cs", "acc_rs", "acc_rs_adjusted", "kd_loss" }) Assert.True(summary.ContainsKey(key), key);
        var rows = new MetricsLog(Path.Combine(dir.Path, "metrics.jsonl")).ReadAll();
        Assert.Equal(2, rows.Count);
        Assert.True(rows[1]["kd_loss"].GetDouble() < rows[0]["kd_loss"].GetDouble() * 1.2, "KD loss should not blow up");
        var (student, file) = ModelFile.Load(Path.Combine(dir.Path, "student.safetensors"));
        Assert.Equal("resnet18", file.Spec.Arch);
        Assert.Equal(0.0625f, file.Spec.Width);
        Assert.True(File.Exists(Path.Combine(dir.Path, "summary.json")));
        // acc_cs is the student's accuracy with current statistics at the eval batch size, recomputed here.
        var test = DatasetCatalog.Load("fashion-mnist", false, Shared.Value.Dir.Path);
        double cs = Evaluator.Evaluate(student, test, Normalization.FashionMnist, 100, BnStatistics.Current).Accuracy;
        Assert.Equal((double)summary["acc_cs"], cs, 6);
    }

    [Fact]
    public void ResumeAfterACrashMatchesAnUninterruptedRun()
    {
        using var a = new TempDir();
        using var b = new TempDir();
        new Distiller(Options(a.Path, "current", 3)).Run();
        Assert.Throws<OperationCanceledException>(() => new Distiller(Options(b.Path, "current", 3), new CrashAfterEpoch(2)).Run());
        new Distiller(Options(b.Path, "current", 3, resume: true)).Run();
        ResumeChecks.AssertSameTensors(Path.Combine(a.Path, "student.safetensors"), Path.Combine(b.Path, "student.safetensors"));
    }

    [Fact]
    public void PlateauScheduleFollowsTheTestLossAndResumesExactly()
    {
        // plateau:0:0.5 halves the rate after every epoch whose CS test loss is not a new best: the rate of each row must
        // be the initial one halved once per such epoch before it, and a run stopped after epoch 2 and resumed (the plateau
        // replayed from metrics.jsonl) must match the uninterrupted one, rates and weights.
        var adam = new OptimizerConfig("adam", 0.02f, 0.9f, 0f, false, "plateau:0:0.5");
        DistillOptions Plateau(string dir, bool resume = false) => Options(dir, "current", 4, resume) with { Optimizer = adam, AdjustSamples = 0 };
        using var a = new TempDir();
        using var b = new TempDir();
        new Distiller(Plateau(a.Path)).Run();
        var rows = new MetricsLog(Path.Combine(a.Path, "metrics.jsonl")).ReadAll();
        double best = double.PositiveInfinity, rate = 0.02;
        foreach (var row in rows)
        {
            Assert.Equal(rate, row["lr"].GetDouble(), 6);
            double loss = row["test_loss_cs"].GetDouble();
            if (loss < best * (1 - 1e-4)) best = loss;
            else rate *= 0.5;
        }
        Assert.Throws<OperationCanceledException>(() => new Distiller(Plateau(b.Path), new CrashAfterEpoch(2)).Run());
        new Distiller(Plateau(b.Path, resume: true)).Run();
        var resumed = new MetricsLog(Path.Combine(b.Path, "metrics.jsonl")).ReadAll();
        Assert.Equal(rows.Select(r => r["lr"].GetDouble()), resumed.Select(r => r["lr"].GetDouble()));
        ResumeChecks.AssertSameTensors(Path.Combine(a.Path, "student.safetensors"), Path.Combine(b.Path, "student.safetensors"));
    }

    [Fact]
    public void AFinishedRunContinuesForMoreEpochsWhenItsScheduleAllowsIt()
    {
        // plateau (and none) do not depend on the run's length: a finished 2-epoch run resumed with --epochs 4 equals a
        // 4-epoch run, weights, rates and metrics rows; config.json then records 4 epochs. Cosine does: the same
        // extension is refused, naming the option.
        var adam = new OptimizerConfig("adam", 0.02f, 0.9f, 0f, false, "plateau:0:0.5");
        DistillOptions Plateau(string dir, int epochs, bool resume = false) => Options(dir, "current", epochs, resume) with { Optimizer = adam, AdjustSamples = 0 };
        using var a = new TempDir();
        using var b = new TempDir();
        new Distiller(Plateau(a.Path, 4)).Run();
        new Distiller(Plateau(b.Path, 2)).Run();
        // Stopped during the continuation: the 2-epoch run's summary.json is gone, so the folder does not read as finished.
        Assert.Throws<OperationCanceledException>(() => new Distiller(Plateau(b.Path, 4, resume: true), new CrashAfterEpoch(3)).Run());
        Assert.False(File.Exists(Path.Combine(b.Path, "summary.json")));
        new Distiller(Plateau(b.Path, 4, resume: true)).Run();
        ResumeChecks.AssertSameTensors(Path.Combine(a.Path, "student.safetensors"), Path.Combine(b.Path, "student.safetensors"));
        var longer = new MetricsLog(Path.Combine(a.Path, "metrics.jsonl")).ReadAll();
        var extended = new MetricsLog(Path.Combine(b.Path, "metrics.jsonl")).ReadAll();
        Assert.Equal(4, extended.Count);
        Assert.Equal(longer.Select(r => (r["lr"].GetDouble(), r["kd_loss"].GetDouble(), r["acc_cs"].GetDouble())),
                     extended.Select(r => (r["lr"].GetDouble(), r["kd_loss"].GetDouble(), r["acc_cs"].GetDouble())));
        var options = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(b.Path, "config.json"))).RootElement.GetProperty("options");
        Assert.Equal("4", options.GetProperty("--epochs").GetString());
        // Fewer epochs than the checkpoint has done cannot be continued (as `train` says).
        var fewer = Assert.Throws<ArgumentException>(() => new Distiller(Plateau(b.Path, 3, resume: true)).Run());
        Assert.Contains("has 4 epochs done, more than --epochs 3", fewer.Message);

        using var c = new TempDir();
        new Distiller(Options(c.Path, "current", 1)).Run();
        var e = Assert.ThrowsAny<Exception>(() => new Distiller(Options(c.Path, "current", 2, resume: true)).Run());
        Assert.Contains("--epochs", e.Message);
    }

    [Fact]
    public void PaperRecipeIsThePublicCodesSettings()
    {
        // Piyush-555/GaussianDistillation distill_gaussian.py: Adam(lr=1e-3) without weight decay, ReduceLROnPlateau(patience=10),
        // batch 256 (conventions.py), soft-target CE at T=1 (misc.DistillationLoss); its student is evaluated in train mode at batch 256.
        var paper = NoiseRecipe.For(Recipe.Paper);
        Assert.Equal(new OptimizerConfig("adam", 1e-3f, 0.9f, 0f, false, "plateau:10"), paper.Optimizer);
        Assert.Equal((256, 256, "soft-ce", 1f), (paper.BatchSize, paper.EvalBatchSize, paper.Loss.Kind, paper.Loss.Temperature));
        var engine = NoiseRecipe.For(Recipe.Engine);
        Assert.Equal(new OptimizerConfig("sgd", 0.1f, 0.9f, 5e-4f, false, "cosine"), engine.Optimizer);
        Assert.Equal((128, 500), (engine.BatchSize, engine.EvalBatchSize));
        var plateau = paper.Optimizer.CreatePlateau(paper.Optimizer.Create([Tensor.Zeros([1])]));
        Assert.NotNull(plateau);
        Assert.Null(engine.Optimizer.CreatePlateau(engine.Optimizer.Create([Tensor.Zeros([1])])));
        Assert.Throws<ArgumentException>(() => paper.Optimizer.CreateSchedule(paper.Optimizer.Create([Tensor.Zeros([1])]), 1, 1));
        Assert.Throws<ArgumentException>(() => (paper.Optimizer with { Schedule = "plateau:2:1.5" }).Validate());
    }

    [Fact]
    public void ResumeAfterTheLastEpochWritesTheSameSummary()
    {
        // A stop after the final checkpoint but before summary.json: resuming trains nothing and must still
        // report the final accuracies, from the metrics row or, when that row was lost too, by evaluating again.
        using var a = new TempDir();
        var uninterrupted = new Distiller(Options(a.Path, "current", 2)).Run();
        foreach (bool dropMetricsRow in new[] { false, true })
        {
            using var b = new TempDir();
            Assert.Throws<OperationCanceledException>(() => new Distiller(Options(b.Path, "current", 2), new CrashAfterEpoch(2)).Run());
            string metrics = Path.Combine(b.Path, "metrics.jsonl");
            if (dropMetricsRow) File.WriteAllLines(metrics, File.ReadAllLines(metrics).SkipLast(1));
            var resumed = new Distiller(Options(b.Path, "current", 2, resume: true)).Run();
            foreach (var key in new[] { "acc_cs", "acc_rs", "acc_rs_adjusted" })
                Assert.Equal(Convert.ToDouble(uninterrupted[key]), Convert.ToDouble(resumed[key]), 6);
            Assert.Equal(2, File.ReadAllLines(metrics).Length);
        }
    }

    [Fact]
    public void NonFiniteLossStopsAndKeepsTheLastGoodCheckpoint()
    {
        using var dir = new TempDir();
        var exploding = Options(dir.Path, "current", 3) with { Optimizer = new OptimizerConfig("sgd", 1e12f, 0.9f, 0f, false, "none") };
        var e = Assert.Throws<NonFiniteLossException>(() => new Distiller(exploding).Run());
        Assert.Contains("checkpoint", e.Message);
        Assert.False(File.Exists(Path.Combine(dir.Path, "student.safetensors")));
    }

    [Fact]
    public void PartialTeacherBnCountsFromEitherSide()
    {
        var teacher = new ModelSpec("resnet18", 0.0625f).Create();
        var layers = BnControl.Layers(teacher);
        Assert.Equal(20, layers.Count);
        Assert.Equal(10, new TeacherBn(50, "input").Apply(teacher));
        Assert.All(layers.Take(10), l => Assert.Equal(BnStatistics.Running, l.Statistics));
        Assert.All(layers.Skip(10), l => Assert.Equal(BnStatistics.Current, l.Statistics));
        Assert.Equal(5, new TeacherBn(25, "output").Apply(teacher));
        Assert.All(layers.Take(15), l => Assert.Equal(BnStatistics.Current, l.Statistics));
        Assert.All(layers.Skip(15), l => Assert.Equal(BnStatistics.Running, l.Statistics));
        Assert.All(layers, l => Assert.False(l.UpdateRunningStatistics));
        Assert.Throws<ArgumentException>(() => TeacherBn.Parse("partial:120", "input"));
        Assert.Throws<ArgumentException>(() => TeacherBn.Parse("current", "middle"));
    }

    [Fact]
    public void TransferSetsDrawWhatTheySay()
    {
        using var scope = new TensorScope();
        var norm = Normalization.FashionMnist;
        var gaussian = TransferSet.Parse("gaussian:0.5,2", 1, 28, norm, 1, Devices.Cpu, () => throw new InvalidOperationException()).Next(64).ToArray();
        double mean = gaussian.Average(v => (double)v), std = Math.Sqrt(gaussian.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, 0.45, 0.55);
        Assert.InRange(std, 1.95, 2.05);

        var lowres = TransferSet.Parse("gaussian-lowres:7", 1, 28, norm, 1, Devices.Cpu, () => throw new InvalidOperationException()).Next(2).ToArray();
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
                Assert.Equal(lowres[(y / 4 * 4) * 28 + x / 4 * 4], lowres[y * 28 + x]); // constant 4x4 blocks

        var uniform = TransferSet.Parse("uniform", 1, 28, norm, 1, Devices.Cpu, () => throw new InvalidOperationException()).Next(8).ToArray();
        Assert.InRange(uniform.Min(), norm.Apply(0, 0) - 1e-4f, norm.Apply(0, 0) + 0.05f);
        Assert.InRange(uniform.Max(), norm.Apply(255, 0) - 0.05f, norm.Apply(255, 0) + 1e-4f);

        Assert.Throws<ArgumentException>(() => TransferSet.Parse("gaussian-lowres:5", 1, 28, norm, 1, Devices.Cpu, () => null!));
        Assert.Throws<ArgumentException>(() => TransferSet.Parse("pink-noise", 1, 28, norm, 1, Devices.Cpu, () => null!));
    }

    [Fact]
    public void FileTransferIsUsedInOrderAndWraps()
    {
        using var dir = new TempDir();
        var data = Enumerable.Range(0, 3 * 4).Select(i => (float)i).ToArray(); // 3 samples of 1x2x2
        Safetensors.Write(dir.File("t.safetensors"), [new NamedArray("input", [3, 1, 2, 2], data)]);
        var transfer = TransferSet.Parse("file:" + dir.File("t.safetensors"), 1, 2, Normalization.Identity(1), 0, Devices.Cpu, () => null!);
        using var scope = new TensorScope();
        Assert.Equal(data[..8], transfer.Next(2).ToArray());
        Assert.Equal(data[8..].Concat(data[..4]), transfer.Next(2).ToArray());
        Assert.Throws<ArgumentException>(() => TransferSet.Parse("file:" + dir.File("t.safetensors"), 3, 2, Normalization.Identity(3), 0, Devices.Cpu, () => null!));
    }
}
