using NoiseKD.Backends.OpenCl;
using Xunit;

namespace NoiseKD.Tests.OpenCl;

/// <summary>
/// The OpenCL device the tests run on: the first one found (PoCL in CI), opened once per test run and
/// kept open (program build and binary cache load happen once). Null, with <see cref="Unavailable"/>
/// saying why, on a machine without one.
/// </summary>
public static class OpenClDevice
{
    static readonly Lazy<(OpenClBackend? Backend, string? Reason)> Opened = new(Open);

    public static OpenClBackend Backend => Opened.Value.Backend ?? throw new InvalidOperationException($"no OpenCL device: {Unavailable}");

    /// <summary>Why there is no device to test (null when there is one).</summary>
    public static string? Unavailable => Opened.Value.Reason;

    static (OpenClBackend?, string?) Open()
    {
        if (OpenClDevices.All.Count == 0) return (null, OpenClDevices.Problem);
        var first = OpenClDevices.All[0];
        return OpenClBackend.TryCreate(first.PlatformIndex, first.DeviceIndex, out var backend, out var reason) ? (backend, null) : (null, reason);
    }
}

/// <summary>A fact that is skipped, with the reason, where no OpenCL device exists (decided at discovery).</summary>
public sealed class OpenClFactAttribute : FactAttribute
{
    public OpenClFactAttribute()
    {
        if (OpenClDevice.Unavailable is { } reason) Skip = $"no OpenCL device: {reason}";
    }
}

/// <summary>A theory that is skipped, with the reason, where no OpenCL device exists (decided at discovery).</summary>
public sealed class OpenClTheoryAttribute : TheoryAttribute
{
    public OpenClTheoryAttribute()
    {
        if (OpenClDevice.Unavailable is { } reason) Skip = $"no OpenCL device: {reason}";
    }
}
