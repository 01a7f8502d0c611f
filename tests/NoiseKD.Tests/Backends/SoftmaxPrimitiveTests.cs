using Xunit;
using static NoiseKD.Tests.Backends.PrimitiveTestUtil;
using Ref = NoiseKD.Tests.Backends.PrimitiveReference;

namespace NoiseKD.Tests.Backends;

public class SoftmaxPrimitiveTests
{
    public static TheoryData<int, int, bool> Cases()
    {
        var data = new TheoryData<int, int, bool>();
        foreach (var (rows, cols) in new[] { (1, 1), (7, 13), (3, 100), (64, 1000) })
            foreach (bool log in new[] { false, true }) data.Add(rows, cols, log);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardIsShiftInvariant(int rows, int cols, bool log)
    {
        var x = RandomArray(rows * cols, 1, -10f, 10f);
        // Row r is shifted by 100r: exp would overflow without the max subtraction; the result must not change.
        var shifted = x.Select((v, i) => v + 100f * (i / cols)).ToArray();
        using var dx = ToDevice(shifted);
        using var y = NaNBuffer(x.Length);
        Cpu.Softmax(dx, rows, cols, log, y);
        // The reference sees the shifted values as rounded to float, shifted back exactly in double.
        var unshifted = shifted.Select((v, i) => v - 100.0 * (i / cols)).ToArray();
        AssertClose(ToHost(y), Ref.Softmax(unshifted, rows, cols, log), ForwardTolerance, log ? "log_softmax" : "softmax");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward(int rows, int cols, bool log)
    {
        var yValues = ToFloat(Ref.Softmax(ToDouble(RandomArray(rows * cols, 2, -4f, 4f)), rows, cols, log));
        var dyValues = RandomArray(yValues.Length, 3);
        var initial = RandomArray(yValues.Length, 4);
        var gradient = Ref.SoftmaxBackward(ToDouble(yValues), ToDouble(dyValues), rows, cols, log);
        using var y = ToDevice(yValues);
        using var dy = ToDevice(dyValues);
        foreach (bool accumulate in new[] { false, true })
        {
            using var dx = accumulate ? ToDevice(initial) : NaNBuffer(yValues.Length);
            Cpu.SoftmaxBackward(y, dy, rows, cols, log, dx, accumulate);
            var expected = gradient.Select((v, i) => v + (accumulate ? initial[i] : 0)).ToArray();
            AssertClose(ToHost(dx), expected, GradientTolerance, $"log={log} accumulate={accumulate}");
        }
    }
}
