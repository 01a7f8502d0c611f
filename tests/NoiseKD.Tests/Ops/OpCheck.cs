using NoiseKD.Backends;
using NoiseKD.Functional;
using NoiseKD.Tensors;
using Xunit;

namespace NoiseKD.Tests.Ops;

/// <summary>
/// One input of an op under test: its shape, the range its values are drawn from, and whether the op
/// is differentiated with respect to it.
/// </summary>
public sealed record OpInput(int[] Shape)
{
    public double Low { get; init; } = -1;
    public double High { get; init; } = 1;
    public bool Differentiable { get; init; } = true;
    /// <summary>Non-smooth points (relu's 0): values closer than <see cref="OpCheck.KinkMargin"/> are redrawn.</summary>
    public double[] Kinks { get; init; } = [];
    /// <summary>Pairwise distinct values (a jittered, shuffled grid): max-pool windows then have no near-ties.</summary>
    public bool Spread { get; init; }

    public static OpInput Of(params int[] shape) => new(shape);
    public OpInput Range(double low, double high) => this with { Low = low, High = high };
    public OpInput Constant() => this with { Differentiable = false };
    public OpInput AwayFrom(params double[] kinks) => this with { Kinks = kinks };
    public OpInput Distinct() => this with { Spread = true };

    public override string ToString() => NoiseKD.Tensors.Shape.Format(Shape);
}

/// <summary>
/// A float64 reference op: Forward maps the inputs to the flat output; Backward maps the inputs and dy
/// to one gradient per input (null for constant inputs). Scalar ops return and receive one element.
/// </summary>
public sealed record RefOp(Func<double[][], double[]> Forward, Func<double[][], double[], double[]?[]> Backward);

public sealed record OpCheckOptions
{
    /// <summary>Relative error allowed between the reference backward and central differences of its forward.</summary>
    public double FiniteDifferenceTolerance { get; init; } = 1e-6;
    public double ForwardTolerance { get; init; } = 1e-5;
    public double GradientTolerance { get; init; } = 1e-4;
    /// <summary>Coordinates per input probed by finite differences (a seeded random subset of larger inputs).</summary>
    public int MaxFiniteDifferenceCoordinates { get; init; } = 64;
    /// <summary>Rejects a whole draw (for kinks that depend on several inputs, such as |a - b|); it is redrawn.</summary>
    public Func<double[][], bool>? Accept { get; init; }
    /// <summary>The device the fast op runs on (default: <see cref="OpCheck.UseBackend"/>'s, else <see cref="Devices.Default"/>).</summary>
    public IBackend? Backend { get; init; }
}

/// <summary>
/// The op test (tinygrad's test_ops helper): seeded random inputs; the float64 reference backward proven
/// against central finite differences of the reference forward; then the fast float32 op, forward and
/// backward of sum(y * dy), compared with the reference by relative error ||a - b|| / ||b||.
/// </summary>
public static class OpCheck
{
    public const double FiniteDifferenceStep = 1e-6;
    public const double KinkMargin = 1e-3;

    static readonly AsyncLocal<BackendScope?> Ambient = new();

    /// <summary>
    /// Runs every OpCheck of the calling flow (until disposed) with <see cref="OpCheckOptions.Backend"/> =
    /// <paramref name="backend"/> where a test leaves it unset, so an existing op test reruns on another
    /// device unchanged. Flow-local (AsyncLocal): tests running in parallel keep their own device.
    /// </summary>
    public static BackendScope UseBackend(IBackend backend) => Ambient.Value = new BackendScope(backend, Ambient.Value);

    public sealed class BackendScope(IBackend backend, BackendScope? previous) : IDisposable
    {
        public IBackend Backend { get; } = backend;
        /// <summary>How many op checks ran on <see cref="Backend"/> through this scope.</summary>
        public int Uses { get; internal set; }
        public void Dispose() => Ambient.Value = previous;
    }

