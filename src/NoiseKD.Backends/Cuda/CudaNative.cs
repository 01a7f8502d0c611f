using System.Runtime.InteropServices;

namespace NoiseKD.Backends.Cuda;

/// <summary>
/// The CUDA driver API entry points this backend uses (cuda.h; the _v2 symbols are what the header's
/// macros resolve to for 64-bit sizes). Bound to libcuda.so.1, the library the NVIDIA driver installs;
/// no toolkit is needed at run time beyond NVRTC. Every function returns a CUresult (0 = success) that
/// <see cref="CudaException.Check"/> turns into an exception carrying the error's name and description.
/// </summary>
internal static unsafe partial class CudaNative
{
    public const string Library = "libcuda.so.1";

    static CudaNative() => CudaLibraries.EnsureResolver();

    // ---- constants (cuda.h) -----------------------------------------------------------------------
    public const int AttributeMaxThreadsPerBlock = 1, AttributeMultiprocessorCount = 16,
                     AttributeComputeCapabilityMajor = 75, AttributeComputeCapabilityMinor = 76;
    public const int FunctionAttributeMaxThreadsPerBlock = 0;
    public const int JitErrorLogBuffer = 5, JitErrorLogBufferSizeBytes = 6;

    // ---- initialization, devices, errors ----------------------------------------------------------
    [LibraryImport(Library)] public static partial int cuInit(uint flags);
    [LibraryImport(Library)] public static partial int cuDriverGetVersion(int* version);
    [LibraryImport(Library)] public static partial int cuDeviceGetCount(int* count);
    [LibraryImport(Library)] public static partial int cuDeviceGet(int* device, int ordinal);
    [LibraryImport(Library)] public static partial int cuDeviceGetName(byte* name, int length, int device);
    [LibraryImport(Library)] public static partial int cuDeviceGetAttribute(int* value, int attribute, int device);
    [LibraryImport(Library, EntryPoint = "cuDeviceTotalMem_v2")] public static partial int cuDeviceTotalMem(nuint* bytes, int device);
    [LibraryImport(Library)] public static partial int cuGetErrorName(int error, byte** name);
    [LibraryImport(Library)] public static partial int cuGetErrorString(int error, byte** description);

    // ---- context and stream -----------------------------------------------------------------------
    [LibraryImport(Library)] public static partial int cuDevicePrimaryCtxRetain(nint* context, int device);
    [LibraryImport(Library, EntryPoint = "cuDevicePrimaryCtxRelease_v2")] public static partial int cuDevicePrimaryCtxRelease(int device);
    [LibraryImport(Library)] public static partial int cuCtxSetCurrent(nint context);
    [LibraryImport(Library)] public static partial int cuStreamCreate(nint* stream, uint flags);
    [LibraryImport(Library, EntryPoint = "cuStreamDestroy_v2")] public static partial int cuStreamDestroy(nint stream);
    [LibraryImport(Library)] public static partial int cuStreamSynchronize(nint stream);

    // ---- events (device-side timing) --------------------------------------------------------------
    [LibraryImport(Library)] public static partial int cuEventCreate(nint* evt, uint flags);
    [LibraryImport(Library)] public static partial int cuEventRecord(nint evt, nint stream);
    [LibraryImport(Library)] public static partial int cuEventSynchronize(nint evt);
    [LibraryImport(Library)] public static partial int cuEventElapsedTime(float* milliseconds, nint start, nint end);
    [LibraryImport(Library, EntryPoint = "cuEventDestroy_v2")] public static partial int cuEventDestroy(nint evt);

    // ---- memory (CUdeviceptr is a 64-bit address) -------------------------------------------------
    [LibraryImport(Library, EntryPoint = "cuMemAlloc_v2")] public static partial int cuMemAlloc(ulong* address, nuint bytes);
    [LibraryImport(Library, EntryPoint = "cuMemFree_v2")] public static partial int cuMemFree(ulong address);
    [LibraryImport(Library, EntryPoint = "cuMemcpyHtoDAsync_v2")] public static partial int cuMemcpyHtoDAsync(ulong destination, void* source, nuint bytes, nint stream);
    [LibraryImport(Library, EntryPoint = "cuMemcpyDtoHAsync_v2")] public static partial int cuMemcpyDtoHAsync(void* destination, ulong source, nuint bytes, nint stream);
    [LibraryImport(Library, EntryPoint = "cuMemcpyDtoDAsync_v2")] public static partial int cuMemcpyDtoDAsync(ulong destination, ulong source, nuint bytes, nint stream);
    [LibraryImport(Library, EntryPoint = "cuMemsetD32Async")] public static partial int cuMemsetD32Async(ulong destination, uint value, nuint count, nint stream);

    // ---- modules and kernels ----------------------------------------------------------------------
    [LibraryImport(Library)]
    public static partial int cuModuleLoadDataEx(nint* module, void* image, uint numOptions, int* options, void** optionValues);
    [LibraryImport(Library)] public static partial int cuModuleUnload(nint module);
    [LibraryImport(Library)] public static partial int cuModuleGetFunction(nint* function, nint module, byte* name);
    [LibraryImport(Library)] public static partial int cuFuncGetAttribute(int* value, int attribute, nint function);
    [LibraryImport(Library)]
    public static partial int cuLaunchKernel(nint function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
                                             uint sharedMemBytes, nint stream, void** kernelParams, void** extra);
}
