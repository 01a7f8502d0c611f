using System.Globalization;
using Google.Protobuf;
using NoiseKD.Export.Onnx;
using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.IO;

namespace NoiseKD.Export;

/// <summary>
/// Writes a model as a standard ONNX inference graph: input "input" [batch, C, S, S] float32, output
/// "logits" [batch, classes] float32, the model file's metadata as ONNX metadata_props.
///
/// BatchNorm is always exported in inference form on the running statistics, never as a graph that
/// computes batch statistics: with batch statistics an image's logits would depend on the other images
/// in its batch (a batch of one is degenerate, and BatchNorm1d on [1, C] undefined), runtimes could not
/// fold BatchNorm into the convolution before it, and deployments run a few images at a time. A model that
/// was meant to run on current statistics, a student distilled from a transfer set whose running
/// statistics were accumulated on that transfer data (RESULTS.md: 20-28% where current statistics give
/// 85%), is exported with a note (<see cref="BatchNormNote"/>) in the metadata and for the caller to show;
/// re-estimating its running statistics from a few real images first (`noisekd export --recalibrate N`)
/// gives the accuracy of current statistics (the paper's "adjusting running statistics").
/// </summary>
public static class OnnxExporter
{
    public const string InputName = "input", OutputName = "logits";

    /// <summary>Metadata keys the exporter adds next to the model file's own.</summary>
    public const string InputPixelsKey = "input_pixels", BatchNormKey = "batchnorm", BatchNormNoteKey = "batchnorm_note";

    /// <summary>Writes the ONNX file; returns the BatchNorm note (null when the running statistics are the model's own).</summary>
    public static string? Write(string path, Module model, ModelFile file, OnnxExportOptions options)
    {
        var (proto, note) = Build(model, file, options);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        AtomicFile.WriteAllBytes(path, proto.ToByteArray());
        return note;
    }

    /// <summary>The serialized model, for callers that keep it in memory (an InferenceSession takes bytes).</summary>
    public static byte[] ToBytes(Module model, ModelFile file, OnnxExportOptions options) => Build(model, file, options).Model.ToByteArray();

    static (ModelProto Model, string? Note) Build(Module model, ModelFile file, OnnxExportOptions options)
    {
        options.Validate();
        var spec = file.Spec;
        var graph = new OnnxGraphBuilder();
        graph.Graph.Name = $"{spec.Arch}_x{spec.Width.ToString(CultureInfo.InvariantCulture)}";
        long? batch = options.Batch;
        string pixels = options.IncludeNormalization ? "raw pixels in [0, 1]" : "pixels normalized as (x - norm_mean) / norm_std";
        graph.Graph.Input.Add(OnnxGraphBuilder.TensorValue(graph.Reserve(InputName), $"images [N, C, H, W], {pixels}",
                                                           batch, spec.InChannels, spec.ImageSize, spec.ImageSize));
        string x = options.IncludeNormalization ? Normalize(graph, file, InputName) : InputName;
        string logits = new ModuleGraphWriter(graph).Emit(model, "", x);
        // The last node's output becomes the graph output "logits" under its documented name.
        graph.Graph.Node[^1].Output[0] = OutputName;
        if (logits != graph.Graph.Node[^1].Name) throw new InvalidOperationException("the model's output is not its last node's output");
        graph.Graph.Output.Add(OnnxGraphBuilder.TensorValue(OutputName, "logits [N, classes], before softmax", batch, spec.Classes));

        string? note = BatchNormNote(model, file);
        var proto = new ModelProto
        {
            IrVersion = options.IrVersion, ProducerName = "noisekd", ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "",
            DocString = $"{spec.Arch} x{spec.Width.ToString(CultureInfo.InvariantCulture)} exported by noisekd; BatchNorm on running statistics", Graph = graph.Graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
        bool hasBatchNorm = model.NamedModules().Any(m => m.Module is BatchNorm);
        foreach (var (key, value) in Metadata(file, options, hasBatchNorm, note).OrderBy(kv => kv.Key, StringComparer.Ordinal))
            proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return (proto, note);
    }

    /// <summary>(x - mean) / std per channel, as Sub and Div on [1, C, 1, 1] constants: exactly what NoiseKD.Data.Normalization computes.</summary>
    static string Normalize(OnnxGraphBuilder graph, ModelFile file, string x)
    {
        int c = file.Spec.InChannels;
        if (file.NormMean.Length != c || file.NormStd.Length != c)
            throw new ArgumentException($"the model file's normalization has {file.NormMean.Length} means and {file.NormStd.Length} deviations for {c} input channels");
        string centered = graph.Node("Sub", "normalize.sub", [x, graph.Initializer("normalize.mean", file.NormMean, 1, c, 1, 1)]);
        return graph.Node("Div", "normalize.div", [centered, graph.Initializer("normalize.std", file.NormStd, 1, c, 1, 1)]);
    }

    /// <summary>
    /// Why the exported running statistics may not be the ones the model was evaluated with, or null. A
    /// distilled student (model file key "transfer") accumulated them on its transfer set, unless that was
    /// real data or they were re-estimated since (key "bn_recalibrated").
    /// </summary>
    public static string? BatchNormNote(Module model, ModelFile file)
    {
        if (!model.NamedModules().Any(m => m.Module is BatchNorm)) return null;
        var meta = file.Metadata;
        if (meta.ContainsKey(RecalibratedKey)) return null;
        if (meta.TryGetValue("transfer", out var transfer) && !transfer.Equals("real", StringComparison.OrdinalIgnoreCase))
            return $"BatchNorm running statistics were accumulated on the '{transfer}' transfer set, not on real images; this graph normalizes with them, " +
                   "which can be far less accurate than current statistics: re-estimate them first (noisekd export --recalibrate N)";
        return null;
    }

    /// <summary>The model file key that says the running statistics were re-estimated from real images (its value says from what).</summary>
    public const string RecalibratedKey = "bn_recalibrated";

    static Dictionary<string, string> Metadata(ModelFile file, OnnxExportOptions options, bool hasBatchNorm, string? note)
    {
        var meta = file.Metadata.Where(kv => kv.Key != "format").ToDictionary(kv => kv.Key, kv => kv.Value);
        meta[InputPixelsKey] = options.IncludeNormalization ? "raw" : "normalized";
        meta[BatchNormKey] = hasBatchNorm ? "running" : "none";
        if (note is not null) meta[BatchNormNoteKey] = note;
        return meta;
    }
}
