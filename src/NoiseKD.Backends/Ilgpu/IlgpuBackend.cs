using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using NoiseKD.Kernels;
using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Ilgpu;

/// <summary>
/// IBackend on one ILGPU accelerator (CUDA, OpenCL, or ILGPU's CPU accelerator). Every primitive is a kernel
/// of kernels/ (NoiseKD.Kernels), loaded once per op family on first use and its launcher kept; memory comes
/// from the pool by exact length; everything runs in order on the accelerator's default stream, and the host
/// waits only around host copies (<see cref="Download"/>, <see cref="Upload"/>).
/// The host-side plans (convolution chunks, split K, reduction chunks) mirror Cpu/CpuBackend.*.cs.
/// </summary>
public sealed partial class IlgpuBackend : IBackend
{
    readonly Context _context;
    readonly Accelerator _accelerator;
    readonly AcceleratorStream _stream;
    /// <summary>Threads per group of every launch: a power of two, at most <see cref="Loops.MaxGroup"/>.</summary>
    readonly int _group;
    /// <summary>Groups of a grid-stride launch, at most.</summary>
    readonly int _maxGroups;
    bool _disposed;

    IlgpuBackend(string name, Func<Context.Builder, Context.Builder> configure, Func<Context, Accelerator> open)
    {
        NativeLibraries.Install();
        Name = name;
        // EnableAlgorithms maps MathF.Exp/Log/Tanh/... onto the devices' math (the kernels call MathF).
        _context = Context.Create(builder => configure(builder).EnableAlgorithms().Math(MathMode.Default));
        try
        {
            _accelerator = open(_context);
            _stream = _accelerator.DefaultStream;
            _group = LargestPowerOfTwo(Math.Min(Loops.MaxGroup, _accelerator.MaxNumThreadsPerGroup));
            _maxGroups = _accelerator.AcceleratorType == AcceleratorType.CPU
                ? 4 * _accelerator.NumMultiprocessors  // each group costs a thread hand-off there
                : Math.Max(1, (1 << 20) / _group);
            _kernels = new(() => new KernelSets(_accelerator));
        }
        catch
        {
            _context.Dispose();
            throw;
        }
    }

    /// <summary>ILGPU's CPU accelerator with warps of <paramref name="warpSize"/> (see <see cref="IlgpuDevices.CpuDevice"/>).</summary>
    public static IlgpuBackend CreateCpu(int warpSize = 4)
        => CreateCpu(IlgpuDevices.CpuDevice(warpSize), warpSize == 4 ? "ilgpu-cpu" : $"ilgpu-cpu (warp {warpSize})");

    /// <summary>ILGPU's CPU accelerator of any shape (the tests use one of 4 threads per group: each launch wakes fewer threads).</summary>
    public static IlgpuBackend CreateCpu(CPUDevice device, string name)
        => new(name, b => b.CPU(device), context => context.GetCPUDevice(0).CreateAccelerator(context));

    /// <summary>
    /// Opens <c>cuda:N</c> or <c>opencl:N</c> (<paramref name="kind"/> "cuda" or "opencl"); false with a
    /// one-sentence reason when there is no such device or it cannot run the kernels.
    /// </summary>
    public static bool TryCreate(string kind, int index, out IlgpuBackend? backend, out string? reason)
    {
        backend = null;
        if (IlgpuDevices.Find(kind, index, out reason) is not { } device) return false;
        try
        {
            backend = new IlgpuBackend($"{kind}:{index}", b => kind == "cuda" ? b.Cuda(d => d.DeviceId == ((CudaDevice)device).DeviceId)
                                                                           : b.OpenCL(d => d.DeviceId == ((CLDevice)device).DeviceId),
                                       context => context.Devices.Single(d => d.AcceleratorType != AcceleratorType.CPU).CreateAccelerator(context));
            return true;
        }
        catch (Exception e) when (e is AcceleratorException or InvalidOperationException or NotSupportedException)
        {
            reason = $"{kind}:{index} ({device.Name}) cannot run the kernels: {e.Message.Split('\n')[0].TrimEnd('.')}";
            return false;
        }
    }

    public string Name { get; }

    /// <summary>The accelerator's name as ILGPU reports it.</summary>
    public string DeviceName => _accelerator.Name;

    /// <summary>Threads per group of the launches (16 on the default CPU accelerator, 256 on GPUs).</summary>
    public int GroupSize => _group;

    static int LargestPowerOfTwo(int n) => 1 << (31 - System.Numerics.BitOperations.LeadingZeroCount((uint)Math.Max(1, n)));

    // ---- kernels -------------------------------------------------------------------------------------

    readonly Lazy<KernelSets> _kernels;

    /// <summary>The launchers, each op family loaded on first use.</summary>
    KernelSets Kernels => _kernels.Value;

    /// <summary>A grid-stride launch over <paramref name="count"/> elements.</summary>
    KernelConfig Elements(long count)
        => new((int)Math.Clamp((count + _group - 1) / _group, 1, _maxGroups), _group);

