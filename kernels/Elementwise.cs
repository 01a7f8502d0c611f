using ILGPU;

namespace NoiseKD.Kernels;

/// <summary>Op codes: the order of UnaryOp and BinaryOp in src/NoiseKD.Backends/IBackend.cs (a test checks it).</summary>
public static class OpCodes
{
    public const int Relu = 0, Relu6 = 1, LeakyRelu = 2, Tanh = 3, Sigmoid = 4, Abs = 5, Exp = 6, Log = 7, Square = 8;
    public const int Add = 0, Sub = 1, Mul = 2;
    /// <summary>No activation after a fused BatchNorm.</summary>
    public const int Identity = -1;
}

/// <summary>Count elements under op code Op (LeakyRelu slope Alpha); Accumulate adds to the output.</summary>
public readonly struct UnaryParams(int op, float alpha, int count, bool accumulate)
{
    public readonly int Op = op, Count = count, Accumulate = accumulate ? 1 : 0;
    public readonly float Alpha = alpha;
}

/// <summary>y = Alpha*x + Beta (Affine) or Alpha*x + Beta*y (Axpby; Beta = 0 never reads y).</summary>
public readonly struct ScaleParams(float alpha, float beta, int count)
{
    public readonly float Alpha = alpha, Beta = beta;
    public readonly int Count = count;
}

/// <summary>Rows blocks of Length elements; block r at r*SourceStride and r*DestinationStride of the views.</summary>
public readonly struct BlockParams(int rows, int length, int sourceStride, int destinationStride)
{
    public readonly int Rows = rows, Length = length, SourceStride = sourceStride, DestinationStride = destinationStride;
}

/// <summary>
/// Elementwise primitives (IBackend: Unary, UnaryBackward, Binary, Axpby, Affine, Fill, CopyBlocks,
/// AddChannelBias). CPU reference: src/NoiseKD.Backends/Cpu/ElementwiseFunctions.cs.
/// </summary>
public static class Elementwise
{
    public static float UnaryValue(int op, float alpha, float x) => op switch
    {
        OpCodes.Relu => x < 0f ? 0f : x, // keeps NaN, as torch.relu
        OpCodes.Relu6 => x < 0f ? 0f : (x > 6f ? 6f : x),
        OpCodes.LeakyRelu => x > 0f ? x : alpha * x,
        OpCodes.Tanh => MathF.Tanh(x),
        OpCodes.Sigmoid => 1f / (1f + MathF.Exp(-x)),
        OpCodes.Abs => MathF.Abs(x),
        OpCodes.Exp => MathF.Exp(x),
        OpCodes.Log => MathF.Log(x),
        _ => x * x,
    };

    /// <summary>
    /// dy * op'(.) where s is x (Relu, Relu6, LeakyRelu, Abs, Log, Square) or y (Tanh, Sigmoid, Exp).
    /// Masks select dy rather than multiply it, so an infinite dy in a dead unit gives 0, not NaN.
    /// </summary>
    public static float UnaryGradient(int op, float alpha, float s, float dy) => op switch
    {
        OpCodes.Relu => s <= 0f ? 0f : dy,
        OpCodes.Relu6 => s <= 0f || s >= 6f ? 0f : dy,
        OpCodes.LeakyRelu => s > 0f ? dy : alpha * dy,
        OpCodes.Tanh => dy * (1f - s * s),
        OpCodes.Sigmoid => dy * (1f - s) * s,
        OpCodes.Abs => s > 0f ? dy : (s < 0f ? -dy : 0f),
        OpCodes.Exp => dy * s,
        OpCodes.Log => dy / s,
        _ => dy * 2f * s,
    };

    public static void Unary(ArrayView<float> x, ArrayView<float> y, UnaryParams p)
    {
        for (int i = Loops.First; i < p.Count; i += Loops.Stride) y[i] = UnaryValue(p.Op, p.Alpha, x[i]);
    }

    public static void UnaryBackward(ArrayView<float> saved, ArrayView<float> dy, ArrayView<float> dx, UnaryParams p)
    {
        for (int i = Loops.First; i < p.Count; i += Loops.Stride)
        {
            float g = UnaryGradient(p.Op, p.Alpha, saved[i], dy[i]);
            dx[i] = p.Accumulate != 0 ? dx[i] + g : g;
        }
    }

    public static void Binary(ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, UnaryParams p)
    {
        for (int i = Loops.First; i < p.Count; i += Loops.Stride)
        {
            float u = a[i], v = b[i];
            y[i] = p.Op == OpCodes.Add ? u + v : (p.Op == OpCodes.Sub ? u - v : u * v);
        }
    }

    /// <summary>y = alpha*x + beta*y; beta = 0 never reads y (a fresh pooled buffer may hold NaNs).</summary>
    public static void Axpby(ArrayView<float> x, ArrayView<float> y, ScaleParams p)
    {
        for (int i = Loops.First; i < p.Count; i += Loops.Stride)
            y[i] = p.Beta == 0f ? p.Alpha * x[i] + 0f : p.Alpha * x[i] + p.Beta * y[i];
    }

    public static void Affine(ArrayView<float> x, ArrayView<float> y, ScaleParams p)
    {
        for (int i = Loops.First; i < p.Count; i += Loops.Stride) y[i] = p.Alpha * x[i] + p.Beta;
    }

    /// <summary>y[i] = Alpha for i in [0, Count).</summary>
    public static void Fill(ArrayView<float> y, ScaleParams p)
    {
        for (int i = Loops.First; i < p.Count; i += Loops.Stride) y[i] = p.Alpha;
    }

    public static void CopyBlocks(ArrayView<float> source, ArrayView<float> destination, BlockParams p)
    {
        long total = (long)p.Rows * p.Length;
        for (long e = Loops.First; e < total; e += Loops.Stride)
        {
            long r = e / p.Length, j = e - r * p.Length;
            destination[r * p.DestinationStride + j] = source[r * p.SourceStride + j];
        }
    }
}
