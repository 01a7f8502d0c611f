using System.Globalization;
using System.Text;
using NoiseKD.IO;

namespace NoiseKD.Studies;

/// <summary>Collects a study's Markdown, SVG figures and CSV rows and writes them under one folder.</summary>
public sealed class StudyReport(string outDir, string title)
{
    readonly StringBuilder _markdown = new StringBuilder().AppendLine($"# {title}").AppendLine();
    readonly List<string> _csv = ["section,row,column,mean,std,n"];

    public string OutDir { get; } = outDir;

    public void Paragraph(string text) => _markdown.AppendLine(text).AppendLine();
    public void Heading(string text) => _markdown.AppendLine($"## {text}").AppendLine();

    public void Table(string section, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        _markdown.AppendLine("| " + string.Join(" | ", header) + " |");
        _markdown.AppendLine("|" + string.Concat(header.Select(_ => " --- |")));
        foreach (var row in rows) _markdown.AppendLine("| " + string.Join(" | ", row) + " |");
        _markdown.AppendLine();
    }

    /// <summary>Records one numeric cell for results.csv (values as fractions).</summary>
    public void Cell(string section, string row, string column, IReadOnlyList<double> values)
    {
        var (mean, std) = MeanStd(values);
        _csv.Add(string.Join(",", Quote(section), Quote(row), Quote(column), F(mean), F(std), values.Count.ToString(CultureInfo.InvariantCulture)));
    }

    public void Figure(string fileName, string svg, string caption)
    {
        AtomicFile.WriteAllText(Path.Combine(OutDir, fileName), svg);
        _markdown.AppendLine($"![{caption}]({fileName})").AppendLine().AppendLine($"*{caption}*").AppendLine();
    }

    /// <summary>
    /// A table of pictures already written under <see cref="OutDir"/> (the runs' transfer.png and samples-epochNNN.png),
    /// linked by relative path; a missing file (a run cached before pictures were drawn) shows as "–".
    /// </summary>
    public void Pictures(IReadOnlyList<string> header, IEnumerable<(string Label, IReadOnlyList<string> Paths)> rows)
    {
        string Cell(string label, string path) => File.Exists(path)
            ? $"![{label}]({Path.GetRelativePath(OutDir, path).Replace('\\', '/')})"
            : "–";
        Table("pictures", header, rows.Select(r => (IReadOnlyList<string>)[r.Label, .. r.Paths.Select(p => Cell(r.Label, p))]));
    }

    /// <summary>A PNG already written under <see cref="OutDir"/>, shown with its caption.</summary>
    public void Picture(string fileName, string caption) =>
        _markdown.AppendLine($"![{caption}]({fileName})").AppendLine().AppendLine($"*{caption}*").AppendLine();

    public void Write()
    {
        AtomicFile.WriteAllText(Path.Combine(OutDir, "REPORT.md"), _markdown.ToString());
        AtomicFile.WriteAllLines(Path.Combine(OutDir, "results.csv"), _csv);
    }

    /// <summary>
    /// "Study runtime: 42.7 minutes (--quick)." for a run that computed everything; when some runs came
    /// from the cache the minutes are this invocation's only, and the line says so.
    /// </summary>
    public static string RuntimeLine(TimeSpan elapsed, int ran, int reused, bool quick)
    {
        string mode = quick ? " (--quick)" : "";
        if (reused == 0) return $"Study runtime: {elapsed.TotalMinutes:F1} minutes{mode}.";
        return $"Study runtime of this invocation: {elapsed.TotalMinutes:F1} minutes{mode}; {reused} of {ran + reused} distillations " +
               "were read back from earlier invocations' cached runs, whose time is not included.";
    }

    /// <summary>Mean and sample standard deviation (0 for a single value).</summary>
    public static (double Mean, double Std) MeanStd(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return (double.NaN, double.NaN);
        double mean = values.Average();
        double std = values.Count > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) : 0;
        return (mean, std);
    }

    /// <summary>"85.98 ± 0.41" in percent, or "85.98" for one value.</summary>
    public static string Percent(IReadOnlyList<double> values)
    {
        var (mean, std) = MeanStd(values);
        if (double.IsNaN(mean)) return "–";
        return values.Count > 1 ? $"{mean * 100:F2} ± {std * 100:F2}" : $"{mean * 100:F2}";
    }

    static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    static string Quote(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
