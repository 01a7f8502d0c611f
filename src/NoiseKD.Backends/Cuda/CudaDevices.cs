using System.Text;

namespace NoiseKD.Backends.Cuda;

/// <summary>One CUDA device as the driver describes it; <see cref="Index"/> names it on the command line (cuda:N).</summary>
public sealed record CudaDeviceInfo(int Index, string Name, int Major, int Minor, int Multiprocessors, long TotalMemoryBytes) : Kernels.IKernelDevice
{
    /// <summary>The CUdevice handle (equal to the ordinal on every driver so far, but only cuDeviceGet says so).</summary>
    internal int Handle { get; init; }

    /// <summary>Compute capability as one number, 86 for 8.6 (NVRTC's compute_86).</summary>
    public int ComputeCapability => Major * 10 + Minor;

    /// <summary>The --device spelling that selects this device.</summary>
    public string Selector => $"cuda:{Index}";
}

/// <summary>
/// The CUDA devices of this machine, enumerated once through the driver API, and the NVRTC that compiles
/// kernels for them. When none can be used, <see cref="Problem"/> says why in one sentence (no driver
/// library, no device, no NVRTC).
/// </summary>
public static unsafe class CudaDevices
{
    static readonly Lazy<(IReadOnlyList<CudaDeviceInfo> Devices, string? Problem, int DriverVersion)> Found = new(Enumerate);
    static readonly Lazy<(string? Version, string? Problem)> Compiler = new(FindCompiler);

    /// <summary>Devices the driver reports (listed even when NVRTC is missing; they cannot run kernels then).</summary>
    public static IReadOnlyList<CudaDeviceInfo> All => Found.Value.Devices;

    /// <summary>The CUDA version the driver supports, e.g. "12.4" (null without a driver).</summary>
    public static string? DriverVersion => Found.Value.DriverVersion is int v and > 0 ? $"{v / 1000}.{v % 1000 / 10}" : null;

    /// <summary>NVRTC's version, e.g. "12.4" (null when there is no NVRTC).</summary>
    public static string? NvrtcVersion => Compiler.Value.Version;

    /// <summary>Why no device can run the kernels (null when at least one can): the driver's problem first, then NVRTC's.</summary>
    public static string? Problem => Found.Value.Problem ?? Compiler.Value.Problem;

    /// <summary>Why there are no devices at all (null when the driver lists some).</summary>
    public static string? DriverProblem => Found.Value.Problem;

    static (IReadOnlyList<CudaDeviceInfo>, string?, int) Enumerate()
    {
        try
        {
            int status = CudaNative.cuInit(0);
            if (status == CudaException.NoDevice) return ([], "the NVIDIA driver is installed but reports no CUDA device", 0);
            if (status == CudaException.StubLibrary)
                return ([], "libcuda.so.1 is the toolkit's stub, not a driver (no NVIDIA driver is installed)", 0);
            CudaException.Check(status, "cuInit");
            int version, count;
            CudaException.Check(CudaNative.cuDriverGetVersion(&version), "cuDriverGetVersion");
            CudaException.Check(CudaNative.cuDeviceGetCount(&count), "cuDeviceGetCount");
            if (count == 0) return ([], "the NVIDIA driver is installed but reports no CUDA device", version);
            return (Enumerable.Range(0, count).Select(Describe).ToList(), null, version);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return ([], "libcuda.so.1 (the NVIDIA driver's CUDA library) is not installed", 0);
        }
        catch (CudaException e)
        {
            return ([], $"CUDA initialization failed: {e.Message}", 0);
        }
    }

    static CudaDeviceInfo Describe(int ordinal)
    {
        int device;
        CudaException.Check(CudaNative.cuDeviceGet(&device, ordinal), "cuDeviceGet");
        var name = new byte[256];
        fixed (byte* p = name) CudaException.Check(CudaNative.cuDeviceGetName(p, name.Length, device), "cuDeviceGetName");
        nuint memory;
        CudaException.Check(CudaNative.cuDeviceTotalMem(&memory, device), "cuDeviceTotalMem");
        return new CudaDeviceInfo(ordinal, Text(name), Attribute(device, CudaNative.AttributeComputeCapabilityMajor),
                                  Attribute(device, CudaNative.AttributeComputeCapabilityMinor),
                                  Attribute(device, CudaNative.AttributeMultiprocessorCount), (long)memory) { Handle = device };
    }

    internal static int Attribute(int device, int attribute)
    {
        int value;
        CudaException.Check(CudaNative.cuDeviceGetAttribute(&value, attribute, device), "cuDeviceGetAttribute");
        return value;
    }

    static (string?, string?) FindCompiler()
    {
        if (CudaLibraries.Nvrtc is null)
            return (null, $"NVRTC (libnvrtc.so.*) was not found in $CUDA_HOME/lib64, /usr/local/cuda*/lib64 or the system library folders; " +
                          $"install the CUDA toolkit's NVRTC or set {CudaLibraries.NvrtcVariable} to the library");
        try
        {
            var (major, minor) = Nvrtc.Version();
            return ($"{major}.{minor}", null);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return (null, $"{CudaLibraries.Nvrtc} is not a loadable NVRTC library ({e.Message})");
        }
    }

    static string Text(byte[] bytes)
    {
        int end = Array.IndexOf(bytes, (byte)0);
        return Encoding.UTF8.GetString(bytes, 0, end < 0 ? bytes.Length : end).Trim();
    }
}
