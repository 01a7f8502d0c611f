using NoiseKD.Distributed.Mpi;

namespace NoiseKD.Distributed;

/// <summary>
/// Which MPI started this process, read from the environment its launcher sets: Open MPI's mpirun sets
/// OMPI_COMM_WORLD_SIZE; MPICH's Hydra (mpiexec.mpich) sets PMI_RANK and PMI_SIZE. NOISEKD_MPI=openmpi|mpich
/// overrides the choice (for srun, or an MPICH-ABI library elsewhere). A process with none of these runs
/// alone, without loading MPI.
/// </summary>
public static class Launcher
{
    public static MpiAbi? Detect()
    {
        var forced = Environment.GetEnvironmentVariable("NOISEKD_MPI");
        if (!string.IsNullOrEmpty(forced))
            return forced.ToLowerInvariant() switch
            {
                "openmpi" => MpiAbi.OpenMpi,
                "mpich" => MpiAbi.Mpich,
                "none" => null,
                _ => throw new ArgumentException($"NOISEKD_MPI '{forced}' must be openmpi, mpich or none"),
            };
        if (Has("OMPI_COMM_WORLD_SIZE")) return MpiAbi.OpenMpi;
        if (Has("PMI_RANK") && Has("PMI_SIZE")) return MpiAbi.Mpich;
        return null;
    }

    static bool Has(string name) => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name));
}
