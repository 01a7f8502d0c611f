using NoiseKD.Functional;
using Xunit;

namespace NoiseKD.Tests.Ops;

public class ShapeOpTests
{
    public static TheoryData<int[][], int> ConcatCases => new()
    {
        { [[2, 3, 5, 7], [1, 3, 5, 7]], 0 },
        { [[2, 3, 5, 7], [2, 5, 5, 7], [2, 1, 5, 7]], 1 },   // channel concat (DenseNet, Inception)
        { [[1, 3, 2, 7], [1, 3, 5, 7]], 2 },
        { [[2, 3, 5, 1], [2, 3, 5, 6]], 3 },
        { [[3, 5], [3, 13]], -1 },                          // negative dim
        { [[13], [3]], 0 },
        { [[2, 3, 5]], 1 },                                 // a single tensor
    };

    [Theory]
    [MemberData(nameof(ConcatCases))]
    public void Concat(int[][] shapes, int dim)
    {
        int axis = dim < 0 ? dim + shapes[0].Length : dim;
        OpCheck.Run($"concat dim={dim}", shapes.Select(s => OpInput.Of(s)).ToArray(),
            new RefOp(v => Reference.Concat(shapes, v, axis), (_, dy) => Reference.ConcatBackward(shapes, axis, dy)),
            t => F.Concat(t, dim));
    }

    [Fact]
    public void ConcatOfOneTensorTwiceAccumulates()
    {
        int[][] shapes = [[2, 3, 5], [2, 3, 5]];
        OpCheck.Run("concat [x, x]", [OpInput.Of(2, 3, 5)],
            new RefOp(v => Reference.Concat(shapes, [v[0], v[0]], 1),
                      (_, dy) => { var d = Reference.ConcatBackward(shapes, 1, dy); return [Reference.Zip(d[0], d[1], (a, b) => a + b)]; }),
            t => F.Concat([t[0], t[0]], 1));
    }

    [Theory]
    [InlineData(new[] { 2, 3, 5, 7 }, new[] { 6, 35 })]
    [InlineData(new[] { 2, 3, 5, 7 }, new[] { -1, 7 })]
    [InlineData(new[] { 13 }, new[] { 1, 13, 1 })]
    public void Reshape(int[] shape, int[] newShape)
    {
        OpCheck.Run($"reshape to {string.Join("x", newShape)}", [OpInput.Of(shape)],
            new RefOp(v => (double[])v[0].Clone(), (_, dy) => [dy]),
            t => F.Reshape(t[0], newShape));
    }

    [Theory]
    [InlineData(new[] { 2, 3, 5, 7 }, 1)]
    [InlineData(new[] { 2, 3, 5, 7 }, 2)]
    [InlineData(new[] { 2, 3, 5, 7 }, 0)]
    [InlineData(new[] { 3, 5 }, -1)]
    public void Flatten(int[] shape, int startDim)
    {
        // Flattening from a dim keeps the element order, so the reference is the identity.
        OpCheck.Run($"flatten from {startDim}", [OpInput.Of(shape)],
            new RefOp(v => (double[])v[0].Clone(), (_, dy) => [dy]),
            t =>
            {
                var y = F.Flatten(t[0], startDim);
                int start = startDim < 0 ? startDim + shape.Length : startDim;
                Assert.Equal(shape[..start].Append(shape[start..].Aggregate(1, (a, b) => a * b)), y.Shape);
                return y;
            });
    }

    [Theory]
    [InlineData(new[] { 1, 3 }, -3, 3)]
    [InlineData(new[] { 3, 5 }, -3, 3)]
    [InlineData(new[] { 2, 3, 13 }, -3, 3)]
    [InlineData(new[] { 7 }, -3, 3)]
    [InlineData(new[] { 3, 10 }, 80, 100)]    // exp would overflow float32 without subtracting the row max
    [InlineData(new[] { 2, 1 }, -3, 3)]       // one class: softmax 1, log_softmax 0
    public void SoftmaxAndLogSoftmax(int[] shape, double low, double high)
    {
        int cols = shape[^1], rows = Reference.Numel(shape) / cols;
        OpInput[] x = [OpInput.Of(shape).Range(low, high)];
        OpCheck.Run("softmax", x,
            new RefOp(v => Reference.Softmax(v[0], rows, cols), (v, dy) => [Reference.SoftmaxBackward(v[0], rows, cols, dy)]),
            t => F.Softmax(t[0]));
        OpCheck.Run("log_softmax", x,
            new RefOp(v => Reference.LogSoftmax(v[0], rows, cols), (v, dy) => [Reference.LogSoftmaxBackward(v[0], rows, cols, dy)]),
            t => F.LogSoftmax(t[0]));
    }

    /// <summary>x * softmax(x) and x * log_softmax(x): the softmax backward adds to the product's gradient.</summary>
    [Fact]
    public void SoftmaxGradientAccumulates()
    {
        const int rows = 3, cols = 7;
        foreach (bool log in new[] { false, true })
        {
            Func<double[], double[]> s = x => log ? Reference.LogSoftmax(x, rows, cols) : Reference.Softmax(x, rows, cols);
            Func<double[], double[], double[]> ds = (x, d) => log ? Reference.LogSoftmaxBackward(x, rows, cols, d) : Reference.SoftmaxBackward(x, rows, cols, d);
            OpCheck.Run($"x * {(log ? "log_softmax" : "softmax")}(x)", [OpInput.Of(rows, cols).Range(-3, 3)],
                new RefOp(v => Reference.Zip(v[0], s(v[0]), (a, b) => a * b),
                          (v, dy) => [Reference.Zip(Reference.Zip(dy, s(v[0]), (a, b) => a * b), ds(v[0], Reference.Zip(dy, v[0], (a, b) => a * b)), (a, b) => a + b)]),
                t => F.Mul(t[0], log ? F.LogSoftmax(t[0]) : F.Softmax(t[0])));
        }
    }
}
