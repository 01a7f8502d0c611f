using NoiseKD.Backends;
using NoiseKD.Tests.Backends;

namespace NoiseKD.Tests.Ops;

/// <summary>
/// Float64 references for every differentiable op, written as plain nested loops over the PyTorch
/// definitions (llm.c's x_forward / x_backward pairs). Each backward is written out by hand as the
/// vector-Jacobian product given dy; <see cref="OpCheck"/> proves it against finite differences of the
/// forward before any fast op is compared with it. Arrays are dense row-major (NCHW for images).
/// Nothing here calls the code under test, so a shared mistake cannot hide. The elementwise
/// functions and the row softmax forward are the primitive tests' (<see cref="PrimitiveReference"/>).
/// </summary>
public static partial class Reference
{
    // ---- conv2d ---------------------------------------------------------------------------------

    /// <summary>PyTorch's output size (floor mode) of a window sliding over a padded axis.</summary>
    static int OutSize(int size, int pad, int k, int stride) => (size + 2 * pad - k) / stride + 1;

    static int ConvOutH(in ConvGeometry g) => OutSize(g.H, g.PadH, g.KH, g.StrideH);
    static int ConvOutW(in ConvGeometry g) => OutSize(g.W, g.PadW, g.KW, g.StrideW);

    /// <summary>torch.nn.functional.conv2d: x [N, Cin, H, W], w [Cout, Cin/groups, KH, KW], b [Cout] or null.</summary>
    public static double[] Conv2d(ConvGeometry g, double[] x, double[] w, double[]? b)
    {
        int oh = ConvOutH(g), ow = ConvOutW(g), cinG = g.Cin / g.Groups, coutG = g.Cout / g.Groups;
        var y = new double[g.N * g.Cout * oh * ow];
        for (int n = 0; n < g.N; n++)
        for (int co = 0; co < g.Cout; co++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            int group = co / coutG;
            double s = b is null ? 0 : b[co];
            for (int ci = 0; ci < cinG; ci++)
            for (int kh = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++)
            {
                int ih = i * g.StrideH - g.PadH + kh, iw = j * g.StrideW - g.PadW + kw;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                int c = group * cinG + ci;
                s += x[((n * g.Cin + c) * g.H + ih) * g.W + iw] * w[((co * cinG + ci) * g.KH + kh) * g.KW + kw];
            }
            y[((n * g.Cout + co) * oh + i) * ow + j] = s;
        }
        return y;
    }

    public static (double[] Dx, double[] Dw, double[]? Db) Conv2dBackward(ConvGeometry g, double[] x, double[] w, bool hasBias, double[] dy)
    {
        int oh = ConvOutH(g), ow = ConvOutW(g), cinG = g.Cin / g.Groups, coutG = g.Cout / g.Groups;
        var dx = new double[x.Length];
        var dw = new double[w.Length];
        var db = hasBias ? new double[g.Cout] : null;
        for (int n = 0; n < g.N; n++)
        for (int co = 0; co < g.Cout; co++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            int group = co / coutG;
            double d = dy[((n * g.Cout + co) * oh + i) * ow + j];
            if (db is not null) db[co] += d;
            for (int ci = 0; ci < cinG; ci++)
            for (int kh = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++)
            {
                int ih = i * g.StrideH - g.PadH + kh, iw = j * g.StrideW - g.PadW + kw;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                int c = group * cinG + ci;
                int xi = ((n * g.Cin + c) * g.H + ih) * g.W + iw, wi = ((co * cinG + ci) * g.KH + kh) * g.KW + kw;
                dx[xi] += d * w[wi];
                dw[wi] += d * x[xi];
            }
        }
        return (dx, dw, db);
    }

    // ---- batch norm over [N, C, HW] -------------------------------------------------------------

    /// <summary>Per-channel mean and biased variance over n and hw (the statistics BN normalizes with).</summary>
    public static (double[] Mean, double[] Var) BatchStatistics(double[] x, int n, int c, int hw)
    {
        var mean = new double[c];
        var variance = new double[c];
        double m = (double)n * hw;
        for (int ch = 0; ch < c; ch++)
        {
            double s = 0;
            for (int b = 0; b < n; b++)
            for (int k = 0; k < hw; k++) s += x[(b * c + ch) * hw + k];
            mean[ch] = s / m;
            double v = 0;
            for (int b = 0; b < n; b++)
            for (int k = 0; k < hw; k++)
            {
                double d = x[(b * c + ch) * hw + k] - mean[ch];
                v += d * d;
            }
            variance[ch] = v / m;
        }
        return (mean, variance);
    }

