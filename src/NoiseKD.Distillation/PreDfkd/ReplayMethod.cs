using System.Globalization;

namespace NoiseKD.Distillation.PreDfkd;

/// <summary>
/// How the student rehearses past synthetic samples: pre-dfkd (a VAE memory, pseudo replay), dfad (no
/// replay: the ablation) or replay-buffer:MB (stored generator samples, at most MB mebibytes, reservoir-sampled).
/// </summary>
public sealed record ReplayMethod(string Kind, double BufferMegabytes = 0)
{
    public const string PreDfkd = "pre-dfkd", Dfad = "dfad", Buffer = "replay-buffer";

    public static ReplayMethod Parse(string value)
    {
        var v = value.ToLowerInvariant();
        if (v is PreDfkd or Dfad) return new ReplayMethod(v);
        if (v.StartsWith(Buffer + ":", StringComparison.Ordinal)
            && double.TryParse(v[(Buffer.Length + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var mb) && mb > 0 && double.IsFinite(mb))
            return new ReplayMethod(Buffer, mb);
        throw new ArgumentException($"--method '{value}' must be noise, pre-dfkd, dfad or replay-buffer:MB (MB > 0)");
    }

    public long BufferBytes => (long)(BufferMegabytes * 1024 * 1024);

    public override string ToString() => Kind == Buffer ? $"{Buffer}:{BufferMegabytes.ToString("R", CultureInfo.InvariantCulture)}" : Kind;
}