    public static void Run(string name, OpInput[] inputs, RefOp reference, Func<Tensor[], Tensor> op, OpCheckOptions? options = null)
    {
        options ??= new OpCheckOptions();
        if (options.Backend is null && Ambient.Value is { } scope)
        {
            options = options with { Backend = scope.Backend };
            scope.Uses++;
        }
        var rng = new Random(StableSeed(name, inputs));
        var values = DrawInputs(inputs, rng, options.Accept);
        var dy = Draw(reference.Forward(values).Length, -1, 1, rng);

        var failures = new List<string>();
        failures.AddRange(ReferenceGradientErrors(inputs, values, dy, reference, options, rng));
        failures.AddRange(FastOpErrors(inputs, values, dy, reference, op, options));
        if (failures.Count > 0)
            Assert.Fail($"{name} with inputs {string.Join(", ", inputs.Select(i => i.ToString()))}:\n  " + string.Join("\n  ", failures));
    }

    /// <summary>
    /// Central differences of L(x) = sum(forward(x) * dy) against the reference backward, input by input.
    /// Returns one message per input whose relative error exceeds the tolerance.
    /// </summary>
    public static List<string> ReferenceGradientErrors(OpInput[] inputs, double[][] values, double[] dy, RefOp reference,
                                                       OpCheckOptions options, Random rng)
    {
        var errors = new List<string>();
        var analytic = reference.Backward(values, dy);
        for (int k = 0; k < inputs.Length; k++)
        {
            if (!inputs[k].Differentiable) continue;
            if (analytic[k] is not { } gradient)
            {
                errors.Add($"reference backward gives no gradient for input {k}");
                continue;
            }
            var coordinates = Subset(values[k].Length, options.MaxFiniteDifferenceCoordinates, rng);
            var numeric = new double[coordinates.Length];
            var expected = new double[coordinates.Length];
            for (int c = 0; c < coordinates.Length; c++)
            {
                int i = coordinates[c];
                double saved = values[k][i];
                values[k][i] = saved + FiniteDifferenceStep;
                double plus = Dot(reference.Forward(values), dy);
                values[k][i] = saved - FiniteDifferenceStep;
                double minus = Dot(reference.Forward(values), dy);
                values[k][i] = saved;
                numeric[c] = (plus - minus) / (2 * FiniteDifferenceStep);
                expected[c] = gradient[i];
            }
            double error = RelativeError(expected, numeric);
            if (!(error <= options.FiniteDifferenceTolerance))
                errors.Add($"reference backward of input {k} disagrees with finite differences: relative error {error:E2} > {options.FiniteDifferenceTolerance:E0}");
        }
        return errors;
    }

    /// <summary>
    /// Runs the op in float32 inside a TensorScope, backward of sum(y * dy), and compares the output and
    /// every input gradient with the reference; also checks the op left its inputs untouched.
    /// </summary>
    public static List<string> FastOpErrors(OpInput[] inputs, double[][] values, double[] dy, RefOp reference,
                                            Func<Tensor[], Tensor> op, OpCheckOptions options)
    {
        var errors = new List<string>();
        var expectedY = reference.Forward(values);
        var expectedGrads = reference.Backward(values, dy);
        var device = options.Backend ?? Devices.Default;
        using var scope = new TensorScope();
        var tensors = new Tensor[inputs.Length];
        for (int k = 0; k < inputs.Length; k++)
        {
            tensors[k] = Tensor.FromArray(ToFloat(values[k]), inputs[k].Shape, device);
            tensors[k].RequiresGrad = inputs[k].Differentiable;
        }
        var y = op(tensors);
        if (y.Numel != expectedY.Length)
        {
            errors.Add($"output {NoiseKD.Tensors.Shape.Format(y.Shape)} has {y.Numel} elements, the reference {expectedY.Length}");
            return errors;
        }
        double forwardError = RelativeError(ToDouble(y.ToArray()), expectedY);
        if (!(forwardError <= options.ForwardTolerance))
            errors.Add($"forward relative error {forwardError:E2} > {options.ForwardTolerance:E0} (output {NoiseKD.Tensors.Shape.Format(y.Shape)})");

        var loss = F.Sum(F.Mul(y, Tensor.FromArray(ToFloat(dy), y.Shape, device)));
        loss.Backward();
        for (int k = 0; k < inputs.Length; k++)
        {
            if (!ToFloat(values[k]).AsSpan().SequenceEqual(tensors[k].ToArray()))
                errors.Add($"input {k} was modified by the op");
            if (!inputs[k].Differentiable) continue;
            var grad = tensors[k].Grad is { } g ? ToDouble(g.ToArray()) : new double[values[k].Length];
            double error = RelativeError(grad, expectedGrads[k]!);
            if (!(error <= options.GradientTolerance))
                errors.Add($"gradient of input {k} {inputs[k]}: relative error {error:E2} > {options.GradientTolerance:E0}" +
                           (tensors[k].Grad is null ? " (no gradient was produced)" : ""));
        }
        return errors;
    }

