using NoiseKD.Backends;
using NoiseKD.Kernels;
using Xunit;

namespace NoiseKD.Tests.Ilgpu;

/// <summary>The kernels take op codes as ints: they must be the values of IBackend's enums.</summary>
public class IlgpuOpCodesTests
{
    [Fact]
    public void OpCodesAreTheEnumValues()
    {
        Assert.Equal((int)UnaryOp.Relu, OpCodes.Relu);
        Assert.Equal((int)UnaryOp.Relu6, OpCodes.Relu6);
        Assert.Equal((int)UnaryOp.LeakyRelu, OpCodes.LeakyRelu);
        Assert.Equal((int)UnaryOp.Tanh, OpCodes.Tanh);
        Assert.Equal((int)UnaryOp.Sigmoid, OpCodes.Sigmoid);
        Assert.Equal((int)UnaryOp.Abs, OpCodes.Abs);
        Assert.Equal((int)UnaryOp.Exp, OpCodes.Exp);
        Assert.Equal((int)UnaryOp.Log, OpCodes.Log);
        Assert.Equal((int)UnaryOp.Square, OpCodes.Square);
        Assert.Equal(9, Enum.GetValues<UnaryOp>().Length);
        Assert.Equal((int)BinaryOp.Add, OpCodes.Add);
        Assert.Equal((int)BinaryOp.Sub, OpCodes.Sub);
        Assert.Equal((int)BinaryOp.Mul, OpCodes.Mul);
        Assert.Equal(3, Enum.GetValues<BinaryOp>().Length);
        Assert.DoesNotContain(OpCodes.Identity, Enum.GetValues<UnaryOp>().Select(o => (int)o));
    }
}
