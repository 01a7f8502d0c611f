using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Kernels;

// Row-wise softmax and log-softmax: kernels/softmax.cl, one work-group per row.
public abstract partial class KernelBackend
{
    public void Softmax(DeviceBuffer x, int rows, int cols, bool log, DeviceBuffer y)
    {
        CheckSoftmax(rows, cols, x, y);
        Run("softmax_forward", Grid.Groups(rows, 1), [Of(x), Of(y), cols, log]);
    }

    public void SoftmaxBackward(DeviceBuffer y, DeviceBuffer dy, int rows, int cols, bool log, DeviceBuffer dx, bool accumulate)
    {
        CheckSoftmax(rows, cols, y, dy);
        CheckRange(dx, 0, (long)rows * cols);
        Run("softmax_backward", Grid.Groups(rows, 1), [Of(y), Of(dy), cols, log, Of(dx), accumulate]);
    }
}
