using NoiseKD.Autograd;
using NoiseKD.Backends;
using NoiseKD.Tensors;

namespace NoiseKD.Functional;

public static partial class F
{
    /// <summary>
    /// s * x for a one-element tensor s (torch: x * s with s a 0-d tensor), differentiable in both.
    /// The scalar stays on the device: the product is a GEMM with M = K = 1, and ds = sum(dy * x) one with M = N = 1.
    /// </summary>
    public static Tensor MulScalar(Tensor x, Tensor s)
    {
        if (s.Numel != 1) throw new ArgumentException($"mul_scalar: the scalar {Shape.Format(s.Shape)} must have one element");
        RequireSameDevice(x, s, "mul_scalar");
        var y = Like(x);
        var be = x.Backend;
        int n = checked((int)x.Numel);
        ScaleByDeviceScalar(be, s.Buffer, x.Buffer, y.Buffer, n, accumulate: false);
        return Tape.Record(y, "MulScalar", [x, s], gy =>
        {
            if (x.RequiresGrad)
            {
                var (gx, acc) = x.GradSink();
                ScaleByDeviceScalar(be, s.Buffer, gy.Buffer, gx.Buffer, n, acc);
            }
            if (s.RequiresGrad)
            {
                var (gs, acc) = s.GradSink();   // ds = dy . x, a 1 x n times n x 1 product
                be.Gemm(false, true, 1, 1, n, 1f, gy.Buffer, 0, n, x.Buffer, 0, n, acc ? 1f : 0f, gs.Buffer, 0, 1);
            }
        });
    }

    /// <summary>x / s for a one-element, nonzero tensor s (spectral normalization divides a weight by sigma).</summary>
    public static Tensor DivScalar(Tensor x, Tensor s) => MulScalar(x, Reciprocal(s));

    /// <summary>
    /// 1/s elementwise for nonzero s, composed from primitives as s * exp(-log(s^2)) (the backend has no
    /// division); its gradient, -1/s^2, follows from the composition.
    /// </summary>
    public static Tensor Reciprocal(Tensor s) => Mul(s, Exp(Neg(Log(Square(s)))));

    /// <summary>y (+)= s * x with s a one-element device buffer: a GEMM with M = K = 1.</summary>
    static void ScaleByDeviceScalar(IBackend be, DeviceBuffer s, DeviceBuffer x, DeviceBuffer y, int count, bool accumulate) =>
        be.Gemm(false, false, 1, count, 1, 1f, s, 0, 1, x, 0, count, accumulate ? 1f : 0f, y, 0, count);
}
