using NoiseKD.Backends;
using Xunit;
using static NoiseKD.Tests.Backends.PrimitiveTestUtil;
using Ref = NoiseKD.Tests.Backends.PrimitiveReference;

namespace NoiseKD.Tests.Backends;

public class ElementwisePrimitiveTests
{
    const float Alpha = 0.1f;

    /// <summary>1 and 37 run the scalar tail only or mostly; 100003 runs SIMD over several threads plus a tail.</summary>
    static readonly int[] Counts = [1, 37, 100_003];

    public static TheoryData<UnaryOp, int> UnaryCases()
    {
        var data = new TheoryData<UnaryOp, int>();
        foreach (var op in Enum.GetValues<UnaryOp>())
            foreach (int count in Counts) data.Add(op, count);
        return data;
    }

    public static TheoryData<BinaryOp, int> BinaryCases()
    {
        var data = new TheoryData<BinaryOp, int>();
        foreach (var op in Enum.GetValues<BinaryOp>())
            foreach (int count in Counts) data.Add(op, count);
        return data;
    }

    /// <summary>Values in [-8, 8] with the kinks 0 and 6 planted (Log gets positive values instead).</summary>
    static float[] UnaryInput(UnaryOp op, int count)
    {
        var x = RandomArray(count, 100 + (int)op, -8f, 8f);
        if (op == UnaryOp.Log) return Array.ConvertAll(x, v => MathF.Abs(v) + 0.01f);
        for (int i = 0; i < count; i += 11) x[i] = 0f;
        for (int i = 5; i < count; i += 11) x[i] = 6f;
        return x;
    }

    /// <summary>The tensor UnaryBackward saves: the output for Tanh/Sigmoid/Exp, the input otherwise.</summary>
    static bool SavesOutput(UnaryOp op) => op is UnaryOp.Tanh or UnaryOp.Sigmoid or UnaryOp.Exp;

    [Theory]
    [MemberData(nameof(UnaryCases))]
    public void Unary(UnaryOp op, int count)
    {
        var x = UnaryInput(op, count);
        var expected = x.Select(v => Ref.Unary(op, Alpha, v)).ToArray();
        using var dx = ToDevice(x);
        using var y = NaNBuffer(count);
        Cpu.Unary(op, Alpha, dx, y, count);
        AssertClose(ToHost(y), expected, ForwardTolerance, $"{op}");
        Cpu.Unary(op, Alpha, dx, dx, count); // in place
        AssertClose(ToHost(dx), expected, ForwardTolerance, $"{op} in place");
    }

    [Theory]
    [MemberData(nameof(UnaryCases))]
    public void UnaryBackward(UnaryOp op, int count)
    {
        var x = UnaryInput(op, count);
        var dyValues = RandomArray(count, 7);
        var initial = RandomArray(count, 8);
        using var input = ToDevice(x);
        using var saved = Cpu.Allocate(count);
        if (SavesOutput(op)) Cpu.Unary(op, Alpha, input, saved, count);
        else Cpu.Upload(x, saved, 0);
        using var dy = ToDevice(dyValues);
        foreach (bool accumulate in new[] { false, true })
        {
            using var dx = accumulate ? ToDevice(initial) : NaNBuffer(count);
            Cpu.UnaryBackward(op, Alpha, saved, dy, dx, count, accumulate);
            var expected = x.Select((v, i) => (accumulate ? initial[i] : 0) + dyValues[i] * Ref.UnaryDerivative(op, Alpha, v)).ToArray();
            AssertClose(ToHost(dx), expected, GradientTolerance, $"{op}' accumulate={accumulate}");
        }
    }

    static double Binary(BinaryOp op, double a, double b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        _ => a * b,
    };

    [Theory]
    [MemberData(nameof(BinaryCases))]
    public void BinaryIncludingAliasedOutput(BinaryOp op, int count)
    {
        var a = RandomArray(count, 1);
        var b = RandomArray(count, 2);
        var expected = a.Select((v, i) => Binary(op, v, b[i])).ToArray();
        using var da = ToDevice(a);
        using var db = ToDevice(b);
        using var y = NaNBuffer(count);
        Cpu.Binary(op, da, db, y, count);
        AssertClose(ToHost(y), expected, ForwardTolerance, $"{op}");
        Cpu.Binary(op, da, db, db, count);
        AssertClose(ToHost(db), expected, ForwardTolerance, $"{op} into b");
        Cpu.Upload(b, db, 0);
        Cpu.Binary(op, da, db, da, count);
        AssertClose(ToHost(da), expected, ForwardTolerance, $"{op} into a");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100_003)]
    public void AxpbyWithZeroBetaDoesNotReadY(int count)
    {
        var x = RandomArray(count, 3);
        using var dx = ToDevice(x);
        using var y = NaNBuffer(count);
        Cpu.Axpby(-2.5f, dx, 0f, y, count);
        AssertClose(ToHost(y), x.Select(v => -2.5 * v).ToArray(), ForwardTolerance, "axpby beta=0");
    }

    [Theory]
    [InlineData(37)]
    [InlineData(100_003)]
    public void Axpby(int count)
    {
        var x = RandomArray(count, 4);
        var y0 = RandomArray(count, 5);
        using var dx = ToDevice(x);
        using var y = ToDevice(y0);
        Cpu.Axpby(0.75f, dx, -1.25f, y, count);
        AssertClose(ToHost(y), x.Select((v, i) => 0.75 * v - 1.25 * y0[i]).ToArray(), ForwardTolerance, "axpby");
    }

    [Theory]
    [InlineData(37)]
    [InlineData(100_003)]
    public void AffineIncludingInPlace(int count)
    {
        var x = RandomArray(count, 6);
        var expected = x.Select(v => 3.0 * v - 0.5).ToArray();
        using var dx = ToDevice(x);
        using var y = NaNBuffer(count);
        Cpu.Affine(3f, dx, -0.5f, y, count);
        AssertClose(ToHost(y), expected, ForwardTolerance, "affine");
        Cpu.Affine(3f, dx, -0.5f, dx, count);
        AssertClose(ToHost(dx), expected, ForwardTolerance, "affine in place");
    }
}
