using NoiseKD.Autograd;
using NoiseKD.Backends;
using NoiseKD.Tensors;

namespace NoiseKD.Functional;

public static partial class F
{
    public static Tensor Relu(Tensor x) => Unary(x, UnaryOp.Relu);
    public static Tensor Relu6(Tensor x) => Unary(x, UnaryOp.Relu6);
    public static Tensor LeakyRelu(Tensor x, float negativeSlope = 0.01f) => Unary(x, UnaryOp.LeakyRelu, negativeSlope);
    public static Tensor Tanh(Tensor x) => Unary(x, UnaryOp.Tanh);
    public static Tensor Sigmoid(Tensor x) => Unary(x, UnaryOp.Sigmoid);
    public static Tensor Abs(Tensor x) => Unary(x, UnaryOp.Abs);
    public static Tensor Exp(Tensor x) => Unary(x, UnaryOp.Exp);
    public static Tensor Log(Tensor x) => Unary(x, UnaryOp.Log);
    public static Tensor Square(Tensor x) => Unary(x, UnaryOp.Square);

    static Tensor Unary(Tensor x, UnaryOp op, float alpha = 0f)
    {
        var y = Like(x);
        x.Backend.Unary(op, alpha, x.Buffer, y.Buffer, x.Numel);
        // Tanh, Sigmoid and Exp have derivatives that are cheapest in terms of their output.
        bool fromOutput = op is UnaryOp.Tanh or UnaryOp.Sigmoid or UnaryOp.Exp;
        return Tape.Record(y, op.ToString(), [x], gy =>
        {
            var (gx, accumulate) = x.GradSink();
            x.Backend.UnaryBackward(op, alpha, fromOutput ? y.Buffer : x.Buffer, gy.Buffer, gx.Buffer, x.Numel, accumulate);
        });
    }

    public static Tensor Add(Tensor a, Tensor b) => AddScaled(a, b, 1f);
    public static Tensor Sub(Tensor a, Tensor b) => AddScaled(a, b, -1f);

    /// <summary>a + s*b.</summary>
    static Tensor AddScaled(Tensor a, Tensor b, float s)
    {
        RequireSameShape(a, b, s > 0 ? "add" : "sub");
        var y = Like(a);
        a.Backend.Binary(s > 0 ? BinaryOp.Add : BinaryOp.Sub, a.Buffer, b.Buffer, y.Buffer, a.Numel);
        return Tape.Record(y, s > 0 ? "Add" : "Sub", [a, b], gy =>
        {
            if (a.RequiresGrad) AccumulateGrad(a, gy);
            if (b.RequiresGrad) AccumulateGrad(b, gy, s);
        });
    }

    public static Tensor Mul(Tensor a, Tensor b)
    {
        RequireSameShape(a, b, "mul");
        var y = Like(a);
        a.Backend.Binary(BinaryOp.Mul, a.Buffer, b.Buffer, y.Buffer, a.Numel);
        return Tape.Record(y, "Mul", [a, b], gy =>
        {
            if (a.RequiresGrad) AccumulateProduct(a, gy, b);
            if (b.RequiresGrad) AccumulateProduct(b, gy, a);
        });
    }

    /// <summary>grad(t) += g * other.</summary>
    static void AccumulateProduct(Tensor t, Tensor g, Tensor other)
    {
        var (sink, accumulate) = t.GradSink();
        if (!accumulate)
        {
            t.Backend.Binary(BinaryOp.Mul, g.Buffer, other.Buffer, sink.Buffer, t.Numel);
            return;
        }
        using var product = t.Backend.Allocate(t.Numel);
        t.Backend.Binary(BinaryOp.Mul, g.Buffer, other.Buffer, product, t.Numel);
        t.Backend.Axpby(1f, product, 1f, sink.Buffer, t.Numel);
    }

    /// <summary>alpha*x + beta (torch: x.mul(alpha).add(beta)).</summary>
    public static Tensor Affine(Tensor x, float alpha, float beta = 0f)
    {
        var y = Like(x);
        x.Backend.Affine(alpha, x.Buffer, beta, y.Buffer, x.Numel);
        return Tape.Record(y, "Affine", [x], gy => AccumulateGrad(x, gy, alpha));
    }

    public static Tensor Scale(Tensor x, float factor) => Affine(x, factor);
    public static Tensor AddScalar(Tensor x, float value) => Affine(x, 1f, value);
    public static Tensor Neg(Tensor x) => Affine(x, -1f);
}
