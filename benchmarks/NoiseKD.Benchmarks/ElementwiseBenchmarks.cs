using BenchmarkDotNet.Attributes;
using NoiseKD.Backends;
using NoiseKD.Backends.Cpu;

namespace NoiseKD.Benchmarks;

/// <summary>ReLU forward and backward, Add, and gradient accumulation (Axpby with beta 1) at the activation shapes of every layer set.</summary>
[MemoryDiagnoser]
public class ElementwiseBenchmarks
{
    readonly CpuBackend _backend = CpuBackend.Instance;
    DeviceBuffer _x = null!, _dy = null!, _y = null!;
    long _length;

    public static IEnumerable<Shapes.Activation> Activations => Shapes.AllActivations();

    [ParamsSource(nameof(Activations))]
    public Shapes.Activation Shape { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _length = (long)Shape.N * Shape.C * Shape.HW;
        _x = TestData.Random(_backend, _length, 1);
        _dy = TestData.Random(_backend, _length, 2);
        _y = _backend.Allocate(_length);
    }

    [Benchmark]
    public void Relu() => _backend.Unary(UnaryOp.Relu, 0f, _x, _y, _length);

    [Benchmark]
    public void ReluBackward() => _backend.UnaryBackward(UnaryOp.Relu, 0f, _x, _dy, _y, _length, false);

    [Benchmark]
    public void Add() => _backend.Binary(BinaryOp.Add, _x, _dy, _y, _length);

    [Benchmark]
    public void AccumulateGradient() => _backend.Axpby(1f, _x, 1f, _y, _length);

    [GlobalCleanup]
    public void Cleanup()
    {
        _x.Dispose();
        _dy.Dispose();
        _y.Dispose();
    }
}
