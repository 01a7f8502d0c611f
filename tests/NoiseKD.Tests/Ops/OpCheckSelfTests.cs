using NoiseKD.Functional;
using Xunit;

namespace NoiseKD.Tests.Ops;

/// <summary>The checker itself must be able to fail: wrong references and wrong ops are caught.</summary>
public class OpCheckSelfTests
{
    static readonly OpInput[] X = [OpInput.Of(3, 5)];

    static RefOp TanhReference(double gradientFactor) => new(
        v => Reference.Map(v[0], Math.Tanh),
        (v, dy) => [Reference.MapBackward(v[0], dy, x => gradientFactor * (1 - Math.Tanh(x) * Math.Tanh(x)))]);

    static (double[][] Values, double[] Dy, Random Rng) Draw()
    {
        var rng = new Random(7);
        var values = OpCheck.DrawInputs(X, rng);
        return (values, OpCheck.Draw(values[0].Length, -1, 1, rng), rng);
    }

    [Fact]
    public void FiniteDifferencesAcceptACorrectBackward()
    {
        var (values, dy, rng) = Draw();
        Assert.Empty(OpCheck.ReferenceGradientErrors(X, values, dy, TanhReference(1), new OpCheckOptions(), rng));
    }

    [Fact]
    public void FiniteDifferencesRejectABackwardOffByOnePercent()
    {
        var (values, dy, rng) = Draw();
        Assert.Single(OpCheck.ReferenceGradientErrors(X, values, dy, TanhReference(1.01), new OpCheckOptions(), rng));
    }

    [Fact]
    public void WrongForwardIsReported()
    {
        var (values, dy, _) = Draw();
        var errors = OpCheck.FastOpErrors(X, values, dy, TanhReference(1), t => F.Sigmoid(t[0]), new OpCheckOptions());
        Assert.Contains(errors, e => e.StartsWith("forward", StringComparison.Ordinal));
    }

    [Fact]
    public void WrongGradientIsReported()
    {
        var (values, dy, _) = Draw();
        var errors = OpCheck.FastOpErrors(X, values, dy, TanhReference(1.001), t => F.Tanh(t[0]), new OpCheckOptions());
        Assert.Equal(["gradient of input 0 [3, 5]"], errors.Select(e => e[..e.IndexOf(':')]));
    }

    [Fact]
    public void MissingGradientIsReported()
    {
        var (values, dy, _) = Draw();
        // The op ignores its input and differentiates a copy of it instead, so no gradient reaches x.
        var errors = OpCheck.FastOpErrors(X, values, dy, TanhReference(1), _ =>
        {
            var copy = Tensors.Tensor.FromArray(OpCheck.ToFloat(values[0]), [3, 5]);
            copy.RequiresGrad = true;
            return F.Tanh(copy);
        }, new OpCheckOptions());
        Assert.Contains(errors, e => e.Contains("no gradient was produced", StringComparison.Ordinal));
    }

    [Fact]
    public void RelativeErrorIsNormwise()
    {
        Assert.Equal(0.5, OpCheck.RelativeError([1, 0], [2, 0]), 12);
        Assert.Equal(Math.Sqrt(0.5), OpCheck.RelativeError([1, 1], [2, 0]), 12);
        Assert.Equal(0, OpCheck.RelativeError([0, 0], [0, 0]));
        Assert.Equal(5, OpCheck.RelativeError([3, 4], [0, 0]));
        Assert.Equal(double.PositiveInfinity, OpCheck.RelativeError([1], [1, 2]));
    }

    [Fact]
    public void DrawsStayAwayFromKinksAndAreFloat32()
    {
        var rng = new Random(1);
        var values = OpCheck.DrawInputs([OpInput.Of(2000).AwayFrom(0, 0.5)], rng)[0];
        Assert.All(values, v => Assert.True(Math.Abs(v) >= OpCheck.KinkMargin && Math.Abs(v - 0.5) >= OpCheck.KinkMargin));
        Assert.All(values, v => Assert.Equal(v, (double)(float)v));
    }

    [Fact]
    public void DistinctDrawsHaveNoNearTies()
    {
        var values = OpCheck.DrawInputs([OpInput.Of(3, 5, 9, 9).Distinct()], new Random(1))[0];
        var sorted = values.Order().ToArray();
        double minGap = sorted.Zip(sorted.Skip(1), (a, b) => b - a).Min();
        Assert.True(minGap > 100 * OpCheck.FiniteDifferenceStep, $"closest values {minGap:E2} apart");
    }
}
