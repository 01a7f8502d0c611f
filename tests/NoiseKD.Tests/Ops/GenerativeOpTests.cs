using NoiseKD.Functional;
using NoiseKD.Nn;
using NoiseKD.Tensors;
using Xunit;

namespace NoiseKD.Tests.Ops;

/// <summary>The ops PRE-DFKD's generator and VAE need, checked like the core ops (float64 reference, finite differences).</summary>
public class GenerativeOpTests
{
    [Theory]
    [InlineData(new[] { 3, 5, 7 })]
    [InlineData(new[] { 1 })]
    public void MulAndDivByScalarTensor(int[] shape)
    {
        OpInput[] inputs = [OpInput.Of(shape), OpInput.Of().Range(0.5, 2)];
        OpCheck.Run("mul_scalar", inputs,
            new RefOp(v => Reference.MulScalar(v[0], v[1][0]),
                      (v, dy) => { var (dx, ds) = Reference.MulScalarBackward(v[0], v[1][0], dy); return [dx, [ds]]; }),
            t => F.MulScalar(t[0], t[1]));
        // Negative divisors too: the reciprocal is s * exp(-log(s^2)), defined for any sign.
        foreach (var (low, high) in new[] { (0.5, 2.0), (-2.0, -0.5) })
            OpCheck.Run($"div_scalar s in [{low}, {high}]", [OpInput.Of(shape), OpInput.Of().Range(low, high)],
                new RefOp(v => Reference.DivScalar(v[0], v[1][0]),
                          (v, dy) => { var (dx, ds) = Reference.DivScalarBackward(v[0], v[1][0], dy); return [dx, [ds]]; }),
                t => F.DivScalar(t[0], t[1]));
    }

    /// <summary>sigma from given u and v (no power iteration, torch's eval mode): u and v are constants.</summary>
    [Theory]
    [InlineData(new[] { 4, 3, 3, 3 })]
    [InlineData(new[] { 6, 5 })]
    [InlineData(new[] { 1, 7 })]
    public void SpectralNormWeightWithFixedVectors(int[] shape)
    {
        int rows = shape[0], cols = Reference.Numel(shape) / rows;
        OpInput[] inputs = [OpInput.Of(shape), OpInput.Of(rows).Range(0.2, 1).Constant(), OpInput.Of(cols).Range(0.2, 1).Constant()];
        OpCheck.Run("spectral_norm(iterations=0)", inputs,
            new RefOp(v => Reference.SpectralNorm(v[0], rows, cols, v[1], v[2]),
                      (v, dy) => [Reference.SpectralNormBackward(v[0], rows, cols, v[1], v[2], dy), null, null]),
            t => F.SpectralNormWeight(t[0], t[1], t[2], 0));
    }

    /// <summary>
    /// With power iterations the buffers are updated in place like the float64 iteration, and the output
    /// and gradient are the reference's at the iterated u and v (held constant, as torch does).
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void SpectralNormPowerIterationUpdatesBuffers(int iterations)
    {
        int[] shape = [5, 2, 3, 3];
        int rows = 5, cols = 18;
        var rng = new Random(17 + iterations);
        var w = OpCheck.Draw(rows * cols, -1, 1, rng);
        var u0 = OpCheck.Draw(rows, -1, 1, rng);
        var v0 = OpCheck.Draw(cols, -1, 1, rng);
        var dy = OpCheck.Draw(rows * cols, -1, 1, rng);
        var (u, v) = Reference.PowerIteration(w, rows, cols, u0, v0, iterations);

        using var scope = new TensorScope();
        var wt = Tensor.FromArray(OpCheck.ToFloat(w), shape);
        wt.RequiresGrad = true;
        var ut = Tensor.FromArray(OpCheck.ToFloat(u0), [rows]);
        var vt = Tensor.FromArray(OpCheck.ToFloat(v0), [cols]);
        var y = F.SpectralNormWeight(wt, ut, vt, iterations);
        F.Sum(F.Mul(y, Tensor.FromArray(OpCheck.ToFloat(dy), shape))).Backward();

        Assert.InRange(OpCheck.RelativeError(OpCheck.ToDouble(ut.ToArray()), u), 0, 1e-5);
        Assert.InRange(OpCheck.RelativeError(OpCheck.ToDouble(vt.ToArray()), v), 0, 1e-5);
        Assert.InRange(OpCheck.RelativeError(OpCheck.ToDouble(y.ToArray()), Reference.SpectralNorm(w, rows, cols, u, v)), 0, 1e-5);
        Assert.InRange(OpCheck.RelativeError(OpCheck.ToDouble(wt.Grad!.ToArray()), Reference.SpectralNormBackward(w, rows, cols, u, v, dy)), 0, 1e-4);
    }

