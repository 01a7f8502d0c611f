using NoiseKD.Autograd;
using NoiseKD.Data;
using NoiseKD.Functional;
using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.Optim;
using NoiseKD.Tensors;
using NoiseKD.Training;

namespace NoiseKD.Studies;

/// <summary>
/// The noise-KD paper's toy experiment (its Figure 3): an MLP with BatchNorm learns two circles; fed
/// Gaussian noise, its hidden embeddings land far from the data's when BN uses running statistics, and
/// back among them with current statistics. Embeddings are projected on the data's two principal axes.
/// </summary>
public static class ToyCirclesStudy
{
    public sealed record Result(double DataAccuracy, double[] PredictedShareRs, double[] PredictedShareCs,
                                double ShiftRs, double ShiftCs, SvgChart.Series[] Embeddings);

    public static Result Run(int points = 2000, int steps = 400, ulong seed = 0)
    {
        Generator.ManualSeed(seed);
        var (xs, labels) = TwoCircles.Generate(points, 0.05f, 0.5f, seed);
        var mlp = new Mlp(2, 2, hiddenWidth: 32, hiddenLayers: 2);
        var adam = new Adam(mlp.Parameters(), 0.01f);
        var gen = new Generator(seed + 7);
        for (int step = 0; step < steps; step++)
        {
            using var scope = new TensorScope();
            var idx = Enumerable.Range(0, 128).Select(_ => gen.NextInt(points)).ToArray();
            var batch = Tensor.FromArray(idx.SelectMany(i => new[] { xs[2 * i], xs[2 * i + 1] }).ToArray(), [128, 2]);
            var loss = F.CrossEntropy(mlp.Forward(batch), idx.Select(i => labels[i]).ToArray());
            adam.ZeroGrad();
            loss.Backward();
            adam.Step();
        }
        mlp.Eval();
        using var outer = new TensorScope();
        using var _ = Tape.NoGrad();
        var data = Tensor.FromArray(xs, [points, 2]);
        var noise = new Generator(seed + 11).Normal([points, 2]);
        double accuracy = Evaluator.CountCorrect(mlp.Forward(data).ToArray(), labels, 2) / (double)points;
        float[] dataEmb = mlp.Embed(data).ToArray(), rsEmb, csEmb;
        double[] shareRs, shareCs;
        rsEmb = mlp.Embed(noise).ToArray();
        shareRs = Shares(mlp.Forward(noise).ToArray(), 2);
        using (BnControl.Override(mlp, BnStatistics.Current))
        {
            csEmb = mlp.Embed(noise).ToArray();
            shareCs = Shares(mlp.Forward(noise).ToArray(), 2);
        }
        int dim = dataEmb.Length / points;
        var (mean, axes) = Pca.TopTwo(dataEmb, points, dim);
        SvgChart.Series Project(string name, float[] emb) => new(name, Enumerable.Range(0, points)
            .Select(i => Pca.Project(emb.AsSpan(i * dim, dim), mean, axes)).ToList());
        return new Result(accuracy, shareRs, shareCs, Shift(rsEmb, dataEmb, dim), Shift(csEmb, dataEmb, dim),
                          [Project("data", dataEmb), Project("noise + RS", rsEmb), Project("noise + CS", csEmb)]);
    }

    /// <summary>Share of inputs predicted as each class.</summary>
    static double[] Shares(float[] logits, int classes)
    {
        var counts = new double[classes];
        int n = logits.Length / classes;
        for (int i = 0; i < n; i++) counts[Evaluator.ArgMax(logits.AsSpan(i * classes, classes))]++;
        return counts.Select(c => c / n).ToArray();
    }

    /// <summary>Distance between the mean embedding of <paramref name="emb"/> and the data's, over the data's mean spread.</summary>
    static double Shift(float[] emb, float[] data, int dim)
    {
        var a = Mean(emb, dim);
        var b = Mean(data, dim);
        double spread = Math.Sqrt(Enumerable.Range(0, data.Length / dim).Average(i =>
            Enumerable.Range(0, dim).Sum(d => Math.Pow(data[i * dim + d] - b[d], 2))));
        return Math.Sqrt(a.Zip(b, (x, y) => (x - y) * (x - y)).Sum()) / spread;
    }

    static double[] Mean(float[] emb, int dim)
    {
        var m = new double[dim];
        int n = emb.Length / dim;
        for (int i = 0; i < n; i++) for (int d = 0; d < dim; d++) m[d] += emb[i * dim + d] / (double)n;
        return m;
    }
}

/// <summary>The two leading principal axes of a point cloud (power iteration with deflation on the covariance).</summary>
public static class Pca
{
    public static (double[] Mean, double[][] Axes) TopTwo(float[] rows, int count, int dim)
    {
        var mean = new double[dim];
        for (int i = 0; i < count; i++) for (int d = 0; d < dim; d++) mean[d] += rows[i * dim + d] / (double)count;
        var cov = new double[dim, dim];
        for (int i = 0; i < count; i++)
            for (int a = 0; a < dim; a++)
            {
                double da = rows[i * dim + a] - mean[a];
                for (int b = 0; b < dim; b++) cov[a, b] += da * (rows[i * dim + b] - mean[b]) / count;
            }
        var axes = new double[2][];
        for (int k = 0; k < 2; k++)
        {
            var v = Enumerable.Range(0, dim).Select(i => 1.0 + 0.01 * i).ToArray();
            for (int it = 0; it < 200; it++)
            {
                var next = new double[dim];
                for (int a = 0; a < dim; a++) for (int b = 0; b < dim; b++) next[a] += cov[a, b] * v[b];
                double norm = Math.Sqrt(next.Sum(x => x * x));
                if (norm < 1e-12) break;
                v = next.Select(x => x / norm).ToArray();
            }
            axes[k] = v;
            double lambda = 0;
            for (int a = 0; a < dim; a++) for (int b = 0; b < dim; b++) lambda += v[a] * cov[a, b] * v[b];
            for (int a = 0; a < dim; a++) for (int b = 0; b < dim; b++) cov[a, b] -= lambda * v[a] * v[b];
        }
        return (mean, axes);
    }

    public static (double X, double Y) Project(ReadOnlySpan<float> row, double[] mean, double[][] axes)
    {
        double x = 0, y = 0;
        for (int d = 0; d < row.Length; d++)
        {
            x += (row[d] - mean[d]) * axes[0][d];
            y += (row[d] - mean[d]) * axes[1][d];
        }
        return (x, y);
    }
}
