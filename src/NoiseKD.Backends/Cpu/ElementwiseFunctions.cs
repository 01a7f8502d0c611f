using System.Numerics;

namespace NoiseKD.Backends.Cpu;

/// <summary>y = f(x), as a scalar and as a SIMD vector (both must agree lane by lane).</summary>
interface IMapFunction
{
    float Apply(float x);
    Vector<float> Apply(Vector<float> x);
}

/// <summary>y = f(a, b), as a scalar and as a SIMD vector.</summary>
interface IZipFunction
{
    float Apply(float a, float b);
    Vector<float> Apply(Vector<float> a, Vector<float> b);
}

/// <summary>
/// An activation and its gradient dy * f'(.), where the saved tensor is x or y as IBackend.UnaryBackward
/// says. Masks select dy rather than multiply it by 0/1, as PyTorch's threshold_backward does, so an
/// infinite dy in a dead unit gives 0 rather than NaN.
/// </summary>
interface IUnaryFunction : IMapFunction
{
    float Gradient(float saved, float dy);
    Vector<float> Gradient(Vector<float> saved, Vector<float> dy);
}

readonly struct GradientOf<TFunction>(TFunction function) : IZipFunction where TFunction : struct, IUnaryFunction
{
    public float Apply(float saved, float dy) => function.Gradient(saved, dy);
    public Vector<float> Apply(Vector<float> saved, Vector<float> dy) => function.Gradient(saved, dy);
}

static class Lanes
{
    /// <summary>Applies a scalar function lane by lane (for transcendental ops kept on MathF).</summary>
    public static Vector<float> Each(Vector<float> v, Func<float, float> f)
    {
        Span<float> lanes = stackalloc float[Vector<float>.Count];
        v.CopyTo(lanes);
        for (int i = 0; i < lanes.Length; i++) lanes[i] = f(lanes[i]);
        return new Vector<float>(lanes);
    }
}

/// <summary>f(x) = x: the "no activation" of a fused op.</summary>
readonly struct IdentityFunction : IMapFunction
{
    public float Apply(float x) => x;
    public Vector<float> Apply(Vector<float> x) => x;
}

// x < 0 ? 0 : x keeps NaN (as torch.relu does); the gradient is 0 for x <= 0 (relu'(0) = 0).
readonly struct ReluFunction : IUnaryFunction
{
    public float Apply(float x) => x < 0f ? 0f : x;
    public Vector<float> Apply(Vector<float> x) => Vector.ConditionalSelect(Vector.LessThan(x, Vector<float>.Zero), Vector<float>.Zero, x);
    public float Gradient(float x, float dy) => x <= 0f ? 0f : dy;
    public Vector<float> Gradient(Vector<float> x, Vector<float> dy)
        => Vector.ConditionalSelect(Vector.LessThanOrEqual(x, Vector<float>.Zero), Vector<float>.Zero, dy);
}

// hardtanh(x, 0, 6); gradient only strictly inside (0, 6), as hardtanh_backward.
readonly struct Relu6Function : IUnaryFunction
{
    static Vector<float> Six => new(6f);
    public float Apply(float x) => x < 0f ? 0f : x > 6f ? 6f : x;
    public Vector<float> Apply(Vector<float> x)
        => Vector.ConditionalSelect(Vector.LessThan(x, Vector<float>.Zero), Vector<float>.Zero,
                                    Vector.ConditionalSelect(Vector.GreaterThan(x, Six), Six, x));
    public float Gradient(float x, float dy) => x <= 0f || x >= 6f ? 0f : dy;
    public Vector<float> Gradient(Vector<float> x, Vector<float> dy)
        => Vector.ConditionalSelect(Vector.LessThanOrEqual(x, Vector<float>.Zero) | Vector.GreaterThanOrEqual(x, Six),
                                    Vector<float>.Zero, dy);
}

readonly struct LeakyReluFunction(float alpha) : IUnaryFunction
{
    public float Apply(float x) => x > 0f ? x : alpha * x;
    public Vector<float> Apply(Vector<float> x) => Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), x, alpha * x);
    public float Gradient(float x, float dy) => x > 0f ? dy : alpha * dy;
    public Vector<float> Gradient(Vector<float> x, Vector<float> dy)
        => Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), dy, alpha * dy);
}

