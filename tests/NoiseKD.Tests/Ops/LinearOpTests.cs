using NoiseKD.Functional;
using Xunit;

namespace NoiseKD.Tests.Ops;

public class LinearOpTests
{
    [Theory]
    [InlineData(new[] { 1, 3 }, 5, true)]       // batch 1
    [InlineData(new[] { 3, 13 }, 5, false)]
    [InlineData(new[] { 7, 5 }, 13, true)]
    [InlineData(new[] { 2, 3, 5 }, 7, true)]    // [*, in]: leading axes are rows
    [InlineData(new[] { 2, 16 }, 24, true)]     // multiples of 8
    [InlineData(new[] { 5, 67 }, 33, true)]     // odd sizes past a micro-kernel tile
    [InlineData(new[] { 1, 1 }, 1, true)]
    public void Linear(int[] xShape, int outF, bool bias)
    {
        int inF = xShape[^1], rows = Reference.Numel(xShape) / inF;
        OpInput[] inputs = [OpInput.Of(xShape), OpInput.Of(outF, inF), OpInput.Of(outF)];
        OpCheck.Run($"linear out={outF} bias={bias}", bias ? inputs : inputs[..2],
            new RefOp(v => Reference.Linear(v[0], rows, inF, outF, v[1], bias ? v[2] : null),
                      (v, dy) =>
                      {
                          var (dx, dw, db) = Reference.LinearBackward(v[0], rows, inF, outF, v[1], bias, dy);
                          return bias ? [dx, dw, db] : [dx, dw];
                      }),
            t => F.Linear(t[0], t[1], bias ? t[2] : null));
    }

    /// <summary>Only the weight differentiated (the input is data), and only the input (a frozen layer).</summary>
    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void LinearWithOneDifferentiableInput(bool inputGrad, bool weightGrad)
    {
        var x = OpInput.Of(3, 5);
        var w = OpInput.Of(4, 5);
        OpCheck.Run($"linear grad x={inputGrad} w={weightGrad}", [inputGrad ? x : x.Constant(), weightGrad ? w : w.Constant()],
            new RefOp(v => Reference.Linear(v[0], 3, 5, 4, v[1], null),
                      (v, dy) =>
                      {
                          var (dx, dw, _) = Reference.LinearBackward(v[0], 3, 5, 4, v[1], false, dy);
                          return [dx, dw];
                      }),
            t => F.Linear(t[0], t[1]));
    }

    /// <summary>
    /// y = linear(linear(x, W, b), W, b) + x: the weight and bias gradients of the second application add
    /// to the first (GEMM with beta = 1), and the input gradient adds to the skip's.
    /// </summary>
    [Fact]
    public void LinearAppliedTwiceAccumulates()
    {
        const int rows = 3, features = 7;
        var reference = new RefOp(
            v => Reference.Zip(Twice(v), v[0], (a, b) => a + b),
            (v, dy) =>
            {
                var h = Reference.Linear(v[0], rows, features, features, v[1], v[2]);
                var (dh, dw2, db2) = Reference.LinearBackward(h, rows, features, features, v[1], true, dy);
                var (dx, dw1, db1) = Reference.LinearBackward(v[0], rows, features, features, v[1], true, dh);
                return [Reference.Zip(dx, dy, (a, b) => a + b), Reference.Zip(dw1, dw2, (a, b) => a + b), Reference.Zip(db1!, db2!, (a, b) => a + b)];
            });
        OpCheck.Run("linear twice + skip", [OpInput.Of(rows, features), OpInput.Of(features, features), OpInput.Of(features)], reference,
            t => F.Add(F.Linear(F.Linear(t[0], t[1], t[2]), t[1], t[2]), t[0]));

        static double[] Twice(double[][] v) =>
            Reference.Linear(Reference.Linear(v[0], rows, features, features, v[1], v[2]), rows, features, features, v[1], v[2]);
    }
}
