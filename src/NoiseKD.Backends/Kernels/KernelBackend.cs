namespace NoiseKD.Backends.Kernels;

/// <summary>
/// The IBackend primitives that are the same on every device that runs kernels/*.cl (OpenCL, CUDA):
/// argument checks, launch geometry and scratch buffers, split by family over KernelBackend.*.cs,
/// mirroring Cpu/CpuBackend.*.cs, which is their reference. A device supplies memory (allocation,
/// copies, fills), the address of a buffer and <see cref="Run"/>, which launches one kernel on its
/// single in-order queue or stream; that ordering is what makes pooling safe: a scratch buffer released
/// right after its kernel is enqueued can only be reused by work that runs after that kernel.
/// </summary>
public abstract partial class KernelBackend : IBackend
{
    public abstract string Name { get; }

    /// <summary>Compute units (OpenCL) or streaming multiprocessors (CUDA): how many work-groups run at once, roughly.</summary>
    protected abstract int ComputeUnits { get; }

    public abstract DeviceBuffer Allocate(long length);
    public abstract void Release(DeviceBuffer buffer);
    public abstract void Upload(ReadOnlySpan<float> source, DeviceBuffer destination, long destinationOffset);
    public abstract void Download(DeviceBuffer source, long sourceOffset, Span<float> destination);
    public abstract void Fill(DeviceBuffer destination, long offset, long count, float value);
    public abstract void CopyBlocks(DeviceBuffer source, long sourceOffset, long sourceStride,
                                    DeviceBuffer destination, long destinationOffset, long destinationStride,
                                    long rows, long rowLength);
    public abstract void Synchronize();
    public abstract void Dispose();

    /// <summary>Launches kernel <paramref name="name"/> of kernels/*.cl over <paramref name="grid"/> with these arguments, in queue order.</summary>
    private protected abstract void Run(string name, Grid grid, ReadOnlySpan<KernelArg> args);

    /// <summary>The device address of a live buffer of this backend (a cl_mem handle, a CUdeviceptr).</summary>
    private protected abstract ulong AddressOf(DeviceBuffer buffer);

    /// <summary>A buffer argument; null becomes a NULL pointer in the kernel (optional gamma, beta, ...).</summary>
    private protected KernelArg Of(DeviceBuffer? buffer)
    {
        if (buffer is null) return KernelArg.Address(0);
        if (!ReferenceEquals(buffer.Backend, this)) throw new ArgumentException($"a {buffer.Backend.Name} buffer was passed to the {Name} backend");
        ulong address = buffer.IsReleased ? 0 : AddressOf(buffer);
        if (address == 0) throw new ObjectDisposedException(nameof(DeviceBuffer), "buffer was released to the pool");
        return KernelArg.Address(address);
    }
}
