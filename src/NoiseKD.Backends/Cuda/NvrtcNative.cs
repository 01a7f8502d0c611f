using System.Runtime.InteropServices;

namespace NoiseKD.Backends.Cuda;

/// <summary>
/// The NVRTC entry points (nvrtc.h) that compile kernels/*.cl as CUDA C++ to PTX at run time. The
/// library's file name carries the toolkit's version (libnvrtc.so.12), so the logical name below is
/// mapped to the file <see cref="CudaLibraries.Nvrtc"/> found. Every function returns an nvrtcResult
/// (0 = success); see <see cref="NvrtcException"/>.
/// </summary>
internal static unsafe partial class NvrtcNative
{
    public const string Library = "nvrtc";

    static NvrtcNative() => CudaLibraries.EnsureResolver();

    [LibraryImport(Library)] public static partial int nvrtcVersion(int* major, int* minor);
    /// <summary>CUDA 11.2+; older NVRTC lacks it (EntryPointNotFoundException).</summary>
    [LibraryImport(Library)] public static partial int nvrtcGetNumSupportedArchs(int* count);
    [LibraryImport(Library)] public static partial int nvrtcGetSupportedArchs(int* architectures);
    [LibraryImport(Library)]
    public static partial int nvrtcCreateProgram(nint* program, byte* source, byte* name, int numHeaders, byte** headers, byte** includeNames);
    [LibraryImport(Library)] public static partial int nvrtcCompileProgram(nint program, int numOptions, byte** options);
    [LibraryImport(Library)] public static partial int nvrtcGetPTXSize(nint program, nuint* size);
    [LibraryImport(Library)] public static partial int nvrtcGetPTX(nint program, byte* ptx);
    [LibraryImport(Library)] public static partial int nvrtcGetProgramLogSize(nint program, nuint* size);
    [LibraryImport(Library)] public static partial int nvrtcGetProgramLog(nint program, byte* log);
    [LibraryImport(Library)] public static partial int nvrtcDestroyProgram(nint* program);
}
