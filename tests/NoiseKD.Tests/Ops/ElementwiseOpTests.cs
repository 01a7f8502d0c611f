using NoiseKD.Backends;
using NoiseKD.Functional;
using NoiseKD.Tensors;
using NoiseKD.Tests.Backends;
using Xunit;

namespace NoiseKD.Tests.Ops;

public class ElementwiseOpTests
{
    public static TheoryData<UnaryOp, float, double, double, double[]> UnaryCases => new()
    {
        // op, alpha, low, high, kinks (values kept 1e-3 away from)
        { UnaryOp.Relu, 0f, -1, 1, [0] },
        { UnaryOp.Relu6, 0f, -2, 8, [0, 6] },
        { UnaryOp.LeakyRelu, 0.01f, -1, 1, [0] },
        { UnaryOp.LeakyRelu, 0.2f, -1, 1, [0] },
        { UnaryOp.Tanh, 0f, -3, 3, [] },
        { UnaryOp.Sigmoid, 0f, -5, 5, [] },
        { UnaryOp.Abs, 0f, -1, 1, [0] },
        { UnaryOp.Exp, 0f, -3, 3, [] },
        { UnaryOp.Log, 0f, 0.1, 4, [] },
        { UnaryOp.Square, 0f, -2, 2, [] },
    };

    [Theory]
    [MemberData(nameof(UnaryCases))]
    public void Unary(UnaryOp op, float alpha, double low, double high, double[] kinks)
    {
        // A 3x5x7 tensor (105 elements: not a multiple of any vector width), then a single element.
        foreach (var shape in new[] { new[] { 3, 5, 7 }, new[] { 1 } })
        {
            OpCheck.Run($"{op}(alpha={alpha})", [OpInput.Of(shape).Range(low, high).AwayFrom(kinks)],
                new RefOp(v => Reference.Map(v[0], x => PrimitiveReference.Unary(op, alpha, x)),
                          (v, dy) => [Reference.MapBackward(v[0], dy, x => PrimitiveReference.UnaryDerivative(op, alpha, x))]),
                t => Apply(op, alpha, t[0]));
        }
    }

