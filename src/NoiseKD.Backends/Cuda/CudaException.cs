using System.Runtime.InteropServices;

namespace NoiseKD.Backends.Cuda;

/// <summary>
/// A CUDA driver call that returned an error: the message names the call, the CUresult's name and the
/// driver's description of it (from cuGetErrorString when the driver can say, else a built-in table).
/// </summary>
public sealed class CudaException(string call, int status, string? detail = null)
    : Exception(Compose(call, status, detail))
{
    public const int StubLibrary = 34, NoDevice = 100, UnsupportedPtxVersion = 222, LaunchOutOfResources = 701;

    public int Status { get; } = status;

    internal static void Check(int status, string call)
    {
        if (status != 0) throw new CudaException(call, status);
    }

    static string Compose(string call, int status, string? detail)
    {
        string description = Describe(status);
        return $"{call} failed with {Name(status)} ({status})" + (description.Length == 0 ? "" : $": {description}") + (detail is null ? "" : $"; {detail}");
    }

    /// <summary>The driver's own sentence for an error (it has one for every code it can return); "" without a driver.</summary>
    static unsafe string Describe(int status)
    {
        try
        {
            byte* text;
            return CudaNative.cuGetErrorString(status, &text) == 0 && text != null ? Marshal.PtrToStringUTF8((nint)text) ?? "" : "";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return "";
        }
    }

    /// <summary>The CUDA_* name of a CUresult (cuda.h), as cuGetErrorName gives it.</summary>
    public static string Name(int status) => status switch
    {
        0 => "CUDA_SUCCESS",
        1 => "CUDA_ERROR_INVALID_VALUE",
        2 => "CUDA_ERROR_OUT_OF_MEMORY",
        3 => "CUDA_ERROR_NOT_INITIALIZED",
        4 => "CUDA_ERROR_DEINITIALIZED",
        5 => "CUDA_ERROR_PROFILER_DISABLED",
        34 => "CUDA_ERROR_STUB_LIBRARY",
        46 => "CUDA_ERROR_DEVICE_UNAVAILABLE",
        100 => "CUDA_ERROR_NO_DEVICE",
        101 => "CUDA_ERROR_INVALID_DEVICE",
        102 => "CUDA_ERROR_DEVICE_NOT_LICENSED",
        200 => "CUDA_ERROR_INVALID_IMAGE",
        201 => "CUDA_ERROR_INVALID_CONTEXT",
        205 => "CUDA_ERROR_MAP_FAILED",
        206 => "CUDA_ERROR_UNMAP_FAILED",
        209 => "CUDA_ERROR_NO_BINARY_FOR_GPU",
        214 => "CUDA_ERROR_ECC_UNCORRECTABLE",
        215 => "CUDA_ERROR_UNSUPPORTED_LIMIT",
        216 => "CUDA_ERROR_CONTEXT_ALREADY_IN_USE",
        218 => "CUDA_ERROR_INVALID_PTX",
        220 => "CUDA_ERROR_NVLINK_UNCORRECTABLE",
        221 => "CUDA_ERROR_JIT_COMPILER_NOT_FOUND",
        222 => "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
        223 => "CUDA_ERROR_JIT_COMPILATION_DISABLED",
        300 => "CUDA_ERROR_INVALID_SOURCE",
        301 => "CUDA_ERROR_FILE_NOT_FOUND",
        302 => "CUDA_ERROR_SHARED_OBJECT_SYMBOL_NOT_FOUND",
        303 => "CUDA_ERROR_SHARED_OBJECT_INIT_FAILED",
        304 => "CUDA_ERROR_OPERATING_SYSTEM",
        400 => "CUDA_ERROR_INVALID_HANDLE",
        401 => "CUDA_ERROR_ILLEGAL_STATE",
        500 => "CUDA_ERROR_NOT_FOUND",
        600 => "CUDA_ERROR_NOT_READY",
        700 => "CUDA_ERROR_ILLEGAL_ADDRESS",
        701 => "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
        702 => "CUDA_ERROR_LAUNCH_TIMEOUT",
        709 => "CUDA_ERROR_CONTEXT_IS_DESTROYED",
        710 => "CUDA_ERROR_ASSERT",
        714 => "CUDA_ERROR_HARDWARE_STACK_ERROR",
        715 => "CUDA_ERROR_ILLEGAL_INSTRUCTION",
        716 => "CUDA_ERROR_MISALIGNED_ADDRESS",
        717 => "CUDA_ERROR_INVALID_ADDRESS_SPACE",
        718 => "CUDA_ERROR_INVALID_PC",
        719 => "CUDA_ERROR_LAUNCH_FAILED",
        800 => "CUDA_ERROR_NOT_PERMITTED",
        801 => "CUDA_ERROR_NOT_SUPPORTED",
        802 => "CUDA_ERROR_SYSTEM_NOT_READY",
        803 => "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
        804 => "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE",
        999 => "CUDA_ERROR_UNKNOWN",
        _ => "an unknown CUDA error",
    };
}

/// <summary>An NVRTC call that failed; a failed compile carries NVRTC's log (the compiler's messages with line numbers).</summary>
public sealed class NvrtcException(string call, int status, string? log = null)
    : Exception($"{call} failed with {NvrtcException.Name(status)} ({status})" + (string.IsNullOrWhiteSpace(log) ? "" : $"; NVRTC log:\n{log}"))
{
    public int Status { get; } = status;

    public string? Log { get; } = log;

    internal static void Check(int status, string call)
    {
        if (status != 0) throw new NvrtcException(call, status);
    }

    /// <summary>The NVRTC_* name of an nvrtcResult (nvrtc.h), as nvrtcGetErrorString gives it.</summary>
    public static string Name(int status) => status switch
    {
        0 => "NVRTC_SUCCESS",
        1 => "NVRTC_ERROR_OUT_OF_MEMORY",
        2 => "NVRTC_ERROR_PROGRAM_CREATION_FAILURE",
        3 => "NVRTC_ERROR_INVALID_INPUT",
        4 => "NVRTC_ERROR_INVALID_PROGRAM",
        5 => "NVRTC_ERROR_INVALID_OPTION",
        6 => "NVRTC_ERROR_COMPILATION",
        7 => "NVRTC_ERROR_BUILTIN_OPERATION_FAILURE",
        8 => "NVRTC_ERROR_NO_NAME_EXPRESSIONS_AFTER_COMPILATION",
        9 => "NVRTC_ERROR_NO_LOWERED_NAMES_BEFORE_COMPILATION",
        10 => "NVRTC_ERROR_NAME_EXPRESSION_NOT_VALID",
        11 => "NVRTC_ERROR_INTERNAL_ERROR",
        _ => "an unknown NVRTC error",
    };
}
