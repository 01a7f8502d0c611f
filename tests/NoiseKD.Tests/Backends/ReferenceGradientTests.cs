using NoiseKD.Backends;
using Xunit;
using static NoiseKD.Tests.Backends.PrimitiveTestUtil;
using Ref = NoiseKD.Tests.Backends.PrimitiveReference;

namespace NoiseKD.Tests.Backends;

/// <summary>
/// Proves each backward formula of <see cref="PrimitiveReference"/> against central finite
/// differences of its own float64 forward, so the backend tests compare against a checked oracle.
/// </summary>
public class ReferenceGradientTests
{
    const double FiniteDifferenceTolerance = 1e-7;

    static double[] Random64(int length, int seed, float low = -1f, float high = 1f) => ToDouble(RandomArray(length, seed, low, high));

    [Theory]
    [InlineData(UnaryOp.Relu)]
    [InlineData(UnaryOp.Relu6)]
    [InlineData(UnaryOp.LeakyRelu)]
    [InlineData(UnaryOp.Tanh)]
    [InlineData(UnaryOp.Sigmoid)]
    [InlineData(UnaryOp.Abs)]
    [InlineData(UnaryOp.Exp)]
    [InlineData(UnaryOp.Log)]
    [InlineData(UnaryOp.Square)]
    public void UnaryDerivative(UnaryOp op)
    {
        // Away from the kinks at 0 and 6; Log needs x > 0.
        var x = Random64(40, 1, 0.05f, 7.5f);
        if (op != UnaryOp.Log)
            for (int i = 0; i < x.Length; i += 2) x[i] = -x[i];
        for (int i = 0; i < x.Length; i++)
            if (Math.Abs(x[i] - 6) < 0.05) x[i] = 5.5;
        var dy = Random64(x.Length, 2);
        const double alpha = 0.1;
        var analytic = x.Select((v, i) => dy[i] * Ref.UnaryDerivative(op, alpha, v)).ToArray();
        var numeric = NumericGradient(v => v.Select(e => Ref.Unary(op, alpha, e)).ToArray(), x, dy);
        AssertClose(analytic, numeric, FiniteDifferenceTolerance, $"{op}'");
    }

    [Theory]
    [InlineData(1, 3, 35, true)]
    [InlineData(3, 5, 4, true)]
    [InlineData(4, 2, 1, true)]
    [InlineData(2, 3, 6, false)]
    public void BatchNormBackward(int n, int channels, int hw, bool batchStatistics)
    {
        const double eps = 1e-5;
        var x = Random64(n * channels * hw, 3, -2f, 3f);
        var dy = Random64(x.Length, 4);
        var gamma = Random64(channels, 5, 0.5f, 1.5f);
        var beta = Random64(channels, 6);
        var (fixedMean, fixedVariance) = (Random64(channels, 7), Random64(channels, 8, 0.5f, 2f));

        // Train mode: the statistics are functions of x; eval mode: they are the fixed running ones.
        double[] Forward(double[] xs, double[] g, double[] b)
        {
            var (mean, variance) = batchStatistics ? Ref.BatchNormStatistics(xs, n, channels, hw) : (fixedMean, fixedVariance);
            return Ref.BatchNormForward(xs, n, channels, hw, mean, variance, eps, g, b);
        }

        var (m, v) = batchStatistics ? Ref.BatchNormStatistics(x, n, channels, hw) : (fixedMean, fixedVariance);
        var (dx, dgamma, dbeta) = Ref.BatchNormBackward(x, dy, n, channels, hw, m, v, eps, gamma, batchStatistics);
        AssertClose(dx, NumericGradient(xs => Forward(xs, gamma, beta), x, dy), FiniteDifferenceTolerance, "dx");
        AssertClose(dgamma, NumericGradient(g => Forward(x, g, beta), gamma, dy), FiniteDifferenceTolerance, "dgamma");
        AssertClose(dbeta, NumericGradient(b => Forward(x, gamma, b), beta, dy), FiniteDifferenceTolerance, "dbeta");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SoftmaxBackward(bool log)
    {
        const int rows = 3, cols = 7;
        var x = Random64(rows * cols, 9, -3f, 3f);
        var dy = Random64(x.Length, 10);
        var analytic = Ref.SoftmaxBackward(Ref.Softmax(x, rows, cols, log), dy, rows, cols, log);
        AssertClose(analytic, NumericGradient(xs => Ref.Softmax(xs, rows, cols, log), x, dy), FiniteDifferenceTolerance, log ? "log_softmax" : "softmax");
    }

    [Theory]
    [MemberData(nameof(PoolPrimitiveTests.Geometries), MemberType = typeof(PoolPrimitiveTests))]
    public void MaxPoolBackward(PoolGeometry g)
    {
        var windows = Ref.PoolWindows(g);
        var x = Random64((int)g.InputLength, 11);
        var dy = Random64((int)g.OutputLength, 12);
        AssertClose(Ref.MaxBackward(windows, x, dy), NumericGradient(xs => Ref.MaxForward(windows, xs), x, dy), FiniteDifferenceTolerance, "max pool");
    }

    [Theory]
    [MemberData(nameof(PoolPrimitiveTests.Geometries), MemberType = typeof(PoolPrimitiveTests))]
    public void AvgPoolBackward(PoolGeometry g) => AssertAverageAdjoint(Ref.PoolWindows(g), (int)g.InputLength);

    [Theory]
    [InlineData(7, 5, 3, 2)]
    [InlineData(3, 4, 5, 7)]
    public void AdaptiveAvgPoolBackward(int h, int w, int outH, int outW)
        => AssertAverageAdjoint(Ref.AdaptiveWindows(2, h, w, outH, outW), 2 * h * w);

    [Fact]
    public void UpsampleNearestBackward() => AssertAverageAdjoint(Ref.UpsampleWindows(2, 3, 5, 2, 3), 2 * 3 * 5);

    static void AssertAverageAdjoint(List<Window> windows, int inputLength)
    {
        var x = Random64(inputLength, 13);
        var dy = Random64(windows.Count, 14);
        AssertClose(Ref.AverageBackward(windows, dy, inputLength), NumericGradient(xs => Ref.AverageForward(windows, xs), x, dy),
                    FiniteDifferenceTolerance, "average windows");
    }
}
