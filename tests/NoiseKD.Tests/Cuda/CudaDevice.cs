using NoiseKD.Backends.Cuda;
using Xunit;

namespace NoiseKD.Tests.Cuda;

/// <summary>
/// The CUDA device the tests run on: cuda:0, opened once per test run and kept open (NVRTC compile or
/// PTX cache load happens once). Null, with <see cref="Unavailable"/> saying why (no driver library, no
/// device, no NVRTC, kernels that do not build), on a machine without one.
/// </summary>
public static class CudaDevice
{
    static readonly Lazy<(CudaBackend? Backend, string? Reason)> Opened = new(Open);

    public static CudaBackend Backend => Opened.Value.Backend ?? throw new InvalidOperationException($"no CUDA device: {Unavailable}");

    /// <summary>Why there is no device to test (null when there is one).</summary>
    public static string? Unavailable => Opened.Value.Reason;

    static (CudaBackend?, string?) Open()
        => CudaBackend.TryCreate(0, out var backend, out var reason) ? (backend, null) : (null, reason);
}

/// <summary>A fact that is skipped, with the reason, where no CUDA device can run the kernels (decided at discovery).</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (CudaDevice.Unavailable is { } reason) Skip = $"no CUDA device: {reason}";
    }
}

/// <summary>A theory that is skipped, with the reason, where no CUDA device can run the kernels (decided at discovery).</summary>
public sealed class CudaTheoryAttribute : TheoryAttribute
{
    public CudaTheoryAttribute()
    {
        if (CudaDevice.Unavailable is { } reason) Skip = $"no CUDA device: {reason}";
    }
}
