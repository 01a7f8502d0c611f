namespace NoiseKD.Backends;

public enum UnaryOp
{
    /// <summary>max(x, 0)</summary>
    Relu,
    /// <summary>min(max(x, 0), 6)</summary>
    Relu6,
    /// <summary>x if x &gt; 0 else alpha*x</summary>
    LeakyRelu,
    Tanh,
    Sigmoid,
    /// <summary>|x|; derivative sign(x), 0 at 0 (PyTorch's convention).</summary>
    Abs,
    /// <summary>exp(x)</summary>
    Exp,
    /// <summary>log(x)</summary>
    Log,
    /// <summary>x*x</summary>
    Square,
}

public enum BinaryOp { Add, Sub, Mul }

/// <summary>
/// The narrow set of primitive operations every device implements. Autograd, modules and losses are
/// written only against this interface, so a new device (OpenCL, CUDA) is one new implementation of it.
/// All tensors are dense, contiguous, row-major float32; offsets and lengths count elements.
/// Outputs never alias inputs unless a method says so. Randomness is counter-based
/// (<see cref="CounterRng"/>), so every backend draws the same numbers for the same seed.
/// </summary>
public interface IBackend : IDisposable
{
    string Name { get; }

    // ---- memory ------------------------------------------------------------------------------
    /// <summary>A buffer of at least <paramref name="length"/> floats from the pool; contents unspecified.</summary>
    DeviceBuffer Allocate(long length);
    /// <summary>Returns a buffer to the pool (called by <see cref="DeviceBuffer.Dispose"/>).</summary>
    void Release(DeviceBuffer buffer);
    void Upload(ReadOnlySpan<float> source, DeviceBuffer destination, long destinationOffset);
    void Download(DeviceBuffer source, long sourceOffset, Span<float> destination);
    void Fill(DeviceBuffer destination, long offset, long count, float value);
    /// <summary>
    /// Copies <paramref name="rows"/> blocks of <paramref name="rowLength"/> elements; block r starts at
    /// srcOffset + r*srcStride and dstOffset + r*dstStride. Plain copy, concat and split are all this.
    /// </summary>
    void CopyBlocks(DeviceBuffer source, long sourceOffset, long sourceStride,
                    DeviceBuffer destination, long destinationOffset, long destinationStride,
                    long rows, long rowLength);

    // ---- randomness (counter-based; element i uses counter offset+i) -------------------------
    void FillUniform(DeviceBuffer destination, long count, ulong seed, ulong offset, float low, float high);
    void FillNormal(DeviceBuffer destination, long count, ulong seed, ulong offset, float mean, float std);
    /// <summary>Element i becomes <paramref name="scale"/> with probability keepProbability, else 0 (dropout masks).</summary>
    void FillBernoulli(DeviceBuffer destination, long count, ulong seed, ulong offset, float keepProbability, float scale);

    // ---- elementwise -------------------------------------------------------------------------
    /// <summary>y = op(x). alpha is the LeakyRelu slope (ignored otherwise). y may alias x.</summary>
    void Unary(UnaryOp op, float alpha, DeviceBuffer x, DeviceBuffer y, long count);
    /// <summary>
    /// dx = dy * op'(.), where the saved tensor is the input x for Relu/Relu6/LeakyRelu/Abs/Log/Square
    /// and the output y for Tanh/Sigmoid/Exp. If <paramref name="accumulate"/>, dx += instead of dx =.
    /// </summary>
    void UnaryBackward(UnaryOp op, float alpha, DeviceBuffer saved, DeviceBuffer dy, DeviceBuffer dx, long count, bool accumulate);
    /// <summary>y = a op b, elementwise; y may alias a or b.</summary>
    void Binary(BinaryOp op, DeviceBuffer a, DeviceBuffer b, DeviceBuffer y, long count);
    /// <summary>y = alpha*x + beta*y (beta = 0 overwrites y without reading it).</summary>
    void Axpby(float alpha, DeviceBuffer x, float beta, DeviceBuffer y, long count);
    /// <summary>y = alpha*x + beta, elementwise (y may alias x).</summary>
    void Affine(float alpha, DeviceBuffer x, float beta, DeviceBuffer y, long count);

