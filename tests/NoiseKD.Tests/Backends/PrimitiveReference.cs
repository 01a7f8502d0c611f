using NoiseKD.Backends;

namespace NoiseKD.Tests.Backends;

/// <summary>
/// An input-to-output window of a linear resampling op: output = sum of the inputs / divisor.
/// Average pooling, adaptive pooling and nearest upsampling are all lists of these.
/// </summary>
readonly record struct Window(int Output, int[] Inputs, int Divisor);

/// <summary>
/// Float64 references for the backend primitives, written as plain loops straight from the
/// definitions (PyTorch's conventions). ReferenceGradientTests proves every backward here against
/// central finite differences of the forward next to it; the primitive tests then compare the
/// backend to these.
/// </summary>
static class PrimitiveReference
{
    // ---- elementwise ---------------------------------------------------------------------------

    public static double Unary(UnaryOp op, double alpha, double x) => op switch
    {
        UnaryOp.Relu => Math.Max(x, 0),
        UnaryOp.Relu6 => Math.Min(Math.Max(x, 0), 6),
        UnaryOp.LeakyRelu => x > 0 ? x : alpha * x,
        UnaryOp.Tanh => Math.Tanh(x),
        UnaryOp.Sigmoid => 1 / (1 + Math.Exp(-x)),
        UnaryOp.Abs => Math.Abs(x),
        UnaryOp.Exp => Math.Exp(x),
        UnaryOp.Log => Math.Log(x),
        UnaryOp.Square => x * x,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>op'(x) with PyTorch's values at the kinks: relu'(0) = 0, relu6' = 0 at 0 and 6, abs'(0) = 0.</summary>
    public static double UnaryDerivative(UnaryOp op, double alpha, double x) => op switch
    {
        UnaryOp.Relu => x > 0 ? 1 : 0,
        UnaryOp.Relu6 => x > 0 && x < 6 ? 1 : 0,
        UnaryOp.LeakyRelu => x > 0 ? 1 : alpha,
        UnaryOp.Tanh => 1 - Math.Tanh(x) * Math.Tanh(x),
        UnaryOp.Sigmoid => Unary(UnaryOp.Sigmoid, alpha, x) * (1 - Unary(UnaryOp.Sigmoid, alpha, x)),
        UnaryOp.Abs => Math.Sign(x),
        UnaryOp.Exp => Math.Exp(x),
        UnaryOp.Log => 1 / x,
        UnaryOp.Square => 2 * x,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    // ---- batch normalization over [N, C, HW] ---------------------------------------------------

    static int At(int i, int c, int k, int channels, int hw) => (i * channels + c) * hw + k;

    /// <summary>Per-channel mean and biased variance.</summary>
    public static (double[] Mean, double[] Variance) BatchNormStatistics(double[] x, int n, int channels, int hw)
    {
        var mean = new double[channels];
        var variance = new double[channels];
        int count = n * hw;
        for (int c = 0; c < channels; c++)
        {
            for (int i = 0; i < n; i++)
                for (int k = 0; k < hw; k++) mean[c] += x[At(i, c, k, channels, hw)] / count;
            for (int i = 0; i < n; i++)
                for (int k = 0; k < hw; k++)
                {
                    double d = x[At(i, c, k, channels, hw)] - mean[c];
                    variance[c] += d * d / count;
                }
        }
        return (mean, variance);
    }

    public static double[] BatchNormForward(double[] x, int n, int channels, int hw, double[] mean, double[] variance,
                                            double eps, double[]? gamma, double[]? beta)
    {
        var y = new double[x.Length];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < channels; c++)
                for (int k = 0; k < hw; k++)
                {
                    int at = At(i, c, k, channels, hw);
                    y[at] = (x[at] - mean[c]) / Math.Sqrt(variance[c] + eps) * (gamma?[c] ?? 1) + (beta?[c] ?? 0);
                }
        return y;
    }

    /// <summary>
    /// With batchStatistics: xhat = (x - mean)*invstd, M = N*HW, dbeta = sum dy, dgamma = sum dy*xhat,
    /// dx = gamma*invstd/M * (M*dy - sum dy - xhat * sum dy*xhat). Otherwise dx = dy*gamma*invstd.
    /// </summary>
    public static (double[] Dx, double[] Dgamma, double[] Dbeta) BatchNormBackward(
        double[] x, double[] dy, int n, int channels, int hw, double[] mean, double[] variance, double eps,
        double[]? gamma, bool batchStatistics)
    {
        var dx = new double[x.Length];
        var dgamma = new double[channels];
        var dbeta = new double[channels];
        int count = n * hw;
        for (int c = 0; c < channels; c++)
        {
            double invStd = 1 / Math.Sqrt(variance[c] + eps), g = gamma?[c] ?? 1;
            for (int i = 0; i < n; i++)
                for (int k = 0; k < hw; k++)
                {
                    int at = At(i, c, k, channels, hw);
                    dbeta[c] += dy[at];
                    dgamma[c] += dy[at] * (x[at] - mean[c]) * invStd;
                }
            for (int i = 0; i < n; i++)
                for (int k = 0; k < hw; k++)
                {
                    int at = At(i, c, k, channels, hw);
                    double xhat = (x[at] - mean[c]) * invStd;
                    dx[at] = batchStatistics
                        ? g * invStd / count * (count * dy[at] - dbeta[c] - xhat * dgamma[c])
                        : dy[at] * g * invStd;
                }
        }
        return (dx, dgamma, dbeta);
    }

    // ---- pooling -------------------------------------------------------------------------------

    /// <summary>
    /// The windows of a max or average pool: inputs in row-major window order, padding left out.
    /// The count_include_pad divisor counts the window positions inside the padded input [-pad, size + pad).
    /// </summary>
    public static List<Window> PoolWindows(PoolGeometry g)
    {
        var windows = new List<Window>();
        for (int p = 0; p < g.Planes; p++)
            for (int oh = 0; oh < g.OutH; oh++)
                for (int ow = 0; ow < g.OutW; ow++)
                {
                    var inputs = new List<int>();
                    int padded = 0;
                    for (int kh = 0; kh < g.KH; kh++)
                        for (int kw = 0; kw < g.KW; kw++)
                        {
                            int ih = oh * g.StrideH - g.PadH + kh, iw = ow * g.StrideW - g.PadW + kw;
                            if (ih >= -g.PadH && ih < g.H + g.PadH && iw >= -g.PadW && iw < g.W + g.PadW) padded++;
                            if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) inputs.Add((p * g.H + ih) * g.W + iw);
                        }
                    int output = (p * g.OutH + oh) * g.OutW + ow;
                    windows.Add(new Window(output, inputs.ToArray(), g.CountIncludePad ? padded : inputs.Count));
                }
        return windows;
    }

