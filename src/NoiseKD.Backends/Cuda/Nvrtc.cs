using System.Text;
using NoiseKD.Backends.Kernels;

namespace NoiseKD.Backends.Cuda;

/// <summary>
/// Compiles the kernel program to PTX with NVRTC for one device, reusing PTX from an earlier run when the
/// source, options and NVRTC version are the same: it lives at ~/.cache/noisekd/cuda/&lt;sha256&gt;.ptx
/// (see <see cref="KernelCache"/>). The driver JIT-compiles PTX to the device's machine code (and keeps
/// its own cache of that, ~/.nv/ComputeCache).
/// </summary>
internal static unsafe class Nvrtc
{
    /// <summary>
    /// Options besides the architecture. --fmad=false: no contraction of a*b + c into fma, as OpenCL's
    /// FP_CONTRACT OFF in portability.h, so the kernels round like the C# reference (MAD() asks for fma where wanted).
    /// </summary>
    static readonly string[] BaseOptions = ["--fmad=false"];

    public static (int Major, int Minor) Version()
    {
        int major, minor;
        NvrtcException.Check(NvrtcNative.nvrtcVersion(&major, &minor), "nvrtcVersion");
        return (major, minor);
    }

    /// <summary>The options for a device: --gpu-architecture=compute_XY for the newest virtual architecture NVRTC has that the device runs.</summary>
    public static string[] Options(CudaDeviceInfo device)
        => [$"--gpu-architecture=compute_{ChooseArchitecture(device.ComputeCapability, SupportedArchitectures(device.ComputeCapability))}", .. BaseOptions];

    /// <summary>
    /// The newest of <paramref name="supported"/> not above the device's compute capability: PTX for an older
    /// virtual architecture runs on newer devices, not the other way round (an NVRTC older than the GPU
    /// still works this way). Throws when NVRTC supports nothing that old.
    /// </summary>
    public static int ChooseArchitecture(int computeCapability, IReadOnlyCollection<int> supported)
    {
        var usable = supported.Where(a => a <= computeCapability).ToList();
        if (usable.Count == 0)
            throw new NotSupportedException($"NVRTC compiles for compute capabilities {string.Join(", ", supported.Order().Select(Dotted))}, " +
                                            $"none of which a {Dotted(computeCapability)} device runs");
        return usable.Max();
    }

    static string Dotted(int capability) => $"{capability / 10}.{capability % 10}";

    /// <summary>nvrtcGetSupportedArchs (CUDA 11.2+); an older NVRTC is trusted with the device's own capability.</summary>
    static int[] SupportedArchitectures(int computeCapability)
    {
        try
        {
            int count;
            NvrtcException.Check(NvrtcNative.nvrtcGetNumSupportedArchs(&count), "nvrtcGetNumSupportedArchs");
            var architectures = new int[count];
            fixed (int* a = architectures) NvrtcException.Check(NvrtcNative.nvrtcGetSupportedArchs(a), "nvrtcGetSupportedArchs");
            return architectures;
        }
        catch (EntryPointNotFoundException)
        {
            return [computeCapability];
        }
    }

    /// <summary>PTX (NUL-terminated, as cuModuleLoadDataEx takes it) of <paramref name="source"/>; <paramref name="fromCache"/> says whether it was reused.</summary>
    public static byte[] Ptx(string source, string[] options, out bool fromCache)
    {
        var (major, minor) = Version();
        string path = Path.Combine(KernelCache.Directory("cuda"), KernelCache.Key(source, string.Join(" ", options), $"nvrtc {major}.{minor}") + ".ptx");
        if (File.Exists(path) && File.ReadAllBytes(path) is { Length: > 0 } cached && cached[^1] == 0)
        {
            fromCache = true;
            return cached;
        }
        fromCache = false;
        byte[] ptx = Compile(source, options);
        KernelCache.TryWrite(path, ptx);
        return ptx;
    }

    /// <summary>One NVRTC compile; a failure throws <see cref="NvrtcException"/> with the compiler's log.</summary>
    static byte[] Compile(string source, string[] options)
    {
        nint program;
        byte[] text = Encoding.UTF8.GetBytes(source + "\0"), name = "noisekd_kernels.cu\0"u8.ToArray();
        fixed (byte* s = text, n = name)
            NvrtcException.Check(NvrtcNative.nvrtcCreateProgram(&program, s, n, 0, null, null), "nvrtcCreateProgram");
        try
        {
            // One buffer of NUL-terminated options, and a pointer to each.
            byte[] packed = Encoding.ASCII.GetBytes(string.Concat(options.Select(o => o + "\0")));
            int status;
            fixed (byte* o = packed)
            {
                byte** pointers = stackalloc byte*[options.Length];
                for (int i = 0, at = 0; i < options.Length; at += options[i].Length + 1, i++) pointers[i] = o + at;
                status = NvrtcNative.nvrtcCompileProgram(program, options.Length, pointers);
            }
            if (status != 0) throw new NvrtcException($"nvrtcCompileProgram({string.Join(" ", options)})", status, Log(program));
            nuint size;
            NvrtcException.Check(NvrtcNative.nvrtcGetPTXSize(program, &size), "nvrtcGetPTXSize");
            var ptx = new byte[(int)size];
            fixed (byte* p = ptx) NvrtcException.Check(NvrtcNative.nvrtcGetPTX(program, p), "nvrtcGetPTX");
            return ptx;
        }
        finally
        {
            NvrtcNative.nvrtcDestroyProgram(&program);
        }
    }

    static string Log(nint program)
    {
        nuint size;
        if (NvrtcNative.nvrtcGetProgramLogSize(program, &size) != 0 || size == 0) return "(no log)";
        var log = new byte[(int)size];
        fixed (byte* p = log)
            if (NvrtcNative.nvrtcGetProgramLog(program, p) != 0) return "(no log)";
        return Encoding.UTF8.GetString(log).TrimEnd('\0').Trim();
    }
}
