using System.Text.Json;
using NoiseKD.IO;

namespace NoiseKD.Training;

/// <summary>
/// One JSON object per line per epoch (metrics.jsonl). On resume, lines of epochs after the
/// checkpoint are dropped so the file always matches the state that was saved.
/// </summary>
public sealed class MetricsLog(string path)
{
    public string Path { get; } = path;

    public void Append(IReadOnlyDictionary<string, object> metrics) =>
        AtomicFile.AppendLine(Path, JsonSerializer.Serialize(metrics));

    public void TruncateAfter(int epoch)
    {
        if (!File.Exists(Path)) return;
        var keep = File.ReadAllLines(Path).Where(line => EpochOf(line) is int e && e <= epoch).ToArray();
        AtomicFile.WriteAllLines(Path, keep);
    }

    /// <summary>Every row; a line that is not a JSON object with an integer "epoch" is a format error naming the line.</summary>
    public List<Dictionary<string, JsonElement>> ReadAll()
    {
        if (!File.Exists(Path)) return new();
        var rows = new List<Dictionary<string, JsonElement>>();
        string[] lines = File.ReadAllLines(Path);
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            if (EpochOf(lines[i]) is null) throw new InvalidDataException($"'{Path}' line {i + 1} is not a metrics row (a JSON object with an integer \"epoch\")");
            rows.Add(JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(lines[i])!);
        }
        return rows;
    }

    /// <summary>The numbers of column <paramref name="key"/>, one per row; a row without it is a format error.</summary>
    public double[] Column(string key) => ReadAll().Select((row, i) =>
        row.TryGetValue(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble()
            : throw new InvalidDataException($"'{Path}' row {i + 1} has no number '{key}'")).ToArray();

    /// <summary>The "epoch" of one line, or null when the line is not a JSON object with an integer epoch.</summary>
    static int? EpochOf(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("epoch", out var e)
                   && e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int epoch) ? epoch : null;
        }
        catch (JsonException) { return null; }
    }
}
