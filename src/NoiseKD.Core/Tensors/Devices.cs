using NoiseKD.Backends;
using NoiseKD.Backends.Cpu;

namespace NoiseKD.Tensors;

/// <summary>Where new tensors live when no device is named.</summary>
public static class Devices
{
    static IBackend? _default;

    public static IBackend Cpu => CpuBackend.Instance;

    /// <summary>The device used when none is given (the managed CPU backend unless changed).</summary>
    public static IBackend Default
    {
        get => _default ?? Cpu;
        set => _default = value;
    }
}