    static Tensor Apply(UnaryOp op, float alpha, Tensor x) => op switch
    {
        UnaryOp.Relu => F.Relu(x),
        UnaryOp.Relu6 => F.Relu6(x),
        UnaryOp.LeakyRelu => F.LeakyRelu(x, alpha),
        UnaryOp.Tanh => F.Tanh(x),
        UnaryOp.Sigmoid => F.Sigmoid(x),
        UnaryOp.Abs => F.Abs(x),
        UnaryOp.Exp => F.Exp(x),
        UnaryOp.Log => F.Log(x),
        UnaryOp.Square => F.Square(x),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>Sign(0) = 0: PyTorch's abs gradient at exactly zero, and relu's derivative 0 at 0.</summary>
    [Fact]
    public void GradientsAtExactZero()
    {
        using var scope = new TensorScope();
        var x = Tensor.FromArray([0f, 0f], [2]);
        x.RequiresGrad = true;
        F.Sum(F.Add(F.Abs(x), F.Relu(x))).Backward();
        Assert.Equal([0f, 0f], x.Grad!.ToArray());
    }

    [Theory]
    [InlineData(new[] { 3, 5, 7 })]
    [InlineData(new[] { 1, 13 })]
    [InlineData(new int[0])]          // 0-d scalars
    public void Binary(int[] shape)
    {
        OpInput[] inputs = [OpInput.Of(shape), OpInput.Of(shape)];
        OpCheck.Run("add", inputs, new RefOp(v => Reference.Zip(v[0], v[1], (a, b) => a + b), (_, dy) => [dy, dy]),
            t => F.Add(t[0], t[1]));
        OpCheck.Run("sub", inputs, new RefOp(v => Reference.Zip(v[0], v[1], (a, b) => a - b), (_, dy) => [dy, Reference.Map(dy, d => -d)]),
            t => F.Sub(t[0], t[1]));
        OpCheck.Run("mul", inputs,
            new RefOp(v => Reference.Zip(v[0], v[1], (a, b) => a * b),
                      (v, dy) => [Reference.Zip(dy, v[1], (d, b) => d * b), Reference.Zip(dy, v[0], (d, a) => d * a)]),
            t => F.Mul(t[0], t[1]));
    }

    /// <summary>One tensor feeding both operands, or two ops: the second gradient must add to the first, not replace it.</summary>
    [Fact]
    public void InputUsedTwiceAccumulatesGradients()
    {
        OpInput[] x = [OpInput.Of(3, 5, 7)];
        OpCheck.Run("mul(x, x)", x,
            new RefOp(v => Reference.Map(v[0], a => a * a), (v, dy) => [Reference.Zip(dy, v[0], (d, a) => 2 * d * a)]),
            t => F.Mul(t[0], t[0]));
        OpCheck.Run("add(x, x)", x,
            new RefOp(v => Reference.Map(v[0], a => 2 * a), (_, dy) => [Reference.Map(dy, d => 2 * d)]),
            t => F.Add(t[0], t[0]));
        OpCheck.Run("sub(x, x)", x,
            new RefOp(v => new double[v[0].Length], (v, _) => [new double[v[0].Length]]),
            t => F.Sub(t[0], t[0]));
        OpCheck.Run("relu(x) + tanh(x)", [OpInput.Of(3, 5, 7).AwayFrom(0)],
            new RefOp(v => Reference.Map(v[0], a => Math.Max(a, 0) + Math.Tanh(a)),
                      (v, dy) => [Reference.Zip(dy, v[0], (d, a) => d * ((a > 0 ? 1 : 0) + 1 - Math.Tanh(a) * Math.Tanh(a)))]),
            t => F.Add(F.Relu(t[0]), F.Tanh(t[0])));
        OpCheck.Run("exp(x) * x", x,
            new RefOp(v => Reference.Map(v[0], a => Math.Exp(a) * a),
                      (v, dy) => [Reference.Zip(dy, v[0], (d, a) => d * Math.Exp(a) * (1 + a))]),
            t => F.Mul(F.Exp(t[0]), t[0]));
    }

    [Theory]
    [InlineData(2.5f, -0.75f)]
    [InlineData(-1f, 0f)]
    [InlineData(0f, 3f)]
    public void Affine(float alpha, float beta)
    {
        OpCheck.Run($"affine({alpha}, {beta})", [OpInput.Of(3, 5, 7)],
            new RefOp(v => Reference.Map(v[0], x => alpha * x + beta), (_, dy) => [Reference.Map(dy, d => alpha * d)]),
            t => F.Affine(t[0], alpha, beta));
    }

    [Fact]
    public void ScaleAddScalarNeg()
    {
        OpInput[] x = [OpInput.Of(2, 13)];
        OpCheck.Run("scale(0.3)", x, new RefOp(v => Reference.Map(v[0], a => (double)0.3f * a), (_, dy) => [Reference.Map(dy, d => (double)0.3f * d)]),
            t => F.Scale(t[0], 0.3f));
        OpCheck.Run("add_scalar(-1.5)", x, new RefOp(v => Reference.Map(v[0], a => a - 1.5), (_, dy) => [dy]),
            t => F.AddScalar(t[0], -1.5f));
        OpCheck.Run("neg", x, new RefOp(v => Reference.Map(v[0], a => -a), (_, dy) => [Reference.Map(dy, d => -d)]),
            t => F.Neg(t[0]));
    }

    [Theory]
    [InlineData(new[] { 3, 5, 7 })]
    [InlineData(new[] { 1 })]
    [InlineData(new int[0])]
    [InlineData(new[] { 4099 })]    // long enough to be split over threads
    public void SumAndMean(int[] shape)
    {
        OpInput[] x = [OpInput.Of(shape)];
        int n = Reference.Numel(shape);
        OpCheck.Run("sum", x, new RefOp(v => [Reference.Sum(v[0])], (_, dy) => [Reference.SumBackward(n, dy[0])]),
            t => F.Sum(t[0]));
        OpCheck.Run("mean", x, new RefOp(v => [Reference.Sum(v[0]) / n], (_, dy) => [Reference.SumBackward(n, dy[0] / n)]),
            t => F.Mean(t[0]));
    }

    /// <summary>
    /// Inverted dropout: each element is either 0 or x/(1-p), about a fraction p are zeroed, the
    /// gradient passes through the same mask, the same seed gives the same mask, and eval is the identity.
    /// </summary>
    [Fact]
    public void Dropout()
    {
        const float p = 0.3f;
        const int n = 4000;
        var x = OpCheck.ToFloat(OpCheck.Draw(n, 0.5, 1.5, new Random(1)));
        float[] Run(ulong seed, out float[] grad)
        {
            using var scope = new TensorScope();
            var xt = Tensor.FromArray(x, [n]);
            xt.RequiresGrad = true;
            var y = F.Dropout(xt, p, training: true, new Generator(seed));
            F.Sum(y).Backward();
            grad = xt.Grad!.ToArray();
            return y.ToArray();
        }
        var y = Run(9, out var grad);
        int dropped = 0;
        for (int i = 0; i < n; i++)
        {
            float mask = grad[i];   // d sum(x * mask) / dx = mask
            Assert.True(mask == 0f || Math.Abs(mask - 1 / (1 - p)) < 1e-6, $"mask value {mask}");
            Assert.Equal(x[i] * mask, y[i], 1e-6f);
            if (mask == 0f) dropped++;
        }
        Assert.InRange(dropped / (double)n, p - 0.03, p + 0.03);
        Assert.Equal(y, Run(9, out _));
        Assert.NotEqual(y, Run(10, out _));

        using var evalScope = new TensorScope();
        var input = Tensor.FromArray(x, [n]);
        Assert.Same(input, F.Dropout(input, p, training: false));
    }
}
