namespace NoiseKD.Distributed;

/// <summary>
/// The ranks of a data-parallel job as the layers see them (torch.distributed's process group): only what
/// a layer needs (SyncBatchNorm's sums), so the core depends on no transport. The MPI implementation lives
/// in NoiseKD.Distributed.
/// </summary>
public interface IProcessGroup
{
    int Rank { get; }
    int Size { get; }

    /// <summary>values[i] = the sum of values[i] over every rank, in place; every rank must call it in the same order.</summary>
    void AllReduceSum(double[] values, string what);
}