    /// <summary>adaptive_avg_pool2d's windows: rows floor(i*H/OH) to ceil((i+1)*H/OH), likewise columns.</summary>
    public static List<Window> AdaptiveWindows(int planes, int h, int w, int outH, int outW)
    {
        var windows = new List<Window>();
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < outH; oh++)
                for (int ow = 0; ow < outW; ow++)
                {
                    int h0 = (int)Math.Floor((double)oh * h / outH), h1 = (int)Math.Ceiling((double)(oh + 1) * h / outH);
                    int w0 = (int)Math.Floor((double)ow * w / outW), w1 = (int)Math.Ceiling((double)(ow + 1) * w / outW);
                    var inputs = new List<int>();
                    for (int ih = h0; ih < h1; ih++)
                        for (int iw = w0; iw < w1; iw++) inputs.Add((p * h + ih) * w + iw);
                    windows.Add(new Window((p * outH + oh) * outW + ow, inputs.ToArray(), inputs.Count));
                }
        return windows;
    }

    /// <summary>Nearest upsampling: output (i, j) copies input (i/sh, j/sw).</summary>
    public static List<Window> UpsampleWindows(int planes, int h, int w, int scaleH, int scaleW)
    {
        var windows = new List<Window>();
        int outH = h * scaleH, outW = w * scaleW;
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < outH; i++)
                for (int j = 0; j < outW; j++)
                    windows.Add(new Window((p * outH + i) * outW + j, [(p * h + i / scaleH) * w + j / scaleW], 1));
        return windows;
    }

    /// <summary>output = sum of the window's inputs / divisor.</summary>
    public static double[] AverageForward(List<Window> windows, double[] x)
    {
        var y = new double[windows.Count];
        foreach (var window in windows)
            y[window.Output] = window.Inputs.Sum(i => x[i]) / window.Divisor;
        return y;
    }

    /// <summary>The adjoint of <see cref="AverageForward"/>.</summary>
    public static double[] AverageBackward(List<Window> windows, double[] dy, int inputLength)
    {
        var dx = new double[inputLength];
        foreach (var window in windows)
            foreach (int i in window.Inputs) dx[i] += dy[window.Output] / window.Divisor;
        return dx;
    }

    public static double[] MaxForward(List<Window> windows, double[] x)
    {
        var y = new double[windows.Count];
        foreach (var window in windows) y[window.Output] = window.Inputs.Max(i => x[i]);
        return y;
    }

    /// <summary>Each dy goes to the first input of its window (in row-major order) holding the maximum.</summary>
    public static double[] MaxBackward(List<Window> windows, double[] x, double[] dy)
    {
        var dx = new double[x.Length];
        foreach (var window in windows)
        {
            int best = window.Inputs[0];
            foreach (int i in window.Inputs)
                if (x[i] > x[best]) best = i;
            dx[best] += dy[window.Output];
        }
        return dx;
    }

    // ---- softmax over rows ---------------------------------------------------------------------

    public static double[] Softmax(double[] x, int rows, int cols, bool log)
    {
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double sum = 0;
            for (int j = 0; j < cols; j++) sum += Math.Exp(x[r * cols + j]);
            for (int j = 0; j < cols; j++)
                y[r * cols + j] = log ? x[r * cols + j] - Math.Log(sum) : Math.Exp(x[r * cols + j]) / sum;
        }
        return y;
    }

    /// <summary>Given the output y: softmax dx = y*(dy - sum dy*y); log_softmax dx = dy - exp(y)*sum dy.</summary>
    public static double[] SoftmaxBackward(double[] y, double[] dy, int rows, int cols, bool log)
    {
        var dx = new double[y.Length];
        for (int r = 0; r < rows; r++)
        {
            double dot = 0, sum = 0;
            for (int j = 0; j < cols; j++)
            {
                dot += dy[r * cols + j] * y[r * cols + j];
                sum += dy[r * cols + j];
            }
            for (int j = 0; j < cols; j++)
            {
                int at = r * cols + j;
                dx[at] = log ? dy[at] - Math.Exp(y[at]) * sum : y[at] * (dy[at] - dot);
            }
        }
        return dx;
    }
}
