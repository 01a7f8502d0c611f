using NoiseKD.Autograd;
using NoiseKD.Nn;
using NoiseKD.Tensors;

namespace NoiseKD.Training;

/// <summary>Per-channel statistics of what one BatchNorm layer received, next to the running statistics it stores.</summary>
public sealed record BnLayerStats(string Name, double[] Mean, double[] Var, double[] RunningMean, double[] RunningVar, double Eps)
{
    /// <summary>
    /// Mean over channels of the symmetric KL divergence between the Gaussians N(mean, var) of the inputs and
    /// N(running_mean, running_var): how far this layer's inputs are from what its running statistics expect.
    /// </summary>
    public double ShiftFromRunning => BnProbe.MeanSymmetricKl(Mean, Var, RunningMean, RunningVar);

    /// <summary>Per-channel mean and variance of the normalized values x_hat under running statistics.</summary>
    public (double[] Mean, double[] Var) NormalizedUnderRunning() =>
        (Mean.Select((m, c) => (m - RunningMean[c]) / Math.Sqrt(RunningVar[c] + Eps)).ToArray(),
         Var.Select((v, c) => v / (RunningVar[c] + Eps)).ToArray());

    /// <summary>Per-channel mean and variance of x_hat under current (batch) statistics: 0 and var/(var+eps) per batch.</summary>
    public (double[] Mean, double[] Var) NormalizedUnderCurrent(double[] batchVarianceMean) =>
        (new double[Mean.Length], batchVarianceMean.Select(v => v / (v + Eps)).ToArray());
}

/// <summary>
/// Captures, through forward hooks (the model's code is untouched), the per-channel mean and variance of
/// every BatchNorm layer's input over a set of batches, plus the input of the final Linear layer (the
/// pooled features). Statistics are accumulated in double over all samples and positions.
/// </summary>
public sealed class BnProbe
{
    public sealed record Result(IReadOnlyList<BnLayerStats> Layers, IReadOnlyList<double[]> BatchVarianceMeans, float[] PooledFeatures);

    public static Result Capture(Module model, IEnumerable<Func<Tensor>> batches, BnStatistics statistics)
    {
        var layers = model.NamedModules().Where(m => m.Module is BatchNorm).Select(m => (m.Name, Layer: (BatchNorm)m.Module)).ToList();
        var sums = layers.Select(l => (Sum: new double[l.Layer.NumFeatures], Square: new double[l.Layer.NumFeatures], Count: new long[1],
                                       BatchVar: new double[l.Layer.NumFeatures], Batches: new int[1])).ToList();
        var head = model.NamedModules().Select(m => m.Module).OfType<Linear>().LastOrDefault();
        var pooled = new List<float>();
        var hooks = new List<IDisposable>();
        for (int i = 0; i < layers.Count; i++)
        {
            var acc = sums[i];
            hooks.Add(layers[i].Layer.AddForwardHook((_, input, _) => Accumulate(input, acc.Sum, acc.Square, acc.Count, acc.BatchVar, acc.Batches)));
        }
        if (head is not null) hooks.Add(head.AddForwardHook((_, input, _) => pooled.AddRange(input.ToArray())));
        bool training = model.Training;
        model.Eval();
        try
        {
            using var bn = BnControl.Override(model, statistics, updateRunning: false);
            using var _ = Tape.NoGrad();
            foreach (var make in batches)
            {
                using var scope = new TensorScope();
                model.Forward(make());
            }
        }
        finally
        {
            hooks.ForEach(h => h.Dispose());
            model.Train(training);
        }
        var stats = layers.Select((l, i) =>
        {
            var (sum, square, count, _, _) = sums[i];
            var mean = sum.Select(s => s / count[0]).ToArray();
            var variance = square.Select((q, c) => Math.Max(0, q / count[0] - mean[c] * mean[c])).ToArray();
            return new BnLayerStats(l.Name, mean, variance, Doubles(l.Layer.RunningMean), Doubles(l.Layer.RunningVar), l.Layer.Eps);
        }).ToList();
        var batchVar = sums.Select(s => s.BatchVar.Select(v => v / Math.Max(1, s.Batches[0])).ToArray()).ToList();
        return new Result(stats, batchVar, pooled.ToArray());
    }

    static void Accumulate(Tensor input, double[] sum, double[] square, long[] count, double[] batchVar, int[] batches)
    {
        int n = input.Shape[0], c = input.Shape[1], hw = (int)(input.Numel / ((long)n * c));
        var x = input.ToArray();
        for (int ch = 0; ch < c; ch++)
        {
            double s = 0, q = 0;
            for (int i = 0; i < n; i++)
                for (int k = 0; k < hw; k++)
                {
                    double v = x[((long)i * c + ch) * hw + k];
                    s += v;
                    q += v * v;
                }
            sum[ch] += s;
            square[ch] += q;
            double m = s / (n * hw);
            batchVar[ch] += q / (n * hw) - m * m;
        }
        count[0] += (long)n * hw;
        batches[0]++;
    }

    static double[] Doubles(Tensor? t) => t is null ? [] : t.ToArray().Select(v => (double)v).ToArray();

    /// <summary>Mean over channels of KL(N1||N2) + KL(N2||N1) for univariate Gaussians; variances floored at 1e-8.</summary>
    public static double MeanSymmetricKl(double[] m1, double[] v1, double[] m2, double[] v2)
    {
        if (m2.Length == 0) return double.NaN;
        double total = 0;
        for (int c = 0; c < m1.Length; c++)
        {
            double a = Math.Max(v1[c], 1e-8), b = Math.Max(v2[c], 1e-8), d = (m1[c] - m2[c]) * (m1[c] - m2[c]);
            // KL(N(m1,a) || N(m2,b)) = (log(b/a) + (a + d)/b - 1)/2; the log terms cancel in the sum.
            total += 0.5 * ((a + d) / b + (b + d) / a - 2);
        }
        return total / m1.Length;
    }

    /// <summary>
    /// The teacher's BN layers ordered by how far noise inputs are from their running statistics, smallest shift
    /// first — data-free, since only the transfer batches and the stored statistics are used.
    /// </summary>
    public static int[] RankByShift(Module model, IEnumerable<Func<Tensor>> transferBatches)
    {
        var result = Capture(model, transferBatches, BnStatistics.Running);
        return result.Layers.Select((l, i) => (Shift: l.ShiftFromRunning, Index: i)).OrderBy(t => t.Shift).ThenBy(t => t.Index).Select(t => t.Index).ToArray();
    }
}
