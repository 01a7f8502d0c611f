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

    /// <summary>The layer sets by name: "cifar" (ResNet-18 CIFAR, batch 64 by default), "fmnist" (ResNet-18 width 0.25 on 1x28x28), "mbv2" (MobileNetV2 CIFAR).</summary>
    public static IEnumerable<ConvCase> Conv(string set, int batch) => set switch
    {
        "cifar" => Conv(batch),
        "fmnist" => ResNet18Quarter(batch),
        "mbv2" => MobileNetV2(batch),
        _ => throw new ArgumentException($"unknown layer set '{set}' (cifar, fmnist, mbv2)"),
    };

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
        yield return Depthwise("dw 144 16x16 k3", batch, 144, 16, 1);
    }

    /// <summary>ResNet-18 width 0.25 on 1x28x28 (the Fashion-MNIST teacher): every distinct layer shape.</summary>
    public static IEnumerable<ConvCase> ResNet18Quarter(int batch)
    {
        yield return Layer("1->16 28x28 k3", batch, 1, 16, 28, 3, 1);
        yield return Layer("16->16 28x28 k3", batch, 16, 16, 28, 3, 1);
        yield return Layer("16->32 28x28 k3 s2", batch, 16, 32, 28, 3, 2);
        yield return Layer("16->32 28x28 k1 s2", batch, 16, 32, 28, 1, 2);
        yield return Layer("32->32 14x14 k3", batch, 32, 32, 14, 3, 1);
        yield return Layer("32->64 14x14 k3 s2", batch, 32, 64, 14, 3, 2);
        yield return Layer("32->64 14x14 k1 s2", batch, 32, 64, 14, 1, 2);
        yield return Layer("64->64 7x7 k3", batch, 64, 64, 7, 3, 1);
        yield return Layer("64->128 7x7 k3 s2", batch, 64, 128, 7, 3, 2);
        yield return Layer("64->128 7x7 k1 s2", batch, 64, 128, 7, 1, 2);
        yield return Layer("128->128 4x4 k3", batch, 128, 128, 4, 3, 1);
    }

    /// <summary>MobileNetV2 on CIFAR: the stem, one block per stage (expand 1x1, depthwise 3x3, project 1x1) and the head.</summary>
    public static IEnumerable<ConvCase> MobileNetV2(int batch)
    {
        yield return Layer("3->32 32x32 k3", batch, 3, 32, 32, 3, 1);
        yield return Depthwise("dw 32 32x32 k3", batch, 32, 32, 1);
        yield return Layer("32->16 32x32 k1", batch, 32, 16, 32, 1, 1);
        yield return Layer("16->96 32x32 k1", batch, 16, 96, 32, 1, 1);
        yield return Depthwise("dw 96 32x32 k3", batch, 96, 32, 1);
        yield return Layer("96->24 32x32 k1", batch, 96, 24, 32, 1, 1);
        yield return Layer("24->144 32x32 k1", batch, 24, 144, 32, 1, 1);
        yield return Depthwise("dw 144 32x32 k3", batch, 144, 32, 1);
        yield return Depthwise("dw 144 32x32 k3 s2", batch, 144, 32, 2);
        yield return Layer("144->32 16x16 k1", batch, 144, 32, 16, 1, 1);
        yield return Layer("32->192 16x16 k1", batch, 32, 192, 16, 1, 1);
        yield return Depthwise("dw 192 16x16 k3", batch, 192, 16, 1);
        yield return Depthwise("dw 192 16x16 k3 s2", batch, 192, 16, 2);
        yield return Layer("192->64 8x8 k1", batch, 192, 64, 8, 1, 1);
        yield return Layer("64->384 8x8 k1", batch, 64, 384, 8, 1, 1);
        yield return Depthwise("dw 384 8x8 k3", batch, 384, 8, 1);
        yield return Layer("384->96 8x8 k1", batch, 384, 96, 8, 1, 1);
        yield return Layer("96->576 8x8 k1", batch, 96, 576, 8, 1, 1);
        yield return Depthwise("dw 576 8x8 k3", batch, 576, 8, 1);
        yield return Depthwise("dw 576 8x8 k3 s2", batch, 576, 8, 2);
        yield return Layer("576->160 4x4 k1", batch, 576, 160, 4, 1, 1);
        yield return Layer("160->960 4x4 k1", batch, 160, 960, 4, 1, 1);
        yield return Depthwise("dw 960 4x4 k3", batch, 960, 4, 1);
        yield return Layer("960->320 4x4 k1", batch, 960, 320, 4, 1, 1);
        yield return Layer("320->1280 4x4 k1", batch, 320, 1280, 4, 1, 1);
    }

    /// <summary>A named activation [N, C, HW] (what BatchNorm and the elementwise ops see).</summary>
    public readonly record struct Activation(string Name, int N, int C, int HW)
    {
        public override string ToString() => Name;
    }

    /// <summary>The distinct BatchNorm/activation shapes of a layer set.</summary>
    public static IEnumerable<Activation> Activations(string set, int batch) => set switch
    {
        "cifar" => [new("64x32x32", batch, 64, 1024), new("128x16x16", batch, 128, 256), new("256x8x8", batch, 256, 64), new("512x4x4", batch, 512, 16)],
        "fmnist" => [new("16x28x28", batch, 16, 784), new("32x14x14", batch, 32, 196), new("64x7x7", batch, 64, 49), new("128x4x4", batch, 128, 16)],
        "mbv2" => [new("96x32x32", batch, 96, 1024), new("144x32x32", batch, 144, 1024), new("192x16x16", batch, 192, 256), new("384x8x8", batch, 384, 64),
                   new("960x4x4", batch, 960, 16)],
        _ => throw new ArgumentException($"unknown layer set '{set}' (cifar, fmnist, mbv2)"),
    };

    /// <summary>Every layer set at the batch its model trains with here (CIFAR models 64, the 28x28 teacher 128).</summary>
    public static IEnumerable<ConvCase> AllConv() => Conv("cifar", 64).Concat(Conv("fmnist", 128)).Concat(Conv("mbv2", 64));

    /// <summary>Every set's activation shapes, named with the set, at the same batches as <see cref="AllConv"/>.</summary>
    public static IEnumerable<Activation> AllActivations()
        => new[] { ("cifar", 64), ("fmnist", 128), ("mbv2", 64) }
            .SelectMany(s => Activations(s.Item1, s.Item2).Select(a => a with { Name = $"{s.Item1} {a.Name}" }));

    static ConvCase Layer(string name, int batch, int cin, int cout, int size, int kernel, int stride)
        => new(name, new ConvGeometry(batch, cin, size, size, cout, kernel, kernel, stride, stride, kernel / 2, kernel / 2, 1));

    static ConvCase Depthwise(string name, int batch, int channels, int size, int stride)
        => new(name, new ConvGeometry(batch, channels, size, size, channels, 3, 3, stride, stride, 1, 1, channels));
}
