using System.Numerics;
using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Cpu;

// Elementwise primitives. Each op is a struct function (ElementwiseFunctions.cs) handed to one of two
// generic loops, Map (y = f(x)) and Zip (y (+)= f(a, b)); the JIT specialises the loop per struct, so
// the vector body is inlined without a delegate call per element.
public sealed unsafe partial class CpuBackend
{
    public void Unary(UnaryOp op, float alpha, DeviceBuffer x, DeviceBuffer y, long count)
    {
        CheckRange(x, 0, count);
        CheckRange(y, 0, count);
        WithUnaryFunction(op, alpha, new UnaryForward(P(x), P(y), count));
    }

    public void UnaryBackward(UnaryOp op, float alpha, DeviceBuffer saved, DeviceBuffer dy, DeviceBuffer dx, long count, bool accumulate)
    {
        CheckRange(saved, 0, count);
        CheckRange(dy, 0, count);
        CheckRange(dx, 0, count);
        WithUnaryFunction(op, alpha, new UnaryBackwardPass(P(saved), P(dy), P(dx), count, accumulate));
    }

    public void Binary(BinaryOp op, DeviceBuffer a, DeviceBuffer b, DeviceBuffer y, long count)
    {
        CheckRange(a, 0, count);
        CheckRange(b, 0, count);
        CheckRange(y, 0, count);
        float* pa = P(a), pb = P(b), py = P(y);
        switch (op)
        {
            case BinaryOp.Add: Zip(pa, pb, py, count, new AddFunction(), accumulate: false); break;
            case BinaryOp.Sub: Zip(pa, pb, py, count, new SubFunction(), accumulate: false); break;
            case BinaryOp.Mul: Zip(pa, pb, py, count, new MulFunction(), accumulate: false); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, "unknown binary op");
        }
    }

    public void Axpby(float alpha, DeviceBuffer x, float beta, DeviceBuffer y, long count)
    {
        CheckRange(x, 0, count);
        CheckRange(y, 0, count);
        // beta = 0 must not read y: 0 * NaN would leak stale NaNs from a fresh pooled buffer.
        if (beta == 0f) Map(P(x), P(y), count, new AffineFunction(alpha, 0f));
        else Zip(P(x), P(y), P(y), count, new AxpbyFunction(alpha, beta), accumulate: false);
    }

    public void Affine(float alpha, DeviceBuffer x, float beta, DeviceBuffer y, long count)
    {
        CheckRange(x, 0, count);
        CheckRange(y, 0, count);
        Map(P(x), P(y), count, new AffineFunction(alpha, beta));
    }

    /// <summary>Calls action.Run with the struct function of <paramref name="op"/>.</summary>
    static void WithUnaryFunction<TAction>(UnaryOp op, float alpha, TAction action) where TAction : struct, IUnaryAction
    {
        switch (op)
        {
            case UnaryOp.Relu: action.Run(new ReluFunction()); break;
            case UnaryOp.Relu6: action.Run(new Relu6Function()); break;
            case UnaryOp.LeakyRelu: action.Run(new LeakyReluFunction(alpha)); break;
            case UnaryOp.Tanh: action.Run(new TanhFunction()); break;
            case UnaryOp.Sigmoid: action.Run(new SigmoidFunction()); break;
            case UnaryOp.Abs: action.Run(new AbsFunction()); break;
            case UnaryOp.Exp: action.Run(new ExpFunction()); break;
            case UnaryOp.Log: action.Run(new LogFunction()); break;
            case UnaryOp.Square: action.Run(new SquareFunction()); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, "unknown unary op");
        }
    }

    interface IUnaryAction
    {
        void Run<TFunction>(TFunction function) where TFunction : struct, IUnaryFunction;
    }

    readonly struct UnaryForward(float* x, float* y, long count) : IUnaryAction
    {
        public void Run<TFunction>(TFunction function) where TFunction : struct, IUnaryFunction
            => Map(x, y, count, function);
    }

    readonly struct UnaryBackwardPass(float* saved, float* dy, float* dx, long count, bool accumulate) : IUnaryAction
    {
        public void Run<TFunction>(TFunction function) where TFunction : struct, IUnaryFunction
            => Zip(saved, dy, dx, count, new GradientOf<TFunction>(function), accumulate);
    }

    /// <summary>y[i] = f(x[i]); y may alias x.</summary>
    static void Map<TFunction>(float* x, float* y, long count, TFunction f) where TFunction : struct, IMapFunction
        => CpuParallel.ForRange(count, 2, (start, end) => MapSpan(x, y, start, end, f));

    /// <summary>y[i] = f(a[i], b[i]), or y[i] += when accumulating; y may alias a or b.</summary>
    static void Zip<TFunction>(float* a, float* b, float* y, long count, TFunction f, bool accumulate)
        where TFunction : struct, IZipFunction
        => CpuParallel.ForRange(count, 2, (start, end) => ZipSpan(a, b, y, start, end, f, accumulate));

    /// <summary>The body of <see cref="Map"/> over [start, end), on the calling thread.</summary>
    static void MapSpan<TFunction>(float* x, float* y, long start, long end, TFunction f) where TFunction : struct, IMapFunction
    {
        long i = start;
        for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
            Vector.Store(f.Apply(Vector.Load(x + i)), y + i);
        for (; i < end; i++) y[i] = f.Apply(x[i]);
    }

    /// <summary>The body of <see cref="Zip"/> over [start, end), on the calling thread.</summary>
    static void ZipSpan<TFunction>(float* a, float* b, float* y, long start, long end, TFunction f, bool accumulate)
        where TFunction : struct, IZipFunction
    {
        long i = start;
        for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
        {
            var v = f.Apply(Vector.Load(a + i), Vector.Load(b + i));
            Vector.Store(accumulate ? Vector.Load(y + i) + v : v, y + i);
        }
        for (; i < end; i++)
        {
            float v = f.Apply(a[i], b[i]);
            y[i] = accumulate ? y[i] + v : v;
        }
    }
}
