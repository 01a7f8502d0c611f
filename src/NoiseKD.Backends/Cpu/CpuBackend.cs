using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Cpu;

/// <summary>
/// The default device: managed code, System.Runtime.Intrinsics (AVX2/FMA where present) and all cores.
/// The primitives are split by family over the partial files CpuBackend.*.cs.
/// </summary>
public sealed unsafe partial class CpuBackend : IBackend
{
    public static CpuBackend Instance { get; } = new();

    readonly BufferPool<CpuBuffer> _pool = new();

    public string Name => "cpu";

    /// <summary>Bytes held by buffers in use.</summary>
    public long LiveBytes => _pool.LiveBytes;
    /// <summary>Bytes held in the pool, ready for reuse.</summary>
    public long PooledBytes => _pool.PooledBytes;

    public DeviceBuffer Allocate(long length) => _pool.Take(length) ?? new CpuBuffer(this, length);

    public void Release(DeviceBuffer buffer) => _pool.Return((CpuBuffer)buffer);

    internal void ForgetLive(long length) => _pool.ForgetLive(length);

    /// <summary>Frees every pooled buffer (memory in use is untouched).</summary>
    public void TrimPool() => _pool.Trim();

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
        if (!CheckBlocks(source, sourceOffset, sourceStride, destination, destinationOffset, destinationStride, rows, rowLength)) return;
        float* s = P(source) + sourceOffset, d = P(destination) + destinationOffset;
        CpuParallel.ForRange(rows, rowLength, (r0, r1) =>
        {
            for (long r = r0; r < r1; r++)
                Buffer.MemoryCopy(s + r * sourceStride, d + r * destinationStride,
                                  rowLength * sizeof(float), rowLength * sizeof(float));
        });
    }
}
