using NoiseKD.Backends.Conformance;
using NoiseKD.Backends.Cpu;
using Xunit;

namespace NoiseKD.Tests.OpenCl;

/// <summary>`noisekd check` as tests: every conformance case on the OpenCL device against the CPU backend.</summary>
public class OpenClConformanceTests
{
    public static TheoryData<string> Cases => new(ConformanceCases.All.Select(c => c.Name));

    [OpenClTheory]
    [MemberData(nameof(Cases))]
    public void MatchesCpu(string name)
    {
        var testCase = ConformanceCases.All.Single(c => c.Name == name);
        var result = BackendConformance.Run(testCase, OpenClDevice.Backend, CpuBackend.Instance, seed: 0);
        Assert.True(result.Passed, $"{name}: error {result.Error:E2} > {testCase.Tolerance:E0} {result.Failure}");
    }

    public static TheoryData<string> GemmCases => new(ConformanceCases.All.Where(c => c.Op is "Gemm" or "Conv2dForward").Select(c => c.Name));

    /// <summary>The device runs one of two SGEMM kernels; this checks the one it does not pick by default.</summary>
    [OpenClTheory]
    [MemberData(nameof(GemmCases))]
    public void OtherGemmKernelMatchesCpu(string name)
    {
        var testCase = ConformanceCases.All.Single(c => c.Name == name);
        var other = OtherGemm.Value;
        var result = BackendConformance.Run(testCase, other, CpuBackend.Instance, seed: 0);
        Assert.True(result.Passed, $"{name} (tiled={other.TiledGemm}): error {result.Error:E2} > {testCase.Tolerance:E0} {result.Failure}");
    }

    static readonly Lazy<NoiseKD.Backends.OpenCl.OpenClBackend> OtherGemm = new(() =>
    {
        var device = OpenClDevice.Backend.Device;
        Assert.True(NoiseKD.Backends.OpenCl.OpenClBackend.TryCreate(device.PlatformIndex, device.DeviceIndex, out var backend, out var reason), reason);
        backend!.TiledGemm = !OpenClDevice.Backend.TiledGemm;
        return backend;
    });

    [Fact]
    public void CaseNamesAreUnique() =>
        Assert.Equal(ConformanceCases.All.Count, ConformanceCases.All.Select(c => c.Name).Distinct().Count());

    [Fact]
    public void EveryPrimitiveHasACase()
    {
        var memory = new[] { "Allocate", "Release", "Upload", "Download", "Synchronize", "Dispose" }; // exercised by every case
        var primitives = typeof(NoiseKD.Backends.IBackend).GetMethods().Select(m => m.Name).Where(n => !n.StartsWith("get_", StringComparison.Ordinal)).Except(memory);
        Assert.Empty(primitives.Except(ConformanceCases.All.Select(c => c.Op)));
    }
}
