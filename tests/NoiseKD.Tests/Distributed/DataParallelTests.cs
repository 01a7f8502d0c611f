using NoiseKD.Data;
using NoiseKD.Functional;
using NoiseKD.Models;
using NoiseKD.Serialization;
using NoiseKD.Tensors;
using NoiseKD.Tests.Reliability;
using NoiseKD.Training;
using Xunit;

namespace NoiseKD.Tests.Distributed;

/// <summary>
/// `mpirun -np 2 noisekd train|distill` against one process: K steps on 2 ranks leave the parameters one
/// process leaves on the same global batch (with --sync-bn), or those of an independent per-half reference
/// (without it: each rank's BatchNorm on its own half, gradients averaged); a killed rank ends the job with
/// the launcher's error and a checkpoint that a single process resumes. On Open MPI and on MPICH.
/// </summary>
public class DataParallelTests
{
    const float Tolerance = 1e-5f;
    const int TrainImages = 128, GlobalBatch = 32; // 4 steps
    static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    static string[] TrainArgs(string dataRoot, string outDir, params string[] more) =>
        ["train", "--arch", "mlp", "--train-limit", TrainImages.ToString(), "--test-limit", "16", "--batch-size", GlobalBatch.ToString(), "--epochs", "1",
         "--augment", "none", "--threads", "1", "--data-root", dataRoot, "--out", outDir, .. more];

    static void Run(ChildProcess process)
    {
        using (process)
        {
            int code = process.WaitForExit(Limit);
            Assert.True(code == 0, $"exit {code}: {process.Output} {process.Error}");
        }
    }

    static Dictionary<string, float[]> Arrays(string path) => Safetensors.Read(path).Tensors.ToDictionary(t => t.Name, t => t.Data);

    /// <summary>Max |a - b| over the named arrays (every name must be in both).</summary>
    static float MaxDifference(IReadOnlyDictionary<string, float[]> expected, IReadOnlyDictionary<string, float[]> actual, IEnumerable<string> names)
    {
        float max = 0;
        int compared = 0;
        foreach (var name in names)
        {
            Assert.True(actual.ContainsKey(name), $"'{name}' missing");
            var (a, b) = (expected[name], actual[name]);
            Assert.Equal(a.Length, b.Length);
            for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
            compared++;
        }
        Assert.True(compared > 0);
        return max;
    }

