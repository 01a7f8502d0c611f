namespace NoiseKD.Backends.Cpu;

/// <summary>
/// Moves channels [c0, c0 + channels) of images [n0, n0 + images) between NCHW and the
/// channel-major matrix [channels, images*plane] that a GEMM over several images reads or writes.
/// </summary>
internal static unsafe class ChannelMajor
{
    public static void Gather(float* nchw, float* matrix, int n0, int images, int totalChannels, int c0, int channels, int plane)
        => Copy(nchw, matrix, n0, images, totalChannels, c0, channels, plane, toMatrix: true);

    public static void Scatter(float* matrix, float* nchw, int n0, int images, int totalChannels, int c0, int channels, int plane)
        => Copy(nchw, matrix, n0, images, totalChannels, c0, channels, plane, toMatrix: false);

    static void Copy(float* nchw, float* matrix, int n0, int images, int totalChannels, int c0, int channels, int plane, bool toMatrix)
    {
        long bytes = (long)plane * sizeof(float), ld = (long)images * plane;
        for (int img = 0; img < images; img++)
            for (int c = 0; c < channels; c++)
            {
                float* image = nchw + ((long)(n0 + img) * totalChannels + c0 + c) * plane;
                float* row = matrix + c * ld + (long)img * plane;
                if (toMatrix) Buffer.MemoryCopy(image, row, bytes, bytes);
                else Buffer.MemoryCopy(row, image, bytes, bytes);
            }
    }
}
