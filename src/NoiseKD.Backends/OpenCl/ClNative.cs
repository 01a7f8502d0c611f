using System.Runtime.InteropServices;

namespace NoiseKD.Backends.OpenCl;

/// <summary>
/// The OpenCL 1.2 host API entry points this backend uses, bound straight to the ICD loader
/// (libOpenCL.so.1, which dispatches to whatever drivers are installed: PoCL, NVIDIA, ROCm, Intel).
/// Handles are opaque pointers; every function returns or writes a cl_int status (0 = success) that
/// <see cref="ClException.Check"/> turns into an exception with the status's name.
/// </summary>
internal static unsafe partial class ClNative
{
    const string Library = "libOpenCL.so.1";

    // ---- constants (cl.h) -------------------------------------------------------------------------
    public const uint PlatformVersion = 0x0901, PlatformName = 0x0902, PlatformVendor = 0x0903;
    public const ulong DeviceTypeAll = 0xFFFFFFFF;
    public const uint DeviceType = 0x1000, DeviceMaxComputeUnits = 0x1002, DeviceMaxWorkGroupSize = 0x1004,
                      DeviceMaxMemAllocSize = 0x1010, DeviceGlobalMemSize = 0x101F, DeviceLocalMemSize = 0x1023,
                      DeviceName = 0x102B, DeviceVendor = 0x102C, DriverVersion = 0x102D, DeviceVersion = 0x102F,
                      DeviceOpenClCVersion = 0x103D;
    public const ulong DeviceTypeCpu = 1 << 1, DeviceTypeGpu = 1 << 2, DeviceTypeAccelerator = 1 << 3;
    public const ulong MemReadWrite = 1 << 0;
    public const uint ProgramNumDevices = 0x1162, ProgramBinarySizes = 0x1165, ProgramBinaries = 0x1166;
    public const uint ProgramBuildLog = 0x1183;
    public const uint KernelFunctionName = 0x1190;
    public const uint KernelWorkGroupSize = 0x11B0;

    // ---- platforms and devices --------------------------------------------------------------------
    [LibraryImport(Library)] public static partial int clGetPlatformIDs(uint numEntries, nint* platforms, uint* numPlatforms);
    [LibraryImport(Library)] public static partial int clGetPlatformInfo(nint platform, uint param, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Library)] public static partial int clGetDeviceIDs(nint platform, ulong type, uint numEntries, nint* devices, uint* numDevices);
    [LibraryImport(Library)] public static partial int clGetDeviceInfo(nint device, uint param, nuint size, void* value, nuint* sizeRet);

    // ---- context and queue ------------------------------------------------------------------------
    [LibraryImport(Library)] public static partial nint clCreateContext(nint* properties, uint numDevices, nint* devices, nint notify, nint userData, int* errcode);
    [LibraryImport(Library)] public static partial int clReleaseContext(nint context);
    [LibraryImport(Library)] public static partial nint clCreateCommandQueue(nint context, nint device, ulong properties, int* errcode);
    [LibraryImport(Library)] public static partial int clReleaseCommandQueue(nint queue);
    [LibraryImport(Library)] public static partial int clFlush(nint queue);
    [LibraryImport(Library)] public static partial int clFinish(nint queue);

    // ---- buffers ----------------------------------------------------------------------------------
    [LibraryImport(Library)] public static partial nint clCreateBuffer(nint context, ulong flags, nuint size, void* hostPtr, int* errcode);
    [LibraryImport(Library)] public static partial int clReleaseMemObject(nint memory);
    [LibraryImport(Library)]
    public static partial int clEnqueueReadBuffer(nint queue, nint buffer, uint blocking, nuint offset, nuint size, void* ptr,
                                                  uint numEvents, nint* waitList, nint* evt);
    [LibraryImport(Library)]
    public static partial int clEnqueueWriteBuffer(nint queue, nint buffer, uint blocking, nuint offset, nuint size, void* ptr,
                                                   uint numEvents, nint* waitList, nint* evt);
    [LibraryImport(Library)]
    public static partial int clEnqueueCopyBuffer(nint queue, nint source, nint destination, nuint sourceOffset, nuint destinationOffset,
                                                  nuint size, uint numEvents, nint* waitList, nint* evt);
    [LibraryImport(Library)]
    public static partial int clEnqueueFillBuffer(nint queue, nint buffer, void* pattern, nuint patternSize, nuint offset, nuint size,
                                                  uint numEvents, nint* waitList, nint* evt);

    // ---- programs and kernels ---------------------------------------------------------------------
    [LibraryImport(Library)] public static partial nint clCreateProgramWithSource(nint context, uint count, byte** strings, nuint* lengths, int* errcode);
    [LibraryImport(Library)]
    public static partial nint clCreateProgramWithBinary(nint context, uint numDevices, nint* devices, nuint* lengths, byte** binaries,
                                                         int* binaryStatus, int* errcode);
    [LibraryImport(Library)] public static partial int clBuildProgram(nint program, uint numDevices, nint* devices, byte* options, nint notify, nint userData);
    [LibraryImport(Library)] public static partial int clGetProgramBuildInfo(nint program, nint device, uint param, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Library)] public static partial int clGetProgramInfo(nint program, uint param, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Library)] public static partial int clReleaseProgram(nint program);
    [LibraryImport(Library)] public static partial int clCreateKernelsInProgram(nint program, uint numKernels, nint* kernels, uint* numKernelsRet);
    [LibraryImport(Library)] public static partial int clGetKernelInfo(nint kernel, uint param, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Library)] public static partial int clGetKernelWorkGroupInfo(nint kernel, nint device, uint param, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Library)] public static partial int clReleaseKernel(nint kernel);
    [LibraryImport(Library)] public static partial int clSetKernelArg(nint kernel, uint index, nuint size, void* value);
    [LibraryImport(Library)]
    public static partial int clEnqueueNDRangeKernel(nint queue, nint kernel, uint workDim, nuint* globalOffset, nuint* globalSize,
                                                     nuint* localSize, uint numEvents, nint* waitList, nint* evt);

    // ---- events -----------------------------------------------------------------------------------
    [LibraryImport(Library)] public static partial int clWaitForEvents(uint numEvents, nint* events);
    [LibraryImport(Library)] public static partial int clReleaseEvent(nint evt);
}
