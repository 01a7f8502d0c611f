using NoiseKD.Distributed.Mpi;
using NoiseKD.Tensors;

namespace NoiseKD.Distributed;

/// <summary>
/// Averages gradients over the ranks the way PyTorch's DDP reducer does (torch/csrc/distributed/c10d/reducer.cpp):
/// the parameters are packed into buckets in reverse order (backward produces the last layers' gradients
/// first), and a bucket's all-reduce starts, non-blocking, as soon as backward has finished every gradient
/// in it (<see cref="Tensor.Backward(Action{Tensor})"/>'s hook), so communication overlaps the rest of
/// backward. Buckets are started strictly in bucket order, identical on every rank, whatever order their
/// gradients complete in: MPI matches collectives by order, so ranks must never disagree on it. After
/// backward every bucket is waited for, divided by the rank count and copied back into the gradients.
/// </summary>
public sealed class GradientReducer
{
    /// <summary>DDP's default bucket_cap_mb (25 MiB of float32).</summary>
    public const int DefaultBucketFloats = 25 * 1024 * 1024 / sizeof(float);

    readonly ProcessGroup _group;
    readonly Bucket[] _buckets;
    readonly Dictionary<Tensor, (Bucket Bucket, int Slot)> _where = new(ReferenceEqualityComparer.Instance);
    int _nextToStart;

    public GradientReducer(ProcessGroup group, IReadOnlyList<Tensor> parameters, int bucketFloats = DefaultBucketFloats)
    {
        _group = group;
        var buckets = new List<Bucket>();
        var current = new List<Tensor>();
        long floats = 0;
        for (int i = parameters.Count - 1; i >= 0; i--)
        {
            current.Add(parameters[i]);
            floats += parameters[i].Numel;
            if (floats >= bucketFloats || i == 0)
            {
                buckets.Add(new Bucket(current.ToArray()));
                current.Clear();
                floats = 0;
            }
        }
        _buckets = buckets.ToArray();
        foreach (var bucket in _buckets)
            for (int s = 0; s < bucket.Parameters.Length; s++) _where[bucket.Parameters[s]] = (bucket, s);
    }

    public int BucketCount => _buckets.Length;

    /// <summary>Backward with the reducer attached, then every bucket averaged into the gradients.</summary>
    public void Backward(Tensor loss)
    {
        foreach (var bucket in _buckets) bucket.Reset();
        _nextToStart = 0;
        loss.Backward(GradientReady);
        while (_nextToStart < _buckets.Length) Start(_buckets[_nextToStart++]); // gradients no hook reported (a parameter backward did not reach)
        foreach (var bucket in _buckets) bucket.Finish(_group);
    }

    void GradientReady(Tensor parameter)
    {
        if (!_where.TryGetValue(parameter, out var at)) return;
        at.Bucket.MarkReady(at.Slot);
        while (_nextToStart < _buckets.Length && _buckets[_nextToStart].AllReady) Start(_buckets[_nextToStart++]);
        // MPI progresses a non-blocking collective only inside MPI calls (no progress thread in ob1 or ch4): a test per hook keeps it moving.
        for (int b = 0; b < _nextToStart; b++) _buckets[b].Request?.Test();
    }

    void Start(Bucket bucket)
    {
        bucket.Pack();
        bucket.Request = _group.StartAllReduceSum(bucket.Buffer, bucket.Buffer.Length);
    }

    sealed class Bucket
    {
        readonly bool[] _ready;
        int _readyCount;

        public Bucket(Tensor[] parameters)
        {
            Parameters = parameters;
            _ready = new bool[parameters.Length];
            Offsets = new int[parameters.Length];
            long total = 0;
            for (int i = 0; i < parameters.Length; i++)
            {
                Offsets[i] = checked((int)total);
                total += parameters[i].Numel;
            }
            Buffer = new float[checked((int)total)];
        }

        public Tensor[] Parameters { get; }
        public int[] Offsets { get; }
        public float[] Buffer { get; }
        public MpiRequest? Request { get; set; }
        public bool AllReady => _readyCount == _ready.Length;

        public void Reset()
        {
            Array.Clear(_ready);
            _readyCount = 0;
            Request = null;
        }

        public void MarkReady(int slot)
        {
            if (_ready[slot]) return;
            _ready[slot] = true;
            _readyCount++;
        }

        /// <summary>Gradients into the flat buffer; a parameter backward did not reach contributes zeros (and stays without a gradient).</summary>
        public void Pack()
        {
            for (int i = 0; i < Parameters.Length; i++)
            {
                var span = Buffer.AsSpan(Offsets[i], (int)Parameters[i].Numel);
                if (Parameters[i].Grad is { } grad) grad.CopyTo(span);
                else span.Clear();
            }
        }

        /// <summary>Waits for the sum, divides by the rank count and writes the mean back into the gradients.</summary>
        public void Finish(ProcessGroup group)
        {
            group.Await(Request!, "the gradient all-reduce");
            float n = group.Size;
            for (int i = 0; i < Buffer.Length; i++) Buffer[i] /= n;
            for (int i = 0; i < Parameters.Length; i++)
                Parameters[i].Grad?.CopyFrom(Buffer.AsSpan(Offsets[i], (int)Parameters[i].Numel));
        }
    }
}
