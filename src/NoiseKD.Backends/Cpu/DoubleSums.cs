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

    /// <summary>
    /// One pass over channel c of [N, C, HW] tensors a and b: (sum of (b - sb), sum of (a - sa)(b - sb)),
    /// in double. Both sums share the loads and the widening of b, so BatchNorm's statistics (a = b = x,
    /// both shifts one of the channel's values) and its backward sums (a = x, sa = mean, b = dy, sb = 0)
    /// each take one pass over memory instead of two. (Float partial sums flushed into double every
    /// 64-512 elements were 2-3x faster here, but moved the 3-step Adam parity of WRN-16-2 from
    /// 2.4e-5 to 0.5-1.8e-4 against its 1e-4 tolerance.)
    /// </summary>
    public static (double Sum, double Products) ShiftedMoments(float* a, float* b, int n, int channels, int hw, int c, float sa, float sb)
    {
        var va = new Vector<double>(sa);
        var vb = new Vector<double>(sb);
        Vector<double> s0 = default, s1 = default, p0 = default, p1 = default;
        double sum = 0, products = 0;
        for (int i = 0; i < n; i++)
        {
            long plane = ((long)i * channels + c) * hw;
            float* pa = a + plane, pb = b + plane;
            int j = 0;
            for (; j <= hw - Vector<float>.Count; j += Vector<float>.Count)
            {
                Vector.Widen(Vector.Load(pb + j), out var bLow, out var bHigh);
                Vector.Widen(Vector.Load(pa + j), out var aLow, out var aHigh);
                var d0 = bLow - vb;
                var d1 = bHigh - vb;
                s0 += d0;
                s1 += d1;
                p0 += (aLow - va) * d0;
                p1 += (aHigh - va) * d1;
            }
            for (; j < hw; j++)
            {
                double d = pb[j] - (double)sb;
                sum += d;
                products += (pa[j] - (double)sa) * d;
            }
        }
        return (sum + Vector.Sum(s0 + s1), products + Vector.Sum(p0 + p1));
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
