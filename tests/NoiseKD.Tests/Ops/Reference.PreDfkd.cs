namespace NoiseKD.Tests.Ops;

/// <summary>
/// Float64 references of the public PRE-DFKD code's extra terms (utils/aux.py, distillation.py), written from
/// their PyTorch definitions: clamp, the clamped Jensen-Shannon disagreement, the latent prior penalty.
/// </summary>
public static partial class Reference
{
    /// <summary>torch.clamp; its gradient passes where low &lt;= x &lt;= high.</summary>
    public static double Clamp(double x, double low, double high) => Math.Min(Math.Max(x, low), high);

    static double InRange(double x, double low, double high) => x >= low && x <= high ? 1 : 0;

    /// <summary>
    /// The JS divergence before its final clamp: P = softmax(teacher / T), Q = softmax(student / T),
    /// M = (P + Q) / 2, each clamped to [0.01, 0.99]; nn.KLDivLoss('mean')(log X, M) = mean over all N x K
    /// elements of M (log M - log X); JS = (KL(P) + KL(Q)) / 2.
    /// </summary>
    public static double JsDivergenceUnclamped(double[] student, double[] teacher, int n, int k, double temperature)
    {
        var (p, q) = (Softmax(Map(teacher, v => v / temperature), n, k), Softmax(Map(student, v => v / temperature), n, k));
        double sum = 0;
        for (int i = 0; i < n * k; i++)
        {
            double m = Clamp(0.5 * (p[i] + q[i]), 0.01, 0.99), cp = Clamp(p[i], 0.01, 0.99), cq = Clamp(q[i], 0.01, 0.99);
            sum += m * (Math.Log(m) - Math.Log(cp)) + m * (Math.Log(m) - Math.Log(cq));
        }
        return 0.5 * sum / (n * k);
    }

    public static double JsDivergence(double[] student, double[] teacher, int n, int k, double temperature) =>
        Clamp(JsDivergenceUnclamped(student, teacher, n, k, temperature), 0, 1);

    /// <summary>
    /// d clamp(JS) / d student: zero outside [0, 1]; else through M (dJS/dM = (2 log M + 2 - log P - log Q) / 2NK,
    /// times 1/2 where M is unclamped) and Q (dJS/dQ = -M / Q / 2NK where Q is unclamped), then the softmax at 1/T.
    /// </summary>
    public static double[] JsDivergenceBackward(double[] student, double[] teacher, int n, int k, double temperature, double dLoss)
    {
        var dx = new double[student.Length];
        if (InRange(JsDivergenceUnclamped(student, teacher, n, k, temperature), 0, 1) == 0) return dx;
        var (p, q) = (Softmax(Map(teacher, v => v / temperature), n, k), Softmax(Map(student, v => v / temperature), n, k));
        var dq = new double[n * k];
        for (int i = 0; i < n * k; i++)
        {
            double raw = 0.5 * (p[i] + q[i]);
            double m = Clamp(raw, 0.01, 0.99), cp = Clamp(p[i], 0.01, 0.99), cq = Clamp(q[i], 0.01, 0.99);
            double dm = (2 * Math.Log(m) + 2 - Math.Log(cp) - Math.Log(cq)) / (2.0 * n * k);
            dq[i] = dLoss * (dm * 0.5 * InRange(raw, 0.01, 0.99) - m / cq / (2.0 * n * k) * InRange(q[i], 0.01, 0.99));
        }
        for (int r = 0; r < n; r++)
        {
            double dot = 0;
            for (int j = 0; j < k; j++) dot += q[r * k + j] * dq[r * k + j];
            for (int j = 0; j < k; j++) dx[r * k + j] = q[r * k + j] * (dq[r * k + j] - dot) / temperature;
        }
        return dx;
    }

    /// <summary>F.mse_loss(torch.var(z, 0), 1) + F.mse_loss(z.mean(0), 0), unbiased variance, z [n, latent].</summary>
    public static double LatentPriorPenalty(double[] z, int n, int latent)
    {
        var (mean, variance) = ColumnMoments(z, n, latent);
        return Sum(Map(variance, v => (v - 1) * (v - 1))) / latent + Sum(Map(mean, m => m * m)) / latent;
    }

    public static double[] LatentPriorPenaltyBackward(double[] z, int n, int latent, double dLoss)
    {
        var (mean, variance) = ColumnMoments(z, n, latent);
        var dz = new double[z.Length];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < latent; c++)
                dz[i * latent + c] = dLoss * (2 * (variance[c] - 1) / latent * 2 * (z[i * latent + c] - mean[c]) / (n - 1) + 2 * mean[c] / latent / n);
        return dz;
    }

    static (double[] Mean, double[] Variance) ColumnMoments(double[] z, int n, int cols)
    {
        var mean = MeanOverBatch(z, n, cols);
        var variance = new double[cols];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < cols; c++) variance[c] += (z[i * cols + c] - mean[c]) * (z[i * cols + c] - mean[c]) / (n - 1);
        return (mean, variance);
    }

    /// <summary>Row-wise argmax (the public code's `outputs_T.data.max(1)[1]`).</summary>
    public static int[] ArgMaxRows(double[] x, int n, int k) =>
        Enumerable.Range(0, n).Select(r => Enumerable.Range(0, k).MaxBy(j => x[r * k + j])).ToArray();
}
