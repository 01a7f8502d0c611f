using System.Text;

namespace NoiseKD.Backends.OpenCl;

/// <summary>Typed reads of clGet*Info properties (strings are NUL-terminated bytes of unknown length).</summary>
internal static unsafe class ClQuery
{
    /// <summary>A clGet*Info call: (size, value, sizeRet) -> status, for one object and property.</summary>
    delegate int InfoCall(nuint size, void* value, nuint* sizeRet);

    public static string PlatformString(nint platform, uint param)
        => String((size, value, sizeRet) => ClNative.clGetPlatformInfo(platform, param, size, value, sizeRet), "clGetPlatformInfo");

    public static string DeviceString(nint device, uint param)
        => String((size, value, sizeRet) => ClNative.clGetDeviceInfo(device, param, size, value, sizeRet), "clGetDeviceInfo");

    public static string KernelName(nint kernel)
        => String((size, value, sizeRet) => ClNative.clGetKernelInfo(kernel, ClNative.KernelFunctionName, size, value, sizeRet), "clGetKernelInfo");

    /// <summary>Asks for the length, then the bytes.</summary>
    static string String(InfoCall call, string name)
    {
        nuint size;
        ClException.Check(call(0, null, &size), name);
        var bytes = new byte[(int)size];
        fixed (byte* p = bytes) ClException.Check(call(size, p, null), name);
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
        try
        {
            return String((size, value, sizeRet) => ClNative.clGetProgramBuildInfo(program, device, ClNative.ProgramBuildLog, size, value, sizeRet),
                          "clGetProgramBuildInfo");
        }
        catch (ClException e)
        {
            return $"(no build log: {e.Message})";
        }
    }

    static string Text(byte[] bytes)
    {
        int end = Array.IndexOf(bytes, (byte)0);
        return Encoding.UTF8.GetString(bytes, 0, end < 0 ? bytes.Length : end).Trim();
    }
}
