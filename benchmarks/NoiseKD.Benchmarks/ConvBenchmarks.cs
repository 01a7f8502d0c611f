using BenchmarkDotNet.Attributes;
using NoiseKD.Backends;
using NoiseKD.Backends.Cpu;

namespace NoiseKD.Benchmarks;

/// <summary>Conv2d forward, backward data and backward weight at the layer shapes of ResNet-18 (CIFAR, batch 64), ResNet-18 width 0.25 (1x28x28, batch 128) and MobileNetV2 (CIFAR, batch 64).</summary>
[MemoryDiagnoser]
public class ConvBenchmarks
{
    readonly CpuBackend _backend = CpuBackend.Instance;
    DeviceBuffer _x = null!, _w = null!, _y = null!;

    public static IEnumerable<Shapes.ConvCase> Layers => Shapes.AllConv();

    [ParamsSource(nameof(Layers))]
    public Shapes.ConvCase Layer { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var g = Layer.Geometry;
        _x = TestData.Random(_backend, g.InputLength, 1);
        _w = TestData.Random(_backend, g.WeightLength, 2);
        _y = TestData.Random(_backend, g.OutputLength, 3);
    }

    [Benchmark]
    public void Forward() => _backend.Conv2dForward(Layer.Geometry, _x, _w, _y);

    [Benchmark]
    public void BackwardData() => _backend.Conv2dBackwardData(Layer.Geometry, _y, _w, _x, accumulate: false);

    [Benchmark]
    public void BackwardWeight() => _backend.Conv2dBackwardWeight(Layer.Geometry, _x, _y, _w, accumulate: false);

    [GlobalCleanup]
    public void Cleanup()
    {
        _x.Dispose();
        _w.Dispose();
        _y.Dispose();
    }
}
