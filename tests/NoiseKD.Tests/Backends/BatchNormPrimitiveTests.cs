using NoiseKD.Backends;
using Xunit;
using static NoiseKD.Tests.Backends.PrimitiveTestUtil;
using Ref = NoiseKD.Tests.Backends.PrimitiveReference;

namespace NoiseKD.Tests.Backends;

public class BatchNormPrimitiveTests
{
    const float Eps = 1e-5f;

    /// <summary>Inputs with a channel offset far from zero, so a one-pass E[x^2] - E[x]^2 would show.</summary>
    static float[] Input(int n, int channels, int hw) => RandomArray(n * channels * hw, 1, 9f, 13f);

    [Theory]
    [MemberData(nameof(ChannelShapes), MemberType = typeof(PrimitiveTestUtil))]
    public void Statistics(int n, int channels, int hw)
    {
        var x = Input(n, channels, hw);
        var (mean, variance) = Ref.BatchNormStatistics(ToDouble(x), n, channels, hw);
        using var dx = ToDevice(x);
        using var dm = NaNBuffer(channels);
        using var dv = NaNBuffer(channels);
        Cpu.BatchNormStatistics(dx, n, channels, hw, dm, dv);
        AssertClose(ToHost(dm), mean, ForwardTolerance, "mean");
        AssertClose(ToHost(dv), variance, ForwardTolerance, "variance");
    }

    [Theory]
    [MemberData(nameof(ChannelShapes), MemberType = typeof(PrimitiveTestUtil))]
    public void ForwardWithAndWithoutAffine(int n, int channels, int hw)
    {
        var x = Input(n, channels, hw);
        var mean = RandomArray(channels, 2, 9f, 13f);
        var variance = RandomArray(channels, 3, 0.5f, 2f);
        var gamma = RandomArray(channels, 4, 0.5f, 1.5f);
        var beta = RandomArray(channels, 5);
        using var dx = ToDevice(x);
        using var dm = ToDevice(mean);
        using var dv = ToDevice(variance);
        using var dg = ToDevice(gamma);
        using var db = ToDevice(beta);
        using var y = NaNBuffer(x.Length);
        Cpu.BatchNormForward(dx, n, channels, hw, dm, dv, Eps, dg, db, y);
        var expected = Ref.BatchNormForward(ToDouble(x), n, channels, hw, ToDouble(mean), ToDouble(variance), Eps, ToDouble(gamma), ToDouble(beta));
        AssertClose(ToHost(y), expected, ForwardTolerance, "affine");
        Cpu.BatchNormForward(dx, n, channels, hw, dm, dv, Eps, null, null, y);
        expected = Ref.BatchNormForward(ToDouble(x), n, channels, hw, ToDouble(mean), ToDouble(variance), Eps, null, null);
        AssertClose(ToHost(y), expected, ForwardTolerance, "no affine");
    }

    public static TheoryData<int, int, int, bool, UnaryOp?> FusedCases()
    {
        var data = new TheoryData<int, int, int, bool, UnaryOp?>();
        foreach (var shape in ChannelShapes)
            foreach (bool residual in new[] { false, true })
                foreach (var activation in new UnaryOp?[] { null, UnaryOp.Relu, UnaryOp.Relu6 })
                    data.Add((int)shape[0], (int)shape[1], (int)shape[2], residual, activation);
        return data;
    }

    /// <summary>
    /// act(BN(x) + residual) in one pass against the float64 loop, and bit for bit against the CPU's own
    /// BatchNormForward, in-place Binary(Add) and in-place Unary (the default composition of IBackend).
    /// Scales up to 4 and shifts up to 3 put the sums on both sides of 0 and of Relu6's 6.
    /// </summary>
    [Theory]
    [MemberData(nameof(FusedCases))]
    public void FusedAddActivationForward(int n, int channels, int hw, bool withResidual, UnaryOp? activation)
    {
        var x = Input(n, channels, hw);
        var mean = RandomArray(channels, 2, 9f, 13f);
        var variance = RandomArray(channels, 3, 0.5f, 2f);
        var gamma = RandomArray(channels, 4, 1f, 4f);
        var beta = RandomArray(channels, 5, -1f, 3f);
        var residual = withResidual ? RandomArray(x.Length, 6, -3f, 3f) : null;
        using var dx = ToDevice(x);
        using var dm = ToDevice(mean);
        using var dv = ToDevice(variance);
        using var dg = ToDevice(gamma);
        using var db = ToDevice(beta);
        using var dr = residual is null ? null : ToDevice(residual);
        using var fused = NaNBuffer(x.Length);
        Cpu.BatchNormAddActivationForward(dx, n, channels, hw, dm, dv, Eps, dg, db, dr, activation, fused);

        var expected = Ref.BatchNormForward(ToDouble(x), n, channels, hw, ToDouble(mean), ToDouble(variance), Eps, ToDouble(gamma), ToDouble(beta));
        for (int i = 0; i < expected.Length; i++)
        {
            double z = expected[i] + (residual?[i] ?? 0);
            expected[i] = activation is UnaryOp op ? Ref.Unary(op, 0, z) : z;
        }
        AssertClose(ToHost(fused), expected, ForwardTolerance, "against the float64 loop");

        using var composed = NaNBuffer(x.Length);
        Cpu.BatchNormForward(dx, n, channels, hw, dm, dv, Eps, dg, db, composed);
        if (dr is not null) Cpu.Binary(BinaryOp.Add, composed, dr, composed, x.Length);
        if (activation is UnaryOp u) Cpu.Unary(u, 0f, composed, composed, x.Length);
        Assert.Equal(ToHost(composed), ToHost(fused));
    }

