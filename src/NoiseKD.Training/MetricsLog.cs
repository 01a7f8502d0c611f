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
        var keep = File.ReadAllLines(Path).Where(line =>
        {
            try
            {
                using var doc = JsonDocument.Parse(line);
                return doc.RootElement.TryGetProperty("epoch", out var e) && e.GetInt32() <= epoch;
            }
            catch (JsonException) { return false; }
        }).ToArray();
        AtomicFile.WriteAllLines(Path, keep);
    }

    public List<Dictionary<string, JsonElement>> ReadAll() =>
        File.Exists(Path)
            ? File.ReadAllLines(Path).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(l)!).ToList()
            : new();
}
