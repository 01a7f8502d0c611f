using System.Security.Cryptography;
using System.Text;
using NoiseKD.Distributed.Mpi;
using NoiseKD.Nn;
using NoiseKD.Optim;
using NoiseKD.Tensors;

namespace NoiseKD.Distributed;

/// <summary>
/// Data-parallel training over the ranks of a <see cref="ProcessGroup"/> (PyTorch's DistributedDataParallel):
/// every rank draws the same global batch and trains on its 1/Size share of the rows, parameters and
/// buffers start equal (rank 0's), gradients are averaged by a <see cref="GradientReducer"/>, and every rank
/// takes the same optimizer step. Rank 0 alone writes the run folder. With <see cref="SyncBatchNorm"/> the
/// BatchNorm layers normalize with the global batch's current statistics; without it each rank normalizes
/// its own share (DDP's default).
/// </summary>
public sealed class DataParallel(ProcessGroup group, bool syncBatchNorm)
{
    readonly Dictionary<Optimizer, GradientReducer> _reducers = new(ReferenceEqualityComparer.Instance);

    public ProcessGroup Group => group;
    public int Rank => group.Rank;
    public int Size => group.Size;
    public bool SyncBatchNorm => syncBatchNorm;
    /// <summary>The one rank that writes checkpoints, metrics and model files.</summary>
    public bool IsWriter => group.Rank == 0;

    /// <summary>
    /// The data-parallel job this process is a rank of (see <see cref="ProcessGroup.Join"/>), or null for a
    /// process started alone. Ranks other than 0 print nothing but errors: their standard output is dropped.
    /// </summary>
    public static DataParallel? Join(bool syncBatchNorm, Func<bool> stopRequested)
    {
        var group = ProcessGroup.Join();
        if (group is null) return null;
        group.StopRequested = stopRequested;
        if (group.Rank != 0) Console.SetOut(TextWriter.Null);
        return new DataParallel(group, syncBatchNorm);
    }

    /// <summary>Refuses a global batch the ranks cannot share equally.</summary>
    public void CheckBatchSize(int globalBatch)
    {
        if (globalBatch % Size != 0)
            throw new ArgumentException($"--batch-size {globalBatch} is the global batch and must be divisible by the {Size} ranks");
    }

    /// <summary>The rows [Start, Start + Count) of a global batch that are this rank's share.</summary>
    public (int Start, int Count) Share(int globalBatch)
    {
        CheckBatchSize(globalBatch);
        int count = globalBatch / Size;
        return (Rank * count, count);
    }

    /// <summary>This rank's rows of a global batch [B, ...] held on the host.</summary>
    public (float[] Rows, int[] Shape) ShareOf(ReadOnlySpan<float> batch, int[] shape)
    {
        var (start, count) = Share(shape[0]);
        int row = (int)(batch.Length / shape[0]);
        var rowsShape = (int[])shape.Clone();
        rowsShape[0] = count;
        return (batch.Slice(start * row, count * row).ToArray(), rowsShape);
    }

    /// <summary>This rank's rows of a global batch tensor.</summary>
    public Tensor ShareOf(Tensor batch)
    {
        var (rows, shape) = ShareOf(batch.ToArray(), batch.Shape);
        return Tensor.FromArray(rows, shape, batch.Backend);
    }

    /// <summary>Rank 0's parameters and buffers onto every rank (at start, and after a resume).</summary>
    public void BroadcastState(Module model)
    {
        var state = model.StateDict();
        long total = state.Sum(s => s.Value.Numel);
        var flat = new float[checked((int)total)];
        int offset = 0;
        foreach (var (_, value) in state)
        {
            value.CopyTo(flat.AsSpan(offset, (int)value.Numel));
            offset += (int)value.Numel;
        }
        group.Broadcast(flat, "the broadcast of rank 0's parameters");
        offset = 0;
        foreach (var (_, value) in state)
        {
            value.CopyFrom(flat.AsSpan(offset, (int)value.Numel));
            offset += (int)value.Numel;
        }
    }

    /// <summary>
    /// Every rank must run the same thing: a SHA-256 of <paramref name="description"/> (the options, the
    /// bytes of input files) is compared with rank 0's, and every rank learns whether any differs.
    /// </summary>
    public void Agree(string description, string what)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(description));
        var mine = hash.Select(b => (double)b).ToArray();
        var root = (double[])mine.Clone();
        group.Broadcast(root, "the check that every rank runs the same " + what);
        var differs = new double[] { mine.SequenceEqual(root) ? 0 : Rank };
        group.AllReduce(differs, MpiOp.Max, "the check that every rank runs the same " + what);
        if (differs[0] > 0)
            throw new RankDisagreementException($"the ranks disagree on the {what} (rank {differs[0]:0} differs from rank 0); " +
                                                "start every rank with the same command and files");
    }

    /// <summary>True on every rank if <paramref name="flag"/> is true on any (a stop signal that reached some ranks only).</summary>
    public bool AnyRank(bool flag, string what)
    {
        var value = new double[] { flag ? 1 : 0 };
        group.AllReduce(value, MpiOp.Max, what);
        return value[0] > 0;
    }

    /// <summary>
    /// The sum over the ranks, added in rank order on every rank (an all-reduce of one slot per rank, exact, then a
    /// local sum): the same bits everywhere, whatever order the MPI library adds in.
    /// </summary>
    public double SumInRankOrder(double value, string what)
    {
        var values = new double[Size];
        values[Rank] = value;
        group.AllReduceSum(values, what);
        double sum = 0;
        foreach (double v in values) sum += v;
        return sum;
    }

    /// <summary>The sum over the ranks.</summary>
    public double Sum(double value, string what)
    {
        var values = new double[] { value };
        group.AllReduceSum(values, what);
        return values[0];
    }

    /// <summary>
    /// Backward of this rank's loss with the optimizer's parameters' gradients averaged over the ranks;
    /// returns the mean of the ranks' losses (the global batch's loss), NaN on every rank if any rank's is NaN.
    /// </summary>
    public float Backward(Tensor loss, Optimizer optimizer)
    {
        if (!_reducers.TryGetValue(optimizer, out var reducer))
            _reducers[optimizer] = reducer = new GradientReducer(group, optimizer.Parameters);
        reducer.Backward(loss);
        return (float)(Sum(loss.Item(), "the loss all-reduce") / Size);
    }

    /// <summary>Hands every BatchNorm layer of <paramref name="model"/> the process group when --sync-bn asks for it.</summary>
    public void AttachBatchNorm(Module model)
    {
        if (!syncBatchNorm) return;
        foreach (var layer in BatchNormLayers(model)) layer.ProcessGroup = group;
    }

    /// <summary>
    /// A region in which <paramref name="model"/>'s BatchNorm layers use this rank's batches alone: evaluation,
    /// where each rank evaluates whole test batches of its own (their counts are then added).
    /// </summary>
    public IDisposable Local(Module model)
    {
        var layers = BatchNormLayers(model);
        var saved = layers.Select(l => l.ProcessGroup).ToArray();
        foreach (var layer in layers) layer.ProcessGroup = null;
        return new Disposable(() => { for (int i = 0; i < layers.Count; i++) layers[i].ProcessGroup = saved[i]; });
    }

    static List<BatchNorm> BatchNormLayers(Module model) => model.NamedModules().Select(m => m.Module).OfType<BatchNorm>().ToList();
}
