using System.Globalization;
using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.Optim;
using NoiseKD.Serialization;

namespace NoiseKD.Training;

/// <summary>
/// A resumable training state in one safetensors file: the model's state dict under "model.", the
/// optimizer's under "optim.", and metadata (completed epochs, optimizer steps, the model spec and a
/// fingerprint of the run's options). Written atomically, so a crash leaves the previous checkpoint.
/// </summary>
public static class Checkpoint
{
    public const string Format = "noisekd-checkpoint";

    public static void Save(string path, Module model, ModelSpec spec, Optimizer optimizer, int epochsDone, string fingerprint,
                            IReadOnlyDictionary<string, string>? extra = null)
    {
        var meta = new Dictionary<string, string>(extra ?? new Dictionary<string, string>())
        {
            ["format"] = Format,
            ["epochs_done"] = epochsDone.ToString(CultureInfo.InvariantCulture),
            ["optimizer_steps"] = optimizer.StepCount.ToString(CultureInfo.InvariantCulture),
            ["arch"] = spec.Arch,
            ["width"] = spec.Width.ToString("R", CultureInfo.InvariantCulture),
            ["fingerprint"] = fingerprint,
        };
        var arrays = StateDictIo.ToArrays(model, "model.")
            .Concat(optimizer.State().Select(s => new NamedArray("optim." + s.Name, s.Value.Shape, s.Value.ToArray())));
        Safetensors.Write(path, arrays, meta);
    }

    /// <summary>Restores model and optimizer; returns the completed epoch count and the metadata.</summary>
    public static (int EpochsDone, IReadOnlyDictionary<string, string> Metadata) Load(string path, Module model, Optimizer optimizer,
                                                                                       string fingerprint)
    {
        var (arrays, meta) = Safetensors.Read(path);
        if (!meta.TryGetValue("format", out var format) || format != Format)
            throw new SafetensorsException($"'{path}' is not a NoiseKD checkpoint");
        if (meta.GetValueOrDefault("fingerprint") != fingerprint)
            throw new SafetensorsException($"checkpoint '{path}' was written by a run with other settings ({meta.GetValueOrDefault("fingerprint")}); " +
                                           $"this run is ({fingerprint}); use another --out or the same options");
        try
        {
            StateDictIo.Load(model, arrays, "model.");
            var optim = arrays.Where(a => a.Name.StartsWith("optim.", StringComparison.Ordinal)).ToDictionary(a => a.Name["optim.".Length..], a => a.Data);
            optimizer.LoadState(optim, int.Parse(meta["optimizer_steps"], CultureInfo.InvariantCulture));
        }
        catch (InvalidDataException e)
        {
            throw new SafetensorsException($"checkpoint '{path}' does not fit this model: {e.Message}");
        }
        return (int.Parse(meta["epochs_done"], CultureInfo.InvariantCulture), meta);
    }
}
