using NoiseKD.Backends.Conformance;
using NoiseKD.Backends.Cpu;
using NoiseKD.Tests.Backends;
using Xunit;

namespace NoiseKD.Tests.Cuda;

/// <summary>`noisekd check --device cuda` as tests, and five steps of noise KD on CUDA against the CPU.</summary>
public class CudaConformanceTests
{
    public static TheoryData<string> Cases => new(ConformanceCases.All.Select(c => c.Name));

    [CudaTheory]
    [MemberData(nameof(Cases))]
    public void MatchesCpu(string name)
    {
        var testCase = ConformanceCases.All.Single(c => c.Name == name);
        var result = BackendConformance.Run(testCase, CudaDevice.Backend, CpuBackend.Instance, seed: 0);
        Assert.True(result.Passed, $"{name}: error {result.Error:E2} > {testCase.Tolerance:E0} {result.Failure}");
    }

    [CudaFact]
    public void SecondOpenLoadsCachedPtx()
    {
        _ = CudaDevice.Backend; // compiled (or loaded) once
        Assert.True(NoiseKD.Backends.Cuda.CudaBackend.TryCreate(CudaDevice.Backend.Device.Index, out var again, out var reason), reason);
        using (again) Assert.True(again!.PtxFromCache, "the second open should reuse the PTX the first one cached");
    }
}

/// <summary>Changes Devices.Default, so it runs with the other tests that do, alone.</summary>
[Collection(DeviceDefaultsCollection.Name)]
public class CudaDistillationTests
{
    [CudaFact]
    public void NoiseKdStepsMatchCpu() => DeviceDistillation.AssertMatchesCpu(CudaDevice.Backend);
}
