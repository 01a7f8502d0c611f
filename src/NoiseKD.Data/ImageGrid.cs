using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using NoiseKD.IO;

namespace NoiseKD.Data;

/// <summary>
/// Images shown as a grid, one row per group (a transfer source, a predicted class, an epoch), the way DFKD
/// papers show what the student saw. Inputs are in the network's normalized space; each pixel is shown as
/// the image it stands for, x * std + mean clipped to [0, 1] (noise far outside the data's range saturates).
/// Each image pixel becomes a <see cref="Scale"/> x <see cref="Scale"/> block; <see cref="Gap"/> white
/// pixels separate the cells.
/// </summary>
public sealed class ImageGrid(int channels, int height, int width, Normalization normalization)
{
    public const int Scale = 2, Gap = 2;

    readonly List<float[]> _rows = new();

    /// <summary>Adds a row of images [k, C, H, W] (k may be 0: an empty row keeps the row numbering, e.g. a class with no image).</summary>
    public ImageGrid AddRow(ReadOnlySpan<float> images)
    {
        int per = channels * height * width;
        if (images.Length % per != 0) throw new ArgumentException($"a row of {images.Length} values is not a whole number of {channels}x{height}x{width} images");
        _rows.Add(images.ToArray());
        return this;
    }

    public int Rows => _rows.Count;

    /// <summary>The pixel (x, y) of the grid where image pixel (py, px) of cell (row, column) starts.</summary>
    public static (int X, int Y) CellOrigin(int row, int column, int height, int width, int py, int px) =>
        (Gap + column * (width * Scale + Gap) + px * Scale, Gap + row * (height * Scale + Gap) + py * Scale);

    /// <summary>The value shown for normalized value v of channel c: round(clip(v * std + mean, 0, 1) * 255).</summary>
    public byte Display(float v, int c) => (byte)MathF.Round(Math.Clamp(v * normalization.Std[c] + normalization.Mean[c], 0f, 1f) * 255f);

    public Image<Rgb24> Render()
    {
        if (channels is not (1 or 3)) throw new ArgumentException($"an image grid shows 1- or 3-channel images, not {channels}");
        int per = channels * height * width, columns = Math.Max(1, _rows.Max(r => r.Length / per));
        var (gridWidth, gridHeight) = CellOrigin(Math.Max(1, _rows.Count), columns, height, width, 0, 0);
        var image = new Image<Rgb24>(gridWidth, gridHeight, new Rgb24(255, 255, 255));
        for (int r = 0; r < _rows.Count; r++)
            for (int k = 0; k < _rows[r].Length / per; k++)
                for (int py = 0; py < height; py++)
                    for (int px = 0; px < width; px++)
                    {
                        int at = k * per + py * width + px, plane = height * width;
                        byte red = Display(_rows[r][at], 0);
                        var pixel = channels == 1 ? new Rgb24(red, red, red)
                                                  : new Rgb24(red, Display(_rows[r][at + plane], 1), Display(_rows[r][at + 2 * plane], 2));
                        var (x0, y0) = CellOrigin(r, k, height, width, py, px);
                        for (int dy = 0; dy < Scale; dy++)
                            for (int dx = 0; dx < Scale; dx++) image[x0 + dx, y0 + dy] = pixel;
                    }
        return image;
    }

    public void WritePng(string path)
    {
        if (_rows.Count == 0) throw new InvalidOperationException("an image grid needs at least one row");
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        using var image = Render();
        AtomicFile.Write(path, stream => image.SaveAsPng(stream));
    }
}
