using System.Collections.Concurrent;
using NoiseKD.Backends.Ilgpu;

namespace NoiseKD.Tests.Ilgpu;

/// <summary>
/// The ILGPU backends the tests run on: ILGPU's CPU accelerator at each warp size of
/// <see cref="IlgpuDevices.CpuWarpSizes"/>, opened once per test run and kept open (kernels compile once per family).
/// </summary>
public static class IlgpuDevice
{
    static readonly ConcurrentDictionary<int, Lazy<IlgpuBackend>> Opened = new();

    /// <summary>The CPU accelerator with warps of <paramref name="warpSize"/> threads (4: ILGPU's default kind, <c>--device ilgpu-cpu</c>).</summary>
    public static IlgpuBackend Cpu(int warpSize = 4) => Opened.GetOrAdd(warpSize, w => new(() => IlgpuBackend.CreateCpu(w))).Value;
}
