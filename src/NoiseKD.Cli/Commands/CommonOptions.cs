using CommandLine;
using NoiseKD.Backends;
using NoiseKD.Backends.Cpu;
using NoiseKD.Backends.Cuda;
using NoiseKD.Backends.Ilgpu;
using NoiseKD.Backends.OpenCl;
using NoiseKD.Tensors;

namespace NoiseKD.Cli.Commands;

/// <summary>Options every verb shares.</summary>
public abstract class CommonOptions
{
    [Option("device", Default = "cpu", HelpText = "Device to compute on: cpu, cuda (= cuda:0), cuda:N, opencl (the first OpenCL device), opencl:PLATFORM:DEVICE, or through ILGPU: ilgpu-cpu, ilgpu-cuda[:N], ilgpu-opencl[:N] (see `noisekd devices`).")]
    public string Device { get; set; } = "cpu";

    [Option("threads", HelpText = "CPU worker threads (default: all cores).")]
    public int? Threads { get; set; }

    [Option("log-interval", HelpText = "When output is not a terminal: a progress line every N steps (default: about every 30 s).")]
    public int? LogInterval { get; set; }

    [Option("quiet", Default = false, HelpText = "No progress bar or progress lines (the result and any warning are still printed).")]
    public bool Quiet { get; set; }

    [Option("data-root", HelpText = "Folder holding datasets as DIR/NAME/ (default: the per-user ~/.local/share/noisekd/datasets, then /usr/share/datasets).")]
    public string? DataRoot { get; set; }

    /// <summary>
    /// An option under its new name, or its old spelling (still accepted: existing scripts keep working) with a
    /// one-line notice on stderr; both at once is a user error.
    /// </summary>
    protected static T? Renamed<T>(T? current, string name, T? old, string oldName)
    {
        if (old is null) return current;
        if (current is not null) throw new ArgumentException($"{oldName} is the old spelling of {name}; give only {name}");
        Console.Error.WriteLine($"noisekd: {oldName} is deprecated here; use {name}");
        return old;
    }

    /// <summary>Applies --threads, checks NOISEKD_CPU_VECTOR, resolves --device and makes it <see cref="Devices.Default"/> (models, generators and data land on it).</summary>
    protected IBackend OpenDevice()
    {
        if (Threads is int t)
        {
            if (t <= 0) throw new ArgumentException($"--threads {t} must be positive");
            CpuParallel.Threads = t;
        }
        CpuVector.CheckEnvironment();
        var device = ParseDevice(Device);
        Devices.Default = device;
        return device;
    }

    /// <summary>
    /// cpu, cuda (= cuda:0), cuda:N, opencl (= opencl:0:0), opencl:PLATFORM:DEVICE, ilgpu-cpu, ilgpu-cuda[:N] or
    /// ilgpu-opencl[:N]; anything else, or a device that cannot open, is a user error.
    /// </summary>
    public static IBackend ParseDevice(string spec)
    {
        string[] parts = spec.ToLowerInvariant().Split(':');
        if (parts is ["cpu"]) return CpuBackend.Instance;
        if (parts is ["ilgpu-cpu"]) return IlgpuBackend.CreateCpu();
        if (parts[0] is "ilgpu-cuda" or "ilgpu-opencl" && parts.Length is 1 or 2)
        {
            string kind = parts[0]["ilgpu-".Length..];
            int index = 0;
            if (parts.Length == 2 && !(int.TryParse(parts[1], out index) && index >= 0))
                throw new ArgumentException($"--device '{spec}': expected {parts[0]}:N with a device index, e.g. {parts[0]}:0");
            if (!IlgpuBackend.TryCreate(kind, index, out var backend, out var reason))
                throw new ArgumentException($"--device '{spec}' is not available: {reason}");
            return backend!;
        }
        if (parts[0] == "opencl" && parts.Length is 1 or 3)
        {
            int platform = 0, device = 0;
            if (parts.Length == 3 && !(int.TryParse(parts[1], out platform) && int.TryParse(parts[2], out device)))
                throw new ArgumentException($"--device '{spec}': expected opencl:PLATFORM:DEVICE with two indices, e.g. opencl:0:0");
            if (!OpenClBackend.TryCreate(platform, device, out var backend, out var reason))
                throw new ArgumentException($"--device '{spec}' is not available: {reason}");
            return backend!;
        }
        if (parts[0] == "cuda" && parts.Length is 1 or 2)
        {
            int index = 0;
            if (parts.Length == 2 && !(int.TryParse(parts[1], out index) && index >= 0))
                throw new ArgumentException($"--device '{spec}': expected cuda:N with a device index, e.g. cuda:0");
            if (!CudaBackend.TryCreate(index, out var backend, out var reason))
                throw new ArgumentException($"--device '{spec}' is not available: {reason}");
            return backend!;
        }
        throw new ArgumentException($"--device '{spec}' is not a device; use cpu, cuda, cuda:N, opencl, opencl:PLATFORM:DEVICE, ilgpu-cpu, ilgpu-cuda:N or ilgpu-opencl:N (`noisekd devices` lists them)");
    }
}
