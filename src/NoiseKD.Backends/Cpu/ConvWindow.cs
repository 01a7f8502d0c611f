namespace NoiseKD.Backends.Cpu;

/// <summary>Index arithmetic shared by the convolution kernels (PyTorch's zero padding).</summary>
internal static class ConvWindow
{
    /// <summary>
    /// The outputs o in [lo, hi) whose input index o*stride - pad + tap falls inside [0, inSize); the
    /// others read padding. hi &gt;= lo always.
    /// </summary>
    public static (int Lo, int Hi) ValidOutputs(int outSize, int inSize, int stride, int pad, int tap)
    {
        int shift = pad - tap; // o*stride >= shift and o*stride <= inSize - 1 + shift
        int lo = shift <= 0 ? 0 : Math.Min(outSize, (shift + stride - 1) / stride);
        int last = inSize - 1 + shift;
        int hi = last < 0 ? 0 : Math.Min(outSize, last / stride + 1);
        return (lo, Math.Max(lo, hi));
    }
}
