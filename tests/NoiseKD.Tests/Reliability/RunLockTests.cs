using System.Text.Json;
using NoiseKD.IO;
using Xunit;

namespace NoiseKD.Tests.Reliability;

/// <summary>One run per folder: a second process is refused with the holder's pid, and kill -9 leaves no stale lock.</summary>
public class RunLockTests
{
    static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    static string[] Train(string dataRoot, string outDir, int epochs, bool resume = false) =>
        TrainArgs.For(dataRoot, outDir, epochs, resume, model: "mlp", width: "0.25");

    [Fact]
    public void ASecondProcessIsRefusedWithTheHoldersPidAndKill9LeavesNoStaleLock()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 2048, 50);
        string run = dir.File("run");
        using (var first = new ChildProcess(Train(dir.Path, run, 10_000)))
        {
            // The first process holds the lock once its pid is in the file and it has checkpointed an epoch.
            Assert.True(first.WaitUntil(() => File.Exists(Path.Combine(run, "checkpoint.safetensors")), Minute), first.Error);
            Assert.Equal(first.Id, RunLock.HolderOf(run));

            using var second = new ChildProcess(Train(dir.Path, run, 10_000, resume: true));
            int code = second.WaitForExit(Minute);
            Assert.True(code == 4, $"exit {code}: {second.Error}");
            Assert.Contains($"is in use by another noisekd process (pid {first.Id})", second.Error);
            Assert.Single(second.Error.Trim().Split('\n'));
            Assert.False(first.HasExited);

            first.Signal(9);
            first.WaitForExit(Minute);
        }
        // The OS released the dead holder's lock: a resume starts at once, and every epoch is logged once.
        int done = CheckpointEpochs(Path.Combine(run, "checkpoint.safetensors"));
        using var resumed = new ChildProcess(Train(dir.Path, run, done + 1, resume: true));
        int resumedCode = resumed.WaitForExit(Minute);
        Assert.True(resumedCode == 0, resumed.Error);
        var epochs = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"))
                         .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("epoch").GetInt32()).ToList();
        Assert.Equal(Enumerable.Range(1, done + 1), epochs);
    }

    [Fact]
    public void TheStudyCacheWillNotTouchARunAnotherProcessHolds()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 2048, 50);
        string study = dir.File("study"), run = Path.Combine(study, "runs", "noise-cs");
        using var other = new ChildProcess(Train(dir.Path, run, 10_000));
        Assert.True(other.WaitUntil(() => RunLock.HolderOf(run) == other.Id, Minute), other.Error);
        var runs = new NoiseKD.Studies.StudyRuns(study, "fashion-mnist", dir.Path, NoiseKD.Training.SilentProgress.Instance, NoiseKD.Backends.Cpu.CpuBackend.Instance);
        var e = Assert.Throws<RunLockedException>(() => runs.Execute(new NoiseKD.Studies.DistillRun("noise-cs", "a cell", new NoiseKD.Distillation.DistillOptions("teacher.safetensors", "lenet5", ""))));
        Assert.Equal(other.Id, e.HolderPid);
    }

    [Fact]
    public void TheLockIsReentrantWithinAProcessAndExclusiveAcrossOpenings()
    {
        using var dir = new TempDir();
        using (var outer = RunLock.Acquire(dir.Path))
        {
            using (RunLock.Acquire(dir.Path)) { } // the study holds a run's folder while its distiller takes it again
            // Still held after the inner hold ended: another opening of the lock file is refused by the OS.
            Assert.Throws<IOException>(() => new FileStream(Path.Combine(dir.Path, RunLock.FileName), FileMode.Open, FileAccess.ReadWrite, FileShare.None).Dispose());
        }
        new FileStream(Path.Combine(dir.Path, RunLock.FileName), FileMode.Open, FileAccess.ReadWrite, FileShare.None).Dispose();
    }

    /// <summary>A kill -9 in the middle of an atomic write leaves .NAME.PID.tmp; whoever takes the folder next sweeps it.</summary>
    [Fact]
    public void TakingTheLockSweepsTemporaryFilesOfDeadWritersOnly()
    {
        using var dir = new TempDir();
        using var dead = System.Diagnostics.Process.Start("true")!;
        dead.WaitForExit();
        using var alive = System.Diagnostics.Process.Start("sleep", "60")!;
        try
        {
            string Temp(string name, int pid) => Path.Combine(dir.Path, $".{name}.{pid}.tmp");
            File.WriteAllText(Temp("checkpoint.safetensors", dead.Id), "half a checkpoint");
            File.WriteAllText(Temp("metrics.jsonl", alive.Id), "being written by a live process");
            File.WriteAllText(Temp("summary.json", Environment.ProcessId), "ours");
            File.WriteAllText(Path.Combine(dir.Path, "notes.tmp"), "the user's");
            File.WriteAllText(Path.Combine(dir.Path, ".cache.tmp"), "no pid: not ours");
            using (RunLock.Acquire(dir.Path)) { }
            Assert.False(File.Exists(Temp("checkpoint.safetensors", dead.Id)));
            Assert.True(File.Exists(Temp("metrics.jsonl", alive.Id)));
            Assert.True(File.Exists(Temp("summary.json", Environment.ProcessId)));
            Assert.True(File.Exists(Path.Combine(dir.Path, "notes.tmp")));
            Assert.True(File.Exists(Path.Combine(dir.Path, ".cache.tmp")));
        }
        finally { alive.Kill(); }
    }

    static int CheckpointEpochs(string path) =>
        int.Parse(NoiseKD.Serialization.Safetensors.Read(path).Metadata["epochs_done"]);
}
