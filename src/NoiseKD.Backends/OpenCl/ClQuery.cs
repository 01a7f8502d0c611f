using System.Text;

namespace NoiseKD.Backends.OpenCl;

/// <summary>Typed reads of clGet*Info properties (strings are NUL-terminated bytes of unknown length).</summary>
internal static unsafe class ClQuery
{
    public static string PlatformString(nint platform, uint param)
    {
        nuint size;
        ClException.Check(ClNative.clGetPlatformInfo(platform, param, 0, null, &size), "clGetPlatformInfo");
        var bytes = new byte[(int)size];
        fixed (byte* p = bytes) ClException.Check(ClNative.clGetPlatformInfo(platform, param, size, p, null), "clGetPlatformInfo");
        return Text(bytes);
    }

    public static string DeviceString(nint device, uint param)
    {
        nuint size;
        ClException.Check(ClNative.clGetDeviceInfo(device, param, 0, null, &size), "clGetDeviceInfo");
        var bytes = new byte[(int)size];
        fixed (byte* p = bytes) ClException.Check(ClNative.clGetDeviceInfo(device, param, size, p, null), "clGetDeviceInfo");
        return Text(bytes);
    }

    /// <summary>A fixed-size property: cl_uint, cl_ulong, size_t or a bitfield.</summary>
    public static T Device<T>(nint device, uint param) where T : unmanaged
    {
        T value = default;
        ClException.Check(ClNative.clGetDeviceInfo(device, param, (nuint)sizeof(T), &value, null), "clGetDeviceInfo");
        return value;
    }

    public static string BuildLog(nint program, nint device)
    {
        nuint size;
        if (ClNative.clGetProgramBuildInfo(program, device, ClNative.ProgramBuildLog, 0, null, &size) != 0) return "(no build log)";
        var bytes = new byte[(int)size];
        fixed (byte* p = bytes) ClNative.clGetProgramBuildInfo(program, device, ClNative.ProgramBuildLog, size, p, null);
        return Text(bytes);
    }

    public static string KernelName(nint kernel)
    {
        nuint size;
        ClException.Check(ClNative.clGetKernelInfo(kernel, ClNative.KernelFunctionName, 0, null, &size), "clGetKernelInfo");
        var bytes = new byte[(int)size];
        fixed (byte* p = bytes) ClException.Check(ClNative.clGetKernelInfo(kernel, ClNative.KernelFunctionName, size, p, null), "clGetKernelInfo");
        return Text(bytes);
    }

    static string Text(byte[] bytes)
    {
        int end = Array.IndexOf(bytes, (byte)0);
        return Encoding.UTF8.GetString(bytes, 0, end < 0 ? bytes.Length : end).Trim();
    }
}
