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
}
