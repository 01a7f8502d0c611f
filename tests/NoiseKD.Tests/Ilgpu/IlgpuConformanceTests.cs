using NoiseKD.Backends.Conformance;
using NoiseKD.Backends.Cpu;
using NoiseKD.Backends.Ilgpu;
using Xunit;

namespace NoiseKD.Tests.Ilgpu;

/// <summary>
/// `noisekd check` as tests: every conformance case on ILGPU's CPU accelerator (warp 4, ILGPU's default kind,
/// 16 threads per group: <c>--device ilgpu-cpu</c>) against the managed CPU backend, and the first and last
/// case of every primitive at warps 16 and 32 (64 threads per group), so the group reductions and the SGEMM
/// tiles also run at a second group size and two more warp shapes. The CPU accelerator runs a group's threads
/// as OS threads meeting at barriers: slow, hence the subset (all cases at all three kinds: 6 minutes here).
/// </summary>
public class IlgpuConformanceTests
{
    public static TheoryData<int, string> Cases
    {
        get
        {
            var data = new TheoryData<int, string>();
            foreach (var c in ConformanceCases.All) data.Add(4, c.Name);
            var ends = ConformanceCases.All.GroupBy(c => c.Op).SelectMany(op => new[] { op.First().Name, op.Last().Name }.Distinct()).ToList();
            foreach (int warp in IlgpuDevices.CpuWarpSizes.Where(w => w != 4))
                foreach (var name in ends) data.Add(warp, name);
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
