using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace NoiseKD.Studies;

/// <summary>
/// Small histograms side by side, one cell per layer (left to right, top to bottom in forward order), each
/// condition a colour, overlapping bars mixed: a page a reader scans for the layers where the conditions
/// part. No text is drawn (no font library is served); the report's caption names cells and colours.
/// Each cell covers [<see cref="Low"/>, <see cref="High"/>] in <see cref="Bins"/> bins (values outside fall
/// in the end bins), bar height relative to the cell's tallest bar; a grey line marks 0.
/// </summary>
public static class HistogramGrid
{
    public const int Bins = 24, BinWidth = 5, CellHeight = 60, Gap = 6, Columns = 5;
    public const double Low = -4, High = 4;

    public static readonly Rgb24[] Colours = [new(31, 119, 180), new(214, 39, 40), new(44, 160, 44)];
    static readonly Rgb24 Background = new(255, 255, 255), Axis = new(170, 170, 170);

    public static int Bin(double v) => Math.Clamp((int)Math.Floor((v - Low) / (High - Low) * Bins), 0, Bins - 1);

    /// <summary>The top-left pixel of cell i.</summary>
    public static (int X, int Y) CellOrigin(int i) => (Gap + i % Columns * (Bins * BinWidth + Gap), Gap + i / Columns * (CellHeight + Gap));

    /// <summary>cells[i][k]: the values of condition k (at most <see cref="Colours"/>.Length) in cell i.</summary>
    public static Image<Rgb24> Render(IReadOnlyList<IReadOnlyList<double[]>> cells)
    {
        int rows = (cells.Count + Columns - 1) / Columns;
        var image = new Image<Rgb24>(Gap + Columns * (Bins * BinWidth + Gap), Gap + Math.Max(1, rows) * (CellHeight + Gap), Background);
        for (int i = 0; i < cells.Count; i++)
        {
            var (x0, y0) = CellOrigin(i);
            var counts = cells[i].Select(values =>
            {
                var c = new double[Bins];
                foreach (double v in values) c[Bin(v)] += 1.0 / Math.Max(1, values.Length);
                return c;
            }).ToList();
            double tallest = Math.Max(1e-12, counts.SelectMany(c => c).Max());
            int zero = x0 + (int)Math.Round((0 - Low) / (High - Low) * Bins * BinWidth);
            for (int y = 0; y < CellHeight; y++) image[zero, y0 + y] = Axis;
            for (int b = 0; b < Bins; b++)
                for (int y = 0; y < CellHeight; y++)
                {
                    int fromBottom = CellHeight - 1 - y;
                    var covering = Enumerable.Range(0, counts.Count).Where(k => fromBottom < Math.Round(counts[k][b] / tallest * CellHeight)).ToList();
                    if (covering.Count == 0) continue;
                    var colour = Mix(covering.Select(k => Colours[k]).ToList());
                    for (int dx = 0; dx < BinWidth - 1; dx++) image[x0 + b * BinWidth + dx, y0 + y] = colour;
                }
        }
        return image;
    }

    static Rgb24 Mix(IReadOnlyList<Rgb24> colours) =>
        new((byte)colours.Average(c => c.R), (byte)colours.Average(c => c.G), (byte)colours.Average(c => c.B));
}
