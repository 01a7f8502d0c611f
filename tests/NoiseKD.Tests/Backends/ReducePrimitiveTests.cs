using Xunit;
using static NoiseKD.Tests.Backends.PrimitiveTestUtil;

namespace NoiseKD.Tests.Backends;

public class ReducePrimitiveTests
{
    /// <summary>sum over n and hw of x[n, c, hw], per channel.</summary>
    static double[] ChannelSums(float[] x, int n, int channels, int hw)
    {
        var sums = new double[channels];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < channels; c++)
                for (int k = 0; k < hw; k++) sums[c] += x[(i * channels + c) * hw + k];
        return sums;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(300_007)]
    public void SumWritesAtTheResultOffset(int count)
    {
        var x = RandomArray(count, 1, 0f, 1f);
        using var dx = ToDevice(x);
        using var result = NaNBuffer(3);
        Cpu.Sum(dx, count, result, 2);
        AssertClose([ToHost(result)[2]], [x.Sum(v => (double)v)], ForwardTolerance, "sum");
    }

    [Theory]
    [MemberData(nameof(ChannelShapes), MemberType = typeof(PrimitiveTestUtil))]
    public void ChannelSum(int n, int channels, int hw)
    {
        var x = RandomArray(n * channels * hw, 2);
        var initial = RandomArray(channels, 3);
        var sums = ChannelSums(x, n, channels, hw);
        using var dx = ToDevice(x);
        using var result = NaNBuffer(channels);
        Cpu.ChannelSum(dx, n, channels, hw, result, accumulate: false);
        AssertClose(ToHost(result), sums, ForwardTolerance, "channel sum");
        Cpu.Upload(initial, result, 0);
        Cpu.ChannelSum(dx, n, channels, hw, result, accumulate: true);
        AssertClose(ToHost(result), sums.Select((s, c) => s + initial[c]).ToArray(), ForwardTolerance, "channel sum accumulate");
    }

    [Theory]
    [MemberData(nameof(ChannelShapes), MemberType = typeof(PrimitiveTestUtil))]
    public void AddChannelBias(int n, int channels, int hw)
    {
        var y0 = RandomArray(n * channels * hw, 4);
        var bias = RandomArray(channels, 5);
        var expected = y0.Select((v, i) => v + (double)bias[i / hw % channels]).ToArray();
        using var y = ToDevice(y0);
        using var b = ToDevice(bias);
        Cpu.AddChannelBias(y, b, n, channels, hw);
        AssertClose(ToHost(y), expected, ForwardTolerance, "add channel bias");
    }
}
