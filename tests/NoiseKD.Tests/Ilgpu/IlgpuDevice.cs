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

    static readonly Lazy<IlgpuBackend> LeanOpened = new(() => IlgpuBackend.CreateCpu(new ILGPU.Runtime.CPU.CPUDevice(4, 1, 1), "ilgpu-cpu (warp 4, 4 threads per group)"));

    /// <summary>
    /// The CPU accelerator at warp 4 with one warp per group (4 threads): the end-to-end tests (op tests, five
    /// noise-KD steps) launch thousands of kernels, and each launch wakes every thread of a group, so 16-thread
    /// groups cost about 10x more per launch on two cores. The kernels are the same; only the launch shape differs.
    /// </summary>
    public static IlgpuBackend Lean => LeanOpened.Value;
}
