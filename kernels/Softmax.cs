using ILGPU;

namespace NoiseKD.Kernels;

/// <summary>Rows x Cols matrix; Log selects log-softmax; Accumulate adds to dx.</summary>
public readonly struct SoftmaxParams(int rows, int cols, bool log, bool accumulate)
{
    public readonly int Rows = rows, Cols = cols, Log = log ? 1 : 0, Accumulate = accumulate ? 1 : 0;
}

/// <summary>
/// Row-wise softmax and log-softmax (IBackend: Softmax, SoftmaxBackward; the KD loss is built on them):
/// one group per row (grid-strided over rows), fixed-tree group reductions. The row maximum is subtracted
/// before exp so it cannot overflow; sums are double, as the CPU's are. CPU reference: Cpu/CpuBackend.Softmax.cs.
/// </summary>
public static class Softmax
{
    public static void Forward(ArrayView<float> x, ArrayView<float> y, SoftmaxParams p)
    {
        var maxima = SharedMemory.Allocate<float>(Loops.MaxGroup);
        var scratch = SharedMemory.Allocate<double>(Loops.MaxGroup);
        for (int r = Grid.IdxX; r < p.Rows; r += Grid.DimX)
        {
            long row = (long)r * p.Cols;
            float max = float.NegativeInfinity;
            for (int j = Group.IdxX; j < p.Cols; j += Group.DimX)
            {
                float v = x[row + j];
                if (v > max || float.IsNaN(v)) max = v;
            }
            max = Loops.GroupMax(maxima, max);
            double sum = 0;
            for (int j = Group.IdxX; j < p.Cols; j += Group.DimX) sum += MathF.Exp(x[row + j] - max);
            sum = Loops.GroupSum(scratch, sum);
            if (p.Log != 0)
            {
                // The float log of the double sum: ILGPU's double log goes through thread-local memory on PTX.
                float logSum = MathF.Log((float)sum);
                for (int j = Group.IdxX; j < p.Cols; j += Group.DimX) y[row + j] = x[row + j] - max - logSum;
            }
            else
            {
                float inverse = (float)(1.0 / sum);
                for (int j = Group.IdxX; j < p.Cols; j += Group.DimX) y[row + j] = MathF.Exp(x[row + j] - max) * inverse;
            }
        }
    }

    /// <summary>softmax: dx = y * (dy - sum(dy*y)); log_softmax: dx = dy - exp(y) * sum(dy).</summary>
    public static void Backward(ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, SoftmaxParams p)
    {
        var scratch = SharedMemory.Allocate<double>(Loops.MaxGroup);
        for (int r = Grid.IdxX; r < p.Rows; r += Grid.DimX)
        {
            long row = (long)r * p.Cols;
            double total = 0;
            for (int j = Group.IdxX; j < p.Cols; j += Group.DimX)
                total += p.Log != 0 ? (double)dy[row + j] : (double)dy[row + j] * y[row + j];
            float sum = (float)Loops.GroupSum(scratch, total);
            for (int j = Group.IdxX; j < p.Cols; j += Group.DimX)
            {
                float v = y[row + j], d = dy[row + j];
                float g = p.Log != 0 ? d - MathF.Exp(v) * sum : v * (d - sum);
                dx[row + j] = p.Accumulate != 0 ? dx[row + j] + g : g;
            }
        }
    }
}
