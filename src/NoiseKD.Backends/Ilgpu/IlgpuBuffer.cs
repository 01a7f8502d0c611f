using ILGPU;
using ILGPU.Runtime;

namespace NoiseKD.Backends.Ilgpu;

/// <summary>A block of float32 memory on one ILGPU accelerator, handed out and taken back by the backend's pool.</summary>
public sealed class IlgpuBuffer : DeviceBuffer, IPooledBuffer
{
    MemoryBuffer1D<float, Stride1D.Dense>? _memory;

    internal IlgpuBuffer(IlgpuBackend backend, long length, MemoryBuffer1D<float, Stride1D.Dense> memory) : base(backend, length) => _memory = memory;

    /// <summary>The whole buffer as a kernel argument.</summary>
    internal ArrayView<float> View => _memory is { } memory ? memory.View : throw new ObjectDisposedException(nameof(IlgpuBuffer), "buffer was freed");

    void IPooledBuffer.Revive()
    {
        MarkLive();
        GC.ReRegisterForFinalize(this); // Dispose suppressed it; a revived buffer may again be abandoned
    }

    void IPooledBuffer.Free() => Free();

    void Free()
    {
        _memory?.Dispose();
        _memory = null;
    }

    ~IlgpuBuffer()
    {
        // Reached only for buffers nobody returned to the pool (pooled ones are referenced by it). The ILGPU
        // buffer, unreachable too, is freed by its own finalizer; only the pool's count needs correcting here.
        ((IlgpuBackend)Backend).Pool.ForgetLive(Length);
    }
}
