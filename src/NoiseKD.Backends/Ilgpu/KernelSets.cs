using ILGPU;
using ILGPU.Runtime;
using NoiseKD.Kernels;
using K = ILGPU.KernelConfig;
using F = ILGPU.ArrayView<float>;
using D = ILGPU.ArrayView<double>;

namespace NoiseKD.Backends.Ilgpu;

/// <summary>
/// The launchers of one accelerator, one class per op family of kernels/, each compiled the first time its
/// family is used (ILGPU compiles and loads in LoadStreamKernel) and kept for the backend's life: no kernel
/// is ever loaded on a hot path. Every launcher runs on the accelerator's default stream.
/// </summary>
internal sealed class KernelSets(Accelerator accelerator)
{
    readonly Lazy<ElementwiseSet> _elementwise = new(() => new(accelerator));
    readonly Lazy<RandomSet> _random = new(() => new(accelerator));
    readonly Lazy<ReduceSet> _reduce = new(() => new(accelerator));
    readonly Lazy<BatchNormSet> _batchNorm = new(() => new(accelerator));
    readonly Lazy<GemmSet> _gemm = new(() => new(accelerator));
    readonly Lazy<ConvSet> _conv = new(() => new(accelerator));
    readonly Lazy<PoolSet> _pool = new(() => new(accelerator));
    readonly Lazy<SoftmaxSet> _softmax = new(() => new(accelerator));
    readonly Lazy<OptimSet> _optim = new(() => new(accelerator));

    public ElementwiseSet Elementwise => _elementwise.Value;
    public RandomSet Random => _random.Value;
    public ReduceSet Reduce => _reduce.Value;
    public BatchNormSet BatchNorm => _batchNorm.Value;
    public GemmSet Gemm => _gemm.Value;
    public ConvSet Conv => _conv.Value;
    public PoolSet Pool => _pool.Value;
    public SoftmaxSet Softmax => _softmax.Value;
    public OptimSet Optim => _optim.Value;
}

internal sealed class ElementwiseSet(Accelerator a)
{
    public readonly Action<K, F, F, UnaryParams> Unary = a.LoadStreamKernel<F, F, UnaryParams>(global::NoiseKD.Kernels.Elementwise.Unary);
    public readonly Action<K, F, F, F, UnaryParams> UnaryBackward = a.LoadStreamKernel<F, F, F, UnaryParams>(global::NoiseKD.Kernels.Elementwise.UnaryBackward);
    public readonly Action<K, F, F, F, UnaryParams> Binary = a.LoadStreamKernel<F, F, F, UnaryParams>(global::NoiseKD.Kernels.Elementwise.Binary);
    public readonly Action<K, F, F, ScaleParams> Axpby = a.LoadStreamKernel<F, F, ScaleParams>(global::NoiseKD.Kernels.Elementwise.Axpby);
    public readonly Action<K, F, F, ScaleParams> Affine = a.LoadStreamKernel<F, F, ScaleParams>(global::NoiseKD.Kernels.Elementwise.Affine);
    public readonly Action<K, F, ScaleParams> Fill = a.LoadStreamKernel<F, ScaleParams>(global::NoiseKD.Kernels.Elementwise.Fill);
    public readonly Action<K, F, F, BlockParams> CopyBlocks = a.LoadStreamKernel<F, F, BlockParams>(global::NoiseKD.Kernels.Elementwise.CopyBlocks);
}

internal sealed class RandomSet(Accelerator a)
{
    public readonly Action<K, F, RandomParams> Uniform = a.LoadStreamKernel<F, RandomParams>(global::NoiseKD.Kernels.RandomFill.FillUniform);
    public readonly Action<K, F, RandomParams> Normal = a.LoadStreamKernel<F, RandomParams>(global::NoiseKD.Kernels.RandomFill.FillNormal);
    public readonly Action<K, F, RandomParams> Bernoulli = a.LoadStreamKernel<F, RandomParams>(global::NoiseKD.Kernels.RandomFill.FillBernoulli);
}

internal sealed class ReduceSet(Accelerator a)
{
    public readonly Action<K, F, F, F, D, MomentParams> ChannelMoments = a.LoadStreamKernel<F, F, F, D, MomentParams>(global::NoiseKD.Kernels.Reduce.ChannelMoments);
    public readonly Action<K, D, F, FinishParams> FinishSums = a.LoadStreamKernel<D, F, FinishParams>(global::NoiseKD.Kernels.Reduce.FinishSums);
    public readonly Action<K, F, F, MomentParams> AddChannelBias = a.LoadStreamKernel<F, F, MomentParams>(global::NoiseKD.Kernels.Reduce.AddChannelBias);
}