// Saved tensor is y: tanh' = 1 - y^2.
readonly struct TanhFunction : IUnaryFunction
{
    public float Apply(float x) => MathF.Tanh(x);
    public Vector<float> Apply(Vector<float> x) => Lanes.Each(x, MathF.Tanh);
    public float Gradient(float y, float dy) => dy * (1f - y * y);
    public Vector<float> Gradient(Vector<float> y, Vector<float> dy) => dy * (Vector<float>.One - y * y);
}

// Saved tensor is y: sigmoid' = y (1 - y).
readonly struct SigmoidFunction : IUnaryFunction
{
    static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));
    public float Apply(float x) => Sigmoid(x);
    public Vector<float> Apply(Vector<float> x) => Lanes.Each(x, Sigmoid);
    public float Gradient(float y, float dy) => dy * (1f - y) * y;
    public Vector<float> Gradient(Vector<float> y, Vector<float> dy) => dy * (Vector<float>.One - y) * y;
}

// abs' = sign(x), 0 at 0 (PyTorch's sgn).
readonly struct AbsFunction : IUnaryFunction
{
    public float Apply(float x) => MathF.Abs(x);
    public Vector<float> Apply(Vector<float> x) => Vector.Abs(x);
    public float Gradient(float x, float dy) => x > 0f ? dy : x < 0f ? -dy : 0f;
    public Vector<float> Gradient(Vector<float> x, Vector<float> dy)
        => Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), dy,
                                    Vector.ConditionalSelect(Vector.LessThan(x, Vector<float>.Zero), -dy, Vector<float>.Zero));
}

// Saved tensor is y: exp' = y.
readonly struct ExpFunction : IUnaryFunction
{
    public float Apply(float x) => MathF.Exp(x);
    public Vector<float> Apply(Vector<float> x) => Lanes.Each(x, MathF.Exp);
    public float Gradient(float y, float dy) => dy * y;
    public Vector<float> Gradient(Vector<float> y, Vector<float> dy) => dy * y;
}

// Saved tensor is x: log' = 1/x.
readonly struct LogFunction : IUnaryFunction
{
    public float Apply(float x) => MathF.Log(x);
    public Vector<float> Apply(Vector<float> x) => Lanes.Each(x, MathF.Log);
    public float Gradient(float x, float dy) => dy / x;
    public Vector<float> Gradient(Vector<float> x, Vector<float> dy) => dy / x;
}

readonly struct SquareFunction : IUnaryFunction
{
    public float Apply(float x) => x * x;
    public Vector<float> Apply(Vector<float> x) => x * x;
    public float Gradient(float x, float dy) => dy * 2f * x;
    public Vector<float> Gradient(Vector<float> x, Vector<float> dy) => dy * 2f * x;
}

readonly struct AddFunction : IZipFunction
{
    public float Apply(float a, float b) => a + b;
    public Vector<float> Apply(Vector<float> a, Vector<float> b) => a + b;
}

readonly struct SubFunction : IZipFunction
{
    public float Apply(float a, float b) => a - b;
    public Vector<float> Apply(Vector<float> a, Vector<float> b) => a - b;
}

readonly struct MulFunction : IZipFunction
{
    public float Apply(float a, float b) => a * b;
    public Vector<float> Apply(Vector<float> a, Vector<float> b) => a * b;
}

/// <summary>alpha*x + beta*y with a = x, b = y.</summary>
readonly struct AxpbyFunction(float alpha, float beta) : IZipFunction
{
    public float Apply(float x, float y) => alpha * x + beta * y;
    public Vector<float> Apply(Vector<float> x, Vector<float> y) => alpha * x + beta * y;
}

readonly struct AffineFunction(float alpha, float beta) : IMapFunction
{
    public float Apply(float x) => alpha * x + beta;
    public Vector<float> Apply(Vector<float> x) => alpha * x + new Vector<float>(beta);
}
