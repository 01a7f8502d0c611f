using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Cpu;

/// <summary>
/// Conv2d passes: depthwise layers run a direct kernel, stride-1 layers with rows of 28, 14, 7, ...
/// outputs SGEMM over shifted slices of a padded copy (<see cref="ShiftedConv"/>), all others im2col
/// + SGEMM (<see cref="GemmConv"/>).
/// </summary>
public sealed unsafe partial class CpuBackend
{
    public void Conv2dForward(in ConvGeometry g, DeviceBuffer x, DeviceBuffer weight, DeviceBuffer y)
    {
        CheckConv(g, x, weight, y);
        if (g.IsDepthwise) DepthwiseConv.Forward(this, g, P(x), P(weight), P(y));
        else if (ShiftedConv.AppliesToForward(g)) ShiftedConv.Forward(this, g, P(x), P(weight), P(y));
        else GemmConv.Forward(this, g, P(x), P(weight), P(y));
    }

    public void Conv2dBackwardData(in ConvGeometry g, DeviceBuffer dy, DeviceBuffer weight, DeviceBuffer dx, bool accumulate)
    {
        CheckConv(g, dx, weight, dy);
        if (g.IsDepthwise) DepthwiseConv.BackwardData(this, g, P(dy), P(weight), P(dx), accumulate);
        else if (ShiftedConv.AppliesToBackwardData(g)) ShiftedConv.BackwardData(this, g, P(dy), P(weight), P(dx), accumulate);
        else GemmConv.BackwardData(this, g, P(dy), P(weight), P(dx), accumulate);
    }

    public void Conv2dBackwardWeight(in ConvGeometry g, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dweight, bool accumulate)
    {
        CheckConv(g, x, dweight, dy);
        if (g.IsDepthwise) DepthwiseConv.BackwardWeight(this, g, P(x), P(dy), P(dweight), accumulate);
        else if (ShiftedConv.AppliesToBackwardWeight(g)) ShiftedConv.BackwardWeight(this, g, P(x), P(dy), P(dweight), accumulate);
        else GemmConv.BackwardWeight(this, g, P(x), P(dy), P(dweight), accumulate);
    }
}
