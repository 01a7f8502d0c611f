using System.Numerics;
using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Cpu;

// Row-wise softmax and log-softmax of a [rows, cols] matrix; rows are the parallel axis.
public sealed unsafe partial class CpuBackend
{
    public void Softmax(DeviceBuffer x, int rows, int cols, bool log, DeviceBuffer y)
    {
        CheckSoftmax(rows, cols, x, y);
        float* px = P(x), py = P(y);
        CpuParallel.For(rows, 8.0 * cols, r =>
        {
            float* xr = px + (long)r * cols, yr = py + (long)r * cols;
            // Subtracting the row maximum keeps exp from overflowing; it cancels in the ratio.
            float max = float.NegativeInfinity;
            for (int j = 0; j < cols; j++) max = MathF.Max(max, xr[j]);
            double sum = 0;
            for (int j = 0; j < cols; j++)
            {
                float e = MathF.Exp(xr[j] - max);
                if (!log) yr[j] = e;
                sum += e;
            }
            if (log)
            {
                float logSum = (float)Math.Log(sum);
                for (int j = 0; j < cols; j++) yr[j] = xr[j] - max - logSum;
            }
            else
            {
                float inverse = (float)(1.0 / sum);
                for (int j = 0; j < cols; j++) yr[j] *= inverse;
            }
        });
    }

    public void SoftmaxBackward(DeviceBuffer y, DeviceBuffer dy, int rows, int cols, bool log, DeviceBuffer dx, bool accumulate)
    {
        CheckSoftmax(rows, cols, y, dy);
        CheckRange(dx, 0, (long)rows * cols);
        float* py = P(y), pdy = P(dy), pdx = P(dx);
        CpuParallel.For(rows, 6.0 * cols, r =>
        {
            long offset = (long)r * cols;
            float* yr = py + offset, dyr = pdy + offset, dxr = pdx + offset;
            // softmax: dx = y * (dy - sum(dy*y)); log_softmax: dx = dy - exp(y) * sum(dy).
            if (log)
                ZipSpan(yr, dyr, dxr, 0, cols, new LogSoftmaxGradient((float)DoubleSums.Sum(dyr, dyr, cols, new Plain())), accumulate);
            else
                ZipSpan(yr, dyr, dxr, 0, cols, new SoftmaxGradient((float)DoubleSums.Sum(yr, dyr, cols, new Product())), accumulate);
        });
    }

    /// <summary>dx = y * (dy - dot), dot = sum(dy * y).</summary>
    readonly struct SoftmaxGradient(float dot) : IZipFunction
    {
        public float Apply(float y, float dy) => y * (dy - dot);
        public Vector<float> Apply(Vector<float> y, Vector<float> dy)
            => y * (dy - new Vector<float>(dot));
    }

    /// <summary>dx = dy - exp(y) * sumDy (y is the log-probability).</summary>
    readonly struct LogSoftmaxGradient(float sumDy) : IZipFunction
    {
        public float Apply(float y, float dy) => dy - MathF.Exp(y) * sumDy;
        public Vector<float> Apply(Vector<float> y, Vector<float> dy)
            => dy - Lanes.Each(y, MathF.Exp) * sumDy;
    }
}
