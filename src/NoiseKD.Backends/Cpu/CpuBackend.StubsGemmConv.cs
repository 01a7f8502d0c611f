namespace NoiseKD.Backends.Cpu;

// Temporary (GemmConv): primitives not yet written. Each moves to its own CpuBackend.<Family>.cs file.
public sealed unsafe partial class CpuBackend
{
    static Exception TodoGemmConv() => new NotImplementedException();
    public void Gemm(bool transposeA, bool transposeB, int m, int n, int k, float alpha, DeviceBuffer a, long aOffset, int lda, DeviceBuffer b, long bOffset, int ldb, float beta, DeviceBuffer c, long cOffset, int ldc) => throw TodoGemmConv();
    public void Conv2dForward(in ConvGeometry g, DeviceBuffer x, DeviceBuffer weight, DeviceBuffer y) => throw TodoGemmConv();
    public void Conv2dBackwardData(in ConvGeometry g, DeviceBuffer dy, DeviceBuffer weight, DeviceBuffer dx, bool accumulate) => throw TodoGemmConv();
    public void Conv2dBackwardWeight(in ConvGeometry g, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dweight, bool accumulate) => throw TodoGemmConv();
}
