using System.Globalization;
using System.Text;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace NoiseKD.Studies;

/// <summary>
/// SVG charts that read offline in any browser or Markdown viewer: lines and scatters drawn by OxyPlot
/// (OxyPlot.Core 2.2.0, which exports SVG itself), grouped bars still written here (the one chart without
/// seed spreads or numeric axes, not yet ported).
/// </summary>
public static class SvgChart
{
    const int W = 640, H = 400, Left = 70, Right = 170, Top = 40, Bottom = 55;
    static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf", "#bcbd22"];

    /// <summary>A named line; <paramref name="Errors"/>, when given, is one ± half-length per point (the seed spread), drawn as error bars.</summary>
    public sealed record Series(string Name, IReadOnlyList<(double X, double Y)> Points, IReadOnlyList<double>? Errors = null);

    /// <summary>Mean ± sample standard deviation over seeds at each x, values scaled (fractions to percent by default).</summary>
    public static Series OverSeeds(string name, IEnumerable<(double X, IReadOnlyList<double> Values)> cells, double scale = 100)
    {
        var stats = cells.Select(c => (c.X, Stats: StudyReport.MeanStd(c.Values))).ToList();
        return new Series(name, stats.Select(c => (c.X, c.Stats.Mean * scale)).ToList(), stats.Select(c => c.Stats.Std * scale).ToList());
    }

    public static string Line(string title, string xLabel, string yLabel, IReadOnlyList<Series> series, bool logX = false) =>
        Plot(title, xLabel, yLabel, series, logX, lines: true);

    public static string Scatter(string title, string xLabel, string yLabel, IReadOnlyList<Series> series) =>
        Plot(title, xLabel, yLabel, series, false, lines: false);

    /// <summary>Vertical bars: one group per category, one bar per series within a group.</summary>
    public static string Bars(string title, string yLabel, IReadOnlyList<string> categories, IReadOnlyList<(string Name, double[] Values)> series)
    {
        double max = Math.Max(1e-9, series.SelectMany(s => s.Values).Where(double.IsFinite).DefaultIfEmpty(1).Max());
        var svg = Begin(title);
        CategoryAxes(svg, yLabel, max);
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
        Legend(svg, series.Select(s => s.Name).ToList());
        return End(svg);
    }

    /// <summary>
    /// Line and scatter charts through OxyPlot (round tick values, log axes with decade ticks, a legend, error
    /// bars for seed spreads), exported as SVG with OxyPlot's built-in font metrics, so nothing is installed.
    /// </summary>
    static string Plot(string title, string xLabel, string yLabel, IReadOnlyList<Series> series, bool logX, bool lines)
    {
        var model = new PlotModel { Title = title, Background = OxyColors.White, DefaultFont = "sans-serif" };
        model.Legends.Add(new Legend { LegendPlacement = LegendPlacement.Outside, LegendPosition = LegendPosition.RightTop });
        model.Axes.Add(logX ? new LogarithmicAxis { Position = AxisPosition.Bottom, Title = xLabel, MajorGridlineStyle = LineStyle.Dot }
                            : new LinearAxis { Position = AxisPosition.Bottom, Title = xLabel, MajorGridlineStyle = LineStyle.Dot });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = yLabel, MajorGridlineStyle = LineStyle.Dot });
        for (int s = 0; s < series.Count; s++)
        {
            var colour = OxyColor.Parse(Palette[s % Palette.Length]);
            var points = series[s].Points.Select((p, i) => (p.X, p.Y, Error: series[s].Errors?[i] ?? 0))
                                         .Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y) && (!logX || p.X > 0)).ToList();
            var markers = new ScatterErrorSeries
            {
                Title = lines ? null : series[s].Name, MarkerType = MarkerType.Circle, MarkerSize = lines ? 3 : 2,
                MarkerFill = lines ? colour : OxyColor.FromAColor(128, colour), ErrorBarColor = colour, ErrorBarStopWidth = 3,
            };
            markers.Points.AddRange(points.Select(p => new ScatterErrorPoint(p.X, p.Y, 0, double.IsFinite(p.Error) ? p.Error : 0)));
            if (lines)
            {
                var line = new LineSeries { Title = series[s].Name, Color = colour, StrokeThickness = 2 };
                line.Points.AddRange(points.Select(p => new DataPoint(p.X, p.Y)));
                model.Series.Add(line);
            }
            model.Series.Add(markers);
        }
        return SvgExporter.ExportToString(model, W, H, isDocument: false);
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

    /// <summary>The bar chart's axes: categories along x (labelled by the caller), values 0..max on y with six grid lines.</summary>
    static void CategoryAxes(StringBuilder svg, string yLabel, double max)
    {
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{H - Bottom}\" x2=\"{W - Right}\" y2=\"{H - Bottom}\" stroke=\"black\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{H - Bottom}\" stroke=\"black\"/>\n");
        for (int i = 0; i <= 5; i++)
        {
            double v = max * i / 5, y = MapY(v, 0, max);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left - 4}\" y1=\"{y:F1}\" x2=\"{W - Right}\" y2=\"{y:F1}\" stroke=\"#ddd\"/>\n");
            Text(svg, Left - 8, y + 4, Fmt(v), "end", 11);
        }
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"16\" y=\"{(Top + H - Bottom) / 2.0:F0}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 16 {(Top + H - Bottom) / 2.0:F0})\">{Escape(yLabel)}</text>\n");
    }

    static void Legend(StringBuilder svg, IReadOnlyList<string> names)
    {
        for (int i = 0; i < names.Count; i++)
        {
            double y = Top + 10 + i * 18;
            string color = Palette[i % Palette.Length];
            svg.Append(FormattableString.Invariant($"<rect x=\"{W - Right + 12}\" y=\"{y - 6:F0}\" width=\"14\" height=\"12\" fill=\"{color}\"/>\n"));
            Text(svg, W - Right + 36, y + 4, names[i], "start", 11);
        }
    }

    static void Text(StringBuilder svg, double x, double y, string text, string anchor, int size) =>
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x:F1}\" y=\"{y:F1}\" font-size=\"{size}\" text-anchor=\"{anchor}\">{Escape(text)}</text>\n");

    static string Fmt(double v) => Math.Abs(v) >= 1000 || (Math.Abs(v) < 0.01 && v != 0) ? v.ToString("G3", CultureInfo.InvariantCulture) : v.ToString("0.###", CultureInfo.InvariantCulture);

    static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
