using System.Xml.Linq;
using NoiseKD.Studies;
using Xunit;

namespace NoiseKD.Tests.Studies;

[Collection(SeededRunsCollection.Name)]
public class StudyTests
{
    [Fact]
    public void ToyCirclesShowsTheCovariateShiftAndItsFix()
    {
        var toy = ToyCirclesStudy.Run(points: 800, steps: 250);
        Assert.True(toy.DataAccuracy > 0.97, $"data accuracy {toy.DataAccuracy}");
        // The paper's Figure 3: noise embeddings under running statistics sit away from the data; current statistics bring them back.
        Assert.True(toy.ShiftRs > 2 * toy.ShiftCs, $"shift RS {toy.ShiftRs} vs CS {toy.ShiftCs}");
        Assert.Equal(3, toy.Embeddings.Length);
        Assert.All(toy.Embeddings, s => Assert.Equal(800, s.Points.Count));
    }

    [Fact]
    public void ChartsAreWellFormedSvg()
    {
        var line = SvgChart.Line("a < b", "x", "y", [new("s1", [(1, 2), (10, 3)]), new("s2", [(1, double.NaN), (5, 1)])], logX: true);
        var bars = SvgChart.Bars("bars", "y", ["c1", "c2"], [("one", [1, 2]), ("two", [3, double.NaN])]);
        var scatter = SvgChart.Scatter("pts", "x", "y", [new("only", [(0, 0)])]);
        foreach (var svg in new[] { line, bars, scatter })
            Assert.Equal("svg", XDocument.Parse(svg).Root!.Name.LocalName);
        Assert.Contains("a &lt; b", line);
        var texts = XDocument.Parse(line).Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value).ToList();
        Assert.Contains("s1", texts);                     // the legend
        Assert.Contains("s2", texts);
        Assert.Contains("1", texts);                      // round tick values on the log axis, not fifths of the range
        Assert.Contains("10", texts);
    }

    [Fact]
    public void BarsAreVerticalAndProportional()
    {
        // OxyPlot draws each bar as a rect in the series colour (#1f77b4); the legend swatch is the small one without crispEdges.
        string svg = SvgChart.Bars("bars", "% of the set", ["c1", "c2", "c3"], [("one", [10, 20, 40])]);
        var doc = XDocument.Parse(svg);
        var bars = doc.Descendants().Where(e => e.Name.LocalName == "rect" && (string?)e.Attribute("style") is { } style
                                                && style.Contains("fill:rgb(31,119,180)") && e.Attribute("shape-rendering") is not null)
                      .Select(e => (X: double.Parse((string)e.Attribute("x")!, System.Globalization.CultureInfo.InvariantCulture),
                                    Bottom: double.Parse((string)e.Attribute("y")!, System.Globalization.CultureInfo.InvariantCulture)
                                            + double.Parse((string)e.Attribute("height")!, System.Globalization.CultureInfo.InvariantCulture),
                                    Height: double.Parse((string)e.Attribute("height")!, System.Globalization.CultureInfo.InvariantCulture)))
                      .OrderBy(b => b.X).ToList();
        Assert.Equal(3, bars.Count);
        Assert.All(bars, b => Assert.Equal(bars[0].Bottom, b.Bottom, 1));        // standing on one baseline: vertical bars
        Assert.Equal(2.0, bars[1].Height / bars[0].Height, 2);                   // heights in proportion to the values from 0
        Assert.Equal(4.0, bars[2].Height / bars[0].Height, 2);
        var texts = doc.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value).ToList();
        Assert.Contains("c2", texts);
        Assert.Contains("one", texts);
        Assert.Contains("% of the set", texts);
    }

    [Fact]
    public void SeedSpreadsAreDrawnAsErrorBars()
    {
        var spread = SvgChart.OverSeeds("cs", [(1.0, [0.5, 0.7]), (2.0, [0.6, 0.6]), (4.0, [0.2, 0.4])]);
        Assert.Equal([(1.0, 60.0), (2.0, 60.0), (4.0, 30.0)], spread.Points.Select(p => (p.X, Math.Round(p.Y, 9))).ToArray());
        Assert.Equal([14.142135624, 0, 14.142135624], spread.Errors!.Select(e => Math.Round(e, 9)).ToArray());
        static int Lines(string svg) => XDocument.Parse(svg).Descendants().Count(e => e.Name.LocalName is "polyline" or "line");
        int with = Lines(SvgChart.Line("t", "x", "y", [spread])), without = Lines(SvgChart.Line("t", "x", "y", [spread with { Errors = null }]));
        Assert.True(with - without >= 2 * 3, $"{with} vs {without} line elements: two non-zero spreads draw a bar and two stops each");
    }

    [Fact]
    public void MeanAndSampleStd()
    {
        var (mean, std) = StudyReport.MeanStd([0.8, 0.9, 1.0]);
        Assert.Equal(0.9, mean, 12);
        Assert.Equal(0.1, std, 12);
        Assert.Equal("90.00 ± 10.00", StudyReport.Percent([0.8, 0.9, 1.0]));
        Assert.Equal("50.00", StudyReport.Percent([0.5]));
    }

    [Fact]
    public void PcaFindsTheLeadingAxis()
    {
        // Points along (3, 4)/5 with small orthogonal noise.
        var rows = new List<float>();
        var rng = new Random(1);
        for (int i = 0; i < 200; i++)
        {
            double t = rng.NextDouble() * 10 - 5, e = rng.NextDouble() * 0.1;
            rows.Add((float)(0.6 * t - 0.8 * e));
            rows.Add((float)(0.8 * t + 0.6 * e));
        }
        var (_, axes) = Pca.TopTwo(rows.ToArray(), 200, 2);
        Assert.Equal(1.0, Math.Abs(axes[0][0] * 0.6 + axes[0][1] * 0.8), 3);
    }
}