    /// <summary>Many training forwards converge sigma to the largest singular value: the normalized weight has spectral norm 1.</summary>
    [Fact]
    public void SpectralNormConvergesToTheLargestSingularValue()
    {
        Generator.ManualSeed(4);
        var conv = new SpectralNormConv2d(3, 6, 3);
        var w = OpCheck.ToDouble(conv.WeightOrig.ToArray());
        var (u, v) = Reference.PowerIteration(w, 6, 27, OpCheck.ToDouble(conv.U.ToArray()), OpCheck.ToDouble(conv.V.ToArray()), 2000);
        double sigma = Reference.Sigma(w, 6, 27, u, v);
        using var scope = new TensorScope();
        Tensor normalized = conv.Weight();
        for (int i = 0; i < 300; i++) normalized = conv.Weight();
        Assert.Equal(w[0] / sigma, normalized.ToArray()[0], 4);
        Assert.Equal(["weight_orig", "bias", "weight_u", "weight_v"], conv.StateDict().Select(e => e.Name).ToArray());
        conv.Eval();
        var u1 = conv.U.ToArray();
        conv.Weight();
        Assert.Equal(u1, conv.U.ToArray());   // no power iteration in eval mode
    }

    [Theory]
    [InlineData(4, 10)]
    [InlineData(1, 3)]
    [InlineData(7, 1)]
    public void MeanOverBatch(int n, int rest)
    {
        OpCheck.Run("mean_over_batch", [OpInput.Of(n, rest)],
            new RefOp(v => Reference.MeanOverBatch(v[0], n, rest), (_, dy) => [Reference.MeanOverBatchBackward(n, rest, dy)]),
            t => F.MeanOverBatch(t[0]));
    }

    [Theory]
    [InlineData(5, 10)]
    [InlineData(1, 4)]
    [InlineData(16, 3)]
    public void MeanSoftmaxEntropy(int n, int k)
    {
        OpCheck.Run("mean_softmax_entropy", [OpInput.Of(n, k).Range(-3, 3)],
            new RefOp(v => [Reference.MeanSoftmaxEntropy(v[0], n, k)], (v, dy) => [Reference.MeanSoftmaxEntropyBackward(v[0], n, k, dy[0])]),
            t => F.MeanSoftmaxEntropy(t[0]));
    }

    /// <summary>Classes no sample gives any probability (logit gap 200: exp underflows to 0) add 0, not NaN, and no NaN gradient.</summary>
    [Fact]
    public void MeanSoftmaxEntropyOfAnUnderflowingClassIsFinite()
    {
        using var scope = new TensorScope();
        var logits = Tensor.FromArray([100f, -100f, -100f, 100f, -100f, -100f], [2, 3]);
        logits.RequiresGrad = true;
        var h = F.MeanSoftmaxEntropy(logits);
        // p = (1, 0, 0) in float32: H = 0.
        Assert.Equal(0f, h.Item());
        h.Backward();
        Assert.All(logits.Grad!.ToArray(), g => Assert.True(float.IsFinite(g)));
    }

    [Theory]
    [InlineData(4, 8)]
    [InlineData(1, 3)]
    public void ReparameterizeAndGaussianKl(int n, int latent)
    {
        OpInput[] inputs = [OpInput.Of(n, latent), OpInput.Of(n, latent).Range(-2, 1), OpInput.Of(n, latent).Range(-2, 2).Constant()];
        OpCheck.Run("reparameterize", inputs,
            new RefOp(v => Reference.Reparameterize(v[0], v[1], v[2]),
                      (v, dy) => { var (dm, dl) = Reference.ReparameterizeBackward(v[1], v[2], dy); return [dm, dl, null]; }),
            t => F.Reparameterize(t[0], t[1], t[2]));
        OpCheck.Run("gaussian_kl", inputs[..2],
            new RefOp(v => [Reference.GaussianKl(v[0], v[1], n)],
                      (v, dy) => { var (dm, dl) = Reference.GaussianKlBackward(v[0], v[1], n, dy[0]); return [dm, dl]; }),
            t => F.GaussianKlDivergence(t[0], t[1]));
    }

    /// <summary>Drawn eps: the sample's mean and spread are mu and exp(logvar/2).</summary>
    [Fact]
    public void ReparameterizeDrawsFromTheGenerator()
    {
        using var scope = new TensorScope();
        var mu = Tensor.Full([2000, 2], 1.5f);
        var logVar = Tensor.Full([2000, 2], MathF.Log(4f));
        var z = F.Reparameterize(mu, logVar, new Generator(3)).ToArray();
        double mean = z.Average(v => (double)v), std = Math.Sqrt(z.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, 1.4, 1.6);
        Assert.InRange(std, 1.9, 2.1);
    }
}
