namespace NoiseKD.Backends;

/// <summary>
/// Shape of a 2-d convolution over an NCHW input with OIHW weights (PyTorch layout: weight is
/// [Cout, Cin/groups, KH, KW]). Output size follows PyTorch: (H + 2*pad - K) / stride + 1.
/// </summary>
public readonly record struct ConvGeometry(
    int N, int Cin, int H, int W,
    int Cout, int KH, int KW,
    int StrideH, int StrideW, int PadH, int PadW, int Groups)
{
    public int OutH => (H + 2 * PadH - KH) / StrideH + 1;
    public int OutW => (W + 2 * PadW - KW) / StrideW + 1;
    public int CinPerGroup => Cin / Groups;
    public int CoutPerGroup => Cout / Groups;
    public bool IsDepthwise => Groups == Cin && Groups == Cout;
    public long InputLength => (long)N * Cin * H * W;
    public long OutputLength => (long)N * Cout * OutH * OutW;
    public long WeightLength => (long)Cout * CinPerGroup * KH * KW;
    /// <summary>Multiply-adds x2 of the forward pass.</summary>
    public double Flops => 2.0 * N * Cout * OutH * OutW * CinPerGroup * KH * KW;

    public void Validate()
    {
        if (N <= 0 || Cin <= 0 || H <= 0 || W <= 0 || Cout <= 0 || KH <= 0 || KW <= 0)
            throw new ArgumentException($"conv2d: sizes must be positive ({this}).");
        if (StrideH <= 0 || StrideW <= 0 || PadH < 0 || PadW < 0)
            throw new ArgumentException($"conv2d: stride must be positive and padding non-negative ({this}).");
        if (Groups <= 0 || Cin % Groups != 0 || Cout % Groups != 0)
            throw new ArgumentException($"conv2d: groups={Groups} must divide Cin={Cin} and Cout={Cout}.");
        if (OutH <= 0 || OutW <= 0)
            throw new ArgumentException($"conv2d: kernel {KH}x{KW} larger than padded input {H}x{W} (pad {PadH},{PadW}).");
    }
}

/// <summary>
/// Shape of a 2-d pooling window over NCHW input (N*C planes of H x W). PyTorch's floor mode.
/// CountIncludePad follows avg_pool2d's count_include_pad (default true in PyTorch).
/// </summary>
public readonly record struct PoolGeometry(
    int Planes, int H, int W, int KH, int KW, int StrideH, int StrideW, int PadH, int PadW,
    bool CountIncludePad = true)
{
    public int OutH => (H + 2 * PadH - KH) / StrideH + 1;
    public int OutW => (W + 2 * PadW - KW) / StrideW + 1;
    public long InputLength => (long)Planes * H * W;
    public long OutputLength => (long)Planes * OutH * OutW;

    public void Validate()
    {
        if (Planes <= 0 || H <= 0 || W <= 0 || KH <= 0 || KW <= 0 || StrideH <= 0 || StrideW <= 0)
            throw new ArgumentException($"pool2d: sizes and strides must be positive ({this}).");
        if (PadH < 0 || PadW < 0 || PadH * 2 > KH || PadW * 2 > KW)
            throw new ArgumentException($"pool2d: padding must be between 0 and half the kernel ({this}).");
        if (OutH <= 0 || OutW <= 0)
            throw new ArgumentException($"pool2d: window larger than the padded input ({this}).");
    }
}
