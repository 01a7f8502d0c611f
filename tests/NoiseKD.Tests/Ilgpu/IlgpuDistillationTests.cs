using NoiseKD.Tests.Backends;
using Xunit;

namespace NoiseKD.Tests.Ilgpu;

/// <summary>Five steps of noise KD on ilgpu-cpu match the CPU backend within 1e-3 (<see cref="DeviceDistillation"/>).</summary>
[Collection(DeviceDefaultsCollection.Name)]
public class IlgpuDistillationTests
{
    [Fact]
    public void NoiseKdStepsMatchCpu() => DeviceDistillation.AssertMatchesCpu(IlgpuDevice.Lean);
}
