using NoiseKD.Studies;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace NoiseKD.Tests.Pictures;

/// <summary>bn-report's per-layer histogram cells: bars where the values are, in each condition's colour, mixed where both are.</summary>
public class HistogramGridTests
{
    [Fact]
    public void BarsStandWhereTheValuesAre()
    {
        double[] atHalf = Enumerable.Repeat(0.5, 10).ToArray();           // all in one bin
        double[] split = [.. Enumerable.Repeat(0.5, 5), .. Enumerable.Repeat(-3.9, 5)]; // half there, half in the first bin
        using var image = HistogramGrid.Render([[atHalf], [atHalf, split]]);
        int bin = HistogramGrid.Bin(0.5);
        Assert.Equal(13, bin); // [0.333, 0.667) of 24 bins over [-4, 4]

        Assert.Equal(HistogramGrid.Colours[0], Pixel(image, 0, bin, 0));                 // cell 0: full-height bar, top row
        Assert.Equal(new Rgb24(255, 255, 255), Pixel(image, 0, bin + 1, HistogramGrid.CellHeight - 1));
        // Cell 1: both conditions fill the bottom half of the shared bin (mixed colour); only condition 0 reaches the top.
        var mixed = new Rgb24((byte)((31 + 214) / 2), (byte)((119 + 39) / 2), (byte)((180 + 40) / 2));
        Assert.Equal(mixed, Pixel(image, 1, bin, HistogramGrid.CellHeight - 1));
        Assert.Equal(HistogramGrid.Colours[0], Pixel(image, 1, bin, 0));
        Assert.Equal(HistogramGrid.Colours[1], Pixel(image, 1, 0, HistogramGrid.CellHeight - 1));
    }

    static Rgb24 Pixel(SixLabors.ImageSharp.Image<Rgb24> image, int cell, int bin, int y)
    {
        var (x0, y0) = HistogramGrid.CellOrigin(cell);
        return image[x0 + bin * HistogramGrid.BinWidth, y0 + y];
    }
}
