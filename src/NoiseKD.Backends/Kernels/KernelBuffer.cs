namespace NoiseKD.Backends.Kernels;

/// <summary>A block of float32 device memory owned by one <see cref="KernelBackend"/>: a cl_mem handle or a CUdeviceptr.</summary>
public sealed class KernelBuffer : DeviceBuffer, IPooledBuffer
{
    internal KernelBuffer(KernelBackend backend, long length, ulong address) : base(backend, length) => Address = address;

    /// <summary>The device address (0 once freed).</summary>
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
        ((KernelBackend)Backend).FreeMemory(Address);
        Address = 0;
    }

    ~KernelBuffer()
    {
        // Reached only for buffers that nobody returned to the pool (pooled ones are referenced by it).
        ((KernelBackend)Backend).Pool.ForgetLive(Length);
        Free();
    }
}
