using System.Text;
using NoiseKD.Backends.Kernels;
using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Cuda;

/// <summary>
/// IBackend on one CUDA device: the kernels of kernels/ compiled once by NVRTC (PTX cached on disk) and
/// loaded as one module into the device's primary context, every command on one stream, buffers pooled
/// by exact size. The primitives are <see cref="KernelBackend"/>'s, shared with OpenCL; this class is
/// memory and launching. The single stream is what makes pooling safe, as the in-order queue is for OpenCL.
/// A CUDA context is current per thread, so every entry point makes it current first (data-loader
/// threads and the finalizer call in too).
/// </summary>
public sealed unsafe class CudaBackend : KernelBackend
{
    [ThreadStatic] static nint _currentContext;

    readonly nint _context, _stream, _module;
    readonly Dictionary<string, nint> _functions = new(StringComparer.Ordinal);
    bool _retained, _disposed;

    CudaBackend(CudaDeviceInfo device)
    {
        Device = device;
        try
        {
            nint context;
            CudaException.Check(CudaNative.cuDevicePrimaryCtxRetain(&context, device.Handle), "cuDevicePrimaryCtxRetain");
            _context = context;
            _retained = true;
            MakeCurrent();
            nint stream;
            CudaException.Check(CudaNative.cuStreamCreate(&stream, 0), "cuStreamCreate");
            _stream = stream;
            string[] options = Nvrtc.Options(device);
            CompileOptions = options;
            byte[] ptx = Nvrtc.Ptx(KernelSource.Program, options, out bool fromCache);
            PtxFromCache = fromCache;
            _module = LoadModule(ptx);
            LoadFunctions();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens CUDA device <paramref name="index"/> (the order of <see cref="CudaDevices.All"/>); false with a
    /// one-sentence reason when there is no such device, no NVRTC, or the kernels do not build or load.
    /// </summary>
    public static bool TryCreate(int index, out CudaBackend? backend, out string? reason) =>
        TryOpen("CUDA", CudaDevices.Problem, CudaDevices.All, d => d.Index == index, index.ToString(System.Globalization.CultureInfo.InvariantCulture),
                d => new CudaBackend(d), e => e is CudaException or NvrtcException or NotSupportedException, out backend, out reason);

    public CudaDeviceInfo Device { get; }

    /// <summary>The NVRTC options the kernels were compiled with (architecture first).</summary>
    public IReadOnlyList<string> CompileOptions { get; } = [];

    /// <summary>Whether the PTX came from the on-disk cache rather than an NVRTC compile.</summary>
    public bool PtxFromCache { get; }

    public override string Name => Device.Selector;

    protected override int ComputeUnits => Device.Multiprocessors;

    void MakeCurrent()
    {
        if (_currentContext == _context) return;
        CudaException.Check(CudaNative.cuCtxSetCurrent(_context), "cuCtxSetCurrent");
        _currentContext = _context;
    }

    /// <summary>The module from PTX; a JIT failure carries the driver's error log (and a hint when NVRTC is newer than the driver).</summary>
    static nint LoadModule(byte[] ptx)
    {
        const int LogBytes = 1 << 14;
        var log = new byte[LogBytes];
        nint module;
        int status;
        fixed (byte* image = ptx, l = log)
        {
            int* options = stackalloc int[2] { CudaNative.JitErrorLogBuffer, CudaNative.JitErrorLogBufferSizeBytes };
            void** values = stackalloc void*[2] { l, (void*)LogBytes };
            status = CudaNative.cuModuleLoadDataEx(&module, image, 2, options, values);
        }
        if (status == 0) return module;
        string text = Encoding.UTF8.GetString(log).TrimEnd('\0').Trim();
        string hint = status == CudaException.UnsupportedPtxVersion
            ? $"NVRTC {CudaDevices.NvrtcVersion} writes PTX newer than this driver (CUDA {CudaDevices.DriverVersion}) reads; " +
              $"point {CudaLibraries.NvrtcVariable} at an NVRTC no newer than the driver"
            : "";
        throw new CudaException("cuModuleLoadDataEx", status, string.Join("; ", new[] { hint, text.Length == 0 ? "" : "JIT log: " + text }.Where(s => s.Length > 0)));
    }

    void LoadFunctions()
    {
        foreach (var name in KernelSource.KernelNames)
        {
            nint function;
            byte[] bytes = Encoding.ASCII.GetBytes(name + "\0");
            fixed (byte* n = bytes) CudaException.Check(CudaNative.cuModuleGetFunction(&function, _module, n), $"cuModuleGetFunction({name})");
            int limit;
            CudaException.Check(CudaNative.cuFuncGetAttribute(&limit, CudaNative.FunctionAttributeMaxThreadsPerBlock, function), "cuFuncGetAttribute");
            if (limit < Grid.Group)
                throw new CudaException("cuFuncGetAttribute", CudaException.LaunchOutOfResources,
                                        $"kernel {name} allows {limit} threads per block, the backend launches {Grid.Group}");
            _functions[name] = function;
        }
    }

    // ---- memory ------------------------------------------------------------------------------------

    private protected override int TryAllocate(long bytes, out ulong address)
    {
        MakeCurrent();
        ulong a;
        int status = CudaNative.cuMemAlloc(&a, (nuint)bytes);
        address = a;
        return status;
    }

    private protected override Exception AllocationFailed(long length, int status) => new CudaException($"cuMemAlloc ({length} floats)", status);

    /// <summary>cuMemFree from any thread; after Dispose the context (and the memory with it) may be gone, so nothing is done.</summary>
    internal override void FreeMemory(ulong address)
    {
        if (!_retained) return;
        MakeCurrent();
        CudaNative.cuMemFree(address); // synchronizes with the device, so queued kernels finish with the memory first
    }

    static ulong Address(DeviceBuffer b, long offset) => AddressOf(b) + (ulong)(offset * sizeof(float));

    /// <summary>
    /// From pageable host memory the driver copies into its staging buffer before returning, so the source
    /// may change right after; the transfer itself stays in stream order.
    /// </summary>
    public override void Upload(ReadOnlySpan<float> source, DeviceBuffer destination, long destinationOffset)
    {
        CheckRange(destination, destinationOffset, source.Length);
        if (source.IsEmpty) return;
        MakeCurrent();
        fixed (float* p = source)
            CudaException.Check(CudaNative.cuMemcpyHtoDAsync(Address(destination, destinationOffset), p, (nuint)(source.Length * sizeof(float)), _stream),
                                "cuMemcpyHtoDAsync");
    }

    public override void Download(DeviceBuffer source, long sourceOffset, Span<float> destination)
    {
        CheckRange(source, sourceOffset, destination.Length);
        if (destination.IsEmpty) return;
        MakeCurrent();
        fixed (float* p = destination)
        {
            CudaException.Check(CudaNative.cuMemcpyDtoHAsync(p, Address(source, sourceOffset), (nuint)(destination.Length * sizeof(float)), _stream),
                                "cuMemcpyDtoHAsync");
            CudaException.Check(CudaNative.cuStreamSynchronize(_stream), "cuStreamSynchronize");
        }
    }

    public override void Fill(DeviceBuffer destination, long offset, long count, float value)
    {
        CheckRange(destination, offset, count);
        if (count == 0) return;
        MakeCurrent();
        CudaException.Check(CudaNative.cuMemsetD32Async(Address(destination, offset), BitConverter.SingleToUInt32Bits(value), (nuint)count, _stream),
                            "cuMemsetD32Async");
    }

    public override void CopyBlocks(DeviceBuffer source, long sourceOffset, long sourceStride,
                                    DeviceBuffer destination, long destinationOffset, long destinationStride,
                                    long rows, long rowLength)
    {
        if (!CheckBlocks(source, sourceOffset, sourceStride, destination, destinationOffset, destinationStride, rows, rowLength)) return;
        bool contiguous = rows == 1 || (sourceStride == rowLength && destinationStride == rowLength);
        if (contiguous && !ReferenceEquals(source, destination))
        {
            MakeCurrent();
            CudaException.Check(CudaNative.cuMemcpyDtoDAsync(Address(destination, destinationOffset), Address(source, sourceOffset),
                                                             (nuint)(rows * rowLength * sizeof(float)), _stream), "cuMemcpyDtoDAsync");
            return;
        }
        Run("copy_blocks", Grid.Plane(rowLength, rows),
            [Of(source), sourceOffset, sourceStride, Of(destination), destinationOffset, destinationStride, rows, rowLength]);
    }

    public override void Synchronize()
    {
        MakeCurrent();
        CudaException.Check(CudaNative.cuStreamSynchronize(_stream), "cuStreamSynchronize");
    }

    // ---- launching -----------------------------------------------------------------------------------

    /// <summary>
    /// cuLaunchKernel takes a pointer to each argument's value; the driver copies them at the call, so
    /// unlike a cl_kernel nothing is shared between threads and no lock is needed.
    /// </summary>
    private protected override void Run(string name, Grid grid, ReadOnlySpan<KernelArg> args)
    {
        if (grid.IsEmpty) return;
        if (!_functions.TryGetValue(name, out nint function)) throw new InvalidOperationException($"no kernel '{name}' in kernels/*.cl");
        var launch = CudaLaunch.For(grid);
        MakeCurrent();
        fixed (KernelArg* a = args)
        {
            void** pointers = stackalloc void*[Math.Max(1, args.Length)];
            for (int i = 0; i < args.Length; i++) pointers[i] = &a[i];
            int status = CudaNative.cuLaunchKernel(function, launch.GridX, launch.GridY, launch.GridZ, launch.BlockX, launch.BlockY, launch.BlockZ,
                                                   0, _stream, pointers, null);
            if (status != 0) throw new CudaException($"cuLaunchKernel({name}, {grid})", status);
        }
    }

    public override void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_retained) return;
        MakeCurrent();
        if (_stream != 0) CudaNative.cuStreamSynchronize(_stream);
        Pool.Trim();
        if (_module != 0) CudaNative.cuModuleUnload(_module);
        if (_stream != 0) CudaNative.cuStreamDestroy(_stream);
        _retained = false;
        CudaNative.cuDevicePrimaryCtxRelease(Device.Handle);
        if (_currentContext == _context) _currentContext = 0;
    }
}
