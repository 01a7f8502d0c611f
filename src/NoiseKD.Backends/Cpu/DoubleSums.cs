using System.Numerics;

namespace NoiseKD.Backends.Cpu;

/// <summary>A summand built from a pair of elements (a, b), computed in double.</summary>
interface ISummand
{
    double Of(double a, double b);
    Vector<double> Of(Vector<double> a, Vector<double> b);
}

/// <summary>a.</summary>
readonly struct Plain : ISummand
{
    public double Of(double a, double b) => a;
    public Vector<double> Of(Vector<double> a, Vector<double> b) => a;
}

/// <summary>a * b.</summary>
readonly struct Product : ISummand
{
    public double Of(double a, double b) => a * b;
    public Vector<double> Of(Vector<double> a, Vector<double> b) => a * b;
}

/// <summary>(a - mean)^2: the second pass of a two-pass variance.</summary>
readonly struct SquaredDeviation(double mean) : ISummand
{
    public double Of(double a, double b) => (a - mean) * (a - mean);
    public Vector<double> Of(Vector<double> a, Vector<double> b)
    {
        var d = a - new Vector<double>(mean);
        return d * d;
    }
}

/// <summary>(a - mean) * b: with a = x and b = dy, the BN sum of dy * (x - mean).</summary>
readonly struct CenteredProduct(double mean) : ISummand
{
    public double Of(double a, double b) => (a - mean) * b;
    public Vector<double> Of(Vector<double> a, Vector<double> b) => (a - new Vector<double>(mean)) * b;
}

/// <summary>
/// Float32 data summed in double (float sums of a million activations lose whole digits), with the
/// float vectors widened to double vectors so the double accumulation stays SIMD.
/// </summary>
static unsafe class DoubleSums
{
    /// <summary>sum over i in [0, count) of term(a[i], b[i]).</summary>
    public static double Sum<TSummand>(float* a, float* b, long count, TSummand term) where TSummand : struct, ISummand
    {
        var acc0 = Vector<double>.Zero;
        var acc1 = Vector<double>.Zero;
        long i = 0;
        for (; i <= count - Vector<float>.Count; i += Vector<float>.Count)
        {
            Vector.Widen(Vector.Load(a + i), out var aLow, out var aHigh);
            Vector.Widen(Vector.Load(b + i), out var bLow, out var bHigh);
            acc0 += term.Of(aLow, bLow);
            acc1 += term.Of(aHigh, bHigh);
        }
        double sum = Vector.Sum(acc0 + acc1);
        for (; i < count; i++) sum += term.Of(a[i], b[i]);
        return sum;
    }

    /// <summary>The sum over n and hw of term(a[n, c, hw], b[n, c, hw]) for one channel c of [N, C, HW] tensors.</summary>
    public static double OverChannel<TSummand>(float* a, float* b, int n, int channels, int hw, int c, TSummand term)
        where TSummand : struct, ISummand
    {
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            long plane = ((long)i * channels + c) * hw;
            sum += Sum(a + plane, b + plane, hw, term);
        }
        return sum;
    }
}
