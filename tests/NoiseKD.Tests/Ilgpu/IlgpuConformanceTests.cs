using NoiseKD.Backends.Conformance;
using NoiseKD.Backends.Cpu;
using NoiseKD.Backends.Ilgpu;
using Xunit;

namespace NoiseKD.Tests.Ilgpu;

/// <summary>
/// `noisekd check` as tests: every conformance case on ILGPU's CPU accelerator against the managed CPU
/// backend, at warp sizes 4 (ILGPU's default kind, 16 threads per group), 16 and 32 (64 threads per group),
/// so the group reductions and the SGEMM tiles run at two group sizes and three warp shapes.
/// </summary>
public class IlgpuConformanceTests
{
    public static TheoryData<int, string> Cases
    {
        get
        {
            var data = new TheoryData<int, string>();
            foreach (int warp in IlgpuDevices.CpuWarpSizes)
                foreach (var c in ConformanceCases.All) data.Add(warp, c.Name);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesCpu(int warp, string name)
    {
        var testCase = ConformanceCases.All.Single(c => c.Name == name);
        var result = BackendConformance.Run(testCase, IlgpuDevice.Cpu(warp), CpuBackend.Instance, seed: 0);
        Assert.True(result.Passed, $"{name} (warp {warp}): error {result.Error:E2} > {testCase.Tolerance:E0} {result.Failure}");
    }
}
