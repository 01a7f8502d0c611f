using NoiseKD.Tests.Distributed;
using Xunit;

namespace NoiseKD.Tests.Studies;

/// <summary>
/// A data-parallel train started by Slurm itself (`srun -n 2 --mpi=pmi2`, MPICH through Slurm's PMI, no mpiexec):
/// the ranks join one job (an odd global batch is refused for 2 ranks) and the model is bit for bit the one
/// `mpiexec.mpich -n 2` makes. Needs the one-node cluster of <see cref="LocalSlurm"/> and MPICH.
/// </summary>
[Collection(SeededRunsCollection.Name)]
public class SrunTests
{
    /// <summary>Skipped, with the reason, where no local cluster starts or MPI is missing.</summary>
    public sealed class SrunFactAttribute : FactAttribute
    {
        public SrunFactAttribute()
        {
            if (LocalSlurm.Unavailable is { } slurm) Skip = $"no Slurm cluster: {slurm}";
            else if (MpiLaunchers.Unavailable is { } mpi) Skip = mpi;
        }
    }

    [SrunFact]
    public void SrunStartsTheRanksOfOneDataParallelJob()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 256, 16);
        string program = Path.Combine(AppContext.BaseDirectory, "noisekd.dll");
        string[] Train(string outDir, string batch) =>
            ["train", "--arch", "resnet18", "--width", "0.0625", "--train-limit", "128", "--test-limit", "16", "--batch-size", batch, "--epochs", "1",
             "--augment", "none", "--sync-bn", "--threads", "1", "--data-root", dir.Path, "--out", outDir];
        (int Code, string Output) Srun(params string[] args) =>
            LocalSlurm.Run("srun", ["-n", "2", "--mpi=pmi2", "--chdir", dir.Path, "env", "NOISEKD_MPI=mpich", "dotnet", program, .. args]);

        var odd = Srun(Train(dir.File("odd"), "31"));
        Assert.NotEqual(0, odd.Code);
        Assert.Contains("must be divisible by the 2 ranks", odd.Output);

        var srun = Srun(Train(dir.File("srun"), "32"));
        Assert.True(srun.Code == 0, srun.Output);
        using (var mpiexec = MpiLaunchers.Start("mpich", 2, Train(dir.File("mpiexec"), "32")))
            Assert.True(mpiexec.WaitForExit(TimeSpan.FromMinutes(2)) == 0, mpiexec.Error);
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir.File("mpiexec"), "model.safetensors")),
                     File.ReadAllBytes(Path.Combine(dir.File("srun"), "model.safetensors")));
    }
}
