using NoiseKD.Backends;
using Xunit;
using static NoiseKD.Tests.Backends.PrimitiveTestUtil;
using Ref = NoiseKD.Tests.Backends.PrimitiveReference;

namespace NoiseKD.Tests.Backends;

public class PoolPrimitiveTests
{
    /// <summary>Odd sizes with stride 2 (floor mode drops a row), padding in both count modes, asymmetric kernels, batch 1.</summary>
    public static TheoryData<PoolGeometry> Geometries => new()
    {
        new PoolGeometry(3, 7, 5, 3, 3, 2, 2, 1, 1, CountIncludePad: true),
        new PoolGeometry(3, 7, 5, 3, 3, 2, 2, 1, 1, CountIncludePad: false),
        new PoolGeometry(5, 7, 5, 2, 2, 2, 2, 0, 0),
        new PoolGeometry(1, 6, 9, 3, 2, 1, 2, 1, 1, CountIncludePad: false),
        new PoolGeometry(13, 8, 8, 3, 3, 2, 2, 1, 1, CountIncludePad: true),
        new PoolGeometry(2, 9, 7, 4, 4, 3, 2, 2, 1, CountIncludePad: true),
        new PoolGeometry(2, 9, 7, 4, 4, 3, 2, 2, 1, CountIncludePad: false),
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void MaxPool(PoolGeometry g) => CheckMaxPool(g, RandomArray((int)g.InputLength, 1));

    [Fact]
    public void MaxPoolPaddingNeverWinsOverNegativeInputs()
        => CheckMaxPool(new PoolGeometry(3, 7, 5, 3, 3, 2, 2, 1, 1), RandomArray(3 * 7 * 5, 2, -2f, -1f));

    [Fact]
    public void MaxPoolBackwardRoutesTiesToTheFirstMaximum()
    {
        var g = new PoolGeometry(2, 5, 5, 3, 3, 1, 1, 1, 1);
        CheckMaxPool(g, Enumerable.Repeat(1f, (int)g.InputLength).ToArray());
    }

    /// <summary>Forward, then backward (dx += onto a non-zero dx) against the reference.</summary>
    static void CheckMaxPool(PoolGeometry g, float[] x)
    {
        var windows = Ref.PoolWindows(g);
        var dyValues = RandomArray((int)g.OutputLength, 3);
        var initial = RandomArray((int)g.InputLength, 4);
        using var dx = ToDevice(x);
        using var y = NaNBuffer(g.OutputLength);
        Cpu.MaxPool2dForward(g, dx, y);
        AssertClose(ToHost(y), Ref.MaxForward(windows, ToDouble(x)), ForwardTolerance, "max pool forward");
        using var dy = ToDevice(dyValues);
        using var gradX = ToDevice(initial);
        Cpu.MaxPool2dBackward(g, dx, dy, gradX);
        var expected = Ref.MaxBackward(windows, ToDouble(x), ToDouble(dyValues)).Select((v, i) => v + initial[i]).ToArray();
        AssertClose(ToHost(gradX), expected, GradientTolerance, "max pool backward");
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void AvgPool(PoolGeometry g)
        => CheckAverage(Ref.PoolWindows(g), (int)g.InputLength,
                        (x, y) => Cpu.AvgPool2dForward(g, x, y), (dy, dx) => Cpu.AvgPool2dBackward(g, dy, dx));

    [Theory]
    [InlineData(3, 7, 5, 3, 2)]
    [InlineData(2, 5, 7, 4, 3)]
    [InlineData(13, 6, 6, 1, 1)]
    [InlineData(1, 3, 4, 5, 7)]
    public void AdaptiveAvgPool(int planes, int h, int w, int outH, int outW)
        => CheckAverage(Ref.AdaptiveWindows(planes, h, w, outH, outW), planes * h * w,
                        (x, y) => Cpu.AdaptiveAvgPool2dForward(planes, h, w, outH, outW, x, y),
                        (dy, dx) => Cpu.AdaptiveAvgPool2dBackward(planes, h, w, outH, outW, dy, dx));

    [Theory]
    [InlineData(3, 3, 5, 2, 3)]
    [InlineData(2, 4, 4, 1, 2)]
    [InlineData(1, 1, 1, 3, 3)]
    public void UpsampleNearest(int planes, int h, int w, int scaleH, int scaleW)
        => CheckAverage(Ref.UpsampleWindows(planes, h, w, scaleH, scaleW), planes * h * w,
                        (x, y) => Cpu.UpsampleNearestForward(planes, h, w, scaleH, scaleW, x, y),
                        (dy, dx) => Cpu.UpsampleNearestBackward(planes, h, w, scaleH, scaleW, dy, dx));

    /// <summary>A linear window op: forward against the reference, then backward (dx +=) against its adjoint.</summary>
    static void CheckAverage(List<Window> windows, int inputLength,
                             Action<DeviceBuffer, DeviceBuffer> forward, Action<DeviceBuffer, DeviceBuffer> backward)
    {
        var x = RandomArray(inputLength, 5);
        var dyValues = RandomArray(windows.Count, 6);
        var initial = RandomArray(inputLength, 7);
        using var dx = ToDevice(x);
        using var y = NaNBuffer(windows.Count);
        forward(dx, y);
        AssertClose(ToHost(y), Ref.AverageForward(windows, ToDouble(x)), ForwardTolerance, "forward");
        using var dy = ToDevice(dyValues);
        using var gradX = ToDevice(initial);
        backward(dy, gradX);
        var expected = Ref.AverageBackward(windows, ToDouble(dyValues), inputLength).Select((v, i) => v + initial[i]).ToArray();
        AssertClose(ToHost(gradX), expected, GradientTolerance, "backward");
    }
}
