using NoiseKD.Backends.Kernels;
using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.OpenCl;

/// <summary>
/// IBackend on one OpenCL device: the kernels of kernels/ built once per device (binary cached on disk),
/// one in-order command queue, buffers pooled by exact size. Every primitive is a device kernel (or a
/// driver copy/fill); the host reads memory back only in <see cref="Download"/>. The primitives
/// themselves are <see cref="KernelBackend"/>'s, shared with the CUDA backend; this class is memory and launching.
/// </summary>
public sealed unsafe class OpenClBackend : KernelBackend
{
    /// <summary>Options for clBuildProgram (part of the binary cache key).</summary>
    const string BuildOptions = "-cl-std=CL1.2";

    readonly nint _context, _queue, _program;
    readonly Dictionary<string, nint> _kernels = new(StringComparer.Ordinal);
    readonly object _launchLock = new();
    bool _disposed;

    OpenClBackend(OpenClDeviceInfo device)
    {
        Device = device;
        nint handle = device.DeviceHandle;
        int status;
        _context = ClNative.clCreateContext(null, 1, &handle, 0, 0, &status);
        ClException.Check(status, "clCreateContext");
        try
        {
            _queue = ClNative.clCreateCommandQueue(_context, handle, 0, &status);
            ClException.Check(status, "clCreateCommandQueue");
            _program = ProgramCache.Build(_context, device, KernelSource.Program, BuildOptions, out bool fromCache);
            ProgramFromCache = fromCache;
            CreateKernels();
            // NOISEKD_OPENCL_GEMM=tiled|strips overrides the choice by device type (for measuring both).
            TiledGemm = Environment.GetEnvironmentVariable("NOISEKD_OPENCL_GEMM")?.ToLowerInvariant() switch
            {
                "tiled" => true,
                "strips" => false,
                _ => device.Type != "CPU",
            };
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens device <paramref name="deviceIndex"/> of platform <paramref name="platformIndex"/> (the order of
    /// <see cref="OpenClDevices.All"/>); false with a one-sentence reason when there is no such device or it
    /// cannot run the kernels.
    /// </summary>
    public static bool TryCreate(int platformIndex, int deviceIndex, out OpenClBackend? backend, out string? reason) =>
        TryOpen("OpenCL", OpenClDevices.Problem, OpenClDevices.All, d => d.PlatformIndex == platformIndex && d.DeviceIndex == deviceIndex,
                $"{platformIndex}:{deviceIndex}", d => new OpenClBackend(d), e => e is ClException, out backend, out reason);

    public OpenClDeviceInfo Device { get; }

    /// <summary>Whether the program binary came from the on-disk cache rather than a compile.</summary>
    public bool ProgramFromCache { get; }

    public override string Name => Device.Selector;

    protected override int ComputeUnits => Device.ComputeUnits;

    void CreateKernels()
    {
        uint count;
        ClException.Check(ClNative.clCreateKernelsInProgram(_program, 0, null, &count), "clCreateKernelsInProgram");
        var kernels = new nint[count];
        fixed (nint* k = kernels) ClException.Check(ClNative.clCreateKernelsInProgram(_program, count, k, null), "clCreateKernelsInProgram");
        nint device = Device.DeviceHandle;
        foreach (var kernel in kernels)
        {
            string name = ClQuery.KernelName(kernel);
            _kernels[name] = kernel;
            nuint limit;
            ClException.Check(ClNative.clGetKernelWorkGroupInfo(kernel, device, ClNative.KernelWorkGroupSize, (nuint)sizeof(nuint), &limit, null),
                              "clGetKernelWorkGroupInfo");
            if ((long)limit < Grid.Group)
                throw new ClException("clGetKernelWorkGroupInfo", -54, $"kernel {name} allows {limit} work-items per group, the backend launches {Grid.Group}");
        }
    }

    // ---- memory ------------------------------------------------------------------------------------

    private protected override int TryAllocate(long bytes, out ulong address)
    {
        int status;
        address = (ulong)ClNative.clCreateBuffer(_context, ClNative.MemReadWrite, (nuint)bytes, null, &status);
        return status;
    }

    private protected override Exception AllocationFailed(long length, int status) => new ClException($"clCreateBuffer ({length} floats)", status);

    internal override void FreeMemory(ulong address) => ClNative.clReleaseMemObject((nint)address); // the object keeps its context alive until released

    static nint Memory(DeviceBuffer b) => (nint)AddressOf(b);

    public override void Upload(ReadOnlySpan<float> source, DeviceBuffer destination, long destinationOffset)
    {
        CheckRange(destination, destinationOffset, source.Length);
        if (source.IsEmpty) return;
        fixed (float* p = source)
            ClException.Check(ClNative.clEnqueueWriteBuffer(_queue, Memory(destination), 1, (nuint)(destinationOffset * sizeof(float)),
                                                            (nuint)(source.Length * sizeof(float)), p, 0, null, null), "clEnqueueWriteBuffer");
    }

    public override void Download(DeviceBuffer source, long sourceOffset, Span<float> destination)
    {
        CheckRange(source, sourceOffset, destination.Length);
        if (destination.IsEmpty) return;
        fixed (float* p = destination)
            ClException.Check(ClNative.clEnqueueReadBuffer(_queue, Memory(source), 1, (nuint)(sourceOffset * sizeof(float)),
                                                           (nuint)(destination.Length * sizeof(float)), p, 0, null, null), "clEnqueueReadBuffer");
    }

    public override void Fill(DeviceBuffer destination, long offset, long count, float value)
    {
        CheckRange(destination, offset, count);
        if (count == 0) return;
        ClException.Check(ClNative.clEnqueueFillBuffer(_queue, Memory(destination), &value, sizeof(float), (nuint)(offset * sizeof(float)),
                                                       (nuint)(count * sizeof(float)), 0, null, null), "clEnqueueFillBuffer");
    }

    public override void CopyBlocks(DeviceBuffer source, long sourceOffset, long sourceStride,
                           DeviceBuffer destination, long destinationOffset, long destinationStride,
                           long rows, long rowLength)
    {
        if (!CheckBlocks(source, sourceOffset, sourceStride, destination, destinationOffset, destinationStride, rows, rowLength)) return;
        bool contiguous = rows == 1 || (sourceStride == rowLength && destinationStride == rowLength);
        if (contiguous && !ReferenceEquals(source, destination))
        {
            ClException.Check(ClNative.clEnqueueCopyBuffer(_queue, Memory(source), Memory(destination), (nuint)(sourceOffset * sizeof(float)),
                                                           (nuint)(destinationOffset * sizeof(float)), (nuint)(rows * rowLength * sizeof(float)),
                                                           0, null, null), "clEnqueueCopyBuffer");
            return;
        }
        Run("copy_blocks", Grid.Plane(rowLength, rows),
            [Of(source), sourceOffset, sourceStride, Of(destination), destinationOffset, destinationStride, rows, rowLength]);
    }

    public override void Synchronize() => ClException.Check(ClNative.clFinish(_queue), "clFinish");

    // ---- launching -----------------------------------------------------------------------------------

    /// <summary>
    /// Sets the arguments of kernel <paramref name="name"/> and enqueues it. A cl_kernel holds its
    /// arguments, so setting and enqueuing happen under one lock (a data-loader thread may launch too).
    /// </summary>
    private protected override void Run(string name, Grid grid, ReadOnlySpan<KernelArg> args)
    {
        if (grid.IsEmpty) return;
        if (!_kernels.TryGetValue(name, out nint kernel)) throw new InvalidOperationException($"no kernel '{name}' in kernels/*.cl");
        nuint* global = stackalloc nuint[3] { (nuint)grid.Global0, (nuint)grid.Global1, (nuint)grid.Groups2 };
        nuint* local = stackalloc nuint[3] { (nuint)grid.Local0, (nuint)grid.Local1, 1 };
        lock (_launchLock)
        {
            fixed (KernelArg* a = args)
                for (int i = 0; i < args.Length; i++)
                {
                    int status = ClNative.clSetKernelArg(kernel, (uint)i, (nuint)a[i].Size, &a[i]);
                    if (status != 0) throw new ClException($"clSetKernelArg({name}, {i})", status);
                }
            int launched = ClNative.clEnqueueNDRangeKernel(_queue, kernel, 3, null, global, local, 0, null, null);
            if (launched != 0) throw new ClException($"clEnqueueNDRangeKernel({name}, {grid})", launched);
        }
    }

    public override void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_queue != 0) ClNative.clFinish(_queue);
        Pool.Trim();
        foreach (var kernel in _kernels.Values) ClNative.clReleaseKernel(kernel);
        _kernels.Clear();
        if (_program != 0) ClNative.clReleaseProgram(_program);
        if (_queue != 0) ClNative.clReleaseCommandQueue(_queue);
        if (_context != 0) ClNative.clReleaseContext(_context);
    }
}
