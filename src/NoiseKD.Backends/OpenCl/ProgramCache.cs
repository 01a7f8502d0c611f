using System.Text;
using NoiseKD.Backends.Kernels;

namespace NoiseKD.Backends.OpenCl;

/// <summary>
/// Builds the kernel program for one device, reusing the driver's binary from an earlier run when the
/// source, build options, device and driver are the same: the binary lives at
/// ~/.cache/noisekd/opencl/&lt;sha256 of all four&gt;.bin ($XDG_CACHE_HOME respected, $NOISEKD_CACHE_DIR
/// overrides). A binary the driver rejects is rebuilt from source and replaced; a cache that cannot be
/// written only costs the next run a compile.
/// </summary>
internal static unsafe class ProgramCache
{
    public static string Directory => KernelCache.Directory("opencl");

    /// <summary>A built program for <paramref name="device"/>; <paramref name="fromCache"/> says whether the binary was reused.</summary>
    public static nint Build(nint context, OpenClDeviceInfo device, string source, string options, out bool fromCache)
    {
        string path = Path.Combine(Directory, Key(device, source, options) + ".bin");
        if (File.Exists(path) && TryBuildFromBinary(context, device.DeviceHandle, File.ReadAllBytes(path), options) is nint cached and not 0)
        {
            fromCache = true;
            return cached;
        }
        fromCache = false;
        nint program = BuildFromSource(context, device.DeviceHandle, source, options);
        TrySave(program, path);
        return program;
    }

    static string Key(OpenClDeviceInfo device, string source, string options)
        => KernelCache.Key(source, options, device.Platform, device.Name, device.Version, device.DriverVersion);

    static nint BuildFromSource(nint context, nint device, string source, string options)
    {
        byte[] text = Encoding.UTF8.GetBytes(source);
        int status;
        nint program;
        fixed (byte* p = text)
        {
            byte* strings = p;
            nuint length = (nuint)text.Length;
            program = ClNative.clCreateProgramWithSource(context, 1, &strings, &length, &status);
        }
        ClException.Check(status, "clCreateProgramWithSource");
        status = Compile(program, device, options);
        if (status != 0)
        {
            string log = ClQuery.BuildLog(program, device);
            ClNative.clReleaseProgram(program);
            throw new ClException("clBuildProgram", status, "kernel build log:\n" + log);
        }
        return program;
    }

    /// <summary>The program from a cached binary, or 0 when the driver does not accept it.</summary>
    static nint TryBuildFromBinary(nint context, nint device, byte[] binary, string options)
    {
        int status, binaryStatus;
        nint program;
        fixed (byte* p = binary)
        {
            byte* binaries = p;
            nuint length = (nuint)binary.Length;
            program = ClNative.clCreateProgramWithBinary(context, 1, &device, &length, &binaries, &binaryStatus, &status);
        }
        if (status != 0 || binaryStatus != 0) return 0;
        if (Compile(program, device, options) == 0) return program;
        ClNative.clReleaseProgram(program);
        return 0;
    }

    static int Compile(nint program, nint device, string options)
    {
        byte[] text = Encoding.ASCII.GetBytes(options + "\0");
        fixed (byte* o = text) return ClNative.clBuildProgram(program, 1, &device, o, 0, 0);
    }

    static void TrySave(nint program, string path)
    {
        try
        {
            nuint size;
            ClException.Check(ClNative.clGetProgramInfo(program, ClNative.ProgramBinarySizes, (nuint)sizeof(nuint), &size, null), "clGetProgramInfo");
            if (size == 0) return;
            var binary = new byte[(int)size];
            fixed (byte* p = binary)
            {
                byte* binaries = p;
                ClException.Check(ClNative.clGetProgramInfo(program, ClNative.ProgramBinaries, (nuint)sizeof(nint), &binaries, null), "clGetProgramInfo");
            }
            KernelCache.TryWrite(path, binary);
        }
        catch (ClException)
        {
            // The cache is an optimisation; the program is already built.
        }
    }
}
