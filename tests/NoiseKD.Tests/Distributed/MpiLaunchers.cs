using System.Runtime.InteropServices;
using NoiseKD.Tests.Reliability;
using Xunit;

namespace NoiseKD.Tests.Distributed;

/// <summary>The two MPIs of Debian 12, started by name (both may be installed side by side), 2 ranks on any core count.</summary>
public static class MpiLaunchers
{
    public const string OpenMpi = "openmpi", Mpich = "mpich";

    /// <summary>Why the MPI tests cannot run here (a launcher or library missing: .ci/run installs them), or null.</summary>
    public static readonly string? Unavailable = Probe();

    static string? Probe()
    {
        foreach (var (program, library, package) in new[] { ("mpirun.openmpi", "libmpi.so.40", "openmpi-bin libopenmpi3"), ("mpiexec.mpich", "libmpich.so.12", "mpich libmpich12") })
        {
            bool onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => d.Length > 0 && File.Exists(Path.Combine(d, program)));
            if (!onPath) return $"MPI tests skipped: no {program} on PATH (apt-get install {package}; .ci/run does)";
            if (!NativeLibrary.TryLoad(library, out var handle)) return $"MPI tests skipped: {library} does not load (apt-get install {package})";
            NativeLibrary.Free(handle);
        }
        return null;
    }

    /// <summary>The launcher command line for <paramref name="ranks"/> ranks.</summary>
    public static string[] Command(string mpi, int ranks) => mpi switch
    {
        OpenMpi => ["mpirun.openmpi", "--oversubscribe", "--mca", "pml", "ob1", "--mca", "btl", "self,vader", "-np", ranks.ToString()],
        Mpich => ["mpiexec.mpich", "-np", ranks.ToString()],
        _ => throw new ArgumentException(mpi),
    };

    /// <summary>Open MPI refuses root without these (CI runs as root).</summary>
    public static readonly IReadOnlyDictionary<string, string> LauncherEnvironment = new Dictionary<string, string>
    {
        ["OMPI_ALLOW_RUN_AS_ROOT"] = "1", ["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1",
    };

    /// <summary>`noisekd ARGS` on <paramref name="ranks"/> ranks under <paramref name="mpi"/>.</summary>
    public static ChildProcess Start(string mpi, int ranks, params string[] args) => new(Command(mpi, ranks), LauncherEnvironment, args);
}

/// <summary>A theory skipped, with the reason, where either MPI is not installed (decided at discovery).</summary>
public sealed class MpiTheoryAttribute : TheoryAttribute
{
    public MpiTheoryAttribute()
    {
        if (MpiLaunchers.Unavailable is { } reason) Skip = reason;
    }
}
