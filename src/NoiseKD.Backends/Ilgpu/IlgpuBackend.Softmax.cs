using NoiseKD.Kernels;
using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Ilgpu;

// Row-wise softmax and log-softmax: kernels/Softmax.cs, one group per row.
public sealed partial class IlgpuBackend
{
    /// <summary>Groups of a softmax launch, at most (rows beyond it are grid-strided).</summary>
    const int MaxRowGroups = 65535;

    public void Softmax(DeviceBuffer x, int rows, int cols, bool log, DeviceBuffer y)
    {
        CheckSoftmax(rows, cols, x, y);
        if (rows == 0) return;
        Count((long)rows * cols);
        Kernels.Softmax.Forward(Groups(Math.Min(rows, MaxRowGroups)), V(x), V(y), new SoftmaxParams(rows, cols, log, false));
    }

    public void SoftmaxBackward(DeviceBuffer y, DeviceBuffer dy, int rows, int cols, bool log, DeviceBuffer dx, bool accumulate)
    {
        CheckSoftmax(rows, cols, y, dy);
        CheckRange(dx, 0, (long)rows * cols);
        if (rows == 0) return;
        Count((long)rows * cols);
        Kernels.Softmax.Backward(Groups(Math.Min(rows, MaxRowGroups)), V(y), V(dy), V(dx), new SoftmaxParams(rows, cols, log, accumulate));
    }
}
