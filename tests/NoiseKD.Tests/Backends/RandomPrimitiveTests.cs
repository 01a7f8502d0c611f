using NoiseKD.Backends;
using Xunit;
using static NoiseKD.Tests.Backends.PrimitiveTestUtil;

namespace NoiseKD.Tests.Backends;

public class RandomPrimitiveTests
{
    const ulong Seed = 1234, Offset = 987_654_321;
    static readonly int[] SpotIndices = [0, 1, 17, 4095, 500_000, 999_999];

    [Fact]
    public void FillNormalIsStandardAndCounterExact()
    {
        const int count = 1_000_000;
        using var buffer = NaNBuffer(count);
        Cpu.FillNormal(buffer, count, Seed, Offset, 0f, 1f);
        var values = ToHost(buffer);
        double mean = values.Average(v => (double)v);
        double std = Math.Sqrt(values.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, -0.01, 0.01);
        Assert.InRange(std, 0.99, 1.01);
        foreach (int i in SpotIndices) Assert.Equal(CounterRng.Normal(Seed, Offset + (ulong)i), values[i]);
    }

    [Fact]
    public void FillNormalShiftsAndScales()
    {
        using var buffer = NaNBuffer(1000);
        Cpu.FillNormal(buffer, 1000, Seed, 5, 2f, 3f);
        var values = ToHost(buffer);
        for (int i = 0; i < values.Length; i += 97) Assert.Equal(2f + 3f * CounterRng.Normal(Seed, 5 + (ulong)i), values[i]);
    }

    [Fact]
    public void FillUniformStaysInRangeAndIsCounterExact()
    {
        const int count = 1_000_000;
        const float low = -3f, high = 5f;
        using var buffer = NaNBuffer(count);
        Cpu.FillUniform(buffer, count, Seed, Offset, low, high);
        var values = ToHost(buffer);
        Assert.All(values, v => Assert.InRange(v, low, high));
        Assert.InRange(values.Average(v => (double)v), 0.99, 1.01);
        foreach (int i in SpotIndices) Assert.Equal(low + (high - low) * CounterRng.Uniform(Seed, Offset + (ulong)i), values[i]);
    }

    [Fact]
    public void FillBernoulliKeepsTheRightFraction()
    {
        const int count = 200_000;
        const float keep = 0.8f, scale = 1.25f;
        using var buffer = NaNBuffer(count);
        Cpu.FillBernoulli(buffer, count, Seed, Offset, keep, scale);
        var values = ToHost(buffer);
        Assert.All(values, v => Assert.True(v == 0f || v == scale, $"{v} is neither 0 nor {scale}"));
        Assert.InRange(values.Count(v => v == scale) / (double)count, keep - 0.01, keep + 0.01);
        for (int i = 0; i < count; i += 1009)
            Assert.Equal(CounterRng.Uniform(Seed, Offset + (ulong)i) < keep ? scale : 0f, values[i]);
    }

    [Fact]
    public void AFillIsASliceOfALongerFill()
    {
        // Element i depends only on offset + i: drawing [100, 200) alone equals that slice of [0, 200).
        using var whole = NaNBuffer(200);
        using var part = NaNBuffer(100);
        Cpu.FillNormal(whole, 200, Seed, 0, 0f, 1f);
        Cpu.FillNormal(part, 100, Seed, 100, 0f, 1f);
        Assert.Equal(ToHost(whole)[100..], ToHost(part));
    }
}
