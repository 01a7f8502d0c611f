using NoiseKD.Data;
using NoiseKD.Models;
using NoiseKD.Serialization;
using NoiseKD.Training;
using Xunit;

namespace NoiseKD.Tests.Training;

/// <summary>End to end on a tiny synthetic Fashion-MNIST-format dataset written by the test.</summary>
[Collection(SeededRunsCollection.Name)]
public class TrainerTests
{
    static TrainOptions Options(TempDir dir, int epochs, bool resume = false) =>
        new(new ModelSpec("lenet5-half"), "fashion-mnist", dir.File("run"), epochs, 32,
            new OptimizerConfig("sgd", 0.05f, 0.9f, 5e-4f, false, "cosine"), Seed: 7, Resume: resume, DataRoot: dir.Path);

    [Fact]
    public void TrainsCheckpointsAndWritesASelfDescribingModel()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 512, 128);
        var result = new Trainer(Options(dir, 3)).Run();
        Assert.True(result.Accuracy > 0.9, $"accuracy {result.Accuracy}");
        var (model, file) = ModelFile.Load(dir.File("run/model.safetensors"));
        Assert.Equal("lenet5-half", file.Spec.Arch);
        Assert.Equal(28, file.Spec.ImageSize);
        Assert.Equal(10, file.Spec.Classes); // the IDX loader's class count
        Assert.Equal(Normalization.FashionMnist.Mean, file.NormMean);
        var again = Evaluator.Evaluate(model, DatasetCatalog.Load("fashion-mnist", false, dir.Path), Normalization.FashionMnist, 50);
        Assert.Equal(result.Accuracy, again.Accuracy, 6);
        Assert.Equal(3, new MetricsLog(dir.File("run/metrics.jsonl")).ReadAll().Count);
    }

    [Fact]
    public void ResumeAfterACrashMatchesAnUninterruptedRun()
    {
        using var a = new TempDir();
        using var b = new TempDir();
        SyntheticFashionMnist.Write(a.Path, 128, 64);
        SyntheticFashionMnist.Write(b.Path, 128, 64);
        new Trainer(Options(a, 3)).Run();
        Assert.Throws<OperationCanceledException>(() => new Trainer(Options(b, 3), new CrashAfterEpoch(1)).Run());
        Assert.Single(new MetricsLog(b.File("run/metrics.jsonl")).ReadAll());
        new Trainer(Options(b, 3, resume: true)).Run();

        var straight = Safetensors.Read(a.File("run/model.safetensors")).Tensors;
        var resumed = Safetensors.Read(b.File("run/model.safetensors")).Tensors;
        Assert.Equal(straight.Select(t => t.Name), resumed.Select(t => t.Name));
        for (int i = 0; i < straight.Count; i++)
            for (int j = 0; j < straight[i].Data.Length; j++)
                Assert.True(Math.Abs(straight[i].Data[j] - resumed[i].Data[j]) <= 1e-5f * (1 + Math.Abs(straight[i].Data[j])),
                            $"{straight[i].Name}[{j}]: {straight[i].Data[j]} vs {resumed[i].Data[j]}");
        Assert.Equal(3, new MetricsLog(b.File("run/metrics.jsonl")).ReadAll().Count);
    }

    [Fact]
    public void RefusesToOverwriteARunWithoutResume()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 64, 32);
        new Trainer(Options(dir, 1)).Run();
        var e = Assert.Throws<ArgumentException>(() => new Trainer(Options(dir, 1)).Run());
        Assert.Contains("--resume", e.Message);
    }

    [Fact]
    public void CheckpointFromAnotherArchitectureIsRejected()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 64, 32);
        new Trainer(Options(dir, 1)).Run();
        var other = Options(dir, 2, resume: true) with { Spec = new ModelSpec("lenet5") };
        // config.json names the differences (--epochs among them: the cosine schedule depends on the length).
        var e = Assert.Throws<ArgumentException>(() => new Trainer(other).Run());
        Assert.Contains("--arch: lenet5-half in the folder, lenet5 asked; --epochs: 1 in the folder, 2 asked", e.Message);
        // Without it (a folder from an older build) the checkpoint's fingerprint still refuses, with the same diff.
        File.Delete(dir.File("run/config.json"));
        var f = Assert.Throws<SafetensorsException>(() => new Trainer(other).Run());
        Assert.Contains("other settings (--arch: lenet5-half in the folder, lenet5 asked; --epochs: 1 in the folder, 2 asked)", f.Message);
    }

    [Fact]
    public void ARunWithAConstantRateMayBeExtendedOnResume()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 64, 32);
        var constant = Options(dir, 1) with { Optimizer = new OptimizerConfig("sgd", 0.05f, 0.9f, 5e-4f, false, "none") };
        new Trainer(constant).Run();
        new Trainer(constant with { Epochs = 2, Resume = true }).Run();
        Assert.Equal(2, new MetricsLog(dir.File("run/metrics.jsonl")).ReadAll().Count);
        using var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.File("run/config.json")));
        Assert.Equal("2", config.RootElement.GetProperty("options").GetProperty("--epochs").GetString()); // the length now in force
        Assert.NotNull(config.RootElement.GetProperty("resumed").GetString());
        // Cut shorter than the checkpoint: one sentence, nothing trained.
        var e = Assert.Throws<ArgumentException>(() => new Trainer(constant with { Epochs = 1, Resume = true }).Run());
        Assert.Contains("has 2 epochs done, more than --epochs 1", e.Message);
        // The checkpoint holds every setting, --epochs included (the same rule as distill's); another setting still refuses.
        var meta = Safetensors.Read(dir.File("run/checkpoint.safetensors")).Metadata;
        Assert.Contains("\"--epochs\":\"2\"", meta["fingerprint"]);
        File.Delete(dir.File("run/config.json"));
        var f = Assert.Throws<SafetensorsException>(() => new Trainer(constant with { Epochs = 3, Resume = true, Seed = 8 }).Run());
        Assert.Contains("--seed: 7 in the folder, 8 asked", f.Message);
    }

    /// <summary>
    /// A checkpoint from an earlier build, whose fingerprint left --epochs out for a constant-rate run, still resumes
    /// with more epochs, and equals the run trained that long at once.
    /// </summary>
    [Fact]
    public void ACheckpointWhoseFingerprintLacksEpochsStillResumes()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 64, 32);
        var constant = Options(dir, 1) with { Optimizer = new OptimizerConfig("sgd", 0.05f, 0.9f, 5e-4f, false, "none") };
        new Trainer(constant).Run();
        string path = dir.File("run/checkpoint.safetensors");
        var (arrays, meta) = Safetensors.Read(path);
        var older = new Dictionary<string, string>(meta)
        {
            ["fingerprint"] = RunConfig.Fingerprint(constant.Settings().Where(s => s.Option != "--epochs")),
        };
        Assert.DoesNotContain("--epochs", older["fingerprint"]);
        Safetensors.Write(path, arrays, older);
        File.Delete(dir.File("run/config.json"));
        File.Delete(dir.File("run/summary.json"));
        new Trainer(constant with { Epochs = 2, Resume = true }).Run();

        var whole = constant with { Epochs = 2, OutDir = dir.File("whole") };
        new Trainer(whole).Run();
        Assert.Equal(File.ReadAllBytes(dir.File("whole/model.safetensors")), File.ReadAllBytes(dir.File("run/model.safetensors")));
    }
}