    [MpiTheory]
    [InlineData(MpiLaunchers.OpenMpi)]
    [InlineData(MpiLaunchers.Mpich)]
    public void TrainingWithSyncBnOnTwoRanksEqualsOneProcessOnTheGlobalBatch(string mpi)
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, TrainImages, 16);
        Run(new ChildProcess(TrainArgs(dir.Path, dir.File("one"))));
        Run(MpiLaunchers.Start(mpi, 2, TrainArgs(dir.Path, dir.File("two"), "--sync-bn")));
        var one = Arrays(Path.Combine(dir.File("one"), "model.safetensors"));
        var two = Arrays(Path.Combine(dir.File("two"), "model.safetensors"));
        // Everything, running statistics included: synced, they are the global batch's on every rank.
        Assert.InRange(MaxDifference(one, two, one.Keys), 0f, Tolerance);
    }

    [MpiTheory]
    [InlineData(MpiLaunchers.OpenMpi)]
    [InlineData(MpiLaunchers.Mpich)]
    public void TrainingWithoutSyncBnOnTwoRanksEqualsThePerHalfReference(string mpi)
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, TrainImages, 16);
        Run(MpiLaunchers.Start(mpi, 2, TrainArgs(dir.Path, dir.File("two"))));
        var two = Arrays(Path.Combine(dir.File("two"), "model.safetensors"));
        var perHalf = DataParallelReference.Train(dir.Path, TrainImages, GlobalBatch, ranks: 2);
        var whole = DataParallelReference.Train(dir.Path, TrainImages, GlobalBatch, ranks: 1);
        // Parameters only: each rank's running statistics are its own half's (rank 0's are written).
        Assert.InRange(MaxDifference(perHalf, two, perHalf.Keys), 0f, Tolerance);
        Assert.True(MaxDifference(whole, two, whole.Keys) > 100 * Tolerance, "per-half BatchNorm should differ from the whole batch's");
    }

    [MpiTheory]
    [InlineData(MpiLaunchers.OpenMpi)]
    [InlineData(MpiLaunchers.Mpich)]
    public void NoiseDistillationWithASyncedCurrentStatisticsTeacherEqualsOneProcess(string mpi)
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, TrainImages, 16);
        Run(new ChildProcess(TrainArgs(dir.Path, dir.File("teacher"))));
        string[] Distill(string outDir, params string[] more) =>
            ["distill", "--teacher", Path.Combine(dir.File("teacher"), "model.safetensors"), "--student-arch", "mlp", "--student-width", "0.5",
             "--teacher-bn", "current", "--epochs", "1", "--steps", "3", "--batch-size", GlobalBatch.ToString(), "--adjust-samples", "0",
             "--test-limit", "16", "--threads", "1", "--data-root", dir.Path, "--out", outDir, .. more];
        Run(new ChildProcess(Distill(dir.File("one"))));
        Run(MpiLaunchers.Start(mpi, 2, Distill(dir.File("two"), "--sync-bn")));
        var one = Arrays(Path.Combine(dir.File("one"), "student.safetensors"));
        var two = Arrays(Path.Combine(dir.File("two"), "student.safetensors"));
        Assert.InRange(MaxDifference(one, two, one.Keys), 0f, Tolerance);
    }

    /// <summary>
    /// The ranks split the test batches (rank r evaluates batches r, r + 2, ...) and add their counts: the accuracies a
    /// 2-rank distillation reports are exactly those of its own student evaluated whole in one process, with current
    /// statistics at the evaluation batch (5 batches of 8, so each rank's batches are whole batches) and running ones.
    /// </summary>
    [MpiTheory]
    [InlineData(MpiLaunchers.OpenMpi)]
    [InlineData(MpiLaunchers.Mpich)]
    public void RanksShareTheEvaluationAndReportWhatOneProcessMeasures(string mpi)
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, TrainImages, 64);
        Run(new ChildProcess(TrainArgs(dir.Path, dir.File("teacher"))));
        Run(MpiLaunchers.Start(mpi, 2, ["distill", "--teacher", Path.Combine(dir.File("teacher"), "model.safetensors"), "--student-arch", "mlp",
             "--student-width", "0.5", "--teacher-bn", "current", "--epochs", "1", "--steps", "3", "--batch-size", GlobalBatch.ToString(),
             "--adjust-samples", "16", "--eval-batch-size", "8", "--test-limit", "40", "--threads", "1", "--data-root", dir.Path, "--out", dir.File("two")]));
        var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.File("two"), "summary.json"))).RootElement;
        var (student, file) = ModelFile.Load(Path.Combine(dir.File("two"), "student.safetensors"));
        var test = DatasetCatalog.Load("fashion-mnist", false, dir.Path).Take(40);
        var normalization = new Normalization(file.NormMean, file.NormStd);
        var current = Evaluator.Evaluate(student, test, normalization, 8, NoiseKD.Nn.BnStatistics.Current);
        Assert.Equal(current.Accuracy, summary.GetProperty("acc_cs").GetDouble());
        Assert.Equal(current.Loss, summary.GetProperty("test_loss_cs").GetDouble(), 12);
        Assert.Equal(Evaluator.Evaluate(student, test, normalization, 8, NoiseKD.Nn.BnStatistics.Running).Accuracy, summary.GetProperty("acc_rs").GetDouble());
        Assert.InRange(current.Accuracy * 40, 1, 39); // a count that could differ between a share and the whole
    }

    [MpiTheory]
    [InlineData(MpiLaunchers.OpenMpi)]
    [InlineData(MpiLaunchers.Mpich)]
    public void AKilledRankEndsTheJobWithAnErrorAndAResumableCheckpoint(string mpi)
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 256, 16);
        string outDir = dir.File("run");
        string[] Args(string epochs, params string[] more) =>
            ["train", "--arch", "mlp", "--train-limit", "256", "--test-limit", "16", "--batch-size", "32", "--epochs", epochs, "--augment", "none",
             "--schedule", "none", "--threads", "1", "--data-root", dir.Path, "--out", outDir, .. more];
        using (var job = MpiLaunchers.Start(mpi, 2, Args("500")))
        {
            string checkpoint = Path.Combine(outDir, "checkpoint.safetensors");
            Assert.True(job.WaitUntil(() => File.Exists(checkpoint), Limit), $"no checkpoint: {job.Output} {job.Error}");
            int rank1 = RankProcess(outDir, rank: 1);
            Assert.Equal(0, kill(rank1, 9));
            int code = job.WaitForExit(Limit);
            Assert.NotEqual(0, code);
            // The launcher's sentence says which rank died, and how. Which death it reports first is a race: the killed
            // rank (signal 9), or the survivor, whose transport can abort (signal 6: UCX's process_vm_readv on the dead
            // peer under MPICH) before the launcher has seen the first one go. Either way it names a signal.
            string said = job.Output + job.Error;
            Assert.True(System.Text.RegularExpressions.Regex.IsMatch(said, @"signal (9|6)\b"), said);
        }
        var (_, meta) = Safetensors.Read(Path.Combine(outDir, "checkpoint.safetensors"));
        int done = int.Parse(meta["epochs_done"]);
        // Any rank count resumes it: here one process, for one more epoch.
        Run(new ChildProcess(Args((done + 1).ToString(), "--resume")));
        Assert.True(File.Exists(Path.Combine(outDir, "model.safetensors")));
    }

    [MpiTheory]
    [InlineData(MpiLaunchers.OpenMpi)]
    [InlineData(MpiLaunchers.Mpich)]
    public void AHangingRankEndsTheJobAfterTheTimeoutWithOneSentence(string mpi)
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 256, 16);
        string outDir = dir.File("run");
        var environment = new Dictionary<string, string>(MpiLaunchers.LauncherEnvironment) { ["NOISEKD_MPI_TIMEOUT"] = "3" };
        using var job = new ChildProcess(MpiLaunchers.Command(mpi, 2), environment,
            ["train", "--arch", "mlp", "--train-limit", "256", "--test-limit", "16", "--batch-size", "32", "--epochs", "500", "--augment", "none",
             "--threads", "1", "--data-root", dir.Path, "--out", outDir]);
        Assert.True(job.WaitUntil(() => File.Exists(Path.Combine(outDir, "checkpoint.safetensors")), Limit), $"no checkpoint: {job.Output} {job.Error}");
        Assert.Equal(0, kill(RankProcess(outDir, rank: 1), 19)); // SIGSTOP: alive, never answering; MPI alone would wait forever
        Assert.NotEqual(0, job.WaitForExit(Limit));
        Assert.Contains("rank 0 waited 3 s for the other ranks", job.Error);
        Assert.Equal("noisekd-checkpoint", Safetensors.Read(Path.Combine(outDir, "checkpoint.safetensors")).Metadata["format"]);
    }

    [MpiTheory]
    [InlineData(MpiLaunchers.OpenMpi)]
    [InlineData(MpiLaunchers.Mpich)]
    public void RanksStartedWithDifferentOptionsEachEndWithOneSentence(string mpi)
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, TrainImages, 16);
        string dll = Path.Combine(AppContext.BaseDirectory, "noisekd.dll");
        // MPMD: rank 0 with one learning rate, rank 1 with another.
        string[] launcher = [.. MpiLaunchers.Command(mpi, 1), "dotnet", dll, .. TrainArgs(dir.Path, dir.File("run"), "--lr", "0.1"), ":", "-np", "1"];
        using var job = new ChildProcess(launcher, MpiLaunchers.LauncherEnvironment, TrainArgs(dir.Path, dir.File("run"), "--lr", "0.2"));
        Assert.Equal(2, job.WaitForExit(Limit));
        var sentences = job.Error.Split('\n').Where(l => l.StartsWith("noisekd: error:", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, sentences.Count);
        Assert.All(sentences, l => Assert.Contains("the ranks disagree on the options (rank 1 differs from rank 0)", l));
        Assert.False(File.Exists(Path.Combine(dir.File("run"), "checkpoint.safetensors")));
    }

    [MpiTheory]
    [InlineData(MpiLaunchers.OpenMpi)]
    [InlineData(MpiLaunchers.Mpich)]
    public void ANonFiniteLossEndsEveryRankWithOneSentence(string mpi)
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, TrainImages, 16);
        using var job = MpiLaunchers.Start(mpi, 2, TrainArgs(dir.Path, dir.File("run"), "--lr", "1e30"));
        Assert.Equal(2, job.WaitForExit(Limit));
        var sentences = job.Error.Split('\n').Where(l => l.StartsWith("noisekd: error:", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, sentences.Count);
        Assert.All(sentences, l => Assert.Contains("(on at least one rank); the last good checkpoint is kept", l));
    }

    /// <summary>The pid of rank <paramref name="rank"/> of the job writing <paramref name="outDir"/> (its launcher sets OMPI_COMM_WORLD_RANK or PMI_RANK).</summary>
    static int RankProcess(string outDir, int rank)
    {
        foreach (var proc in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out int pid)) continue;
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(proc, "cmdline")).Split('\0');
                if (!cmdline.Contains(outDir) || !cmdline.Any(a => a.EndsWith("noisekd.dll", StringComparison.Ordinal))) continue;
                var environ = File.ReadAllText(Path.Combine(proc, "environ")).Split('\0');
                if (environ.Contains($"OMPI_COMM_WORLD_RANK={rank}") || environ.Contains($"PMI_RANK={rank}")) return pid;
            }
            catch (IOException) { } // the process ended while we looked
            catch (UnauthorizedAccessException) { }
        }
        throw new InvalidOperationException($"no rank {rank} process for '{outDir}'");
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    static extern int kill(int pid, int signal);
}

