using System.Globalization;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace NoiseKD.Studies;

/// <summary>
/// SVG charts that read offline in any browser or Markdown viewer: lines and scatters drawn by OxyPlot
/// (OxyPlot.Core 2.2.0, which exports SVG itself), grouped bars too.
/// </summary>
public static class SvgChart
{
    const int W = 640, H = 400;
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

    /// <summary>Vertical bars: one group per category, one bar per series within a group (OxyPlot: the category axis at the bottom transposes its BarSeries).</summary>
    public static string Bars(string title, string yLabel, IReadOnlyList<string> categories, IReadOnlyList<(string Name, double[] Values)> series)
    {
        var model = new PlotModel { Title = title, Background = OxyColors.White, DefaultFont = "sans-serif" };
        model.Legends.Add(new Legend { LegendPlacement = LegendPlacement.Outside, LegendPosition = LegendPosition.RightTop });
        var categoryAxis = new CategoryAxis { Position = AxisPosition.Bottom, Key = "category" };
        categoryAxis.Labels.AddRange(categories);
        model.Axes.Add(categoryAxis);
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Key = "value", Title = yLabel, Minimum = 0, MajorGridlineStyle = LineStyle.Dot });
        for (int s = 0; s < series.Count; s++)
        {
            var bars = new BarSeries { Title = series[s].Name, FillColor = OxyColor.Parse(Palette[s % Palette.Length]), XAxisKey = "value", YAxisKey = "category" };
            bars.Items.AddRange(series[s].Values.Select(v => new BarItem(double.IsFinite(v) ? v : 0)));
            model.Series.Add(bars);
        }
        return SvgExporter.ExportToString(model, W, H, isDocument: false);
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
}
