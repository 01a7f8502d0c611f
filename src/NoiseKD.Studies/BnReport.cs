using System.Globalization;
using System.Text;
using SixLabors.ImageSharp;
using NoiseKD.Backends;
using NoiseKD.Data;
using NoiseKD.Distillation;
using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.Tensors;
using NoiseKD.Training;
using NoiseKD.IO;

namespace NoiseKD.Studies;

/// <summary>
/// `noisekd bn-report`: the covariate shift the noise-KD paper explains (its Figure 4), layer by layer.
/// For every BatchNorm layer: the per-channel mean and variance of its input on real data and on the
/// transfer set, their distance from the layer's running statistics (mean symmetric KL of per-channel
/// Gaussians), and the normalized values' distance from N(0, 1) under running and under current
/// statistics; histograms of the pooled features; a ranking of layers by shift.
/// </summary>
public static class BnReport
{
    public sealed record Options(string ModelPath, string? Dataset, string Transfer, string OutDir, int Samples = 1000, int BatchSize = 200,
                                 string? DataRoot = null, ulong Seed = 0);

    public static string Write(Options o, IBackend device)
    {
        var (model, file) = ModelFile.Load(o.ModelPath);
        var normalization = new Normalization(file.NormMean, file.NormStd);
        string dataset = o.Dataset ?? StudyTeacher.DatasetOf(file);
        var data = DatasetCatalog.Load(dataset, train: false, o.DataRoot).Take(o.Samples);
        if (data.Channels != file.Spec.InChannels || data.Height != file.Spec.ImageSize)
            throw new ArgumentException($"model takes {file.Spec.InChannels}x{file.Spec.ImageSize}x{file.Spec.ImageSize}, {dataset} has {data.Channels}x{data.Height}x{data.Width}");
        int batches = Math.Max(1, o.Samples / o.BatchSize);
        IEnumerable<Func<Tensor>> Real() => new DataLoader(data, o.BatchSize, normalization, dropLast: data.Count >= o.BatchSize).Epoch(0)
            .Select(b => (Func<Tensor>)(() => Tensor.FromArray(b.ImageData, b.Shape, device))).ToList();
        IEnumerable<Func<Tensor>> Noise()
        {
            var t = TransferSet.Parse(o.Transfer, file.Spec.InChannels, file.Spec.ImageSize, normalization, o.Seed, device,
                                      () => DatasetCatalog.Load(dataset, true, o.DataRoot), o.DataRoot);
            return Enumerable.Range(0, batches).Select(_ => (Func<Tensor>)(() => t.Next(o.BatchSize)));
        }
        var runs = new (string Label, BnProbe.Result Result, BnStatistics Mode)[]
        {
            ("data + RS", BnProbe.Capture(model, Real(), BnStatistics.Running), BnStatistics.Running),
            ("noise + RS", BnProbe.Capture(model, Noise(), BnStatistics.Running), BnStatistics.Running),
            ("noise + CS", BnProbe.Capture(model, Noise(), BnStatistics.Current), BnStatistics.Current),
        };
        var layers = runs[0].Result.Layers;

        AtomicFile.CreateDirectory(o.OutDir);
        var csv = new StringBuilder("layer,index,condition,channels,input_shift_from_running,normalized_shift_from_standard,input_mean_abs,input_var_mean\n");
        var shiftSeries = new List<SvgChart.Series>();
        var normSeries = new List<SvgChart.Series>();
        foreach (var (label, result, mode) in runs)
        {
            var shift = new List<(double, double)>();
            var normal = new List<(double, double)>();
            for (int i = 0; i < result.Layers.Count; i++)
            {
                var l = result.Layers[i];
                var (nm, nv) = mode == BnStatistics.Running ? l.NormalizedUnderRunning() : l.NormalizedUnderCurrent(result.BatchVarianceMeans[i]);
                double toStandard = BnProbe.MeanSymmetricKl(nm, nv, new double[nm.Length], Enumerable.Repeat(1.0, nm.Length).ToArray());
                shift.Add((i, l.ShiftFromRunning));
                normal.Add((i, toStandard));
                csv.AppendLine(string.Join(",", l.Name, i, label, l.Mean.Length, F(l.ShiftFromRunning), F(toStandard),
                                           F(l.Mean.Average(Math.Abs)), F(l.Var.Average())));
            }
            shiftSeries.Add(new SvgChart.Series(label, shift.Select(p => (p.Item1, Math.Log10(p.Item2 + 1e-6))).ToList()));
            normSeries.Add(new SvgChart.Series(label, normal.Select(p => (p.Item1, Math.Log10(p.Item2 + 1e-6))).ToList()));
        }
        AtomicFile.WriteAllText(Path.Combine(o.OutDir, "bn_layers.csv"), csv.ToString());

        var report = new StudyReport(o.OutDir, $"BatchNorm report: {file.Spec.Arch} x{file.Spec.Width}");
        report.Paragraph($"Model {o.ModelPath}; real data: {data.Count} {o.Dataset} test images; transfer set: {o.Transfer} ({batches} batches of {o.BatchSize}). " +
                         "Shift = mean over channels of the symmetric KL divergence between per-channel Gaussians. " +
                         "'Input shift' compares what a layer receives with its running statistics; 'normalized shift' compares the layer's normalized values " +
                         "(x - mean) / sqrt(var + eps), under the statistics the pass used, with N(0, 1). Each pass feeds the whole network in one mode, so later layers see " +
                         "the consequences of earlier ones. Full numbers: bn_layers.csv.");
        report.Figure("input_shift.svg", SvgChart.Line("Input shift from running statistics", "BN layer (forward order)", "log10 symmetric KL", shiftSeries),
                      "Per layer: how far the input statistics are from the stored running statistics.");
        report.Figure("normalized_shift.svg", SvgChart.Line("Normalized values vs N(0,1)", "BN layer (forward order)", "log10 symmetric KL", normSeries),
                      "Per layer: how far the normalized values are from a standard normal under the statistics each pass used.");

        report.Heading("Per-layer histograms");
        using (var grid = HistogramGrid.Render(runs[0].Result.Layers.Select((_, i) => (IReadOnlyList<double[]>)runs.Take(2)
                   .Select(r => StandardizedChannelMeans(r.Result.Layers[i])).ToList()).ToList()))
            NoiseKD.IO.AtomicFile.Write(Path.Combine(o.OutDir, "layer_histograms.png"), stream => grid.SaveAsPng(stream));
        report.Picture("layer_histograms.png", "One cell per BN layer in forward order (left to right, top to bottom): the histogram of the layer's per-channel " +
                       "input means standardized by its running statistics, (mean - running_mean) / sqrt(running_var + eps), on [-4, 4] (grey line: 0), " +
                       "for real data (blue) and the transfer set (red), both with running statistics; purple where they overlap. Where the red bars leave 0 " +
                       "the noise has shifted that layer.");

        report.Heading("Layers ranked by how much noise shifts them (running statistics)");
        var noiseRs = runs[1].Result.Layers;
        var ranked = noiseRs.Select((l, i) => (l, i)).OrderBy(t => t.l.ShiftFromRunning).ToList();
        report.Table("rank", ["rank (least shifted first)", "layer", "index", "input shift, noise + RS", "input shift, data + RS"],
                     ranked.Select((t, r) => (IReadOnlyList<string>)[(r + 1).ToString(CultureInfo.InvariantCulture), t.l.Name, t.i.ToString(CultureInfo.InvariantCulture),
                                                                     F3(t.l.ShiftFromRunning), F3(layers[t.i].ShiftFromRunning)]));
        report.Paragraph("`noisekd distill --teacher-bn partial:P --partial-from shift` puts the P% least-shifted layers on running statistics (computed from noise alone).");

        report.Heading("Pooled features (the final linear layer's input)");
        var histograms = runs.Select(r => (r.Label, r.Result.PooledFeatures)).Where(h => h.PooledFeatures.Length > 0).ToList();
        if (histograms.Count > 0)
        {
            float lo = histograms.Min(h => Percentile(h.PooledFeatures, 0.005)), hi = histograms.Max(h => Percentile(h.PooledFeatures, 0.995));
            const int bins = 40;
            var series = histograms.Select(h => new SvgChart.Series(h.Label, Histogram(h.PooledFeatures, lo, hi, bins))).ToList();
            report.Figure("pooled_features.svg", SvgChart.Line("Distribution of pooled features", "feature value", "share of values (%)", series),
                          "Histogram of all pooled feature values (the paper's Figure 4) for data, noise with running statistics and noise with current statistics.");
            report.Table("pooled", ["condition", "mean", "std", "share of zeros"], histograms.Select(h => (IReadOnlyList<string>)[h.Label,
                F3(h.PooledFeatures.Average(v => (double)v)), F3(Std(h.PooledFeatures)), $"{h.PooledFeatures.Count(v => v == 0) * 100.0 / h.PooledFeatures.Length:F1}%"]));
        }
        report.Write();
        return Path.Combine(o.OutDir, "REPORT.md");
    }