/// <summary>
/// What N data-parallel ranks compute, without MPI: the same model, data order and optimizer as `train`,
/// but each global batch split into N shares, each forwarded on its own (BatchNorm on that share's
/// statistics, DDP's default), the shares' gradients averaged, one step.
/// </summary>
public static class DataParallelReference
{
    public static Dictionary<string, float[]> Train(string dataRoot, int trainLimit, int batch, int ranks)
    {
        var train = DatasetCatalog.Load("fashion-mnist", train: true, dataRoot).Take(trainLimit);
        var spec = new ModelSpec("mlp", 1f) with { InChannels = train.Channels, Classes = train.Classes, ImageSize = train.Height };
        Generator.ManualSeed(0);
        var model = spec.Create();
        var config = new OptimizerConfig("sgd", 0.1f, 0.9f, 5e-4f, false, "cosine");
        var optimizer = config.Create(model.Parameters());
        var loader = new DataLoader(train, batch, DatasetCatalog.NormalizationOf("fashion-mnist"), shuffle: true, 0, Augmentation.None, dropLast: true);
        var schedule = config.CreateSchedule(optimizer, 1, loader.BatchesPerEpoch);
        var parameters = model.Parameters().ToArray();
        model.Train();
        foreach (var b in loader.Epoch(1))
        {
            using var scope = new TensorScope();
            var sums = parameters.Select(p => new double[p.Numel]).ToArray();
            int share = b.Count / ranks, row = b.ImageData.Length / b.Count;
            for (int r = 0; r < ranks; r++)
            {
                optimizer.ZeroGrad();
                var shape = (int[])b.Shape.Clone();
                shape[0] = share;
                var x = Tensor.FromArray(b.ImageData.Slice(r * share * row, share * row), shape);
                F.CrossEntropy(model.Forward(x), b.LabelData.Slice(r * share, share), 0f).Backward();
                for (int i = 0; i < parameters.Length; i++)
                {
                    var g = parameters[i].Grad!.ToArray();
                    for (int j = 0; j < g.Length; j++) sums[i][j] += g[j];
                }
            }
            for (int i = 0; i < parameters.Length; i++) parameters[i].Grad!.CopyFrom(sums[i].Select(s => (float)(s / ranks)).ToArray());
            optimizer.Step();
            schedule?.Step();
        }
        return model.NamedParameters().ToDictionary(p => p.Name, p => p.Value.ToArray());
    }
}
