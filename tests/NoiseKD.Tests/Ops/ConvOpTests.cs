using NoiseKD.Backends;
using NoiseKD.Functional;
using Xunit;

namespace NoiseKD.Tests.Ops;

public class ConvOpTests
{
    [Theory]
    [InlineData(1, 3, 5, 7, 5, 3, 1, 1, 1, true)]     // batch 1, odd spatial, 'same' 3x3
    [InlineData(3, 5, 9, 9, 13, 3, 2, 1, 1, false)]   // stride 2 over an odd size
    [InlineData(2, 13, 7, 5, 3, 1, 1, 0, 1, true)]    // 1x1 pointwise
    [InlineData(1, 3, 7, 5, 5, 1, 2, 0, 1, false)]    // 1x1 strided projection shortcut, odd size
    [InlineData(1, 3, 9, 9, 5, 5, 2, 2, 1, true)]     // 5x5, stride 2, pad 2
    [InlineData(1, 5, 9, 9, 3, 7, 1, 3, 1, false)]    // 7x7, pad 3
    [InlineData(2, 3, 9, 7, 5, 7, 2, 3, 1, true)]     // ResNet stem shape: 7x7 stride 2 pad 3
    [InlineData(2, 3, 7, 5, 5, 3, 1, 0, 1, true)]     // no padding
    [InlineData(1, 3, 5, 5, 5, 5, 1, 0, 1, true)]     // kernel as large as the input
    [InlineData(1, 3, 5, 7, 5, 3, 1, 2, 1, true)]     // padding larger than the kernel radius
    [InlineData(3, 2, 5, 7, 3, 3, 3, 1, 1, true)]     // stride 3
    [InlineData(3, 6, 7, 5, 4, 3, 1, 1, 2, true)]     // grouped: Cin=6, Cout=4, g=2
    [InlineData(2, 6, 9, 9, 4, 3, 2, 1, 2, false)]    // grouped, stride 2
    [InlineData(1, 6, 5, 7, 9, 1, 1, 0, 3, true)]     // grouped 1x1, g=3
    [InlineData(2, 13, 9, 9, 13, 3, 1, 1, 13, true)]  // depthwise 3x3
    [InlineData(1, 5, 9, 7, 5, 3, 2, 1, 5, false)]    // depthwise, stride 2, odd sizes
    [InlineData(1, 5, 7, 7, 5, 5, 2, 2, 5, true)]     // depthwise 5x5
    [InlineData(1, 3, 9, 9, 6, 3, 1, 1, 3, true)]     // depthwise multiplier 2 (Cout = 2 Cin)
    [InlineData(1, 8, 4, 4, 16, 3, 1, 1, 1, false)]   // channel counts that are multiples of 8
    public void Conv2d(int n, int cin, int h, int w, int cout, int k, int stride, int pad, int groups, bool bias) =>
        Check(new ConvGeometry(n, cin, h, w, cout, k, k, stride, stride, pad, pad, groups), bias);

    /// <summary>Larger sizes that cross GEMM block edges; the reference is slow here, so fewer finite-difference probes.</summary>
    [Theory]
    [InlineData(2, 16, 11, 11, 24, 3, 1, 1, 1)]
    [InlineData(1, 24, 9, 9, 40, 3, 2, 1, 1)]
    public void Conv2dLarger(int n, int cin, int h, int w, int cout, int k, int stride, int pad, int groups) =>
        Check(new ConvGeometry(n, cin, h, w, cout, k, k, stride, stride, pad, pad, groups), true,
              new OpCheckOptions { MaxFiniteDifferenceCoordinates = 8 });

    [Theory]
    [InlineData(2, 3, 7, 5, 4, 3, 1, 2, 1, 1, 0)]     // 3x1 kernel, stride (2, 1), padding (1, 0)
    [InlineData(1, 5, 5, 9, 3, 1, 5, 1, 2, 0, 2)]     // 1x5 kernel, stride (1, 2), padding (0, 2)
    public void Conv2dRectangular(int n, int cin, int h, int w, int cout, int kh, int kw, int sh, int sw, int ph, int pw) =>
        Check(new ConvGeometry(n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, 1), bias: true);

