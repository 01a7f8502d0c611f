using NoiseKD.Functional;
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
