using BenchmarkDotNet.Attributes;
using NoiseKD.Backends;
using NoiseKD.Backends.Cpu;

namespace NoiseKD.Benchmarks;

/// <summary>BatchNorm2d statistics, forward and backward (current statistics) at the activation shapes of every layer set.</summary>
[MemoryDiagnoser]
public class BatchNormBenchmarks
{
    readonly CpuBackend _backend = CpuBackend.Instance;
    DeviceBuffer _x = null!, _dy = null!, _y = null!, _mean = null!, _variance = null!, _gamma = null!, _beta = null!, _dgamma = null!, _dbeta = null!;

    public static IEnumerable<Shapes.Activation> Activations => Shapes.AllActivations();

    [ParamsSource(nameof(Activations))]
    public Shapes.Activation Shape { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        long length = (long)Shape.N * Shape.C * Shape.HW;
        _x = TestData.Random(_backend, length, 1);
        _dy = TestData.Random(_backend, length, 2);
        _y = _backend.Allocate(length);
        _mean = _backend.Allocate(Shape.C);
        _variance = _backend.Allocate(Shape.C);
        _gamma = TestData.Random(_backend, Shape.C, 3);
        _beta = TestData.Random(_backend, Shape.C, 4);
        _dgamma = _backend.Allocate(Shape.C);
        _dbeta = _backend.Allocate(Shape.C);
        _backend.BatchNormStatistics(_x, Shape.N, Shape.C, Shape.HW, _mean, _variance);
    }

    [Benchmark]
    public void Statistics() => _backend.BatchNormStatistics(_x, Shape.N, Shape.C, Shape.HW, _mean, _variance);

    [Benchmark]
    public void Forward() => _backend.BatchNormForward(_x, Shape.N, Shape.C, Shape.HW, _mean, _variance, 1e-5f, _gamma, _beta, _y);

    [Benchmark]
    public void Backward() => _backend.BatchNormBackward(_x, _dy, Shape.N, Shape.C, Shape.HW, _mean, _variance, 1e-5f, _gamma, true, _y, false, _dgamma, _dbeta);

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var b in new[] { _x, _dy, _y, _mean, _variance, _gamma, _beta, _dgamma, _dbeta }) b.Dispose();
    }
}
