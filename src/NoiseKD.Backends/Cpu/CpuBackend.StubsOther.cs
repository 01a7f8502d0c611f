namespace NoiseKD.Backends.Cpu;

// Temporary (Other): primitives not yet written. Each moves to its own CpuBackend.<Family>.cs file.
public sealed unsafe partial class CpuBackend
{
    static Exception TodoOther() => new NotImplementedException();
    public void Sum(DeviceBuffer x, long count, DeviceBuffer result, long resultOffset) => throw TodoOther();
    public void ChannelSum(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer result, bool accumulate) => throw TodoOther();
    public void AddChannelBias(DeviceBuffer y, DeviceBuffer bias, int n, int channels, int hw) => throw TodoOther();
    public void BatchNormStatistics(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer mean, DeviceBuffer variance) => throw TodoOther();
    public void BatchNormForward(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer mean, DeviceBuffer variance, float eps, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer y) => throw TodoOther();
    public void BatchNormBackward(DeviceBuffer x, DeviceBuffer dy, int n, int channels, int hw, DeviceBuffer mean, DeviceBuffer variance, float eps, DeviceBuffer? gamma, bool batchStatistics, DeviceBuffer dx, bool accumulateDx, DeviceBuffer? dgamma, DeviceBuffer? dbeta) => throw TodoOther();
    public void MaxPool2dForward(in PoolGeometry g, DeviceBuffer x, DeviceBuffer y) => throw TodoOther();
    public void MaxPool2dBackward(in PoolGeometry g, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx) => throw TodoOther();
    public void AvgPool2dForward(in PoolGeometry g, DeviceBuffer x, DeviceBuffer y) => throw TodoOther();
    public void AvgPool2dBackward(in PoolGeometry g, DeviceBuffer dy, DeviceBuffer dx) => throw TodoOther();
    public void AdaptiveAvgPool2dForward(int planes, int h, int w, int outH, int outW, DeviceBuffer x, DeviceBuffer y) => throw TodoOther();
    public void AdaptiveAvgPool2dBackward(int planes, int h, int w, int outH, int outW, DeviceBuffer dy, DeviceBuffer dx) => throw TodoOther();
    public void UpsampleNearestForward(int planes, int h, int w, int scaleH, int scaleW, DeviceBuffer x, DeviceBuffer y) => throw TodoOther();
    public void UpsampleNearestBackward(int planes, int h, int w, int scaleH, int scaleW, DeviceBuffer dy, DeviceBuffer dx) => throw TodoOther();
    public void Softmax(DeviceBuffer x, int rows, int cols, bool log, DeviceBuffer y) => throw TodoOther();
    public void SoftmaxBackward(DeviceBuffer y, DeviceBuffer dy, int rows, int cols, bool log, DeviceBuffer dx, bool accumulate) => throw TodoOther();
    public void SgdUpdate(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer? momentumBuffer, long count, float lr, float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep) => throw TodoOther();
    public void AdamUpdate(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, long count, float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step) => throw TodoOther();
}