    /// <summary>One group per item (the group reductions).</summary>
    KernelConfig Groups(long groups) => new((int)groups, _group);

    /// <summary>Element counts the kernels index with int.</summary>
    int Count(long count)
    {
        if (count > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(count), $"{count} elements exceed the {Name} backend's 2^31 limit");
        return (int)count;
    }

    // ---- memory --------------------------------------------------------------------------------------

    /// <summary>Free buffers by exact length, so steady-state steps allocate nothing new.</summary>
    internal BufferPool<IlgpuBuffer> Pool { get; } = new();

    public long LiveBytes => Pool.LiveBytes;
    public long PooledBytes => Pool.PooledBytes;

    public DeviceBuffer Allocate(long length)
    {
        if (Pool.Take(length) is { } reused) return reused;
        try
        {
            return new IlgpuBuffer(this, length, Allocate1D(length));
        }
        catch (Exception e) when (e is OutOfMemoryException or AcceleratorException)
        {
            Pool.Trim(); // free what the pool holds and try once more
            try
            {
                return new IlgpuBuffer(this, length, Allocate1D(length));
            }
            catch
            {
                Pool.ForgetLive(length);
                throw;
            }
        }
    }

    MemoryBuffer1D<float, Stride1D.Dense> Allocate1D(long length) => _accelerator.Allocate1D<float>(Math.Max(1, length));

    public void Release(DeviceBuffer buffer) => Pool.Return((IlgpuBuffer)buffer);

    /// <summary>Frees every pooled buffer (memory in use is untouched).</summary>
    public void TrimPool() => Pool.Trim();

    /// <summary>A buffer of this backend as a kernel argument.</summary>
    ArrayView<float> V(DeviceBuffer buffer)
    {
        if (!ReferenceEquals(buffer.Backend, this)) throw new ArgumentException($"a {buffer.Backend.Name} buffer was passed to the {Name} backend");
        if (buffer.IsReleased) throw new ObjectDisposedException(nameof(DeviceBuffer), "buffer was released to the pool");
        return ((IlgpuBuffer)buffer).View.SubView(0, buffer.Length);
    }

    /// <summary>An optional buffer: empty (length 0) when null, which the kernels test for.</summary>
    ArrayView<float> Optional(DeviceBuffer? buffer) => buffer is null ? ArrayView<float>.Empty : V(buffer);

    /// <summary>Doubles in a float buffer of at least twice their count (the reductions' partial sums).</summary>
    ArrayView<double> Doubles(DeviceBuffer buffer) => V(buffer).Cast<double>();

    public void Upload(ReadOnlySpan<float> source, DeviceBuffer destination, long destinationOffset)
    {
        CheckRange(destination, destinationOffset, source.Length);
        if (source.IsEmpty) return;
        // The accelerator drains first, so a kernel still reading the destination keeps its data whatever
        // ordering an accelerator gives its copies.
        _accelerator.Synchronize();
        // ILGPU copies from the raw address of the first element: the memory stays pinned until the copy is
        // done, or a compacting collection moves a managed array mid-copy (issue #19: C came back all zeros).
        unsafe
        {
            fixed (float* pinned = source)
            {
                V(destination).SubView(destinationOffset, source.Length).CopyFromCPU(_stream, ref *pinned, source.Length);
                _accelerator.Synchronize(); // the span is the caller's once this returns
            }
        }
    }

    public void Download(DeviceBuffer source, long sourceOffset, Span<float> destination)
    {
        CheckRange(source, sourceOffset, destination.Length);
        if (destination.IsEmpty) return;
        _accelerator.Synchronize(); // the kernels that write the source first (see Upload)
        unsafe
        {
            fixed (float* pinned = destination) // pinned until the copy is done (see Upload)
            {
                V(source).SubView(sourceOffset, destination.Length).CopyToCPU(_stream, ref *pinned, destination.Length);
                _accelerator.Synchronize();
            }
        }
    }

    public void Fill(DeviceBuffer destination, long offset, long count, float value)
    {
        CheckRange(destination, offset, count);
        if (count == 0) return;
        Kernels.Elementwise.Fill(Elements(count), V(destination).SubView(offset, count), new ScaleParams(value, 0f, Count(count)));
    }

    public void CopyBlocks(DeviceBuffer source, long sourceOffset, long sourceStride,
                           DeviceBuffer destination, long destinationOffset, long destinationStride,
                           long rows, long rowLength)
    {
        if (!CheckBlocks(source, sourceOffset, sourceStride, destination, destinationOffset, destinationStride, rows, rowLength)) return;
        Count(rows * Math.Max(rowLength, Math.Max(sourceStride, destinationStride)));
        Kernels.Elementwise.CopyBlocks(Elements(rows * rowLength), V(source).SubView(sourceOffset), V(destination).SubView(destinationOffset),
                                       new BlockParams((int)rows, (int)rowLength, (int)sourceStride, (int)destinationStride));
    }

    public void Synchronize() => _stream.Synchronize();

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _accelerator.Synchronize();
        Pool.Trim();
        _accelerator.Dispose();
        _context.Dispose();
    }
}