    // ---- reductions and broadcasts over NCHW (HW = 1 for [N, C] matrices) ---------------------
    /// <summary>result[resultOffset] = sum of the first count elements of x (accumulated in double on the CPU).</summary>
    void Sum(DeviceBuffer x, long count, DeviceBuffer result, long resultOffset);
    /// <summary>result[c] = sum over n and hw of x[n, c, hw] (bias gradients). If accumulate, result[c] += .</summary>
    void ChannelSum(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer result, bool accumulate);
    /// <summary>y[n, c, hw] += bias[c].</summary>
    void AddChannelBias(DeviceBuffer y, DeviceBuffer bias, int n, int channels, int hw);

    // ---- dense linear algebra ----------------------------------------------------------------
    /// <summary>
    /// Row-major SGEMM: C = alpha * op(A) * op(B) + beta * C, op(A) is M x K, op(B) is K x N.
    /// beta = 0 overwrites C without reading it.
    /// </summary>
    void Gemm(bool transposeA, bool transposeB, int m, int n, int k,
              float alpha, DeviceBuffer a, long aOffset, int lda,
              DeviceBuffer b, long bOffset, int ldb,
              float beta, DeviceBuffer c, long cOffset, int ldc);

    // ---- convolution (no bias; see AddChannelBias / ChannelSum) -------------------------------
    void Conv2dForward(in ConvGeometry g, DeviceBuffer x, DeviceBuffer weight, DeviceBuffer y);
    /// <summary>dx = conv_transpose(dy, weight). If accumulate, dx += .</summary>
    void Conv2dBackwardData(in ConvGeometry g, DeviceBuffer dy, DeviceBuffer weight, DeviceBuffer dx, bool accumulate);
    /// <summary>dweight = correlation of x with dy. If accumulate, dweight += .</summary>
    void Conv2dBackwardWeight(in ConvGeometry g, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dweight, bool accumulate);

    // ---- batch normalization over [N, C, HW] --------------------------------------------------
    /// <summary>Per-channel batch mean and biased variance (the statistics BN normalizes with).</summary>
    void BatchNormStatistics(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer mean, DeviceBuffer variance);
    /// <summary>y = (x - mean) / sqrt(var + eps) * gamma + beta; gamma/beta null means 1/0 (affine=false).</summary>
    void BatchNormForward(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer mean, DeviceBuffer variance,
                          float eps, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer y);
    /// <summary>
    /// y = act(BatchNormForward(x) + residual), cuDNN's BN_ADD_ACTIVATION: one output where the separate
    /// primitives would leave three. <paramref name="residual"/> null adds nothing; <paramref name="activation"/>
    /// is null (identity), Relu or Relu6, the activations whose gradient mask the output alone gives
    /// (relu(z) &gt; 0 iff z &gt; 0, 0 &lt; relu6(z) &lt; 6 iff 0 &lt; z &lt; 6), so a backward pass never needs
    /// BN's own output. y may alias neither x nor residual. The default composes BatchNormForward with
    /// in-place Binary and Unary passes over y (both documented to allow aliasing), so a device works
    /// without a kernel of its own; a backend that overrides it saves the extra passes.
    /// </summary>
    void BatchNormAddActivationForward(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer mean, DeviceBuffer variance,
                                       float eps, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer? residual,
                                       UnaryOp? activation, DeviceBuffer y)
    {
        BackendChecks.CheckBatchNormAddActivationForward(x, n, channels, hw, residual, activation, y);
        BatchNormForward(x, n, channels, hw, mean, variance, eps, gamma, beta, y);
        long count = (long)n * channels * hw;
        if (residual != null) Binary(BinaryOp.Add, y, residual, y, count);
        if (activation is UnaryOp op) Unary(op, 0f, y, y, count);
    }

