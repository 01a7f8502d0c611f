using NoiseKD.Distillation;
using NoiseKD.Distillation.PreDfkd;
using NoiseKD.Models;
using NoiseKD.Serialization;
using NoiseKD.Tensors;
using NoiseKD.Training;
using Xunit;

namespace NoiseKD.Tests.PreDfkd;

/// <summary>A few steps of each generative method on tiny models and a synthetic Fashion-MNIST-format dataset.</summary>
[Collection(SeededRunsCollection.Name)]
public class PreDfkdDistillerTests
{
    /// <summary>A LeNet-5 teacher trained for two epochs on the band task; shared by the tests of this class.</summary>
    sealed class TeacherFixture : IDisposable
    {
        public TempDir Dir { get; } = new();
        public string Teacher => Dir.File("teacher/model.safetensors");

        public TeacherFixture()
        {
            SyntheticFashionMnist.Write(Dir.Path, 512, 100);
            new Trainer(new TrainOptions(new ModelSpec("lenet5"), "fashion-mnist", Dir.File("teacher"), 2, 32,
                                         new OptimizerConfig("adam", 2e-3f, 0.9f, 0f, false, "none"), Seed: 3, DataRoot: Dir.Path)).Run();
        }

        public void Dispose() => Dir.Dispose();
    }

    static readonly Lazy<TeacherFixture> Shared = new(() => new TeacherFixture());

    const int LatentSize = 8;
    const float VaeWidth = 0.125f;

    static PreDfkdOptions Options(string outDir, string method, int epochs = 2, bool resume = false) =>
        new(Shared.Value.Teacher, "lenet5-half", outDir, ReplayMethod.Parse(method), Optimizer: new OptimizerConfig("sgd", 0.05f, 0.9f, 5e-4f, false, "cosine"),
            GeneratorLr: 1e-3f, NovelSamples: 16, ReplaySamples: 8, LatentSize: LatentSize, GeneratorWidth: 0.0625f, VaeWidth: VaeWidth,
            KdIterations: 2, Epochs: epochs, StepsPerEpoch: 3, EvalBatchSize: 100, DataRoot: Shared.Value.Dir.Path, Seed: 7, Resume: resume);

    /// <summary>
    /// The paper recipe at the test's sizes: 5 student updates per step, novel 32 so batch // 8 = 4 replayed (with 2, this
    /// test teacher's logits on the untrained decoder's samples span over 100, the batch-mean softmax underflows to 0 in a class,
    /// and the entropy term's 0 * log 0 is NaN, as in PyTorch).
    /// </summary>
    static PreDfkdOptions PaperOptions(string outDir, string method, int epochs = 2, bool resume = false) =>
        PreDfkdRecipe.Apply(PreDfkdRecipe.PaperName, Options(outDir, method, epochs, resume) with { NovelSamples = 32, ReplaySamples = null, KdIterations = 5 });

    static PreDfkdOptions Recipe(string recipe, string outDir, string method, int epochs = 2, bool resume = false) =>
        recipe == PreDfkdRecipe.PaperName ? PaperOptions(outDir, method, epochs, resume) : Options(outDir, method, epochs, resume);

