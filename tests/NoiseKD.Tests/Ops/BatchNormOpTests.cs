using NoiseKD.Backends;
using NoiseKD.Functional;
using NoiseKD.Tests.Backends;
using NoiseKD.Tensors;
using Xunit;

namespace NoiseKD.Tests.Ops;

/// <summary>F.BatchNorm in both statistics modes: batch (gradient through mean and variance) and running (constants).</summary>
public class BatchNormOpTests
{
    [Theory]
    [InlineData(new[] { 3, 5, 3, 5 }, true, true)]    // [N, C, H, W], odd sizes
    [InlineData(new[] { 1, 13, 5, 7 }, true, true)]   // batch 1: statistics over H*W only
    [InlineData(new[] { 3, 5, 3, 5 }, true, false)]   // affine=false
    [InlineData(new[] { 2, 3, 9, 9 }, false, true)]   // running statistics
    [InlineData(new[] { 1, 13, 5, 7 }, false, false)] // running statistics, affine=false, batch 1
    [InlineData(new[] { 5, 13 }, true, true)]         // BatchNorm1d on [N, C]
    [InlineData(new[] { 5, 13 }, false, true)]
    [InlineData(new[] { 3, 5, 7 }, true, true)]       // BatchNorm1d on [N, C, L]
    [InlineData(new[] { 3, 5, 7 }, false, false)]
    [InlineData(new[] { 4, 16, 3, 3 }, true, true)]   // 16 channels (vector width multiples)
    public void BatchNorm(int[] shape, bool batchStatistics, bool affine) => Check(shape, batchStatistics, affine, 1e-5);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BatchNormWithLargeEps(bool batchStatistics) => Check([2, 3, 5, 7], batchStatistics, true, 0.1);

    /// <summary>Per-channel offsets and scales far from 0 and 1: a one-pass variance loses digits here.</summary>
    [Fact]
    public void BatchStatisticsOfOffsetInput() => Check([3, 5, 3, 5], true, true, 1e-5, low: 20, high: 21);

    [Fact]
    public void BatchStatisticsNeedMoreThanOneValuePerChannel()
    {
        using var scope = new TensorScope();
        var x = Tensor.Ones([1, 3]);
        Assert.Throws<ArgumentException>(() => F.BatchNorm(x, null, null, null, null, useBatchStatistics: true));
    }

    static void Check(int[] shape, bool batchStatistics, bool affine, double eps, double low = -1, double high = 1)
    {
        int n = shape[0], c = shape[1], hw = Reference.Numel(shape) / (n * c);
        var inputs = new List<OpInput> { OpInput.Of(shape).Range(low, high) };
        if (affine) inputs.AddRange([OpInput.Of(c).Range(0.5, 1.5), OpInput.Of(c)]);
        if (!batchStatistics) inputs.AddRange([OpInput.Of(c).Constant(), OpInput.Of(c).Range(0.5, 2).Constant()]);
        int stats = affine ? 3 : 1;
        double[]? Gamma(double[][] v) => affine ? v[1] : null;
        double[]? Beta(double[][] v) => affine ? v[2] : null;
        double[]? Mean(double[][] v) => batchStatistics ? null : v[stats];
        double[]? Var(double[][] v) => batchStatistics ? null : v[stats + 1];

        var reference = new RefOp(
            v => Reference.BatchNorm(v[0], n, c, hw, Gamma(v), Beta(v), Mean(v), Var(v), batchStatistics, eps),
            (v, dy) =>
            {
                var (dx, dgamma, dbeta) = Reference.BatchNormBackward(v[0], n, c, hw, Gamma(v), affine, Mean(v), Var(v), batchStatistics, eps, dy);
                var grads = new List<double[]?> { dx };
                if (affine) grads.AddRange([dgamma, dbeta]);
                if (!batchStatistics) grads.AddRange([null, null]);
                return grads.ToArray();
            });
        OpCheck.Run($"batch_norm batch_stats={batchStatistics} affine={affine} eps={eps}", inputs.ToArray(), reference,
            t => F.BatchNorm(t[0], batchStatistics ? null : t[stats], batchStatistics ? null : t[stats + 1],
                             affine ? t[1] : null, affine ? t[2] : null, batchStatistics, eps: (float)eps));
    }

    public static TheoryData<Activation, bool, bool, bool> FusedCases()
    {
        var data = new TheoryData<Activation, bool, bool, bool>();
        foreach (var activation in Enum.GetValues<Activation>())
            foreach (bool residual in new[] { false, true })
                foreach (bool batchStatistics in new[] { true, false })
                    foreach (bool affine in new[] { true, false })
                        data.Add(activation, residual, batchStatistics, affine);
        return data;
    }

