namespace NoiseKD.Backends.Cuda;

/// <summary>A cuMemAlloc'd block of float32 elements owned by one <see cref="CudaBackend"/>.</summary>
public sealed class CudaBuffer : DeviceBuffer, IPooledBuffer
{
    internal CudaBuffer(CudaBackend backend, long length, ulong address) : base(backend, length) => Address = address;

    /// <summary>The CUdeviceptr (0 once freed).</summary>
    internal ulong Address { get; private set; }

    void IPooledBuffer.Revive()
    {
        MarkLive();
        GC.ReRegisterForFinalize(this); // Dispose suppressed it; a revived buffer may again be abandoned
    }

    void IPooledBuffer.Free() => Free();

    void Free()
    {
        if (Address == 0) return;
        ((CudaBackend)Backend).FreeMemory(Address);
        Address = 0;
    }

    ~CudaBuffer()
    {
        // Reached only for buffers that nobody returned to the pool (pooled ones are referenced by it).
        ((CudaBackend)Backend).ForgetLive(Length);
        Free();
    }
}