    /// <summary>||a - b|| / ||b|| (||a|| when b is zero).</summary>
    public static double RelativeError(double[] a, double[] b)
    {
        if (a.Length != b.Length) return double.PositiveInfinity;
        double diff = 0, norm = 0;
        for (int i = 0; i < a.Length; i++)
        {
            diff += (a[i] - b[i]) * (a[i] - b[i]);
            norm += b[i] * b[i];
        }
        return norm == 0 ? Math.Sqrt(diff) : Math.Sqrt(diff / norm);
    }

    /// <summary>Values for every input, already rounded to float32 so the reference sees what the fast op sees.</summary>
    public static double[][] DrawInputs(OpInput[] inputs, Random rng, Func<double[][], bool>? accept = null)
    {
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            var values = inputs.Select(input => DrawInput(input, rng)).ToArray();
            if (accept is null || accept(values)) return values;
        }
        throw new InvalidOperationException("no accepted input draw in 1000 attempts; the Accept predicate is too strict");
    }

    static double[] DrawInput(OpInput input, Random rng)
    {
        int n = Reference.Numel(input.Shape);
        if (input.Spread)
        {
            // Grid cell i of n, jittered inside its middle half: neighbours stay 1/(2n) of the range apart.
            var order = Enumerable.Range(0, n).ToArray();
            rng.Shuffle(order);
            return order.Select(i => Round(input.Low + (input.High - input.Low) * (i + 0.25 + 0.5 * rng.NextDouble()) / n)).ToArray();
        }
        var values = new double[n];
        for (int i = 0; i < n; i++)
        {
            double v;
            do v = Round(input.Low + (input.High - input.Low) * rng.NextDouble());
            while (input.Kinks.Any(kink => Math.Abs(v - kink) < KinkMargin));
            values[i] = v;
        }
        return values;
    }

    public static double[] Draw(int n, double low, double high, Random rng)
    {
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = Round(low + (high - low) * rng.NextDouble());
        return values;
    }

    static double Round(double v) => (float)v;

    public static float[] ToFloat(double[] x) => x.Select(v => (float)v).ToArray();
    public static double[] ToDouble(float[] x) => x.Select(v => (double)v).ToArray();

    static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    static int[] Subset(int n, int max, Random rng)
    {
        var all = Enumerable.Range(0, n).ToArray();
        if (n <= max) return all;
        rng.Shuffle(all);
        return all[..max];
    }

    /// <summary>FNV-1a over the name and shapes: string.GetHashCode is randomized per process.</summary>
    static int StableSeed(string name, OpInput[] inputs)
    {
        uint h = 2166136261;
        foreach (char ch in name + string.Join(";", inputs.Select(i => i.ToString())))
            h = (h ^ ch) * 16777619;
        return (int)(h & 0x7FFFFFFF);
    }
}
