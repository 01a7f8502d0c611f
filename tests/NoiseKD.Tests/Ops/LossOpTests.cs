using NoiseKD.Functional;
using NoiseKD.Tensors;
using Xunit;

namespace NoiseKD.Tests.Ops;

public class LossOpTests
{
    [Theory]
    [InlineData(1, 3, 0.0)]
    [InlineData(3, 5, 0.1)]
    [InlineData(7, 13, 0.2)]
    [InlineData(4, 10, 1.0)]   // all smoothing: a uniform target
    public void CrossEntropy(int n, int k, double smoothing)
    {
        var rng = new Random(n * 31 + k);
        var labels = Enumerable.Range(0, n).Select(_ => rng.Next(k)).ToArray();
        double e = (float)smoothing;
        OpCheck.Run($"cross_entropy labels=[{string.Join(",", labels)}] smoothing={smoothing}", [OpInput.Of(n, k).Range(-3, 3)],
            new RefOp(v => [Reference.CrossEntropy(v[0], labels, k, e)],
                      (v, dy) => [Reference.CrossEntropyBackward(v[0], labels, k, e, dy[0])]),
            t => F.CrossEntropy(t[0], labels, (float)smoothing));
    }

    [Theory]
    [InlineData(1, 3, 1.0)]
    [InlineData(3, 5, 4.0)]
    [InlineData(5, 13, 2.5)]
    [InlineData(2, 10, 20.0)]  // high temperature: nearly uniform distributions
    public void KdLoss(int n, int k, double temperature) =>
        CheckTeacherLoss("kd_loss", n, k, temperature, Reference.KdLoss, Reference.KdLossBackward, F.KdLoss);

    [Theory]
    [InlineData(1, 3, 1.0)]
    [InlineData(3, 5, 1.0)]
    [InlineData(5, 13, 3.0)]
    public void SoftTargetCrossEntropy(int n, int k, double temperature) =>
        CheckTeacherLoss("soft_target_cross_entropy", n, k, temperature,
                         Reference.SoftTargetCrossEntropy, Reference.SoftTargetCrossEntropyBackward, F.SoftTargetCrossEntropy);

    delegate double TeacherLoss(double[] student, double[] teacher, int rows, int cols, double temperature);
    delegate double[] TeacherLossBackward(double[] student, double[] teacher, int rows, int cols, double temperature, double dLoss);

    /// <summary>Student logits differentiated, teacher logits a constant.</summary>
    static void CheckTeacherLoss(string name, int n, int k, double temperature, TeacherLoss forward, TeacherLossBackward backward,
                                 Func<Tensor, Tensor, float, Tensor> op)
    {
        double t = (float)temperature;
        // At high T both distributions are near uniform: KL (~1e-2 before the T^2) is a sum of terms
        // ten times larger with alternating signs, so float32 loses a digit to cancellation there.
        var options = new OpCheckOptions { ForwardTolerance = temperature >= 10 ? 1e-4 : 1e-5 };
        OpCheck.Run($"{name} T={temperature}", [OpInput.Of(n, k).Range(-4, 4), OpInput.Of(n, k).Range(-4, 4).Constant()],
            new RefOp(v => [forward(v[0], v[1], n, k, t)], (v, dy) => [backward(v[0], v[1], n, k, t, dy[0]), null]),
            x => op(x[0], x[1], (float)temperature), options);
    }

    [Theory]
    [InlineData(new[] { 3, 5 })]
    [InlineData(new[] { 1, 13 })]
    [InlineData(new[] { 2, 3, 5, 7 })]
    public void L1AndMse(int[] shape)
    {
        OpInput[] inputs = [OpInput.Of(shape), OpInput.Of(shape)];
        // |a - b| has a kink where a = b: draws with any pair that close are redrawn.
        var options = new OpCheckOptions { Accept = v => v[0].Zip(v[1]).All(p => Math.Abs(p.First - p.Second) > OpCheck.KinkMargin) };
        OpCheck.Run("l1_loss", inputs,
            new RefOp(v => [Reference.L1Loss(v[0], v[1])],
                      (v, dy) => { var (da, db) = Reference.L1LossBackward(v[0], v[1], dy[0]); return [da, db]; }),
            t => F.L1Loss(t[0], t[1]), options);
        OpCheck.Run("mse_loss", inputs,
            new RefOp(v => [Reference.MseLoss(v[0], v[1])],
                      (v, dy) => { var (da, db) = Reference.MseLossBackward(v[0], v[1], dy[0]); return [da, db]; }),
            t => F.MseLoss(t[0], t[1]));
    }
}
