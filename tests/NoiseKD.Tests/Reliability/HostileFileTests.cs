using System.Text;
using NoiseKD.Data;
using NoiseKD.Distillation;
using NoiseKD.Models;
using NoiseKD.Serialization;
using NoiseKD.Studies;
using NoiseKD.Training;
using Xunit;

namespace NoiseKD.Tests.Reliability;

/// <summary>
/// Regression tests for hostile inputs that once escaped as something other than a one-sentence format
/// error (found by reading the parsers against the fuzz targets, or by <see cref="ParserFuzzTests"/>).
/// </summary>
public class HostileFileTests
{
    static byte[] SafetensorsWithHeader(string json, int dataBytes = 0)
    {
        byte[] header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + dataBytes];
        BitConverter.TryWriteBytes(bytes, (long)header.Length);
        header.CopyTo(bytes, 8);
        return bytes;
    }

    static string Rejected(string json, int dataBytes = 0) =>
        Assert.Throws<SafetensorsException>(() => Safetensors.Parse(SafetensorsWithHeader(json, dataBytes), "x.safetensors")).Message;

    [Fact]
    public void ANegativeDimensionIsNamedAsSuch() =>
        Assert.Equal("'x.safetensors': tensor 'w' has a negative dimension in shape [-1, 4]",
                     Rejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1,4],\"data_offsets\":[0,16]}}", 16));

    [Fact]
    public void AShapeWhoseProductOverflowsIsRejectedBeforeAllocation() =>
        Assert.Contains("too large to hold", Rejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,4]}}", 4));

    [Fact]
    public void AShapeThatDoesNotMatchItsBytesSaysWhatItNeeds() =>
        Assert.Contains("needs 64 bytes, its data offsets hold 16", Rejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[4,4],\"data_offsets\":[0,16]}}", 16));

    [Fact]
    public void DataOffsetsWithOneEntryAreAFormatError() => // was ArgumentOutOfRangeException
        Assert.Contains("1 data offsets, not 2", Rejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4));

    [Fact]
    public void MetadataThatIsNotAnObjectIsAFormatError() => // was InvalidOperationException
        Assert.Contains("__metadata__", Rejected("{\"__metadata__\":\"x\"}"));

    [Fact]
    public void AHeaderWithANewlineInItsBadTokenStaysOneLine() // found by ParserFuzzTests.ModelFiles (seed aXoICfTD8j01)
    {
        string message = Rejected("{\"w\":{\"dtype\":\"F32\",\"sha\npe\":[1]}}");
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void ADuplicateTensorNameIsAFormatError() => // found by ParserFuzzTests.CheckpointsOnResume: ArgumentException from JsonObject
        Assert.Contains("malformed safetensors header", Rejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{}}", 4));

    [Fact]
    public void AnImageHeaderCannotAskForMoreMemoryThanTheBudget() // netpbm headers of 400 Mpixel and of 4e18 pixels, a few bytes each
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("big.pgm"), "P2 20000 20000 255 1 2 3");
        File.WriteAllText(dir.File("huge.ppm"), "P6 2000000000 2000000000 255 x");
        Assert.Throws<DataFormatException>(() => ImageFile.Read(dir.File("big.pgm")));
        Assert.Throws<DataFormatException>(() => ImageFile.Read(dir.File("huge.ppm")));
    }

    [Fact]
    public void AnIdxShapeWhoseProductOverflowsIsAFormatError()
    {
        using var dir = new TempDir();
        var bytes = new byte[] { 0, 0, 8, 3, 0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 1, 2 };
        File.WriteAllBytes(dir.File("x-idx3-ubyte"), bytes);
        Assert.Contains("promises more data", Assert.Throws<DataFormatException>(() => IdxFormat.Read(dir.File("x-idx3-ubyte"))).Message);
    }

    [Fact]
    public void AModelFileCannotAskForAnImplausibleNetwork() // a width of 1e9 would build a network that fills the memory
    {
        var meta = new Dictionary<string, string>
        {
            ["format"] = ModelFile.Format, ["arch"] = "resnet18", ["width"] = "1e9", ["in_channels"] = "1", ["classes"] = "10",
            ["image_size"] = "28", ["norm_mean"] = "0.5", ["norm_std"] = "0.25",
        };
        Assert.Contains("implausible model", Assert.Throws<SafetensorsException>(() => ModelFile.Describe(meta, "m.safetensors")).Message);
        meta["width"] = "1";
        meta["norm_std"] = "0";
        Assert.Contains("normalization", Assert.Throws<SafetensorsException>(() => ModelFile.Describe(meta, "m.safetensors")).Message);
    }

    [Fact]
    public void MetricsRowsWithANonIntegerEpochAreDroppedOnResumeAndNamedOnRead() // GetInt32 threw on "epoch": 1.5 and "epoch": "x"
    {
        using var dir = new TempDir();
        string path = dir.File("metrics.jsonl");
        File.WriteAllText(path, "{\"epoch\":1,\"accuracy\":0.5}\n{\"epoch\":1.5}\n{\"epoch\":\"x\"}\n[1]\n{\"epoch\":2,\"accuracy\":0.6}\n");
        var log = new MetricsLog(path);
        log.TruncateAfter(1);
        Assert.Equal([0.5], log.Column("accuracy"));
        File.WriteAllText(path, "{\"epoch\":1,\"accuracy\":0.5}\n{\"epoch\":\"x\"}\n");
        Assert.Contains("line 2 is not a metrics row", Assert.Throws<InvalidDataException>(() => log.ReadAll()).Message);
        File.WriteAllText(path, "{\"epoch\":1}\n");
        Assert.Contains("no number 'accuracy'", Assert.Throws<InvalidDataException>(() => log.Column("accuracy")).Message);
    }

    [Fact]
    public void ACheckpointWithAGarbledEpochCountIsAFormatError() // int.Parse threw FormatException
    {
        using var dir = new TempDir();
        var spec = new ModelSpec("mlp", 0.125f, 1, 3, 4);
        var model = spec.Create();
        var optimizer = new OptimizerConfig("sgd", 0.1f, 0.9f, 0f, false, "none").Create(model.Parameters());
        string path = dir.File("checkpoint.safetensors");
        Checkpoint.Save(path, model, spec, optimizer, 1, "fp");
        var (arrays, meta) = Safetensors.Read(path);
        meta["epochs_done"] = "1x";
        Safetensors.Write(path, arrays, meta);
        Assert.Contains("no valid 'epochs_done'", Assert.Throws<SafetensorsException>(() => Checkpoint.Load(path, model, optimizer, "fp")).Message);
    }

    [Fact]
    public void ACachedRunSummaryThatIsNotAnObjectIsAFormatError() // JsonSerializer threw JsonException; Ints threw on a non-integer
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("summary.json"), "[1, 2]");
        Assert.Throws<InvalidDataException>(() => RunFiles.ReadSummary(dir.File("summary.json")));
        File.WriteAllText(dir.File("summary.json"), "{\"histogram_before\": [1, 2.5]}");
        var summary = RunFiles.ReadSummary(dir.File("summary.json"));
        Assert.Throws<InvalidDataException>(() => StudyRuns.Ints(summary, "histogram_before"));
    }
}
