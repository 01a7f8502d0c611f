using System.Globalization;

namespace NoiseKD.Training;

/// <summary>
/// Where a run stopped inside an epoch (on a signal): the steps done and the running sums of that epoch's
/// metrics (loss, correct, seen, seconds...), kept in the checkpoint's metadata so a resumed epoch reports
/// the same numbers as an uninterrupted one.
/// </summary>
public sealed record PartialEpoch(int Steps, double[] Sums)
{
    const string StepsKey = "partial_epoch_steps", SumsKey = "partial_epoch_sums";

    public Dictionary<string, string> ToMetadata(IReadOnlyDictionary<string, string>? extra = null) => new(extra ?? new Dictionary<string, string>())
    {
        [StepsKey] = Steps.ToString(CultureInfo.InvariantCulture),
        [SumsKey] = string.Join(",", Sums.Select(s => s.ToString("R", CultureInfo.InvariantCulture))),
    };

    /// <summary>The partial epoch recorded in a checkpoint's metadata, or null for a checkpoint written at an epoch's end.</summary>
    public static PartialEpoch? From(IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(StepsKey, out var steps)) return null;
        try
        {
            var sums = metadata.GetValueOrDefault(SumsKey, "").Split(',', StringSplitOptions.RemoveEmptyEntries)
                               .Select(s => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
            int n = int.Parse(steps, NumberStyles.None, CultureInfo.InvariantCulture);
            return new PartialEpoch(n, sums);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new InvalidDataException($"checkpoint metadata '{StepsKey}'/'{SumsKey}' is malformed");
        }
    }
}
