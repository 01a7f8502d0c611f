using BenchmarkDotNet.Attributes;
using NoiseKD.Backends;
using NoiseKD.Backends.Cpu;

namespace NoiseKD.Benchmarks;

/// <summary>Square row-major SGEMM, C = A*B, through the backend interface.</summary>
[MemoryDiagnoser]
public class SgemmBenchmarks
{
    readonly CpuBackend _backend = CpuBackend.Instance;
    DeviceBuffer _a = null!, _b = null!, _c = null!;

    public static IEnumerable<int> Sizes => Shapes.SgemmSizes;

    [ParamsSource(nameof(Sizes))]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        long length = (long)N * N;
        _a = TestData.Random(_backend, length, 1);
        _b = TestData.Random(_backend, length, 2);
        _c = _backend.Allocate(length);
    }

    [Benchmark]
    public void Gemm() => _backend.Gemm(false, false, N, N, N, 1f, _a, 0, N, _b, 0, N, 0f, _c, 0, N);

    [GlobalCleanup]
    public void Cleanup()
    {
        _a.Dispose();
        _b.Dispose();
        _c.Dispose();
    }
}