    /// <summary>
    /// Gradients of BatchNormForward. With <paramref name="batchStatistics"/> the mean and variance are
    /// functions of x (Current statistics) and dx carries their terms; otherwise they are constants
    /// (Running statistics) and dx = dy*gamma/sqrt(var+eps). dgamma/dbeta are accumulated (+=) when non-null;
    /// dx is accumulated when accumulateDx, else overwritten.
    /// </summary>
    void BatchNormBackward(DeviceBuffer x, DeviceBuffer dy, int n, int channels, int hw,
                           DeviceBuffer mean, DeviceBuffer variance, float eps, DeviceBuffer? gamma,
                           bool batchStatistics, DeviceBuffer dx, bool accumulateDx,
                           DeviceBuffer? dgamma, DeviceBuffer? dbeta);

    // ---- pooling and resampling ---------------------------------------------------------------
    void MaxPool2dForward(in PoolGeometry g, DeviceBuffer x, DeviceBuffer y);
    /// <summary>dx += dy routed to the first maximum of each window (PyTorch's tie rule), recomputed from x.</summary>
    void MaxPool2dBackward(in PoolGeometry g, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx);
    void AvgPool2dForward(in PoolGeometry g, DeviceBuffer x, DeviceBuffer y);
    /// <summary>dx += the average pool's adjoint applied to dy.</summary>
    void AvgPool2dBackward(in PoolGeometry g, DeviceBuffer dy, DeviceBuffer dx);
    /// <summary>PyTorch's adaptive windows: start = floor(i*H/OH), end = ceil((i+1)*H/OH).</summary>
    void AdaptiveAvgPool2dForward(int planes, int h, int w, int outH, int outW, DeviceBuffer x, DeviceBuffer y);
    /// <summary>dx += adjoint of the adaptive average pool applied to dy.</summary>
    void AdaptiveAvgPool2dBackward(int planes, int h, int w, int outH, int outW, DeviceBuffer dy, DeviceBuffer dx);
    /// <summary>Nearest upsampling by integer factors: y[p, i, j] = x[p, i/sh, j/sw].</summary>
    void UpsampleNearestForward(int planes, int h, int w, int scaleH, int scaleW, DeviceBuffer x, DeviceBuffer y);
    /// <summary>dx += sum of dy over each source pixel's block.</summary>
    void UpsampleNearestBackward(int planes, int h, int w, int scaleH, int scaleW, DeviceBuffer dy, DeviceBuffer dx);

    // ---- softmax over the last axis of a [rows, cols] matrix ----------------------------------
    /// <summary>y = softmax(x) or log_softmax(x) row-wise, max-subtracted for stability.</summary>
    void Softmax(DeviceBuffer x, int rows, int cols, bool log, DeviceBuffer y);
    /// <summary>dx (+)= gradient of (log_)softmax given its output y and dy.</summary>
    void SoftmaxBackward(DeviceBuffer y, DeviceBuffer dy, int rows, int cols, bool log, DeviceBuffer dx, bool accumulate);

    // ---- optimizer updates (PyTorch's update rules) -------------------------------------------
    /// <summary>
    /// torch.optim.SGD for one parameter: g += wd*p; buf = momentum*buf + (1-dampening)*g (buf = g on
    /// the first step); g = nesterov ? g + momentum*buf : buf; p -= lr*g. momentumBuffer may be null when momentum = 0.
    /// </summary>
    void SgdUpdate(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer? momentumBuffer, long count,
                   float lr, float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep);
    /// <summary>
    /// torch.optim.Adam (decoupled=false: g += wd*p) and AdamW (decoupled=true: p *= 1 - lr*wd).
    /// step counts from 1; bias corrections 1 - beta^step.
    /// </summary>
    void AdamUpdate(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, long count,
                    float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step);

    /// <summary>Blocks until all queued work is done (no-op on the CPU).</summary>
    void Synchronize();
}