    /// <summary>
    /// y = (x - mean) / sqrt(var + eps) * gamma + beta with the batch statistics (batchStatistics) or the
    /// given running ones; gamma/beta null means affine=false.
    /// </summary>
    public static double[] BatchNorm(double[] x, int n, int c, int hw, double[]? gamma, double[]? beta,
                                     double[]? runningMean, double[]? runningVar, bool batchStatistics, double eps)
    {
        var (mean, variance) = batchStatistics ? BatchStatistics(x, n, c, hw) : (runningMean!, runningVar!);
        var y = new double[x.Length];
        for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++)
        for (int k = 0; k < hw; k++)
        {
            int i = (b * c + ch) * hw + k;
            double xhat = (x[i] - mean[ch]) / Math.Sqrt(variance[ch] + eps);
            y[i] = xhat * (gamma?[ch] ?? 1) + (beta?[ch] ?? 0);
        }
        return y;
    }

    /// <summary>
    /// The chain rule through BN written step by step (Ioffe &amp; Szegedy 2015, section 3): with batch
    /// statistics, dvar and dmean collect the paths through var and mean; with running statistics those
    /// are constants and only dx = dy*gamma/sqrt(var+eps) remains.
    /// </summary>
    public static (double[] Dx, double[]? Dgamma, double[]? Dbeta) BatchNormBackward(
        double[] x, int n, int c, int hw, double[]? gamma, bool hasBeta,
        double[]? runningMean, double[]? runningVar, bool batchStatistics, double eps, double[] dy)
    {
        var (mean, variance) = batchStatistics ? BatchStatistics(x, n, c, hw) : (runningMean!, runningVar!);
        var dx = new double[x.Length];
        var dgamma = gamma is null ? null : new double[c];
        var dbeta = hasBeta ? new double[c] : null;
        double m = (double)n * hw;
        for (int ch = 0; ch < c; ch++)
        {
            double g = gamma?[ch] ?? 1, std = Math.Sqrt(variance[ch] + eps);
            double dvar = 0, dmean = 0, sumCentered = 0;
            for (int b = 0; b < n; b++)
            for (int k = 0; k < hw; k++)
            {
                int i = (b * c + ch) * hw + k;
                double centered = x[i] - mean[ch], dxhat = dy[i] * g;
                if (dgamma is not null) dgamma[ch] += dy[i] * centered / std;
                if (dbeta is not null) dbeta[ch] += dy[i];
                dvar += dxhat * centered * -0.5 * Math.Pow(variance[ch] + eps, -1.5);
                dmean += -dxhat / std;
                sumCentered += centered;
            }
            dmean += dvar * -2.0 * sumCentered / m;
            for (int b = 0; b < n; b++)
            for (int k = 0; k < hw; k++)
            {
                int i = (b * c + ch) * hw + k;
                dx[i] = dy[i] * g / std;
                if (batchStatistics) dx[i] += dvar * 2.0 * (x[i] - mean[ch]) / m + dmean / m;
            }
        }
        return (dx, dgamma, dbeta);
    }

    // ---- linear ---------------------------------------------------------------------------------

    /// <summary>y[r, o] = sum_i x[r, i] w[o, i] + b[o].</summary>
    public static double[] Linear(double[] x, int rows, int inF, int outF, double[] w, double[]? b)
    {
        var y = new double[rows * outF];
        for (int r = 0; r < rows; r++)
        for (int o = 0; o < outF; o++)
        {
            double s = b is null ? 0 : b[o];
            for (int i = 0; i < inF; i++) s += x[r * inF + i] * w[o * inF + i];
            y[r * outF + o] = s;
        }
        return y;
    }

    public static (double[] Dx, double[] Dw, double[]? Db) LinearBackward(double[] x, int rows, int inF, int outF, double[] w, bool hasBias, double[] dy)
    {
        var dx = new double[x.Length];
        var dw = new double[w.Length];
        var db = hasBias ? new double[outF] : null;
        for (int r = 0; r < rows; r++)
        for (int o = 0; o < outF; o++)
        {
            double d = dy[r * outF + o];
            if (db is not null) db[o] += d;
            for (int i = 0; i < inF; i++)
            {
                dx[r * inF + i] += d * w[o * inF + i];
                dw[o * inF + i] += d * x[r * inF + i];
            }
        }
        return (dx, dw, db);
    }

    // ---- elementwise ----------------------------------------------------------------------------

    // The scalar functions and their derivatives are PrimitiveReference.Unary / UnaryDerivative.

    public static double[] Map(double[] x, Func<double, double> f)
    {
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = f(x[i]);
        return y;
    }

    /// <summary>dx[i] = dy[i] * f'(x[i]).</summary>
    public static double[] MapBackward(double[] x, double[] dy, Func<double, double> derivative)
    {
        var dx = new double[x.Length];
        for (int i = 0; i < x.Length; i++) dx[i] = dy[i] * derivative(x[i]);
        return dx;
    }

    public static double[] Zip(double[] a, double[] b, Func<double, double, double> f)
    {
        var y = new double[a.Length];
        for (int i = 0; i < a.Length; i++) y[i] = f(a[i], b[i]);
        return y;
    }

    // ---- reductions -----------------------------------------------------------------------------

    public static double Sum(double[] x)
    {
        double s = 0;
        foreach (double v in x) s += v;
        return s;
    }

    /// <summary>Gradient of sum(x) given the scalar dy: dy everywhere.</summary>
    public static double[] SumBackward(int length, double dy)
    {
        var dx = new double[length];
        Array.Fill(dx, dy);
        return dx;
    }

    // ---- pooling and resampling over planes of H x W --------------------------------------------

    /// <summary>max_pool2d (floor mode): padding acts as -inf; the first maximum in row-major window order wins ties.</summary>
    public static (double[] Y, int[] ArgMax) MaxPool2d(PoolGeometry g, double[] x)
    {
        int oh = OutSize(g.H, g.PadH, g.KH, g.StrideH), ow = OutSize(g.W, g.PadW, g.KW, g.StrideW);
        var y = new double[g.Planes * oh * ow];
        var arg = new int[y.Length];
        for (int p = 0; p < g.Planes; p++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            double best = double.NegativeInfinity;
            int at = -1;
            for (int kh = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++)
            {
                int ih = i * g.StrideH - g.PadH + kh, iw = j * g.StrideW - g.PadW + kw;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                int xi = (p * g.H + ih) * g.W + iw;
                if (x[xi] > best) { best = x[xi]; at = xi; }
            }
            int yi = (p * oh + i) * ow + j;
            y[yi] = best;
            arg[yi] = at;
        }
        return (y, arg);
    }

    public static double[] MaxPool2dBackward(PoolGeometry g, double[] x, double[] dy)
    {
        var (_, arg) = MaxPool2d(g, x);
        var dx = new double[x.Length];
        for (int i = 0; i < dy.Length; i++) dx[arg[i]] += dy[i];
        return dx;
    }

    /// <summary>
    /// The window of avg_pool2d output (i, j) and its divisor, as PyTorch's kernel computes them: the
    /// window is clipped to the padded input for pool_size, then to the input; count_include_pad divides
    /// by pool_size, otherwise by the clipped area.
    /// </summary>
    static (int H0, int H1, int W0, int W1, int Divisor) AvgWindow(in PoolGeometry g, int i, int j)
    {
        int h0 = i * g.StrideH - g.PadH, w0 = j * g.StrideW - g.PadW;
        int h1 = Math.Min(h0 + g.KH, g.H + g.PadH), w1 = Math.Min(w0 + g.KW, g.W + g.PadW);
        int poolSize = (h1 - h0) * (w1 - w0);
        h0 = Math.Max(h0, 0);
        w0 = Math.Max(w0, 0);
        h1 = Math.Min(h1, g.H);
        w1 = Math.Min(w1, g.W);
        return (h0, h1, w0, w1, g.CountIncludePad ? poolSize : (h1 - h0) * (w1 - w0));
    }

    public static double[] AvgPool2d(PoolGeometry g, double[] x) =>
        AverageWindows(g.Planes, g.H, g.W, OutSize(g.H, g.PadH, g.KH, g.StrideH), OutSize(g.W, g.PadW, g.KW, g.StrideW),
                       (i, j) => AvgWindow(g, i, j), x);

    public static double[] AvgPool2dBackward(PoolGeometry g, double[] dy) =>
        AverageWindowsBackward(g.Planes, g.H, g.W, OutSize(g.H, g.PadH, g.KH, g.StrideH), OutSize(g.W, g.PadW, g.KW, g.StrideW),
                               (i, j) => AvgWindow(g, i, j), dy);

    /// <summary>adaptive_avg_pool2d windows: start = floor(i*H/OH), end = ceil((i+1)*H/OH); the divisor is the window's area.</summary>
    static (int H0, int H1, int W0, int W1, int Divisor) AdaptiveWindow(int i, int j, int h, int w, int outH, int outW)
    {
        int h0 = i * h / outH, h1 = ((i + 1) * h + outH - 1) / outH;
        int w0 = j * w / outW, w1 = ((j + 1) * w + outW - 1) / outW;
        return (h0, h1, w0, w1, (h1 - h0) * (w1 - w0));
    }

    public static double[] AdaptiveAvgPool2d(int planes, int h, int w, int outH, int outW, double[] x) =>
        AverageWindows(planes, h, w, outH, outW, (i, j) => AdaptiveWindow(i, j, h, w, outH, outW), x);

    public static double[] AdaptiveAvgPool2dBackward(int planes, int h, int w, int outH, int outW, double[] dy) =>
        AverageWindowsBackward(planes, h, w, outH, outW, (i, j) => AdaptiveWindow(i, j, h, w, outH, outW), dy);

    delegate (int H0, int H1, int W0, int W1, int Divisor) WindowOf(int i, int j);

    /// <summary>y[p, i, j] = sum of x[p] over rows [H0, H1) and columns [W0, W1) of window (i, j), over its divisor.</summary>
    static double[] AverageWindows(int planes, int h, int w, int outH, int outW, WindowOf window, double[] x)
    {
        var y = new double[planes * outH * outW];
        for (int p = 0; p < planes; p++)
        for (int i = 0; i < outH; i++)
        for (int j = 0; j < outW; j++)
        {
            var (h0, h1, w0, w1, divisor) = window(i, j);
            double s = 0;
            for (int a = h0; a < h1; a++)
            for (int b = w0; b < w1; b++) s += x[(p * h + a) * w + b];
            y[(p * outH + i) * outW + j] = s / divisor;
        }
        return y;
    }

    /// <summary>The adjoint: each dy[p, i, j] / divisor is added to every pixel of its window.</summary>
    static double[] AverageWindowsBackward(int planes, int h, int w, int outH, int outW, WindowOf window, double[] dy)
    {
        var dx = new double[planes * h * w];
        for (int p = 0; p < planes; p++)
        for (int i = 0; i < outH; i++)
        for (int j = 0; j < outW; j++)
        {
            var (h0, h1, w0, w1, divisor) = window(i, j);
            double d = dy[(p * outH + i) * outW + j] / divisor;
            for (int a = h0; a < h1; a++)
            for (int b = w0; b < w1; b++) dx[(p * h + a) * w + b] += d;
        }
        return dx;
    }

    /// <summary>interpolate(mode='nearest') by integer factors: y[p, i, j] = x[p, i / sh, j / sw].</summary>
    public static double[] UpsampleNearest(int planes, int h, int w, int sh, int sw, double[] x)
    {
        var y = new double[planes * h * sh * w * sw];
        for (int p = 0; p < planes; p++)
        for (int i = 0; i < h * sh; i++)
        for (int j = 0; j < w * sw; j++)
            y[(p * h * sh + i) * w * sw + j] = x[(p * h + i / sh) * w + j / sw];
        return y;
    }

    public static double[] UpsampleNearestBackward(int planes, int h, int w, int sh, int sw, double[] dy)
    {
        var dx = new double[planes * h * w];
        for (int p = 0; p < planes; p++)
        for (int i = 0; i < h * sh; i++)
        for (int j = 0; j < w * sw; j++)
            dx[(p * h + i / sh) * w + j / sw] += dy[(p * h * sh + i) * w * sw + j];
        return dx;
    }

    // ---- shape ----------------------------------------------------------------------------------

    /// <summary>
    /// torch.cat along dim, by coordinates: every output element is decoded to its multi-index and
    /// fetched from the input whose slice along dim holds it.
    /// </summary>
    public static double[] Concat(int[][] shapes, double[][] xs, int dim)
    {
        var outShape = ConcatShape(shapes, dim);
        var y = new double[Numel(outShape)];
        for (int flat = 0; flat < y.Length; flat++)
        {
            var (input, sourceIndex) = ConcatSource(shapes, outShape, dim, flat);
            y[flat] = xs[input][sourceIndex];
        }
        return y;
    }

    public static double[][] ConcatBackward(int[][] shapes, int dim, double[] dy)
    {
        var outShape = ConcatShape(shapes, dim);
        var dxs = shapes.Select(s => new double[Numel(s)]).ToArray();
        for (int flat = 0; flat < dy.Length; flat++)
        {
            var (input, sourceIndex) = ConcatSource(shapes, outShape, dim, flat);
            dxs[input][sourceIndex] += dy[flat];
        }
        return dxs;
    }

    static int[] ConcatShape(int[][] shapes, int dim)
    {
        var shape = (int[])shapes[0].Clone();
        shape[dim] = shapes.Sum(s => s[dim]);
        return shape;
    }

    static (int Input, int Index) ConcatSource(int[][] shapes, int[] outShape, int dim, int flat)
    {
        var coord = new int[outShape.Length];
        for (int a = outShape.Length - 1, rest = flat; a >= 0; a--)
        {
            coord[a] = rest % outShape[a];
            rest /= outShape[a];
        }
        int input = 0;
        while (coord[dim] >= shapes[input][dim]) coord[dim] -= shapes[input++][dim];
        int index = 0;
        for (int a = 0; a < coord.Length; a++) index = index * shapes[input][a] + coord[a];
        return (input, index);
    }

    public static int Numel(int[] shape)
    {
        int n = 1;
        foreach (int d in shape) n *= d;
        return n;
    }

    // ---- softmax over rows of [rows, cols] ------------------------------------------------------

    public static double[] Softmax(double[] x, int rows, int cols) => PrimitiveReference.Softmax(x, rows, cols, log: false);
    public static double[] LogSoftmax(double[] x, int rows, int cols) => PrimitiveReference.Softmax(x, rows, cols, log: true);

    /// <summary>dx_j = sum_k dy_k dy_k/dx_j with dy_k/dx_j = y_k (delta_kj - y_j).</summary>
    public static double[] SoftmaxBackward(double[] x, int rows, int cols, double[] dy)
    {
        var y = Softmax(x, rows, cols);
        var dx = new double[x.Length];
        for (int r = 0; r < rows; r++)
        for (int j = 0; j < cols; j++)
        for (int k = 0; k < cols; k++)
        {
            double jacobian = y[r * cols + k] * ((k == j ? 1 : 0) - y[r * cols + j]);
            dx[r * cols + j] += dy[r * cols + k] * jacobian;
        }
        return dx;
    }

    /// <summary>d log_softmax(x)_k / dx_j = delta_kj - softmax(x)_j.</summary>
    public static double[] LogSoftmaxBackward(double[] x, int rows, int cols, double[] dy)
    {
        var p = Softmax(x, rows, cols);
        var dx = new double[x.Length];
        for (int r = 0; r < rows; r++)
        for (int j = 0; j < cols; j++)
        for (int k = 0; k < cols; k++)
            dx[r * cols + j] += dy[r * cols + k] * ((k == j ? 1 : 0) - p[r * cols + j]);
        return dx;
    }

    // ---- losses (each a scalar; backward takes the scalar dL) -----------------------------------

    /// <summary>q = (1-e) onehot(label) + e/K, the smoothed target of cross_entropy(label_smoothing=e).</summary>
    static double[] SmoothedTargets(int[] labels, int k, double smoothing)
    {
        var q = new double[labels.Length * k];
        for (int r = 0; r < labels.Length; r++)
        for (int j = 0; j < k; j++)
            q[r * k + j] = (j == labels[r] ? 1 - smoothing : 0) + smoothing / k;
        return q;
    }

    /// <summary>-mean_rows sum_j q_j log softmax(x)_j.</summary>
    public static double CrossEntropy(double[] logits, int[] labels, int k, double smoothing)
    {
        var q = SmoothedTargets(labels, k, smoothing);
        var logP = LogSoftmax(logits, labels.Length, k);
        double loss = 0;
        for (int i = 0; i < q.Length; i++) loss -= q[i] * logP[i];
        return loss / labels.Length;
    }

    /// <summary>dL/dx_j = dL * (p_j sum(q) - q_j) / N.</summary>
    public static double[] CrossEntropyBackward(double[] logits, int[] labels, int k, double smoothing, double dLoss)
    {
        int n = labels.Length;
        var q = SmoothedTargets(labels, k, smoothing);
        var p = Softmax(logits, n, k);
        var dx = new double[logits.Length];
        for (int r = 0; r < n; r++)
        {
            double qSum = 0;
            for (int j = 0; j < k; j++) qSum += q[r * k + j];
            for (int j = 0; j < k; j++) dx[r * k + j] = dLoss * (p[r * k + j] * qSum - q[r * k + j]) / n;
        }
        return dx;
    }

    static double[] Scaled(double[] x, double factor) => Map(x, v => v * factor);

    /// <summary>softmax(t/T), log softmax(t/T) and log softmax(s/T): what both teacher losses are made of.</summary>
    static (double[] Pt, double[] LogPt, double[] LogPs) Tempered(double[] student, double[] teacher, int rows, int cols, double temperature) =>
        (Softmax(Scaled(teacher, 1 / temperature), rows, cols), LogSoftmax(Scaled(teacher, 1 / temperature), rows, cols),
         LogSoftmax(Scaled(student, 1 / temperature), rows, cols));

    /// <summary>
    /// Both teacher losses are c * sum_j pt_j (stuff - log ps_j) in s, so their gradient is
    /// c/T * (softmax(s/T) - softmax(t/T)) (sum_j pt_j = 1); <paramref name="factor"/> is c/T times dL.
    /// </summary>
    static double[] TemperedGradient(double[] student, double[] teacher, int rows, int cols, double temperature, double factor)
    {
        var pt = Softmax(Scaled(teacher, 1 / temperature), rows, cols);
        var ps = Softmax(Scaled(student, 1 / temperature), rows, cols);
        var ds = new double[student.Length];
        for (int i = 0; i < ds.Length; i++) ds[i] = factor * (ps[i] - pt[i]);
        return ds;
    }

    /// <summary>Hinton's loss: T^2/N sum_rows KL(softmax(t/T) || softmax(s/T)).</summary>
    public static double KdLoss(double[] student, double[] teacher, int rows, int cols, double temperature)
    {
        var (pt, logPt, logPs) = Tempered(student, teacher, rows, cols, temperature);
        double kl = 0;
        for (int i = 0; i < pt.Length; i++) kl += pt[i] * (logPt[i] - logPs[i]);
        return kl * temperature * temperature / rows;
    }

    /// <summary>c = T^2/N: dL/ds = dL * T/N * (softmax(s/T) - softmax(t/T)).</summary>
    public static double[] KdLossBackward(double[] student, double[] teacher, int rows, int cols, double temperature, double dLoss) =>
        TemperedGradient(student, teacher, rows, cols, temperature, dLoss * temperature / rows);

    /// <summary>-mean_rows sum_j softmax(t/T)_j log softmax(s/T)_j.</summary>
    public static double SoftTargetCrossEntropy(double[] student, double[] teacher, int rows, int cols, double temperature)
    {
        var (pt, _, logPs) = Tempered(student, teacher, rows, cols, temperature);
        double loss = 0;
        for (int i = 0; i < pt.Length; i++) loss -= pt[i] * logPs[i];
        return loss / rows;
    }

    /// <summary>c = 1/N: dL/ds = dL / (N T) * (softmax(s/T) - softmax(t/T)).</summary>
    public static double[] SoftTargetCrossEntropyBackward(double[] student, double[] teacher, int rows, int cols, double temperature, double dLoss) =>
        TemperedGradient(student, teacher, rows, cols, temperature, dLoss / (rows * temperature));

    /// <summary>mean |a - b|.</summary>
    public static double L1Loss(double[] a, double[] b) => Sum(Zip(a, b, (u, v) => Math.Abs(u - v))) / a.Length;

    public static (double[] Da, double[] Db) L1LossBackward(double[] a, double[] b, double dLoss)
    {
        var da = Zip(a, b, (u, v) => dLoss * Math.Sign(u - v) / a.Length);
        return (da, Scaled(da, -1));
    }

    /// <summary>mean (a - b)^2.</summary>
    public static double MseLoss(double[] a, double[] b) => Sum(Zip(a, b, (u, v) => (u - v) * (u - v))) / a.Length;

    public static (double[] Da, double[] Db) MseLossBackward(double[] a, double[] b, double dLoss)
    {
        var da = Zip(a, b, (u, v) => dLoss * 2 * (u - v) / a.Length);
        return (da, Scaled(da, -1));
    }
}
