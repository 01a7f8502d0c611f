using NoiseKD.Data;
using NoiseKD.Distillation;
using NoiseKD.Models;
using NoiseKD.Serialization;
using NoiseKD.Tests.Cli;
using NoiseKD.Training;
using Xunit;

namespace NoiseKD.Tests.Reliability;

/// <summary>
/// SIGINT/SIGTERM: the run finishes its step, writes a checkpoint with its place inside the epoch, exits
/// 130/143, and a resumed run ends exactly where an uninterrupted one does; a second signal stops at once.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class SignalTests
{
    static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    /// <summary>Asks for a stop (as a signal would) when a given step of a given epoch has run.</summary>
    sealed class StopAt(int epoch, int step, int signal) : IProgress
    {
        int _epoch;
        public void EpochStarted(int e, int epochs, int batches) => _epoch = e;
        public void BatchDone(int batch, double loss, double accuracy, double imagesPerSecond)
        {
            if (_epoch == epoch && batch == step) StopSignal.Request(signal);
        }
        public void EpochDone(IReadOnlyDictionary<string, object> metrics) { }
        public void Message(string text) { }
    }

    static Dictionary<string, object> WithoutTimes(Dictionary<string, System.Text.Json.JsonElement> row) =>
        row.Where(kv => kv.Key is not ("seconds" or "images_per_s")).ToDictionary(kv => kv.Key, kv => (object)kv.Value.ToString());

    static void AssertSameMetrics(string expected, string actual)
    {
        var a = new MetricsLog(expected).ReadAll().Select(WithoutTimes).ToList();
        var b = new MetricsLog(actual).ReadAll().Select(WithoutTimes).ToList();
        Assert.Equal(a.Count, b.Count);
        for (int i = 0; i < a.Count; i++) Assert.Equal(a[i], b[i]);
    }

    [Fact]
    public void TrainingStoppedMidEpochAndResumedEqualsAnUninterruptedRun()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 320, 50);
        TrainOptions Options(string outDir, bool resume) => new(new ModelSpec("lenet5", 0.5f), "fashion-mnist", outDir, Epochs: 3, BatchSize: 32,
            Optimizer: new OptimizerConfig("sgd", 0.05f, 0.9f, 5e-4f, false, "cosine"), Augment: new Augmentation(2, true), Resume: resume, DataRoot: dir.Path);
        new Trainer(Options(dir.File("whole"), false)).Run();

        using (StopSignal.Install())
        {
            var e = Assert.Throws<RunStoppedException>(() => new Trainer(Options(dir.File("stopped"), false), new StopAt(2, 4, 15)).Run());
            Assert.Equal(143, e.ExitCode);
            Assert.Contains("epoch 2, step 4", e.Message);
        }
        var meta = Safetensors.Read(dir.File("stopped/checkpoint.safetensors")).Metadata;
        Assert.Equal("1", meta["epochs_done"]);
        Assert.Equal("4", meta["partial_epoch_steps"]);
        new Trainer(Options(dir.File("stopped"), true)).Run();

        Assert.Equal(File.ReadAllBytes(dir.File("whole/model.safetensors")), File.ReadAllBytes(dir.File("stopped/model.safetensors")));
        AssertSameMetrics(dir.File("whole/metrics.jsonl"), dir.File("stopped/metrics.jsonl"));
    }

    [Fact]
    public void DistillationStoppedMidEpochAndResumedEqualsAnUninterruptedRun()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 128, 50);
        var (code, _, error) = CliRunner.Run("train", "--arch", "lenet5", "--width", "0.5", "--epochs", "1", "--batch-size", "32",
                                             "--data-root", dir.Path, "--out", dir.File("teacher"));
        Assert.True(code == 0, error);
        DistillOptions Options(string outDir, bool resume) => new(dir.File("teacher/model.safetensors"), "lenet5-half", outDir, Epochs: 2,
            StepsPerEpoch: 6, BatchSize: 16, EvalBatchSize: 50, AdjustSamples: 32, DataRoot: dir.Path, Resume: resume);
        new Distiller(Options(dir.File("whole"), false)).Run();

        using (StopSignal.Install())
            Assert.Throws<RunStoppedException>(() => new Distiller(Options(dir.File("stopped"), false), new StopAt(1, 3, 2)).Run());
        Assert.Equal("3", Safetensors.Read(dir.File("stopped/checkpoint.safetensors")).Metadata["partial_epoch_steps"]);
        new Distiller(Options(dir.File("stopped"), true)).Run();

        Assert.Equal(File.ReadAllBytes(dir.File("whole/student.safetensors")), File.ReadAllBytes(dir.File("stopped/student.safetensors")));
        AssertSameMetrics(dir.File("whole/metrics.jsonl"), dir.File("stopped/metrics.jsonl"));
    }

    static string[] Train(string dataRoot, string outDir, int epochs, bool resume = false, string width = "0.0625", string batch = "32") =>
        TrainArgs.For(dataRoot, outDir, epochs, resume, width: width, batch: batch);

    /// <summary>
    /// The SIGINT disposition a child starts with is its parent's when that is "ignore": a shell starting a command
    /// in the background (`cmd &amp;` in a script, `nohup`) ignores SIGINT for it, .NET keeps an inherited ignore (as
    /// Python and the shells do), and so does <see cref="System.Diagnostics.Process.Start"/>. A test host started
    /// that way passed the ignore on to its children, and this test's SIGINT was then ignored (CI launched from a
    /// background shell, 2026-12-02). `env --default-signal=INT` gives the child the default a terminal gives it.
    /// </summary>
    static readonly string[] WithSigintAtDefault = ["env", "--default-signal=INT"];

    /// <summary>Whether <paramref name="pid"/> ignores SIGINT (bit 1 of SigIgn in /proc/PID/status).</summary>
    static bool IgnoresSigint(int pid)
    {
        string line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("SigIgn:"));
        return (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & 0x2) != 0;
    }

    [Fact]
    public void SigintWritesACheckpointSaysHowToResumeAndExits130()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 1024, 50);
        string run = dir.File("run");
        using (var child = new ChildProcess(WithSigintAtDefault, new Dictionary<string, string>(), Train(dir.Path, run, 1000)))
        {
            Assert.True(child.WaitUntil(() => File.Exists(Path.Combine(run, "checkpoint.safetensors")), Minute), child.Error);
            Assert.False(IgnoresSigint(child.Id), "the child started with SIGINT ignored");
            child.Signal(2);
            int code = child.WaitForExit(Minute);
            Assert.True(code == 130, $"exit {code}: {child.Error}");
            Assert.Contains("stopped by SIGINT", child.Error);
            Assert.Contains("--resume", child.Error);
        }
        // The stop's checkpoint continues: one more epoch (or the rest of the interrupted one) from there.
        var meta = Safetensors.Read(Path.Combine(run, "checkpoint.safetensors")).Metadata;
        int done = int.Parse(meta["epochs_done"]);
        var (code2, _, error) = CliRunner.Run(Train(dir.Path, run, done + 1, resume: true));
        Assert.True(code2 == 0, error);
        Assert.Equal(done + 1, File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Length);
    }

    /// <summary>
    /// A run started with SIGINT ignored (a background job of a script, nohup) keeps ignoring it, as the README
    /// says, and SIGTERM still stops it cleanly: the way to stop such a run is `kill` (SIGTERM), not `kill -INT`.
    /// </summary>
    [Fact]
    public void ARunStartedWithSigintIgnoredKeepsItAndStopsOnSigterm()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 1024, 50);
        string run = dir.File("run"), checkpoint = Path.Combine(run, "checkpoint.safetensors");
        string[] ignoringSigint = ["bash", "-c", "trap '' INT; exec \"$@\"", "ignore-sigint"];
        using var child = new ChildProcess(ignoringSigint, new Dictionary<string, string>(), Train(dir.Path, run, 1000));
        Assert.True(child.WaitUntil(() => File.Exists(checkpoint), Minute), child.Error);
        Assert.True(IgnoresSigint(child.Id), "the launcher did not leave SIGINT ignored in the child");
        child.Signal(2);
        int epochs = File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Length;
        // Ignored: the run goes on through another epoch with no stop message (it would exit 130 within a step).
        Assert.True(child.WaitUntil(() => File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Length > epochs + 1, Minute), child.Error);
        Assert.False(child.HasExited, child.Error);
        Assert.DoesNotContain("SIGINT", child.Error);
        child.Signal(15);
        int code = child.WaitForExit(Minute);
        Assert.True(code == 143, $"exit {code}: {child.Error}");
        Assert.Contains("stopped by SIGTERM", child.Error);
    }

    /// <summary>
    /// The second signal must land while the first stop is still in progress, whatever the machine's load: the
    /// child stands for a slow stop (NOISEKD_TEST_STOP_DELAY_SECONDS=30: the stop waits that long before its
    /// checkpoint), so the second SIGTERM, sent once the first one's message is seen, always lands inside it.
    /// (Racing a real step lost now and then on a busy machine.)
    /// </summary>
    [Fact]
    public void ASecondSigtermStopsAtOnceAndKeepsTheLastCheckpoint()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 1024, 50);
        string run = dir.File("run"), checkpoint = Path.Combine(run, "checkpoint.safetensors");
        var slowStop = new Dictionary<string, string> { ["NOISEKD_TEST_STOP_DELAY_SECONDS"] = "30" };
        using var child = new ChildProcess([], slowStop, [.. Train(dir.Path, run, 1000), "--train-limit", "256"]);
        Assert.True(child.WaitUntil(() => File.Exists(checkpoint), Minute), child.Error);
        byte[] before = File.ReadAllBytes(checkpoint);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        child.Signal(15);
        // Two signals sent back to back would merge into one pending signal: the second goes once the first was seen.
        Assert.True(child.WaitUntil(() => child.Error.Contains("SIGTERM received"), Minute), child.Error);
        child.Signal(15);
        int code = child.WaitForExit(Minute);
        Assert.True(code == 143, $"exit {code}: {child.Error}");
        Assert.Contains("second SIGTERM", child.Error);
        Assert.DoesNotContain("--resume to continue", child.Error); // stopped at once, not after the stop's checkpoint
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}: the second signal waited for the first stop");
        // Nothing was written during the interrupted stop: the checkpoint on disk is the one before it, whole
        // (unless an epoch ended between reading it and the first signal, which the next lines allow).
        var after = File.ReadAllBytes(checkpoint);
        Assert.True(after.SequenceEqual(before) || int.Parse(Safetensors.Read(checkpoint).Metadata["epochs_done"]) >= 2);
        // The checkpoint on disk is the last whole one.
        Assert.True(int.Parse(Safetensors.Read(checkpoint).Metadata["epochs_done"]) >= 1);
    }
}
