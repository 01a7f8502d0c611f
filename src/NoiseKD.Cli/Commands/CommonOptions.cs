using CommandLine;
using NoiseKD.Backends;
using NoiseKD.Backends.Cpu;

namespace NoiseKD.Cli.Commands;

/// <summary>Options every verb shares.</summary>
public abstract class CommonOptions
{
    [Option("device", Default = "cpu", HelpText = "Device to compute on: cpu.")]
    public string Device { get; set; } = "cpu";

    [Option("threads", HelpText = "CPU worker threads (default: all cores).")]
    public int? Threads { get; set; }

    [Option("data-root", HelpText = "Folder holding datasets (default: /usr/share/datasets).")]
    public string? DataRoot { get; set; }

    /// <summary>Applies --threads and resolves --device.</summary>
    protected IBackend OpenDevice()
    {
        if (Threads is int t)
        {
            if (t <= 0) throw new ArgumentException($"--threads {t} must be positive");
            CpuParallel.Threads = t;
        }
        return Device.ToLowerInvariant() switch
        {
            "cpu" => CpuBackend.Instance,
            _ => throw new ArgumentException($"--device '{Device}' is not available; devices here: cpu"),
        };
    }
}
