using NoiseKD.Backends;

namespace NoiseKD.Benchmarks;

/// <summary>The shapes both the BenchmarkDotNet classes and the quick GFLOP/s table measure.</summary>
public static class Shapes
{
    public static readonly int[] SgemmSizes = [256, 512, 1024, 2048];

    /// <summary>A named convolution layer at a given batch size.</summary>
    public readonly record struct ConvCase(string Name, ConvGeometry Geometry)
    {
        public override string ToString() => Name;
    }

    /// <summary>ResNet-18 on CIFAR (32x32 input) layer shapes, the 1x1 stride-2 shortcuts, and a MobileNetV2 depthwise layer.</summary>
    public static IEnumerable<ConvCase> Conv(int batch)
    {
        yield return Layer("3->64 32x32 k3", batch, 3, 64, 32, 3, 1);
        yield return Layer("64->64 32x32 k3", batch, 64, 64, 32, 3, 1);
        yield return Layer("64->128 32x32 k3 s2", batch, 64, 128, 32, 3, 2);
        yield return Layer("64->128 32x32 k1 s2", batch, 64, 128, 32, 1, 2);
        yield return Layer("128->128 16x16 k3", batch, 128, 128, 16, 3, 1);
        yield return Layer("128->256 16x16 k3 s2", batch, 128, 256, 16, 3, 2);
        yield return Layer("128->256 16x16 k1 s2", batch, 128, 256, 16, 1, 2);
        yield return Layer("256->256 8x8 k3", batch, 256, 256, 8, 3, 1);
        yield return Layer("256->512 8x8 k3 s2", batch, 256, 512, 8, 3, 2);
        yield return Layer("256->512 8x8 k1 s2", batch, 256, 512, 8, 1, 2);
        yield return Layer("512->512 4x4 k3", batch, 512, 512, 4, 3, 1);
        yield return new ConvCase("dw 144 16x16 k3", new ConvGeometry(batch, 144, 16, 16, 144, 3, 3, 1, 1, 1, 1, 144));
    }

    static ConvCase Layer(string name, int batch, int cin, int cout, int size, int kernel, int stride)
        => new(name, new ConvGeometry(batch, cin, size, size, cout, kernel, kernel, stride, stride, kernel / 2, kernel / 2, 1));
}
