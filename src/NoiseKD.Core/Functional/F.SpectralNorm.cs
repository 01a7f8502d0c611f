using NoiseKD.Autograd;
using NoiseKD.Backends;
using NoiseKD.Tensors;

namespace NoiseKD.Functional;

public static partial class F
{
    /// <summary>
    /// torch.nn.utils.spectral_norm's weight (Miyato et al. 2018, Alg. 1): W viewed as a matrix [out, rest],
    /// <paramref name="powerIterations"/> steps of v = normalize(W^T u), u = normalize(W v) update the
    /// persistent buffers u [out] and v [rest] in place without gradient (0 in eval mode, as torch), then
    /// sigma = u^T W v and the result is W / sigma. The gradient flows through sigma with u and v held
    /// constant: dW = dY / sigma - (sum(dY * W) / sigma^2) u v^T, exactly torch's.
    /// </summary>
    public static Tensor SpectralNormWeight(Tensor weight, Tensor u, Tensor v, int powerIterations, float eps = 1e-12f)
    {
        if (weight.Rank < 2) throw new ArgumentException($"spectral_norm: weight {Shape.Format(weight.Shape)} needs at least 2 axes");
        int rows = weight.Shape[0], cols = checked((int)(weight.Numel / rows));
        if (u.Numel != rows || v.Numel != cols)
            throw new ArgumentException($"spectral_norm: u {Shape.Format(u.Shape)} and v {Shape.Format(v.Shape)} must hold {rows} and {cols} values for weight {Shape.Format(weight.Shape)}");
        if (powerIterations < 0) throw new ArgumentException($"spectral_norm: {powerIterations} power iterations");
        RequireSameDevice(weight, u, "spectral_norm");
        RequireSameDevice(weight, v, "spectral_norm");
        for (int i = 0; i < powerIterations; i++) PowerIterationStep(weight, u, v, rows, cols, eps);

        // The graph keeps copies (torch clones them too): a later forward's power iteration must not
        // change the u and v this forward's backward pass differentiates with.
        var uRow = CopyOf(u, [1, rows]);
        var vRow = CopyOf(v, [1, cols]);
        var wv = Linear(vRow, Reshape(weight, rows, cols));  // (W v)^T, [1, out]
        var sigma = Reshape(Linear(wv, uRow), []);           // u^T W v
        return DivScalar(weight, sigma);
    }

    /// <summary>A constant copy of x's values with another shape.</summary>
    static Tensor CopyOf(Tensor x, int[] shape)
    {
        var y = Like(x, shape);
        x.Backend.CopyBlocks(x.Buffer, 0, x.Numel, y.Buffer, 0, x.Numel, 1, x.Numel);
        return y;
    }

    /// <summary>One power-iteration step on the buffers, outside autograd (torch runs it under no_grad).</summary>
    static void PowerIterationStep(Tensor weight, Tensor u, Tensor v, int rows, int cols, float eps)
    {
        var be = weight.Backend;
        be.Gemm(false, false, 1, cols, rows, 1f, u.Buffer, 0, rows, weight.Buffer, 0, cols, 0f, v.Buffer, 0, cols); // v = W^T u
        NormalizeInPlace(be, v.Buffer, cols, eps);
        be.Gemm(false, true, 1, rows, cols, 1f, v.Buffer, 0, cols, weight.Buffer, 0, cols, 0f, u.Buffer, 0, rows);  // u = W v
        NormalizeInPlace(be, u.Buffer, rows, eps);
    }

    /// <summary>
    /// x /= ||x|| on the device: 1/||x|| = exp(-log(sum x^2 + eps^2) / 2), which equals torch's
    /// x / max(||x||, eps) except for vectors shorter than eps.
    /// </summary>
    static void NormalizeInPlace(IBackend be, DeviceBuffer x, int count, float eps)
    {
        using var scratch = be.Allocate(count);
        using var inverseNorm = be.Allocate(1);
        be.Unary(UnaryOp.Square, 0f, x, scratch, count);
        be.Sum(scratch, count, inverseNorm, 0);
        be.Affine(1f, inverseNorm, eps * eps, inverseNorm, 1);
        be.Unary(UnaryOp.Log, 0f, inverseNorm, inverseNorm, 1);
        be.Affine(-0.5f, inverseNorm, 0f, inverseNorm, 1);
        be.Unary(UnaryOp.Exp, 0f, inverseNorm, inverseNorm, 1);
        ScaleByDeviceScalar(be, inverseNorm, x, scratch, count, accumulate: false);
        be.CopyBlocks(scratch, 0, count, x, 0, count, 1, count);
    }
}