    /// <summary>Per channel, the input mean in units of the running deviation from the running mean: 0 where the input matches the running statistics.</summary>
    static double[] StandardizedChannelMeans(BnLayerStats l) =>
        l.Mean.Select((m, c) => (m - l.RunningMean[c]) / Math.Sqrt(l.RunningVar[c] + l.Eps)).ToArray();

    static List<(double, double)> Histogram(float[] values, float lo, float hi, int bins)
    {
        var counts = new double[bins];
        float width = Math.Max(hi - lo, 1e-6f) / bins;
        foreach (float v in values) counts[Math.Clamp((int)((v - lo) / width), 0, bins - 1)]++;
        return counts.Select((c, i) => (lo + (i + 0.5) * width, c * 100 / values.Length)).ToList();
    }

    static float Percentile(float[] values, double q)
    {
        var sorted = (float[])values.Clone();
        Array.Sort(sorted);
        return sorted[(int)Math.Clamp(q * (sorted.Length - 1), 0, sorted.Length - 1)];
    }

    static double Std(float[] v)
    {
        double m = v.Average(x => (double)x);
        return Math.Sqrt(v.Average(x => (x - m) * (x - m)));
    }

    static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
    static string F3(double v) => v.ToString("G3", CultureInfo.InvariantCulture);
}
