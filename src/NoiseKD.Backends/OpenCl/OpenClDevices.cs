namespace NoiseKD.Backends.OpenCl;

/// <summary>One OpenCL device as the driver describes it; (PlatformIndex, DeviceIndex) names it on the command line.</summary>
public sealed record OpenClDeviceInfo(
    int PlatformIndex, int DeviceIndex, string Platform, string Name, string Type, string Version, string DriverVersion,
    string OpenClC, int ComputeUnits, long GlobalMemoryBytes, long LocalMemoryBytes, long MaxWorkGroupSize) : Kernels.IKernelDevice
{
    internal nint PlatformHandle { get; init; }
    internal nint DeviceHandle { get; init; }

    /// <summary>The --device spelling that selects this device.</summary>
    public string Selector => $"opencl:{PlatformIndex}:{DeviceIndex}";
}

/// <summary>
/// The OpenCL platforms and devices of this machine, enumerated once through the ICD loader. When there
/// are none, <see cref="Problem"/> says why in one sentence (no loader, no driver, no device).
/// </summary>
public static unsafe class OpenClDevices
{
    static readonly Lazy<(IReadOnlyList<OpenClDeviceInfo> Devices, string? Problem)> Found = new(Enumerate);

    public static IReadOnlyList<OpenClDeviceInfo> All => Found.Value.Devices;

    /// <summary>Why <see cref="All"/> is empty (null when it is not).</summary>
    public static string? Problem => Found.Value.Problem;

    static (IReadOnlyList<OpenClDeviceInfo>, string?) Enumerate()
    {
        try
        {
            uint platformCount;
            int status = ClNative.clGetPlatformIDs(0, null, &platformCount);
            if (status == -1001 || (status == 0 && platformCount == 0))
                return ([], "no OpenCL platform is installed (install an ICD such as pocl-opencl-icd)");
            ClException.Check(status, "clGetPlatformIDs");
            var platforms = new nint[platformCount];
            fixed (nint* p = platforms) ClException.Check(ClNative.clGetPlatformIDs(platformCount, p, null), "clGetPlatformIDs");
            var devices = new List<OpenClDeviceInfo>();
            for (int pi = 0; pi < platforms.Length; pi++) devices.AddRange(DevicesOf(platforms[pi], pi));
            return (devices, devices.Count == 0 ? $"{platforms.Length} OpenCL platform(s) but no device" : null);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return ([], "libOpenCL.so.1 (the OpenCL ICD loader) is not installed (apt-get install ocl-icd-libopencl1 pocl-opencl-icd)");
        }
        catch (ClException e)
        {
            return ([], $"OpenCL enumeration failed: {e.Message}");
        }
    }

    static IEnumerable<OpenClDeviceInfo> DevicesOf(nint platform, int platformIndex)
    {
        uint count;
        int status = ClNative.clGetDeviceIDs(platform, ClNative.DeviceTypeAll, 0, null, &count);
        if (status == -1 || count == 0) return [];
        ClException.Check(status, "clGetDeviceIDs");
        var handles = new nint[count];
        fixed (nint* p = handles) ClException.Check(ClNative.clGetDeviceIDs(platform, ClNative.DeviceTypeAll, count, p, null), "clGetDeviceIDs");
        string platformName = ClQuery.PlatformString(platform, ClNative.PlatformName);
        return handles.Select((d, di) => new OpenClDeviceInfo(
            platformIndex, di, platformName,
            ClQuery.DeviceString(d, ClNative.DeviceName),
            TypeName(ClQuery.Device<ulong>(d, ClNative.DeviceType)),
            ClQuery.DeviceString(d, ClNative.DeviceVersion),
            ClQuery.DeviceString(d, ClNative.DriverVersion),
            ClQuery.DeviceString(d, ClNative.DeviceOpenClCVersion),
            (int)ClQuery.Device<uint>(d, ClNative.DeviceMaxComputeUnits),
            (long)ClQuery.Device<ulong>(d, ClNative.DeviceGlobalMemSize),
            (long)ClQuery.Device<ulong>(d, ClNative.DeviceLocalMemSize),
            (long)ClQuery.Device<nuint>(d, ClNative.DeviceMaxWorkGroupSize))
        {
            PlatformHandle = platform,
            DeviceHandle = d,
        }).ToList();
    }

    static string TypeName(ulong type) =>
        (type & ClNative.DeviceTypeGpu) != 0 ? "GPU" :
        (type & ClNative.DeviceTypeCpu) != 0 ? "CPU" :
        (type & ClNative.DeviceTypeAccelerator) != 0 ? "accelerator" : "other";
}