    [Theory]
    [InlineData("pre-dfkd")]
    [InlineData("dfad")]
    [InlineData("replay-buffer:1")]
    public void EachMethodWritesMetricsWithTheReplayMemory(string method)
    {
        using var dir = new TempDir();
        var summary = new PreDfkdDistiller(Options(dir.Path, method)).Run();
        var rows = new MetricsLog(Path.Combine(dir.Path, "metrics.jsonl")).ReadAll();
        Assert.Equal(2, rows.Count);
        foreach (var key in new[] { "accuracy", "accuracy_mean", "accuracy_var", "accuracy_best", "student_loss", "generator_loss", "disagreement", "replay_bytes" })
            Assert.True(rows.All(r => r.ContainsKey(key)), key);
        Assert.Equal(method == "pre-dfkd", rows.All(r => r.ContainsKey("vae_loss")));
        var acc = rows.Select(r => r["accuracy"].GetDouble()).ToArray();
        Assert.Equal(acc.Average(), rows[1]["accuracy_mean"].GetDouble(), 9);
        Assert.Equal(acc.Sum(a => (a - acc.Average()) * (a - acc.Average())) / 2, rows[1]["accuracy_var"].GetDouble(), 9);
        Assert.Equal(0.0, rows[0]["accuracy_var"].GetDouble());

        long expectedBytes = method switch
        {
            // 4 bytes per VAE parameter, whatever it has seen; the buffer holds every sample it observed (2 epochs x 3 steps x 16) under its 1 MiB cap.
            "pre-dfkd" => 4 * new ConvVae(LatentSize, 1, 28, VaeWidth).ParameterCount(),
            "dfad" => 0,
            _ => 2 * 3 * 16 * 784 * 4,
        };
        Assert.Equal(expectedBytes, rows[1]["replay_bytes"].GetInt64());
        Assert.Equal(expectedBytes, Convert.ToInt64(summary["replay_bytes"]));
        Assert.True(File.Exists(Path.Combine(dir.Path, "student.safetensors")));
        var names = Safetensors.Read(Path.Combine(dir.Path, "checkpoint.safetensors")).Tensors.Select(t => t.Name).ToList();
        Assert.Contains(names, n => n.StartsWith("generator.model.conv_blocks1.0.weight_orig", StringComparison.Ordinal));
        Assert.Contains(names, n => n.StartsWith("generator.optim.exp_avg.", StringComparison.Ordinal));
        Assert.Equal(method == "pre-dfkd", names.Any(n => n.StartsWith("vae.model.fc_mu", StringComparison.Ordinal)));
        Assert.Equal(method == "pre-dfkd", names.Any(n => n.StartsWith("vae.optim.exp_avg.", StringComparison.Ordinal)));
        Assert.Equal(method.StartsWith("replay-buffer", StringComparison.Ordinal), names.Contains("replay_buffer"));
    }

    [Fact]
    public void BufferKeepsAUniformSampleUnderItsCap()
    {
        var buffer = new SampleBuffer(10 * 4 * 4, [1, 2, 2], new Generator(1));
        Assert.Equal(10, buffer.Capacity);
        using var scope = new TensorScope();
        for (int batch = 0; batch < 50; batch++)
            buffer.Observe(Tensor.FromArray(Enumerable.Range(0, 8).SelectMany(i => Enumerable.Repeat((float)(batch * 8 + i), 4)).ToArray(), [8, 1, 2, 2]));
        Assert.Equal(10, buffer.Count);
        Assert.Equal(10 * 16, buffer.Bytes);
        // Reservoir sampling keeps each of the 400 samples with probability 10/400: most kept ones come from later batches.
        var kept = buffer.Sample(200)!.ToArray().Where((_, i) => i % 4 == 0).Distinct().ToArray();
        Assert.True(kept.Count(v => v >= 80) >= 5, string.Join(",", kept));
        Assert.Throws<ArgumentException>(() => new SampleBuffer(8, [1, 2, 2], new Generator(1)));
    }

    [Fact]
    public void SmallBufferMethodHoldsOnlyWhatItsCapAllows()
    {
        using var dir = new TempDir();
        new PreDfkdDistiller(Options(dir.Path, "replay-buffer:0.01")).Run();   // 10,485 bytes: three 28x28 samples
        var rows = new MetricsLog(Path.Combine(dir.Path, "metrics.jsonl")).ReadAll();
        Assert.All(rows, r => Assert.Equal(3 * 784 * 4, r["replay_bytes"].GetInt64()));
    }

    [Theory]
    [InlineData("pre-dfkd", "engine")]
    [InlineData("replay-buffer:1", "engine")]
    [InlineData("pre-dfkd", "paper")]
    public void ResumeAfterACrashMatchesAnUninterruptedRun(string method, string recipe)
    {
        using var a = new TempDir();
        using var b = new TempDir();
        new PreDfkdDistiller(Recipe(recipe, a.Path, method, 3)).Run();
        Assert.Throws<OperationCanceledException>(() => new PreDfkdDistiller(Recipe(recipe, b.Path, method, 3), new CrashAfterEpoch(2)).Run());
        Assert.Throws<ArgumentException>(() => new PreDfkdDistiller(Recipe(recipe, b.Path, method, 3)).Run());   // no silent overwrite
        // The other recipe's options have another fingerprint: its run may not continue this checkpoint.
        Assert.ThrowsAny<Exception>(() => new PreDfkdDistiller(Recipe(recipe == "paper" ? "engine" : "paper", b.Path, method, 3, resume: true)).Run());
        new PreDfkdDistiller(Recipe(recipe, b.Path, method, 3, resume: true)).Run();
        ResumeChecks.AssertSameTensors(Path.Combine(a.Path, "student.safetensors"), Path.Combine(b.Path, "student.safetensors"));
        var ra = new MetricsLog(Path.Combine(a.Path, "metrics.jsonl")).ReadAll();
        var rb = new MetricsLog(Path.Combine(b.Path, "metrics.jsonl")).ReadAll();
        Assert.Equal(3, rb.Count);
        Assert.Equal(ra[2]["accuracy_mean"].GetDouble(), rb[2]["accuracy_mean"].GetDouble(), 6);
    }

