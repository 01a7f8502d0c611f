using CommandLine;
using NoiseKD.Backends;
using NoiseKD.Backends.Cpu;
using NoiseKD.Backends.Ilgpu;
using NoiseKD.Tensors;

namespace NoiseKD.Cli.Commands;

/// <summary>Options every verb shares.</summary>
public abstract class CommonOptions
{
    [Option("device", Default = "cpu", HelpText = "Device to compute on: cpu (the managed CPU backend), cuda[:N] or opencl[:N] (our ILGPU kernels on a GPU; N defaults to 0), ilgpu-cpu (the same kernels on ILGPU's CPU accelerator: slow, for verification). `noisekd devices` lists them.")]
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
    /// cpu, ilgpu-cpu, cuda[:N] or opencl[:N] (ILGPU's CUDA and OpenCL backends; the older spellings
    /// ilgpu-cuda[:N] and ilgpu-opencl[:N] name the same devices); anything else, or a device that cannot
    /// open, is a user error.
    /// </summary>
    public static IBackend ParseDevice(string spec)
    {
        string[] parts = spec.ToLowerInvariant().Split(':');
        if (parts is ["cpu"]) return CpuBackend.Instance;
        if (parts is ["ilgpu-cpu"]) return IlgpuBackend.CreateCpu();
        string kind = parts[0].StartsWith("ilgpu-", StringComparison.Ordinal) ? parts[0]["ilgpu-".Length..] : parts[0];
        if (kind is "cuda" or "opencl")
        {
            int index = 0;
            if (parts.Length > 2 || parts.Length == 2 && !(int.TryParse(parts[1], out index) && index >= 0))
                throw new ArgumentException($"--device '{spec}': expected {kind}:N with one device index, e.g. {kind}:0 (`noisekd devices` lists them)");
            if (!IlgpuBackend.TryCreate(kind, index, out var backend, out var reason))
                throw new ArgumentException($"--device '{spec}' is not available: {reason}");
            return backend!;
        }
        throw new ArgumentException($"--device '{spec}' is not a device; use cpu, cuda, cuda:N, opencl, opencl:N or ilgpu-cpu (`noisekd devices` lists them)");
    }
}
