using NoiseKD.Backends;
using NoiseKD.Backends.Cpu;
using Xunit;

namespace NoiseKD.Tests.Backends;

/// <summary>Shared helpers of the primitive tests: seeded inputs, device transfers, error norms, finite differences.</summary>
static class PrimitiveTestUtil
{
    /// <summary>Largest ||out - ref|| / ||ref|| accepted for a forward result.</summary>
    public const double ForwardTolerance = 1e-5;
    /// <summary>Largest ||out - ref|| / ||ref|| accepted for a gradient.</summary>
    public const double GradientTolerance = 1e-4;

    public static IBackend Cpu => CpuBackend.Instance;

    /// <summary>[N, C, HW] shapes: batch 1 with odd 7x5 planes, 13 channels, [N, C] matrices (HW = 1), a large plane.</summary>
    public static TheoryData<int, int, int> ChannelShapes => new()
    {
        { 1, 3, 35 },
        { 4, 13, 9 },
        { 6, 5, 1 },
        { 2, 3, 4099 },
    };

    /// <summary>Uniform values in [low, high) from a seeded System.Random.</summary>
    public static float[] RandomArray(int length, int seed, float low = -1f, float high = 1f)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = low + (high - low) * random.NextSingle();
        return values;
    }

    public static DeviceBuffer ToDevice(float[] values)
    {
        var buffer = Cpu.Allocate(values.Length);
        Cpu.Upload(values, buffer, 0);
        return buffer;
    }

    /// <summary>A buffer of <paramref name="length"/> NaNs, so a result that reads stale memory shows.</summary>
    public static DeviceBuffer NaNBuffer(long length)
    {
        var buffer = Cpu.Allocate(length);
        Cpu.Fill(buffer, 0, length, float.NaN);
        return buffer;
    }

    public static float[] ToHost(DeviceBuffer buffer, long length)
    {
        var values = new float[length];
        Cpu.Download(buffer, 0, values);
        return values;
    }

    public static float[] ToHost(DeviceBuffer buffer) => ToHost(buffer, buffer.Length);

    public static double[] ToDouble(float[] values) => Array.ConvertAll(values, v => (double)v);

    public static float[] ToFloat(double[] values) => Array.ConvertAll(values, v => (float)v);

    /// <summary>||actual - expected|| / ||expected|| (the absolute norm when expected is zero).</summary>
    public static double RelativeError(double[] actual, double[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double difference = 0, reference = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = actual[i] - expected[i];
            difference += d * d;
            reference += expected[i] * expected[i];
        }
        return reference == 0 ? Math.Sqrt(difference) : Math.Sqrt(difference / reference);
    }

    public static void AssertClose(double[] actual, double[] expected, double tolerance, string what)
    {
        double error = RelativeError(actual, expected);
        Assert.True(error <= tolerance, $"{what}: relative error {error:E3} > {tolerance:E1}");
    }

    public static void AssertClose(float[] actual, double[] expected, double tolerance, string what)
        => AssertClose(ToDouble(actual), expected, tolerance, what);

    /// <summary>
    /// d/dx_i of L(x) = sum_j dy_j f(x)_j by central differences: the gradient a backward pass
    /// must return for upstream gradient dy.
    /// </summary>
    public static double[] NumericGradient(Func<double[], double[]> f, double[] x, double[] dy, double step = 1e-5)
    {
        var gradient = new double[x.Length];
        var probe = (double[])x.Clone();
        for (int i = 0; i < x.Length; i++)
        {
            probe[i] = x[i] + step;
            double plus = Dot(f(probe), dy);
            probe[i] = x[i] - step;
            double minus = Dot(f(probe), dy);
            probe[i] = x[i];
            gradient[i] = (plus - minus) / (2 * step);
        }
        return gradient;
    }

    static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }
}
