namespace NoiseKD.Data;

/// <summary>Host-side image resampling and channel conversion used to fit foreign images to a teacher's input.</summary>
public static class ImageOps
{
    /// <summary>Bilinear resize of a [C, H, W] region (top, left, size x size) to [C, outSize, outSize] (align_corners=False).</summary>
    public static void CropResize(HostImage image, int top, int left, int size, int outSize, Span<float> output)
    {
        int c = image.Channels, h = image.Height, w = image.Width;
        float scale = size / (float)outSize;
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < outSize; y++)
            {
                float sy = Math.Clamp((y + 0.5f) * scale - 0.5f, 0, size - 1) + top;
                int y0 = (int)sy, y1 = Math.Min(y0 + 1, h - 1);
                float fy = sy - y0;
                for (int x = 0; x < outSize; x++)
                {
                    float sx = Math.Clamp((x + 0.5f) * scale - 0.5f, 0, size - 1) + left;
                    int x0 = (int)sx, x1 = Math.Min(x0 + 1, w - 1);
                    float fx = sx - x0;
                    var p = image.Pixels.AsSpan(ch * h * w);
                    float v = (1 - fy) * ((1 - fx) * p[y0 * w + x0] + fx * p[y0 * w + x1]) + fy * ((1 - fx) * p[y1 * w + x0] + fx * p[y1 * w + x1]);
                    output[(ch * outSize + y) * outSize + x] = v;
                }
            }
    }

    /// <summary>RGB to grey by ITU-R BT.601 luma (what PIL's convert('L') does); grey to RGB by repetition.</summary>
    public static HostImage ToChannels(HostImage image, int channels)
    {
        if (image.Channels == channels) return image;
        int plane = image.Height * image.Width;
        var result = new float[channels * plane];
        if (channels == 1 && image.Channels == 3)
            for (int p = 0; p < plane; p++)
                result[p] = 0.299f * image.Pixels[p] + 0.587f * image.Pixels[plane + p] + 0.114f * image.Pixels[2 * plane + p];
        else if (channels == 3 && image.Channels == 1)
            for (int c = 0; c < 3; c++) image.Pixels.AsSpan(0, plane).CopyTo(result.AsSpan(c * plane));
        else throw new ArgumentException($"cannot convert {image.Channels} channels to {channels}");
        return new HostImage(channels, image.Height, image.Width, result);
    }
}
