using System.Globalization;
using System.Text;

namespace NoiseKD.Studies;

/// <summary>
/// Small self-contained SVG charts (line, scatter, grouped bars) so reports read offline in any browser
/// or Markdown viewer; no plotting library is needed.
/// </summary>
public static class SvgChart
{
    const int W = 640, H = 400, Left = 70, Right = 170, Top = 40, Bottom = 55;
    static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf", "#bcbd22"];

    public sealed record Series(string Name, IReadOnlyList<(double X, double Y)> Points);

    public static string Line(string title, string xLabel, string yLabel, IReadOnlyList<Series> series, bool logX = false) =>
        Plot(title, xLabel, yLabel, series, logX, lines: true);

    public static string Scatter(string title, string xLabel, string yLabel, IReadOnlyList<Series> series) =>
        Plot(title, xLabel, yLabel, series, false, lines: false);

    /// <summary>Vertical bars: one group per category, one bar per series within a group.</summary>
    public static string Bars(string title, string yLabel, IReadOnlyList<string> categories, IReadOnlyList<(string Name, double[] Values)> series)
    {
        double max = Math.Max(1e-9, series.SelectMany(s => s.Values).Where(double.IsFinite).DefaultIfEmpty(1).Max());
        var svg = Begin(title);
        Axes(svg, "", yLabel, 0, categories.Count, 0, max, categoryAxis: true);
        double groupWidth = (W - Left - Right) / (double)categories.Count, barWidth = groupWidth * 0.8 / Math.Max(1, series.Count);
        for (int c = 0; c < categories.Count; c++)
        {
            Text(svg, Left + groupWidth * (c + 0.5), H - Bottom + 16, categories[c], "middle", 11);
            for (int s = 0; s < series.Count; s++)
            {
                double v = series[s].Values[c];
                if (!double.IsFinite(v)) continue;
                double x = Left + groupWidth * c + groupWidth * 0.1 + barWidth * s, y = MapY(v, 0, max);
                svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x:F1}\" y=\"{y:F1}\" width=\"{barWidth:F1}\" height=\"{H - Bottom - y:F1}\" fill=\"{Palette[s % Palette.Length]}\"/>\n");
            }
        }
        Legend(svg, series.Select(s => s.Name).ToList(), lines: false);
        return End(svg);
    }

    static string Plot(string title, string xLabel, string yLabel, IReadOnlyList<Series> series, bool logX, bool lines)
    {
        var pts = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        if (pts.Count == 0) pts.Add((0, 0));
        Func<double, double> fx = logX ? x => Math.Log10(Math.Max(x, 1e-12)) : x => x;
        double x0 = pts.Min(p => fx(p.X)), x1 = pts.Max(p => fx(p.X)), y0 = pts.Min(p => p.Y), y1 = pts.Max(p => p.Y);
        if (x1 - x0 < 1e-12) { x0 -= 1; x1 += 1; }
        if (y1 - y0 < 1e-12) { y0 -= 1; y1 += 1; }
        double padY = (y1 - y0) * 0.05;
        y0 -= padY; y1 += padY;
        var svg = Begin(title);
        Axes(svg, xLabel + (logX ? " (log scale)" : ""), yLabel, x0, x1, y0, y1, categoryAxis: false, logX);
        for (int s = 0; s < series.Count; s++)
        {
            string color = Palette[s % Palette.Length];
            var mapped = series[s].Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y))
                .Select(p => (X: Left + (fx(p.X) - x0) / (x1 - x0) * (W - Left - Right), Y: MapY(p.Y, y0, y1))).ToList();
            if (lines && mapped.Count > 1)
                svg.Append($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"")
                   .Append(string.Join(" ", mapped.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.X:F1},{p.Y:F1}")))).Append("\"/>\n");
            foreach (var p in mapped)
                svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{p.X:F1}\" cy=\"{p.Y:F1}\" r=\"{(lines ? 3 : 2)}\" fill=\"{color}\" fill-opacity=\"{(lines ? 1 : 0.5)}\"/>\n");
        }
        Legend(svg, series.Select(s => s.Name).ToList(), lines);
        return End(svg);
    }

    static double MapY(double y, double y0, double y1) => H - Bottom - (y - y0) / (y1 - y0) * (H - Top - Bottom);

    static StringBuilder Begin(string title)
    {
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"<rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\n");
        Text(svg, W / 2.0, 22, title, "middle", 15);
        return svg;
    }

    static string End(StringBuilder svg) => svg.Append("</svg>\n").ToString();

    static void Axes(StringBuilder svg, string xLabel, string yLabel, double x0, double x1, double y0, double y1, bool categoryAxis, bool logX = false)
    {
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{H - Bottom}\" x2=\"{W - Right}\" y2=\"{H - Bottom}\" stroke=\"black\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{H - Bottom}\" stroke=\"black\"/>\n");
        for (int i = 0; i <= 5; i++)
        {
            double v = y0 + (y1 - y0) * i / 5, y = MapY(v, y0, y1);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left - 4}\" y1=\"{y:F1}\" x2=\"{W - Right}\" y2=\"{y:F1}\" stroke=\"#ddd\"/>\n");
            Text(svg, Left - 8, y + 4, Fmt(v), "end", 11);
            if (categoryAxis) continue;
            double xv = x0 + (x1 - x0) * i / 5, x = Left + (W - Left - Right) * i / 5.0;
            Text(svg, x, H - Bottom + 16, Fmt(logX ? Math.Pow(10, xv) : xv), "middle", 11);
        }
        Text(svg, Left + (W - Left - Right) / 2.0, H - 12, xLabel, "middle", 12);
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"16\" y=\"{(Top + H - Bottom) / 2.0:F0}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 16 {(Top + H - Bottom) / 2.0:F0})\">{Escape(yLabel)}</text>\n");
    }

    static void Legend(StringBuilder svg, IReadOnlyList<string> names, bool lines)
    {
        for (int i = 0; i < names.Count; i++)
        {
            double y = Top + 10 + i * 18;
            string color = Palette[i % Palette.Length];
            svg.Append(lines
                ? FormattableString.Invariant($"<line x1=\"{W - Right + 10}\" y1=\"{y:F0}\" x2=\"{W - Right + 30}\" y2=\"{y:F0}\" stroke=\"{color}\" stroke-width=\"2\"/>\n")
                : FormattableString.Invariant($"<rect x=\"{W - Right + 12}\" y=\"{y - 6:F0}\" width=\"14\" height=\"12\" fill=\"{color}\"/>\n"));
            Text(svg, W - Right + 36, y + 4, names[i], "start", 11);
        }
    }

    static void Text(StringBuilder svg, double x, double y, string text, string anchor, int size) =>
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x:F1}\" y=\"{y:F1}\" font-size=\"{size}\" text-anchor=\"{anchor}\">{Escape(text)}</text>\n");

    static string Fmt(double v) => Math.Abs(v) >= 1000 || (Math.Abs(v) < 0.01 && v != 0) ? v.ToString("G3", CultureInfo.InvariantCulture) : v.ToString("0.###", CultureInfo.InvariantCulture);

    static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
