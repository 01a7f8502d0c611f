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
        var model = file.Spec.Create();
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
            float[] Floats(string key) => Get(key).Split(',').Select(s => float.Parse(s, inv)).ToArray();
            return new ModelFile(spec, Floats("norm_mean"), Floats("norm_std"), meta);
        }
        catch (FormatException e)
        {
            throw new SafetensorsException($"'{path}' has malformed model metadata: {e.Message}");
        }
    }
}
