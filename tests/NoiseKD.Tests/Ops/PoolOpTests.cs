using NoiseKD.Backends;
using NoiseKD.Functional;
using NoiseKD.Tensors;
using Xunit;

namespace NoiseKD.Tests.Ops;

public class PoolOpTests
{
    [Theory]
    [InlineData(1, 3, 5, 7, 2, 2, 0)]   // batch 1, odd sizes: the last row/column is dropped (floor mode)
    [InlineData(3, 5, 9, 9, 3, 2, 1)]   // ResNet's stem pool: 3x3, stride 2, pad 1
    [InlineData(2, 13, 7, 5, 3, 1, 1)]  // overlapping windows, stride 1
    [InlineData(1, 3, 9, 9, 3, 3, 0)]
    [InlineData(2, 3, 9, 7, 5, 2, 2)]   // 5x5 with the largest legal padding
    [InlineData(1, 5, 8, 8, 2, 2, 0)]
    public void MaxPool2d(int n, int c, int h, int w, int k, int stride, int pad)
    {
        var g = new PoolGeometry(n * c, h, w, k, k, stride, stride, pad, pad);
        OpCheck.Run($"max_pool2d {g}", [OpInput.Of(n, c, h, w).Distinct()],
            new RefOp(v => Reference.MaxPool2d(g, v[0]).Y, (v, dy) => [Reference.MaxPool2dBackward(g, v[0], dy)]),
            t => F.MaxPool2d(t[0], k, stride, pad));
    }

    /// <summary>Padding is -inf, never 0: with all inputs negative a zero would win every border window.</summary>
    [Fact]
    public void MaxPool2dPaddingNeverWinsOverNegativeInputs()
    {
        var g = new PoolGeometry(2 * 3, 5, 7, 3, 3, 2, 2, 1, 1);
        OpCheck.Run($"max_pool2d negative {g}", [OpInput.Of(2, 3, 5, 7).Range(-2, -1).Distinct()],
            new RefOp(v => Reference.MaxPool2d(g, v[0]).Y, (v, dy) => [Reference.MaxPool2dBackward(g, v[0], dy)]),
            t => F.MaxPool2d(t[0], 3, 2, 1));
    }

    /// <summary>PyTorch routes the gradient of a tied window to its first maximum in row-major order.</summary>
    [Fact]
    public void MaxPool2dTiesGoToTheFirstMaximum()
    {
        // Two values only, so almost every window holds several equal maxima.
        var g = new PoolGeometry(2, 5, 6, 3, 3, 1, 1, 1, 1);
        var x = new double[g.Planes * g.H * g.W];
        for (int i = 0; i < x.Length; i++) x[i] = i % 3 == 0 ? 1 : 0.5;
        var dy = OpCheck.Draw(g.Planes * 5 * 6, 0.5, 1, new Random(3));
        var expected = Reference.MaxPool2dBackward(g, x, dy);

        using var scope = new TensorScope();
        var xt = Tensor.FromArray(OpCheck.ToFloat(x), [1, 2, 5, 6]);
        xt.RequiresGrad = true;
        var y = F.MaxPool2d(xt, 3, 1, 1);
        F.Sum(F.Mul(y, Tensor.FromArray(OpCheck.ToFloat(dy), y.Shape))).Backward();
        var actual = OpCheck.ToDouble(xt.Grad!.ToArray());
        // The routing must be exact (zeros where PyTorch sends nothing); sums of dy may round in float32.
        Assert.Equal(expected.Select(e => e == 0), actual.Select(a => a == 0));
        Assert.True(OpCheck.RelativeError(actual, expected) <= 1e-6, $"relative error {OpCheck.RelativeError(actual, expected):E2}");
    }

    [Theory]
    [InlineData(1, 3, 5, 7, 3, 2, 1, true)]
    [InlineData(1, 3, 5, 7, 3, 2, 1, false)]
    [InlineData(3, 5, 9, 9, 3, 2, 1, false)]   // divisor shrinks at the borders
    [InlineData(2, 13, 7, 5, 2, 1, 1, true)]
    [InlineData(2, 13, 7, 5, 2, 1, 1, false)]
    [InlineData(1, 3, 9, 9, 5, 2, 2, true)]
    [InlineData(1, 3, 9, 9, 5, 2, 2, false)]
    [InlineData(1, 5, 7, 7, 3, 1, 0, true)]    // no padding: both divisor rules agree
    [InlineData(2, 3, 8, 6, 2, 2, 0, true)]    // the common 2x2 pool
    public void AvgPool2d(int n, int c, int h, int w, int k, int stride, int pad, bool countIncludePad)
    {
        var g = new PoolGeometry(n * c, h, w, k, k, stride, stride, pad, pad, countIncludePad);
        OpCheck.Run($"avg_pool2d {g}", [OpInput.Of(n, c, h, w)],
            new RefOp(v => Reference.AvgPool2d(g, v[0]), (_, dy) => [Reference.AvgPool2dBackward(g, dy)]),
            t => F.AvgPool2d(t[0], k, stride, pad, countIncludePad));
    }

    [Theory]
    [InlineData(1, 3, 5, 7, 1, 1)]   // global average pool
    [InlineData(2, 5, 9, 9, 4, 4)]   // overlapping windows (9 is not a multiple of 4)
    [InlineData(1, 3, 7, 5, 3, 2)]
    [InlineData(2, 3, 5, 7, 5, 7)]   // identity
    [InlineData(1, 2, 3, 5, 5, 7)]   // output larger than input: windows repeat pixels
    [InlineData(3, 13, 8, 8, 2, 2)]  // exact 4x4 windows
    public void AdaptiveAvgPool2d(int n, int c, int h, int w, int outH, int outW)
    {
        int planes = n * c;
        OpCheck.Run($"adaptive_avg_pool2d {n}x{c}x{h}x{w} -> {outH}x{outW}", [OpInput.Of(n, c, h, w)],
            new RefOp(v => Reference.AdaptiveAvgPool2d(planes, h, w, outH, outW, v[0]),
                      (_, dy) => [Reference.AdaptiveAvgPool2dBackward(planes, h, w, outH, outW, dy)]),
            t => F.AdaptiveAvgPool2d(t[0], outH, outW));
    }

    [Theory]
    [InlineData(1, 3, 5, 7, 2, 2)]
    [InlineData(2, 5, 3, 3, 3, 1)]
    [InlineData(1, 13, 2, 3, 1, 2)]
    public void UpsampleNearest(int n, int c, int h, int w, int sh, int sw)
    {
        int planes = n * c;
        OpCheck.Run($"upsample_nearest {n}x{c}x{h}x{w} x({sh},{sw})", [OpInput.Of(n, c, h, w)],
            new RefOp(v => Reference.UpsampleNearest(planes, h, w, sh, sw, v[0]),
                      (_, dy) => [Reference.UpsampleNearestBackward(planes, h, w, sh, sw, dy)]),
            t => F.UpsampleNearest(t[0], sh, sw));
    }
}