    /// <summary>
    /// act(batch_norm(x) + residual) as one op against the float64 composition of its parts: the mask taken
    /// from z = batch_norm(x) + residual (draws with z near 0 or 6 are redrawn: the kinks), the residual's
    /// gradient the masked dy, and BN's backward of the masked dy. Residuals up to 5 and scales up to 3 put
    /// z above Relu6's 6 as well.
    /// </summary>
    [Theory]
    [MemberData(nameof(FusedCases))]
    public void BatchNormAddActivation(Activation activation, bool residual, bool batchStatistics, bool affine)
    {
        int[] shape = [3, 5, 3, 5];
        const int n = 3, c = 5, hw = 15;
        const double eps = 1e-5;
        var inputs = new List<OpInput> { OpInput.Of(shape) };
        int Add(OpInput input)
        {
            inputs.Add(input);
            return inputs.Count - 1;
        }
        int r = residual ? Add(OpInput.Of(shape).Range(-2, 5)) : -1;
        int g = affine ? Add(OpInput.Of(c).Range(1, 3)) : -1;
        int b = affine ? Add(OpInput.Of(c).Range(-1, 3)) : -1;
        int m = batchStatistics ? -1 : Add(OpInput.Of(c).Range(-0.5, 0.5).Constant());
        int v = batchStatistics ? -1 : Add(OpInput.Of(c).Range(0.5, 2).Constant());
        static double[]? At(double[][] values, int i) => i < 0 ? null : values[i];

        UnaryOp? op = activation switch { Activation.Relu => UnaryOp.Relu, Activation.Relu6 => UnaryOp.Relu6, _ => null };
        double[] Z(double[][] x)
        {
            var z = Reference.BatchNorm(x[0], n, c, hw, At(x, g), At(x, b), At(x, m), At(x, v), batchStatistics, eps);
            return residual ? Reference.Zip(z, x[r], (p, q) => p + q) : z;
        }
        var reference = new RefOp(
            x => op is UnaryOp u ? Reference.Map(Z(x), z => PrimitiveReference.Unary(u, 0, z)) : Z(x),
            (x, dy) =>
            {
                var dz = op is UnaryOp u ? Reference.Zip(dy, Z(x), (d, z) => d * PrimitiveReference.UnaryDerivative(u, 0, z)) : dy;
                var (dx, dgamma, dbeta) = Reference.BatchNormBackward(x[0], n, c, hw, At(x, g), affine, At(x, m), At(x, v), batchStatistics, eps, dz);
                var grads = new double[]?[inputs.Count];
                grads[0] = dx;
                if (residual) grads[r] = dz;
                if (affine) (grads[g], grads[b]) = (dgamma, dbeta);
                return grads;
            });
        bool AwayFromKinks(double[][] x) => Z(x).All(z => Math.Abs(z) > OpCheck.KinkMargin && Math.Abs(z - 6) > OpCheck.KinkMargin);
        OpCheck.Run($"batch_norm + add={residual} + {activation} batch_stats={batchStatistics} affine={affine}", inputs.ToArray(), reference,
            t => F.BatchNormAddActivation(t[0], residual ? t[r] : null, activation, batchStatistics ? null : t[m], batchStatistics ? null : t[v],
                                          affine ? t[g] : null, affine ? t[b] : null, batchStatistics, eps: (float)eps),
            new OpCheckOptions { Accept = AwayFromKinks });
    }

    /// <summary>The fused op is one tape node whose inputs are x and the residual themselves: nothing between them and y is kept.</summary>
    [Fact]
    public void BatchNormAddActivationRecordsOneNode()
    {
        using var scope = new TensorScope();
        var x = Tensor.FromArray(OpCheck.ToFloat(OpCheck.Draw(24, -1, 1, new Random(1))), [2, 3, 4]);
        var residual = Tensor.FromArray(OpCheck.ToFloat(OpCheck.Draw(24, -1, 1, new Random(2))), [2, 3, 4]);
        x.RequiresGrad = residual.RequiresGrad = true;
        var y = F.BatchNormAddActivation(x, residual, Activation.Relu6, null, null, null, null, useBatchStatistics: true);
        Assert.Equal("BatchNorm[current]+Add+Relu6", y.Node!.Name);
        Assert.Equal(new[] { x, residual }, y.Node.Inputs);
    }

    [Fact]
    public void BatchNormAddActivationNeedsAResidualOfTheInputsShape()
    {
        using var scope = new TensorScope();
        Assert.Throws<ArgumentException>(() =>
            F.BatchNormAddActivation(Tensor.Ones([2, 3, 4]), Tensor.Ones([2, 3, 5]), Activation.Relu, null, null, null, null, useBatchStatistics: true));
    }

    /// <summary>
    /// y = bn(bn(x) + x) with one gamma/beta for both: dgamma/dbeta accumulate over the two applications
    /// and the inner dx adds to the skip connection's gradient (accumulateDx).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BatchNormAppliedTwiceAccumulates(bool batchStatistics)
    {
        const int n = 3, c = 5, hw = 6;
        OpInput[] inputs = [OpInput.Of(n, c, 2, 3), OpInput.Of(c).Range(0.5, 1.5), OpInput.Of(c),
                            OpInput.Of(c).Constant(), OpInput.Of(c).Range(0.5, 2).Constant()];
        double[] Bn(double[][] v, double[] x) => Reference.BatchNorm(x, n, c, hw, v[1], v[2], v[3], v[4], batchStatistics, 1e-5);
        var reference = new RefOp(
            v => Bn(v, Reference.Zip(Bn(v, v[0]), v[0], (a, b) => a + b)),
            (v, dy) =>
            {
                var h = Reference.Zip(Bn(v, v[0]), v[0], (a, b) => a + b);
                var (dh, dg2, db2) = Reference.BatchNormBackward(h, n, c, hw, v[1], true, v[3], v[4], batchStatistics, 1e-5, dy);
                var (dx, dg1, db1) = Reference.BatchNormBackward(v[0], n, c, hw, v[1], true, v[3], v[4], batchStatistics, 1e-5, dh);
                return [Reference.Zip(dx, dh, (a, b) => a + b), Reference.Zip(dg1!, dg2!, (a, b) => a + b),
                        Reference.Zip(db1!, db2!, (a, b) => a + b), null, null];
            });
        Tensor Bn2(Tensor[] t, Tensor x) => F.BatchNorm(x, batchStatistics ? null : t[3], batchStatistics ? null : t[4], t[1], t[2], batchStatistics);
        OpCheck.Run($"batch_norm twice batch_stats={batchStatistics}", inputs, reference,
            t => Bn2(t, F.Add(Bn2(t, t[0]), t[0])));
    }
}
