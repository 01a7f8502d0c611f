namespace NoiseKD.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void Conv2dForward(in ConvGeometry g, DeviceBuffer x, DeviceBuffer weight, DeviceBuffer y) => throw new NotImplementedException();
    public void Conv2dBackwardData(in ConvGeometry g, DeviceBuffer dy, DeviceBuffer weight, DeviceBuffer dx, bool accumulate) => throw new NotImplementedException();
    public void Conv2dBackwardWeight(in ConvGeometry g, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dweight, bool accumulate) => throw new NotImplementedException();
}
