using System.Globalization;
using NoiseKD.Nn;
using NoiseKD.Serialization;

namespace NoiseKD.Models;

/// <summary>
/// A self-describing model file: safetensors holding the state dict under PyTorch's names, with
/// metadata naming the architecture, width, input shape, classes and the input normalization
/// (format "noisekd-model", keys: arch, width, in_channels, image_size, classes, norm_mean, norm_std).
/// </summary>
public sealed record ModelFile(ModelSpec Spec, float[] NormMean, float[] NormStd, IReadOnlyDictionary<string, string> Metadata)
{
    public const string Format = "noisekd-model";

    public static void Save(string path, Module model, ModelSpec spec, float[] normMean, float[] normStd,
                            IReadOnlyDictionary<string, string>? extra = null)
    {
        var meta = new Dictionary<string, string>(extra ?? new Dictionary<string, string>())
        {
            ["format"] = Format,
            ["arch"] = spec.Arch,
            ["width"] = spec.Width.ToString("R", CultureInfo.InvariantCulture),
            ["in_channels"] = spec.InChannels.ToString(CultureInfo.InvariantCulture),
            ["image_size"] = spec.ImageSize.ToString(CultureInfo.InvariantCulture),
            ["classes"] = spec.Classes.ToString(CultureInfo.InvariantCulture),
            ["norm_mean"] = string.Join(",", normMean.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
            ["norm_std"] = string.Join(",", normStd.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
        };
        Safetensors.Write(path, StateDictIo.ToArrays(model), meta);
    }

    /// <summary>Reads a model file and builds the network it describes, weights loaded.</summary>
    public static (Module Model, ModelFile File) Load(string path)
    {
        var (arrays, meta) = Safetensors.Read(path);
        var file = Describe(meta, path);
        Module model;
        try { model = file.Spec.Create(); }
        catch (ArgumentException e) { throw new SafetensorsException($"'{path}' describes a model that cannot be built: {e.Message}"); }
        try { StateDictIo.Load(model, arrays); }
        catch (InvalidDataException e) { throw new SafetensorsException($"'{path}' does not fit {file.Spec.Arch}: {e.Message}"); }
        return (model, file);
    }

    public static ModelFile Describe(IReadOnlyDictionary<string, string> meta, string path)
    {
        string Get(string key) => meta.TryGetValue(key, out var v) ? v
            : throw new SafetensorsException($"'{path}' is not a NoiseKD model file (metadata '{key}' missing; import PyTorch state dicts with 'noisekd import')");
        if (Get("format") != Format) throw new SafetensorsException($"'{path}' has format '{meta["format"]}', expected '{Format}'");
        try
        {
            var inv = CultureInfo.InvariantCulture;
            var spec = new ModelSpec(Get("arch"), float.Parse(Get("width"), inv), int.Parse(Get("in_channels"), inv),
                                     int.Parse(Get("classes"), inv), int.Parse(Get("image_size"), inv));
            // Bounds far beyond any model here, so a corrupt header cannot make us build a network that fills the memory.
            if (!(spec.Width > 0 && spec.Width <= 64) || spec.InChannels is < 1 or > 1024 || spec.Classes is < 2 or > 1_000_000 || spec.ImageSize is < 1 or > 4096)
                throw new SafetensorsException($"'{path}' describes an implausible model (width {spec.Width}, {spec.InChannels} input channels, " +
                                               $"{spec.Classes} classes, image size {spec.ImageSize})");
            float[] Floats(string key) => Get(key).Split(',').Select(s => float.Parse(s, inv)).ToArray();
            var (mean, std) = (Floats("norm_mean"), Floats("norm_std"));
            if (mean.Length != spec.InChannels || std.Length != spec.InChannels || std.Any(s => !(s > 0)) || mean.Any(m => !float.IsFinite(m)))
                throw new SafetensorsException($"'{path}' has normalization for {mean.Length}/{std.Length} channels (standard deviations positive) but {spec.InChannels} input channels");
            return new ModelFile(spec, mean, std, meta);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new SafetensorsException($"'{path}' has malformed model metadata: {e.Message}");
        }
    }
}
