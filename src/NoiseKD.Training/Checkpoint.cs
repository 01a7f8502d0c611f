using System.Globalization;
using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.Optim;
using NoiseKD.Serialization;

namespace NoiseKD.Training;

/// <summary>
/// One trained module and its optimizer inside a checkpoint. The unnamed part ("") is the model being
/// trained, stored under "model." and "optim."; a named part N (a generator, a VAE) under "N.model." and "N.optim.".
/// </summary>
public sealed record CheckpointPart(string Name, Module Model, Optimizer Optimizer)
{
    string Prefix => Name.Length == 0 ? "" : Name + ".";
    internal string ModelPrefix => Prefix + "model.";
    internal string OptimizerPrefix => Prefix + "optim.";
    internal string StepsKey => Prefix + "optimizer_steps";
}

/// <summary>
/// A resumable training state in one safetensors file: the model's state dict under "model.", the
/// optimizer's under "optim.", and metadata (completed epochs, optimizer steps, the model spec and a
/// fingerprint of the run's options). Written atomically, so a crash leaves the previous checkpoint.
/// Runs that train several modules (generative distillation) store one <see cref="CheckpointPart"/> each,
/// plus any extra arrays (a replay buffer).
/// </summary>
public static class Checkpoint
{
    public const string Format = "noisekd-checkpoint";

    public static void Save(string path, Module model, ModelSpec spec, Optimizer optimizer, int epochsDone, string fingerprint,
                            IReadOnlyDictionary<string, string>? extra = null) =>
        Save(path, [new CheckpointPart("", model, optimizer)], spec, epochsDone, fingerprint, extra);

    public static void Save(string path, IReadOnlyList<CheckpointPart> parts, ModelSpec spec, int epochsDone, string fingerprint,
                            IReadOnlyDictionary<string, string>? extra = null, IEnumerable<NamedArray>? arrays = null)
    {
        var meta = new Dictionary<string, string>(extra ?? new Dictionary<string, string>())
        {
            ["format"] = Format,
            ["epochs_done"] = epochsDone.ToString(CultureInfo.InvariantCulture),
            ["arch"] = spec.Arch,
            ["width"] = spec.Width.ToString("R", CultureInfo.InvariantCulture),
            ["fingerprint"] = fingerprint,
        };
        var all = new List<NamedArray>();
        foreach (var part in parts)
        {
            meta[part.StepsKey] = part.Optimizer.StepCount.ToString(CultureInfo.InvariantCulture);
            all.AddRange(StateDictIo.ToArrays(part.Model, part.ModelPrefix));
            all.AddRange(part.Optimizer.State().Select(s => new NamedArray(part.OptimizerPrefix + s.Name, s.Value.Shape, s.Value.ToArray())));
        }
        if (arrays is not null) all.AddRange(arrays);
        Safetensors.Write(path, all, meta);
    }

    /// <summary>Restores model and optimizer; returns the completed epoch count and the metadata.</summary>
    public static (int EpochsDone, IReadOnlyDictionary<string, string> Metadata) Load(string path, Module model, Optimizer optimizer,
                                                                                       string fingerprint, IReadOnlySet<string>? mayDiffer = null)
    {
        var (epochs, meta, _) = Load(path, [new CheckpointPart("", model, optimizer)], fingerprint, mayDiffer);
        return (epochs, meta);
    }

    /// <summary>
    /// Restores every part; returns the completed epoch count, the metadata and all stored arrays. The checkpoint's
    /// settings must equal <paramref name="fingerprint"/>'s, apart from the options in <paramref name="mayDiffer"/>
    /// (a run continued with more epochs where its schedule does not depend on the run's length).
    /// </summary>
    public static (int EpochsDone, IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<NamedArray> Arrays) Load(
        string path, IReadOnlyList<CheckpointPart> parts, string fingerprint, IReadOnlySet<string>? mayDiffer = null)
    {
        var (arrays, meta) = Safetensors.Read(path);
        if (!meta.TryGetValue("format", out var format) || format != Format)
            throw new SafetensorsException($"'{path}' is not a NoiseKD checkpoint");
        if (meta.GetValueOrDefault("fingerprint") is var written && written != fingerprint && !SameApart(written, fingerprint, mayDiffer))
            throw new SafetensorsException($"checkpoint '{path}' was written by a run with other settings (" +
                (RunConfig.ParseFingerprint(written) is { } old && RunConfig.ParseFingerprint(fingerprint) is { } now ? RunConfig.Diff(old, now)
                                                                                                                    : "by an older build of the program") +
                "); use another --out or the same options");
        try
        {
            foreach (var part in parts)
            {
                StateDictIo.Load(part.Model, arrays, part.ModelPrefix);
                var optim = arrays.Where(a => a.Name.StartsWith(part.OptimizerPrefix, StringComparison.Ordinal))
                                  .ToDictionary(a => a.Name[part.OptimizerPrefix.Length..], a => a.Data);
                if (!meta.TryGetValue(part.StepsKey, out var text) || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int steps))
                    throw new InvalidDataException($"no valid '{part.StepsKey}' entry");
                part.Optimizer.LoadState(optim, steps);
            }
        }
        catch (InvalidDataException e)
        {
            throw new SafetensorsException($"checkpoint '{path}' does not fit this model: {e.Message}");
        }
        if (!int.TryParse(meta.GetValueOrDefault("epochs_done"), NumberStyles.None, CultureInfo.InvariantCulture, out int epochs))
            throw new SafetensorsException($"checkpoint '{path}' has no valid 'epochs_done' entry");
        return (epochs, meta, arrays);
    }

    /// <summary>A run resumed with --epochs below the epochs its checkpoint has done cannot be continued: one sentence saying so.</summary>
    public static void RequireWithin(int epochsDone, int epochs, string outDir)
    {
        if (epochsDone > epochs)
            throw new ArgumentException($"the checkpoint in '{outDir}' has {epochsDone} epochs done, more than --epochs {epochs}; give --epochs {epochsDone} or more");
    }

    /// <summary>Two fingerprints whose settings are equal once the options in <paramref name="mayDiffer"/> are left out.</summary>
    static bool SameApart(string? written, string fingerprint, IReadOnlySet<string>? mayDiffer)
    {
        if (mayDiffer is not { Count: > 0 } || RunConfig.ParseFingerprint(written) is not { } old || RunConfig.ParseFingerprint(fingerprint) is not { } now) return false;
        return RunConfig.Fingerprint(old.Where(o => !mayDiffer.Contains(o.Option))) == RunConfig.Fingerprint(now.Where(o => !mayDiffer.Contains(o.Option)));
    }
}
