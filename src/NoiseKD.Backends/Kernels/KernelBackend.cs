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

    /// <summary>
    /// Opening a device by its command-line name, as OpenCL and CUDA both do it: the driver's problem when there
    /// is one, "no such device" with the list of devices, or the device's own error when it cannot build or run
    /// the kernels (<paramref name="isDeviceError"/> says which exceptions are that; others keep their stack trace).
    /// </summary>
    protected static bool TryOpen<TDevice, TBackend>(string api, string? problem, IReadOnlyList<TDevice> devices, Func<TDevice, bool> isWanted,
                                                     string wanted, Func<TDevice, TBackend> open, Func<Exception, bool> isDeviceError,
                                                     out TBackend? backend, out string? reason)
        where TDevice : IKernelDevice where TBackend : KernelBackend
    {
        backend = null;
        reason = problem;
        if (problem is not null) return false;
        var device = devices.FirstOrDefault(isWanted);
        if (device is null)
        {
            reason = $"there is no {api} device {wanted}; devices here: {string.Join(", ", devices.Select(d => $"{d.Selector} ({d.Name})"))}";
            return false;
        }
        try
        {
            backend = open(device);
            return true;
        }
        catch (Exception e) when (isDeviceError(e))
        {
            reason = $"{api} device {device.Selector} ({device.Name}) cannot run the kernels: {e.Message}";
            return false;
        }
    }

    /// <summary>Compute units (OpenCL) or streaming multiprocessors (CUDA): how many work-groups run at once, roughly.</summary>
    protected abstract int ComputeUnits { get; }

    /// <summary>Free buffers by exact length, so steady-state steps allocate nothing new.</summary>
    internal BufferPool<KernelBuffer> Pool { get; } = new();

    /// <summary>Bytes held by buffers in use.</summary>
    public long LiveBytes => Pool.LiveBytes;
    /// <summary>Bytes held in the pool, ready for reuse.</summary>
    public long PooledBytes => Pool.PooledBytes;

    /// <summary>A pooled buffer of exactly this length, else new device memory (after emptying the pool once if the device is full).</summary>
    public DeviceBuffer Allocate(long length)
    {
        if (Pool.Take(length) is { } reused) return reused;
        long bytes = Math.Max(1, length) * sizeof(float);
        int status = TryAllocate(bytes, out ulong address);
        if (status != 0)
        {
            Pool.Trim(); // free what the pool holds and try once more
            status = TryAllocate(bytes, out address);
        }
        if (status != 0)
        {
            Pool.ForgetLive(length);
            throw AllocationFailed(length, status);
        }
        return new KernelBuffer(this, length, address);
    }

    public void Release(DeviceBuffer buffer) => Pool.Return((KernelBuffer)buffer);

    /// <summary>Frees every pooled buffer (memory in use is untouched).</summary>
    public void TrimPool() => Pool.Trim();

    /// <summary>New device memory of <paramref name="bytes"/>; the API's status (0 = success).</summary>
    private protected abstract int TryAllocate(long bytes, out ulong address);

    /// <summary>The exception for a failed allocation of <paramref name="length"/> floats (names the call and the status).</summary>
    private protected abstract Exception AllocationFailed(long length, int status);

    /// <summary>Returns memory to the device (called from any thread, the finalizer's included).</summary>
    internal abstract void FreeMemory(ulong address);

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

    /// <summary>The device address of a buffer of this backend (a cl_mem handle, a CUdeviceptr; 0 once freed).</summary>
    private protected static ulong AddressOf(DeviceBuffer buffer) => ((KernelBuffer)buffer).Address;

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