    [Theory]
    [InlineData(UnaryOp.LeakyRelu)]
    [InlineData(UnaryOp.Tanh)]
    public void FusedActivationMustBeReadableFromTheOutput(UnaryOp activation)
    {
        using var x = ToDevice(Input(2, 3, 4));
        using var stats = ToDevice(RandomArray(3, 1, 0.5f, 1f));
        using var y = NaNBuffer(24);
        Assert.Throws<ArgumentException>(() => Cpu.BatchNormAddActivationForward(x, 2, 3, 4, stats, stats, Eps, null, null, null, activation, y));
    }

    public static TheoryData<int, int, int, bool, bool> BackwardCases()
    {
        var data = new TheoryData<int, int, int, bool, bool>();
        foreach (var shape in ChannelShapes)
            foreach (bool batchStatistics in new[] { true, false })
                foreach (bool affine in new[] { true, false })
                    data.Add((int)shape[0], (int)shape[1], (int)shape[2], batchStatistics, affine);
        return data;
    }

    [Theory]
    [MemberData(nameof(BackwardCases))]
    public void Backward(int n, int channels, int hw, bool batchStatistics, bool affine)
    {
        var x = Input(n, channels, hw);
        var dyValues = RandomArray(x.Length, 6);
        var gamma = affine ? RandomArray(channels, 7, 0.5f, 1.5f) : null;
        var dxInitial = RandomArray(x.Length, 8);
        var (dgInitial, dbInitial) = (RandomArray(channels, 9), RandomArray(channels, 10));
        // Train mode uses the batch's own statistics (rounded to float, as the backend sees them);
        // eval mode uses unrelated running statistics.
        var batch = Ref.BatchNormStatistics(ToDouble(x), n, channels, hw);
        var (mean, variance) = batchStatistics
            ? (ToFloat(batch.Mean), ToFloat(batch.Variance))
            : (RandomArray(channels, 11, 9f, 13f), RandomArray(channels, 12, 0.5f, 2f));
        var (dxRef, dgRef, dbRef) = Ref.BatchNormBackward(ToDouble(x), ToDouble(dyValues), n, channels, hw, ToDouble(mean), ToDouble(variance),
                                                          Eps, gamma == null ? null : ToDouble(gamma), batchStatistics);

        using var dx = ToDevice(x);
        using var dy = ToDevice(dyValues);
        using var dm = ToDevice(mean);
        using var dv = ToDevice(variance);
        using var dgamma = gamma == null ? null : ToDevice(gamma);
        foreach (bool accumulate in new[] { false, true })
        {
            using var gradX = accumulate ? ToDevice(dxInitial) : NaNBuffer(x.Length);
            using var gradGamma = ToDevice(dgInitial);
            using var gradBeta = ToDevice(dbInitial);
            Cpu.BatchNormBackward(dx, dy, n, channels, hw, dm, dv, Eps, dgamma, batchStatistics, gradX, accumulate, gradGamma, gradBeta);
            string what = $"batchStatistics={batchStatistics} affine={affine} accumulate={accumulate}";
            AssertClose(ToHost(gradX), dxRef.Select((v, i) => v + (accumulate ? dxInitial[i] : 0)).ToArray(), GradientTolerance, $"dx {what}");
            AssertClose(ToHost(gradGamma), dgRef.Select((v, c) => v + dgInitial[c]).ToArray(), GradientTolerance, $"dgamma {what}");
            AssertClose(ToHost(gradBeta), dbRef.Select((v, c) => v + dbInitial[c]).ToArray(), GradientTolerance, $"dbeta {what}");
        }
    }

    [Fact]
    public void BackwardWithoutParameterGradients()
    {
        const int n = 2, channels = 3, hw = 5;
        var x = Input(n, channels, hw);
        var dyValues = RandomArray(x.Length, 13);
        var (mean, variance) = Ref.BatchNormStatistics(ToDouble(x), n, channels, hw);
        var (dxRef, _, _) = Ref.BatchNormBackward(ToDouble(x), ToDouble(dyValues), n, channels, hw, mean, variance, Eps, null, true);
        using var dx = ToDevice(x);
        using var dy = ToDevice(dyValues);
        using var dm = ToDevice(ToFloat(mean));
        using var dv = ToDevice(ToFloat(variance));
        using var gradX = NaNBuffer(x.Length);
        Cpu.BatchNormBackward(dx, dy, n, channels, hw, dm, dv, Eps, null, true, gradX, false, null, null);
        AssertClose(ToHost(gradX), dxRef, GradientTolerance, "dx");
    }
}
