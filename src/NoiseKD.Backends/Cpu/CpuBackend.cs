namespace NoiseKD.Backends.Cpu;

/// <summary>
/// The default device: managed code, System.Runtime.Intrinsics (AVX2/FMA where present) and all cores.
/// The primitives are split by family over the partial files CpuBackend.*.cs.
/// </summary>
public sealed unsafe partial class CpuBackend : IBackend
{
    public static CpuBackend Instance { get; } = new();

    readonly Dictionary<long, Stack<CpuBuffer>> _pool = new();
    readonly object _poolLock = new();
    long _liveBytes, _pooledBytes;

    public string Name => "cpu";

    /// <summary>Bytes held by buffers in use.</summary>
    public long LiveBytes => Interlocked.Read(ref _liveBytes);
    /// <summary>Bytes held in the pool, ready for reuse.</summary>
    public long PooledBytes => Interlocked.Read(ref _pooledBytes);

    public DeviceBuffer Allocate(long length)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length));
        lock (_poolLock)
        {
            if (_pool.TryGetValue(length, out var stack) && stack.Count > 0)
            {
                var reused = stack.Pop();
                reused.Revive();
                _pooledBytes -= length * sizeof(float);
                _liveBytes += length * sizeof(float);
                return reused;
            }
            _liveBytes += length * sizeof(float);
        }
        return new CpuBuffer(this, length);
    }

    public void Release(DeviceBuffer buffer)
    {
        var cpu = (CpuBuffer)buffer;
        lock (_poolLock)
        {
            if (!_pool.TryGetValue(cpu.Length, out var stack)) _pool[cpu.Length] = stack = new Stack<CpuBuffer>();
            stack.Push(cpu);
            _liveBytes -= cpu.Length * sizeof(float);
            _pooledBytes += cpu.Length * sizeof(float);
        }
    }

    internal void ForgetLive(long length) => Interlocked.Add(ref _liveBytes, -length * sizeof(float));

    /// <summary>Frees every pooled buffer (memory in use is untouched).</summary>
    public void TrimPool()
    {
        lock (_poolLock)
        {
            foreach (var stack in _pool.Values)
                while (stack.Count > 0) stack.Pop().Free();
            _pool.Clear();
            _pooledBytes = 0;
        }
    }

    public void Dispose() => TrimPool();

    public void Synchronize() { }

    internal static float* P(DeviceBuffer b) => ((CpuBuffer)b).Pointer;
    internal static float* P(DeviceBuffer? b, bool allowNull) => b is null ? null : ((CpuBuffer)b).Pointer;

    public void Upload(ReadOnlySpan<float> source, DeviceBuffer destination, long destinationOffset)
    {
        CheckRange(destination, destinationOffset, source.Length);
        source.CopyTo(new Span<float>(P(destination) + destinationOffset, source.Length));
    }

    public void Download(DeviceBuffer source, long sourceOffset, Span<float> destination)
    {
        CheckRange(source, sourceOffset, destination.Length);
        new ReadOnlySpan<float>(P(source) + sourceOffset, destination.Length).CopyTo(destination);
    }

    public void Fill(DeviceBuffer destination, long offset, long count, float value)
    {
        CheckRange(destination, offset, count);
        float* p = P(destination) + offset;
        CpuParallel.ForRange(count, 1, (s, e) => new Span<float>(p + s, checked((int)(e - s))).Fill(value));
    }

    public void CopyBlocks(DeviceBuffer source, long sourceOffset, long sourceStride,
                           DeviceBuffer destination, long destinationOffset, long destinationStride,
                           long rows, long rowLength)
    {
        if (rows == 0 || rowLength == 0) return;
        CheckRange(source, sourceOffset + (rows - 1) * sourceStride, rowLength);
        CheckRange(destination, destinationOffset + (rows - 1) * destinationStride, rowLength);
        float* s = P(source) + sourceOffset, d = P(destination) + destinationOffset;
        CpuParallel.ForRange(rows, rowLength, (r0, r1) =>
        {
            for (long r = r0; r < r1; r++)
                Buffer.MemoryCopy(s + r * sourceStride, d + r * destinationStride,
                                  rowLength * sizeof(float), rowLength * sizeof(float));
        });
    }

    static void CheckRange(DeviceBuffer b, long offset, long count)
    {
        if (b.IsReleased) throw new ObjectDisposedException(nameof(DeviceBuffer), "buffer was released to the pool");
        if (offset < 0 || count < 0 || offset + count > b.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"range [{offset}, {offset + count}) outside a buffer of {b.Length}");
    }
}