    /// <summary>A frozen layer (only the input differentiated, as when a generator trains through a frozen teacher) and a first layer (only the weight).</summary>
    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Conv2dWithOneDifferentiableInput(bool inputGrad, bool weightGrad)
    {
        var g = new ConvGeometry(2, 5, 7, 9, 3, 3, 3, 2, 2, 1, 1, 1);
        var x = OpInput.Of(g.N, g.Cin, g.H, g.W);
        var weight = OpInput.Of(g.Cout, g.CinPerGroup, g.KH, g.KW);
        var bias = OpInput.Of(g.Cout).Constant();
        var reference = new RefOp(
            v => Reference.Conv2d(g, v[0], v[1], v[2]),
            (v, dy) =>
            {
                var (dx, dw, _) = Reference.Conv2dBackward(g, v[0], v[1], false, dy);
                return [dx, dw, null];
            });
        OpCheck.Run($"conv2d {g} grad x={inputGrad} w={weightGrad}",
            [inputGrad ? x : x.Constant(), weightGrad ? weight : weight.Constant(), bias], reference,
            t => F.Conv2d(t[0], t[1], t[2], g.StrideH, g.PadH, g.Groups));
    }

    static void Check(ConvGeometry g, bool bias, OpCheckOptions? options = null)
    {
        OpInput[] inputs = [OpInput.Of(g.N, g.Cin, g.H, g.W), OpInput.Of(g.Cout, g.CinPerGroup, g.KH, g.KW), OpInput.Of(g.Cout)];
        var reference = new RefOp(
            v => Reference.Conv2d(g, v[0], v[1], bias ? v[2] : null),
            (v, dy) =>
            {
                var (dx, dw, db) = Reference.Conv2dBackward(g, v[0], v[1], bias, dy);
                return bias ? [dx, dw, db] : [dx, dw];
            });
        OpCheck.Run($"conv2d {g} bias={bias}", bias ? inputs : inputs[..2], reference,
            t => F.Conv2d(t[0], t[1], bias ? t[2] : null, (g.StrideH, g.StrideW), (g.PadH, g.PadW), g.Groups), options);
    }

    /// <summary>
    /// One layer applied twice, y = conv(conv(x, w, b), w, b): the second backward adds into the weight and
    /// bias gradients (the accumulate paths of the backward-weight and channel-sum primitives).
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(5)]   // depthwise
    public void Conv2dAppliedTwiceAccumulatesWeightGradients(int groups)
    {
        var g = new ConvGeometry(2, 5, 7, 5, 5, 3, 3, 1, 1, 1, 1, groups);
        var reference = new RefOp(
            v => Reference.Conv2d(g, Reference.Conv2d(g, v[0], v[1], v[2]), v[1], v[2]),
            (v, dy) =>
            {
                var h = Reference.Conv2d(g, v[0], v[1], v[2]);
                var (dh, dw2, db2) = Reference.Conv2dBackward(g, h, v[1], true, dy);
                var (dx, dw1, db1) = Reference.Conv2dBackward(g, v[0], v[1], true, dh);
                return [dx, Reference.Zip(dw1, dw2, (a, b) => a + b), Reference.Zip(db1!, db2!, (a, b) => a + b)];
            });
        OpCheck.Run($"conv2d twice {g}", [OpInput.Of(2, 5, 7, 5), OpInput.Of(5, 5 / groups, 3, 3), OpInput.Of(5)], reference,
            t => F.Conv2d(F.Conv2d(t[0], t[1], t[2], 1, 1, groups), t[1], t[2], 1, 1, groups));
    }

    /// <summary>x feeds the conv and a skip connection, y = conv(x) + x: the data gradient adds to the skip's.</summary>
    [Fact]
    public void Conv2dInputGradientAddsToASkipConnection()
    {
        var g = new ConvGeometry(2, 4, 5, 7, 4, 3, 3, 1, 1, 1, 1, 1);
        var reference = new RefOp(
            v => Reference.Zip(Reference.Conv2d(g, v[0], v[1], null), v[0], (a, b) => a + b),
            (v, dy) =>
            {
                var (dx, dw, _) = Reference.Conv2dBackward(g, v[0], v[1], false, dy);
                return [Reference.Zip(dx, dy, (a, b) => a + b), dw];
            });
        OpCheck.Run($"conv2d + skip {g}", [OpInput.Of(2, 4, 5, 7), OpInput.Of(4, 4, 3, 3)], reference,
            t => F.Add(F.Conv2d(t[0], t[1], null, 1, 1), t[0]));
    }
}
