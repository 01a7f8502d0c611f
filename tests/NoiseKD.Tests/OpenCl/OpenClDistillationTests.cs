using NoiseKD.Tests.Backends;
using Xunit;

namespace NoiseKD.Tests.OpenCl;

/// <summary>Five steps of noise KD on OpenCL match the CPU (<see cref="DeviceDistillation"/>).</summary>
[Collection(DeviceDefaultsCollection.Name)]
public class OpenClDistillationTests
{
    [OpenClFact]
    public void NoiseKdStepsMatchCpu() => DeviceDistillation.AssertMatchesCpu(OpenClDevice.Backend);
}