    /// <summary>
    /// The paper scheme: the memory learns after the first 4 of the 5 student updates of every step (2 epochs x 3 steps x 4
    /// Adam steps; the engine's: one per step); the JS disagreement it reports stays within [0, 1].
    /// </summary>
    [Fact]
    public void PaperSchemeTrainsTheMemoryFourTimesPerStep()
    {
        using var paper = new TempDir();
        using var engine = new TempDir();
        var options = PaperOptions(paper.Path, "pre-dfkd");
        Assert.Equal(4, options.Replay);
        Assert.Equal(4, options.MemoryUpdatesPerStep);
        new PreDfkdDistiller(options).Run();
        new PreDfkdDistiller(Options(engine.Path, "pre-dfkd")).Run();
        Assert.Equal(2 * 3 * 4, VaeSteps(paper.Path));
        Assert.Equal(2 * 3, VaeSteps(engine.Path));
        var rows = new MetricsLog(Path.Combine(paper.Path, "metrics.jsonl")).ReadAll();
        Assert.All(rows, r => Assert.InRange(r["disagreement"].GetDouble(), 0, 1));
        Assert.All(rows, r => Assert.True(double.IsFinite(r["vae_loss"].GetDouble())));
    }

    static int VaeSteps(string runDir) =>
        (int)Safetensors.Read(Path.Combine(runDir, "checkpoint.safetensors")).Tensors.First(t => t.Name == "vae.optim.step.0").Data[0];

    [Fact]
    public void NonFiniteLossStopsAndKeepsTheLastGoodCheckpoint()
    {
        using var dir = new TempDir();
        var exploding = Options(dir.Path, "pre-dfkd", 3) with { Optimizer = new OptimizerConfig("sgd", 1e12f, 0.9f, 0f, false, "none") };
        var e = Assert.Throws<NonFiniteLossException>(() => new PreDfkdDistiller(exploding).Run());
        Assert.Contains("checkpoint", e.Message);
        Assert.False(File.Exists(Path.Combine(dir.Path, "student.safetensors")));
    }

    [Fact]
    public void StudyComparesTheThreeMethodsInAReport()
    {
        using var dir = new TempDir();
        var config = new NoiseKD.Studies.PreDfkdStudyConfig(dir.Path, TeacherPath: Shared.Value.Teacher, Seeds: 1, Epochs: 2, Steps: 1, BatchSize: 8,
                                                           GeneratorWidth: 0.0625f, VaeWidth: 0.125f, BufferMegabytes: 1, DataRoot: Shared.Value.Dir.Path);
        string report = new NoiseKD.Studies.PreDfkdStudy(config, SilentProgress.Instance, Devices.Default).Run();
        string text = File.ReadAllText(report);
        foreach (var method in new[] { "pre-dfkd", "dfad", "replay-buffer:1" }) Assert.Contains($"| {method} |", text);
        Assert.Contains("accuracy_over_epochs.svg", text);
        System.Xml.Linq.XDocument.Load(Path.Combine(dir.Path, "accuracy_over_epochs.svg"));
        foreach (var (method, epoch) in new[] { ("pre-dfkd", 1), ("pre-dfkd", 2), ("replay-buffer-1", 2), ("dfad", 1) })
        {
            Assert.Contains($"(runs/{method}-s0/samples-epoch00{epoch}.png)", text);
            Assert.True(File.Exists(Path.Combine(dir.Path, "runs", $"{method}-s0", $"samples-epoch00{epoch}.png")));
        }
        Assert.Contains(File.ReadAllLines(Path.Combine(dir.Path, "results.csv")), l => l.StartsWith("methods,pre-dfkd,replay_bytes,", StringComparison.Ordinal));
    }

    [Fact]
    public void MethodNamesParse()
    {
        Assert.Equal(new ReplayMethod("replay-buffer", 64), ReplayMethod.Parse("replay-buffer:64"));
        Assert.Equal(64L << 20, ReplayMethod.Parse("replay-buffer:64").BufferBytes);
        Assert.Equal("dfad", ReplayMethod.Parse("DFAD").Kind);
        foreach (var bad in new[] { "replay-buffer", "replay-buffer:0", "replay-buffer:x", "gan" })
            Assert.Throws<ArgumentException>(() => ReplayMethod.Parse(bad));
    }
}
