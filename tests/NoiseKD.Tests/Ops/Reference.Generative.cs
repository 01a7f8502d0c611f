namespace NoiseKD.Tests.Ops;

/// <summary>Float64 references of the ops a generator and a VAE need (PRE-DFKD): written from the definitions.</summary>
public static partial class Reference
{
    // ---- scalar-tensor products ----------------------------------------------------------------

    public static double[] MulScalar(double[] x, double s) => Map(x, v => v * s);

    public static (double[] Dx, double Ds) MulScalarBackward(double[] x, double s, double[] dy) =>
        (Map(dy, d => d * s), Sum(Zip(dy, x, (d, v) => d * v)));

    public static double[] DivScalar(double[] x, double s) => Map(x, v => v / s);

    public static (double[] Dx, double Ds) DivScalarBackward(double[] x, double s, double[] dy) =>
        (Map(dy, d => d / s), -Sum(Zip(dy, x, (d, v) => d * v)) / (s * s));

    // ---- spectral normalization ----------------------------------------------------------------

    /// <summary>
    /// torch.nn.utils.spectral_norm's power iteration on W [rows, cols]: v = W^T u / |W^T u|,
    /// u = W v / |W v|, <paramref name="iterations"/> times, from the given u and v.
    /// </summary>
    public static (double[] U, double[] V) PowerIteration(double[] w, int rows, int cols, double[] u, double[] v, int iterations)
    {
        u = (double[])u.Clone();
        v = (double[])v.Clone();
        for (int it = 0; it < iterations; it++)
        {
            for (int c = 0; c < cols; c++)
            {
                double s = 0;
                for (int r = 0; r < rows; r++) s += w[r * cols + c] * u[r];
                v[c] = s;
            }
            Normalize(v);
            for (int r = 0; r < rows; r++)
            {
                double s = 0;
                for (int c = 0; c < cols; c++) s += w[r * cols + c] * v[c];
                u[r] = s;
            }
            Normalize(u);
        }
        return (u, v);
    }

    static void Normalize(double[] x)
    {
        double norm = Math.Max(Math.Sqrt(Sum(Map(x, a => a * a))), 1e-12);
        for (int i = 0; i < x.Length; i++) x[i] /= norm;
    }

    /// <summary>sigma = u^T W v.</summary>
    public static double Sigma(double[] w, int rows, int cols, double[] u, double[] v)
    {
        double s = 0;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) s += u[r] * w[r * cols + c] * v[c];
        return s;
    }

    /// <summary>W / sigma with u and v given (after the power iteration).</summary>
    public static double[] SpectralNorm(double[] w, int rows, int cols, double[] u, double[] v) => DivScalar(w, Sigma(w, rows, cols, u, v));

    /// <summary>dW = dY / sigma - (sum(dY * W) / sigma^2) u v^T: u and v are constants (torch's no_grad power iteration).</summary>
    public static double[] SpectralNormBackward(double[] w, int rows, int cols, double[] u, double[] v, double[] dy)
    {
        double sigma = Sigma(w, rows, cols, u, v), dSigma = -Sum(Zip(dy, w, (d, a) => d * a)) / (sigma * sigma);
        var dw = Map(dy, d => d / sigma);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) dw[r * cols + c] += dSigma * u[r] * v[c];
        return dw;
    }

    // ---- batch means and the DAFL entropy ---------------------------------------------------------

    public static double[] MeanOverBatch(double[] x, int n, int rest)
    {
        var y = new double[rest];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < rest; c++) y[c] += x[i * rest + c] / n;
        return y;
    }

    public static double[] MeanOverBatchBackward(int n, int rest, double[] dy)
    {
        var dx = new double[n * rest];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < rest; c++) dx[i * rest + c] = dy[c] / n;
        return dx;
    }

    /// <summary>H(p) with p the batch mean of the row softmaxes.</summary>
    public static double MeanSoftmaxEntropy(double[] logits, int n, int k)
    {
        var p = MeanOverBatch(Softmax(logits, n, k), n, k);
        return -Sum(Map(p, q => q * Math.Log(q)));
    }

    /// <summary>dH/dp_j = -(log p_j + 1); through the mean and the softmax: dx_ik = s_ik (g_k - sum_j s_ij g_j) / n.</summary>
    public static double[] MeanSoftmaxEntropyBackward(double[] logits, int n, int k, double dLoss)
    {
        var s = Softmax(logits, n, k);
        var p = MeanOverBatch(s, n, k);
        var g = Map(p, q => -dLoss * (Math.Log(q) + 1));
        var dx = new double[n * k];
        for (int i = 0; i < n; i++)
        {
            double dot = 0;
            for (int j = 0; j < k; j++) dot += s[i * k + j] * g[j];
            for (int j = 0; j < k; j++) dx[i * k + j] = s[i * k + j] * (g[j] - dot) / n;
        }
        return dx;
    }

    // ---- VAE ------------------------------------------------------------------------------------

    public static double[] Reparameterize(double[] mu, double[] logVar, double[] eps)
    {
        var z = new double[mu.Length];
        for (int i = 0; i < z.Length; i++) z[i] = mu[i] + Math.Exp(0.5 * logVar[i]) * eps[i];
        return z;
    }

    public static (double[] DMu, double[] DLogVar) ReparameterizeBackward(double[] logVar, double[] eps, double[] dy)
    {
        var dLogVar = new double[dy.Length];
        for (int i = 0; i < dy.Length; i++) dLogVar[i] = dy[i] * eps[i] * 0.5 * Math.Exp(0.5 * logVar[i]);
        return ((double[])dy.Clone(), dLogVar);
    }

    /// <summary>-1/2 mean_rows sum_j (1 + logvar - mu^2 - exp(logvar)).</summary>
    public static double GaussianKl(double[] mu, double[] logVar, int rows)
    {
        double s = 0;
        for (int i = 0; i < mu.Length; i++) s += 1 + logVar[i] - mu[i] * mu[i] - Math.Exp(logVar[i]);
        return -0.5 * s / rows;
    }

    public static (double[] DMu, double[] DLogVar) GaussianKlBackward(double[] mu, double[] logVar, int rows, double dLoss) =>
        (Map(mu, m => dLoss * m / rows), Map(logVar, l => dLoss * 0.5 * (Math.Exp(l) - 1) / rows));
}
