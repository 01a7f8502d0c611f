using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace NoiseKD.Backends.Ilgpu;

/// <summary>One device ILGPU sees: its --device spelling, a description, and why it cannot run the kernels (null when it can).</summary>
public sealed record IlgpuDeviceInfo(string Selector, string Description, string? Unusable);

/// <summary>
/// The devices --device can name through ILGPU: <c>ilgpu-cpu</c> (ILGPU's CPU accelerator, which runs the
/// kernels on threads: slow, for verification), <c>cuda:N</c> and <c>opencl:N</c> in ILGPU's order.
/// ILGPU's OpenCL backend emits OpenCL C 2.0 with generic pointers, so an OpenCL device without the
/// generic address space (PoCL 3.1 on CPUs, for one) is listed with that reason and not opened.
/// </summary>
public static class IlgpuDevices
{
    /// <summary>The CPU accelerator's kinds: ILGPU's default (warp 4, 16 threads per group) and wider warps.</summary>
    public static readonly IReadOnlyList<int> CpuWarpSizes = [4, 16, 32];

    /// <summary>
    /// The CPU accelerator with warps of <paramref name="warpSize"/> threads: warp 4 is ILGPU's default kind
    /// (4 warps of 4: 16 threads per group); 16 and 32 get 4 and 2 warps (64 threads per group), so every
    /// kind's group is a power of two the reductions can use. Multiprocessors: the machine's cores.
    /// </summary>
    public static CPUDevice CpuDevice(int warpSize) => warpSize switch
    {
        4 => CPUDevice.GetDevice(CPUDeviceKind.Default),
        16 => new CPUDevice(16, 4, Environment.ProcessorCount),
        32 => new CPUDevice(32, 2, Environment.ProcessorCount),
        _ => throw new ArgumentOutOfRangeException(nameof(warpSize), $"no CPU accelerator kind with warp {warpSize}; kinds: {string.Join(", ", CpuWarpSizes)}"),
    };

    /// <summary>Every device, ilgpu-cpu first; drivers that are missing appear as one line with the reason.</summary>
    public static IReadOnlyList<IlgpuDeviceInfo> All()
    {
        NativeLibraries.Install();
        var cpu = CpuDevice(4);
        var list = new List<IlgpuDeviceInfo>
        {
            new("ilgpu-cpu", $"ILGPU CPU accelerator (warp {cpu.WarpSize}, {cpu.MaxNumThreadsPerGroup} threads per group, {cpu.NumMultiprocessors} multiprocessor{(cpu.NumMultiprocessors == 1 ? "" : "s")}; slow, for verification)", null),
        };
        list.AddRange(Cuda());
        list.AddRange(OpenCl());
        return list;
    }

    static IEnumerable<IlgpuDeviceInfo> Cuda()
    {
        IReadOnlyList<CudaDevice> devices;
        try
        {
            devices = CudaDevice.GetDevices(_ => true).Cast<CudaDevice>().ToList();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or CudaException)
        {
            return [new("cuda", "no CUDA device", $"the CUDA driver (libcuda.so.1) could not be used: {FirstLine(e)}")];
        }
        if (devices.Count == 0) return [new("cuda", "no CUDA device", "no CUDA driver or no NVIDIA GPU on this machine")];
        return devices.Select((d, i) => new IlgpuDeviceInfo($"cuda:{i}",
            $"{d.Name} (sm_{(int)d.Architecture.GetValueOrDefault().Major}{d.Architecture.GetValueOrDefault().Minor}, {d.NumMultiprocessors} multiprocessors, {d.MemorySize / 1048576} MiB)",
            d.Architecture is null ? "ILGPU 1.5.3 does not know this GPU's architecture" : null));
    }

    static IEnumerable<IlgpuDeviceInfo> OpenCl()
    {
        IReadOnlyList<CLDevice> devices;
        try
        {
            devices = CLDevice.GetDevices(_ => true).Cast<CLDevice>().ToList();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or CLException)
        {
            return [new("opencl", "no OpenCL device", $"the OpenCL ICD loader (libOpenCL.so.1) could not be used: {FirstLine(e)}")];
        }
        if (devices.Count == 0) return [new("opencl", "no OpenCL device", "no OpenCL platform with a device is installed")];
        return devices.Select((d, i) => new IlgpuDeviceInfo($"opencl:{i}",
            $"{d.Name} ({d.PlatformName}; {d.DeviceType}; {d.DeviceVersion}; OpenCL C {d.CVersion}; {d.NumMultiprocessors} compute units)",
            d.Capabilities.GenericAddressSpace ? null
                : $"{d.PlatformName} has no generic address space; ILGPU's OpenCL backend needs OpenCL 2.0, or 3.0 with __opencl_c_generic_address_space"));
    }

    /// <summary>The ILGPU device behind a usable selector (cuda:N, opencl:N), or null with the reason.</summary>
    internal static Device? Find(string kind, int index, out string? reason)
    {
        NativeLibraries.Install();
        var found = All().Where(d => d.Selector.StartsWith(kind + ":", StringComparison.Ordinal)).ToList();
        var wanted = found.FirstOrDefault(d => d.Selector == $"{kind}:{index}");
        if (wanted is null)
        {
            var problem = All().FirstOrDefault(d => d.Selector == kind)?.Unusable;
            reason = problem ?? $"there is no {kind} device {index}; devices here: {string.Join(", ", found.Select(d => d.Selector))}";
            return null;
        }
        if (wanted.Unusable is { } unusable)
        {
            reason = $"{wanted.Selector} ({wanted.Description}) cannot run the kernels: {unusable}";
            return null;
        }
        reason = null;
        return kind == "cuda" ? CudaDevice.GetDevices(_ => true)[index] : CLDevice.GetDevices(_ => true)[index];
    }

    static string FirstLine(Exception e)
    {
        var inner = e is TypeInitializationException { InnerException: { } i } ? i : e;
        return inner.Message.Split('\n')[0].TrimEnd('.');
    }
}