internal sealed class BatchNormSet(Accelerator a)
{
    public readonly Action<K, F, D, F, F, BatchNormParams> Statistics = a.LoadStreamKernel<F, D, F, F, BatchNormParams>(global::NoiseKD.Kernels.BatchNorm.Statistics);
    public readonly Action<K, F, F, F, BatchNormParams> Scale = a.LoadStreamKernel<F, F, F, BatchNormParams>(global::NoiseKD.Kernels.BatchNorm.Scale);
    public readonly Action<K, F, F, F, F, F, F, BatchNormParams> Forward = a.LoadStreamKernel<F, F, F, F, F, F, BatchNormParams>(global::NoiseKD.Kernels.BatchNorm.Forward);
    public readonly Action<K, D, F, F, F, F, F, BatchNormParams> BackwardCoefficients =
        a.LoadStreamKernel<D, F, F, F, F, F, BatchNormParams>(global::NoiseKD.Kernels.BatchNorm.BackwardCoefficients);
    public readonly Action<K, F, F, F, F, F, BatchNormParams> BackwardData = a.LoadStreamKernel<F, F, F, F, F, BatchNormParams>(global::NoiseKD.Kernels.BatchNorm.BackwardData);
}

internal sealed class GemmSet(Accelerator a)
{
    public readonly Action<K, F, F, F, GemmParams> Tiled = a.LoadStreamKernel<F, F, F, GemmParams>(global::NoiseKD.Kernels.Gemm.Tiled);
    public readonly Action<K, F, F, SplitSumParams> SumSplits = a.LoadStreamKernel<F, F, SplitSumParams>(global::NoiseKD.Kernels.Gemm.SumSplits);
}

internal sealed class ConvSet(Accelerator a)
{
    public readonly Action<K, F, F, ConvParams> Im2Col = a.LoadStreamKernel<F, F, ConvParams>(global::NoiseKD.Kernels.Conv.Im2Col);
    public readonly Action<K, F, F, ConvParams> Col2Im = a.LoadStreamKernel<F, F, ConvParams>(global::NoiseKD.Kernels.Conv.Col2Im);
    public readonly Action<K, F, F, ConvParams> ChannelMajor = a.LoadStreamKernel<F, F, ConvParams>(global::NoiseKD.Kernels.Conv.ChannelMajor);
    public readonly Action<K, F, F, F, ConvParams> DepthwiseForward = a.LoadStreamKernel<F, F, F, ConvParams>(global::NoiseKD.Kernels.Conv.DepthwiseForward);
    public readonly Action<K, F, F, F, ConvParams> DepthwiseBackwardData = a.LoadStreamKernel<F, F, F, ConvParams>(global::NoiseKD.Kernels.Conv.DepthwiseBackwardData);
    public readonly Action<K, F, F, F, ConvParams> DepthwiseBackwardWeight = a.LoadStreamKernel<F, F, F, ConvParams>(global::NoiseKD.Kernels.Conv.DepthwiseBackwardWeight);
}

internal sealed class PoolSet(Accelerator a)
{
    public readonly Action<K, F, F, PoolParams> MaxForward = a.LoadStreamKernel<F, F, PoolParams>(global::NoiseKD.Kernels.Pool.MaxForward);
    public readonly Action<K, F, F, F, PoolParams> MaxBackward = a.LoadStreamKernel<F, F, F, PoolParams>(global::NoiseKD.Kernels.Pool.MaxBackward);
    public readonly Action<K, F, F, PoolParams> AverageForward = a.LoadStreamKernel<F, F, PoolParams>(global::NoiseKD.Kernels.Pool.AverageForward);
    public readonly Action<K, F, F, PoolParams> AverageBackward = a.LoadStreamKernel<F, F, PoolParams>(global::NoiseKD.Kernels.Pool.AverageBackward);
    public readonly Action<K, F, F, PoolParams> UpsampleForward = a.LoadStreamKernel<F, F, PoolParams>(global::NoiseKD.Kernels.Pool.UpsampleForward);
    public readonly Action<K, F, F, PoolParams> UpsampleBackward = a.LoadStreamKernel<F, F, PoolParams>(global::NoiseKD.Kernels.Pool.UpsampleBackward);
}

internal sealed class SoftmaxSet(Accelerator a)
{
    public readonly Action<K, F, F, SoftmaxParams> Forward = a.LoadStreamKernel<F, F, SoftmaxParams>(global::NoiseKD.Kernels.Softmax.Forward);
    public readonly Action<K, F, F, F, SoftmaxParams> Backward = a.LoadStreamKernel<F, F, F, SoftmaxParams>(global::NoiseKD.Kernels.Softmax.Backward);
}

internal sealed class OptimSet(Accelerator a)
{
    public readonly Action<K, F, F, F, SgdParams> Sgd = a.LoadStreamKernel<F, F, F, SgdParams>(global::NoiseKD.Kernels.Optim.Sgd);
    public readonly Action<K, F, F, F, F, AdamParams> Adam = a.LoadStreamKernel<F, F, F, F, AdamParams>(global::NoiseKD.Kernels.Optim.Adam);
}
