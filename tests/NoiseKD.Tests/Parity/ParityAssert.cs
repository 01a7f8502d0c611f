using NoiseKD.Serialization;
using NoiseKD.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace NoiseKD.Tests.Parity;

/// <summary>
/// Compares our float32 results with PyTorch's (float64, stored as F32) by the relative error
/// ||ours - torch||_2 / ||torch||_2 of each whole tensor. A tensor PyTorch computes as zero up to
/// float64 rounding (||torch||_2 below <see cref="ZeroNorm"/>: the gradient of a bias that feeds a
/// current-statistics BatchNorm, which subtracts it right back out) has no relative error to speak of;
/// it is compared absolutely, ||ours - torch||_2. Every measured error is written to the test output
/// ("PARITY case tensor error"), so `dotnet test --logger "console;verbosity=detailed"` shows them.
/// </summary>
public sealed class ParityAssert(ITestOutputHelper output, string fixture)
{
    /// <summary>Forward values (outputs, logits, losses).</summary>
    public const double Forward = 1e-5;
    /// <summary>Gradients, including parameter gradients of whole models.</summary>
    public const double Gradient = 1e-4;
    /// <summary>Parameters and running buffers after optimizer steps.</summary>
    public const double Parameters = 1e-4;

    /// <summary>Below this L2 norm a reference tensor counts as zero (float64 rounding of an exact 0 is about 1e-17).</summary>
    public const double ZeroNorm = 1e-10;

    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length) throw new ArgumentException($"{actual.Length} values vs {expected.Length}");
        double diff = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = (double)actual[i] - expected[i];
            diff += d * d;
            norm += (double)expected[i] * expected[i];
        }
        return IsZero(expected) ? Math.Sqrt(diff) : Math.Sqrt(diff / norm);
    }

    public static bool IsZero(ReadOnlySpan<float> expected)
    {
        double norm = 0;
        foreach (float v in expected) norm += (double)v * v;
        return Math.Sqrt(norm) < ZeroNorm;
    }

    public double Close(Tensor? actual, NamedArray expected, double tolerance, string? what = null)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Shape, actual.Shape);
        return Close(actual.ToArray(), expected, tolerance, what);
    }

    public double Close(float[] actual, NamedArray expected, double tolerance, string? what = null)
    {
        what ??= expected.Name;
        double error = RelativeError(actual, expected.Data);
        output.WriteLine($"PARITY {fixture} {what} {error:E2}");
        Assert.True(error <= tolerance, $"{fixture}: {what} differs from PyTorch by {error:E2} (relative L2), tolerance {tolerance:E0}");
        return error;
    }
}
