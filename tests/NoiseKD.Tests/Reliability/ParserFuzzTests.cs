using System.Diagnostics;
using System.Text;
using CsCheck;
using NoiseKD.Data;
using NoiseKD.Distillation;
using NoiseKD.Models;
using NoiseKD.Optim;
using NoiseKD.Serialization;
using NoiseKD.Studies;
using NoiseKD.Training;
using Xunit;
using Xunit.Abstractions;

namespace NoiseKD.Tests.Reliability;

/// <summary>
/// Every parser of untrusted files, fuzzed for a bounded time with CsCheck: mutations of valid files and,
/// for safetensors, generated headers. Any exception other than our one-sentence format errors
/// (SafetensorsException, DataFormatException, InvalidDataException) fails and CsCheck prints the seed
/// that replays it. NOISEKD_FUZZ_SECONDS sets the time per parser (default 2 s for CI).
/// </summary>
public sealed class ParserFuzzTests(ITestOutputHelper output) : IDisposable
{
    static int Seconds => int.TryParse(Environment.GetEnvironmentVariable("NOISEKD_FUZZ_SECONDS"), out int s) && s > 0 ? s : 2;

    // On a RAM file system where there is one: the readers on resume rewrite their file atomically (fsync), which a disk makes slow.
    readonly TempDir _dir = new(Directory.Exists("/dev/shm") ? "/dev/shm" : null);
    public void Dispose() => _dir.Dispose();

    /// <summary>Runs <paramref name="parse"/> on generated inputs for the time budget; our format errors pass, anything else fails.</summary>
    void Fuzz<T>(string parser, Gen<T> inputs, Action<T> parse)
    {
        long executions = 0, rejected = 0;
        var clock = Stopwatch.StartNew();
        inputs.Sample(input =>
        {
            executions++;
            try { parse(input); }
            catch (Exception e) when (e is SafetensorsException or DataFormatException or InvalidDataException)
            {
                rejected++;
                if (e.Message.Contains('\n')) throw new InvalidOperationException($"format error of more than one line: {e.Message}");
            }
        }, time: Seconds, threads: 1);
        string line = $"fuzz {parser}: {executions} executions in {clock.Elapsed.TotalSeconds:F1} s, {rejected} rejected as format errors, no other exception";
        output.WriteLine(line);
        Console.WriteLine(line);
        Assert.True(executions > 0);
    }

    /// <summary>A valid file mutated 1 to 8 times.</summary>
    static Gen<byte[]> Mutated(params byte[][] valid) =>
        Gen.Select(Gen.Int[0, valid.Length - 1], Gen.ULong, Gen.Int[1, 8], (i, seed, n) => Mutations.Apply(valid[i], seed, n));

    static Gen<byte[]> Either(params (int Weight, Gen<byte[]> Gen)[] choices) =>
        Gen.Frequency(choices.Select(c => (c.Weight, (IGen<byte[]>)c.Gen)).ToArray());

    string Temp(byte[] bytes, string name = "fuzz")
    {
        string path = _dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    byte[] ValidSafetensors()
    {
        string path = _dir.File("valid.safetensors");
        Safetensors.Write(path, [new NamedArray("a.weight", [2, 3], [1, 2, 3, 4, 5, 6]), new NamedArray("n", [1], [7], "I64")],
                          new Dictionary<string, string> { ["format"] = "x", ["note"] = "y" });
        return File.ReadAllBytes(path);
    }

    /// <summary>Headers built from parts: shapes with negative, zero and huge dimensions, odd dtypes, offsets anywhere.</summary>
    static readonly Gen<byte[]> GeneratedSafetensors =
        Gen.Select(Gen.Int[-3, 1 << 20].Array[0, 4], Gen.OneOf("F32", "I64", "F16", "BF16", "U8", "BOOL", "F8", ""),
                   Gen.Long[-4, 1L << 40].Array[0, 3], Gen.Int[0, 64], Gen.Bool,
                   (shape, dtype, offsets, dataBytes, metadataIsString) =>
        {
            string header = $"{{{(metadataIsString ? "\"__metadata__\":\"x\"," : "")}\"t\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{string.Join(",", offsets)}]}}}}";
            byte[] json = Encoding.UTF8.GetBytes(header);
            var bytes = new byte[8 + json.Length + dataBytes];
            BitConverter.TryWriteBytes(bytes, (long)json.Length);
            json.CopyTo(bytes, 8);
            return bytes;
        });

    [Fact]
    public void Safetensors_()
    {
        var valid = ValidSafetensors();
        Fuzz("safetensors", Either((3, Mutated(valid)), (2, GeneratedSafetensors), (1, Gen.Byte.Array[0, 64])),
             bytes => Safetensors.Parse(bytes, "fuzz.safetensors"));
    }

    [Fact]
    public void ModelFiles()
    {
        var model = new ModelSpec("lenet5-half", 1f, 1, 10, 28).Create();
        string path = _dir.File("model.safetensors");
        ModelFile.Save(path, model, new ModelSpec("lenet5-half", 1f, 1, 10, 28), [0.5f], [0.25f]);
        var valid = File.ReadAllBytes(path);
        // Mutations reach the metadata (the JSON header) far more often when they are aimed at its bytes.
        int headerEnd = 8 + (int)BitConverter.ToInt64(valid);
        var header = valid[..headerEnd];
        Fuzz("model file", Either((1, Mutated(valid)), (3, Mutated(header).Select(h => h.Concat(valid[headerEnd..]).ToArray()))),
             bytes => ModelFile.Load(Temp(bytes)));
    }

    [Fact]
    public void Idx()
    {
        string raw = _dir.File("images-idx3-ubyte"), gz = _dir.File("images-idx3-ubyte.gz");
        var pixels = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)i).ToArray();
        IdxFormat.Write(raw, pixels, 2, 3, 4);
        IdxFormat.Write(gz, pixels, 2, 3, 4);
        Fuzz("IDX", Mutated(File.ReadAllBytes(raw), File.ReadAllBytes(gz)), bytes => IdxFormat.Read(Temp(bytes)));
    }

    [Fact]
    public void Cifar()
    {
        var data = new Dataset("c", Enumerable.Range(0, 2 * 3072).Select(i => (byte)i).ToArray(), [3, 7], 3, 32, 32, 10);
        string ten = _dir.File("ten.bin"), hundred = _dir.File("hundred.bin");
        CifarFormat.Write(ten, data, cifar100: false);
        CifarFormat.Write(hundred, data, cifar100: true);
        byte[] a = File.ReadAllBytes(ten), b = File.ReadAllBytes(hundred);
        Fuzz("CIFAR", Gen.Select(Mutated(a, b), Gen.Bool), input => CifarFormat.Read("cifar", [Temp(input.Item1)], input.Item2));
    }

    static byte[] ImagesPng()
    {
        using var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(3, 2);
        image[1, 1] = new SixLabors.ImageSharp.PixelFormats.Rgb24(10, 200, 30);
        using var stream = new MemoryStream();
        SixLabors.ImageSharp.ImageExtensions.SaveAsPng(image, stream);
        return stream.ToArray();
    }

    [Fact]
    public void Images()
    {
        // The image library's inputs (folder transfer sets): netpbm written by hand and a PNG written by ImageSharp as seeds.
        byte[] p2 = Encoding.ASCII.GetBytes("P2\n# c\n3 2\n255\n0 1 2\n3 4 5\n"), p3 = Encoding.ASCII.GetBytes("P3 2 1 65535 1 2 3 4 5 60000\n");
        byte[] p5 = [.. Encoding.ASCII.GetBytes("P5 3 1 255\n"), 0, 128, 255];
        Fuzz("image", Mutated(ImagesPng(), p2, p3, p5), bytes => ImageFile.Read(Temp(bytes)));
    }

    [Fact]
    public void MetricsOnResume()
    {
        byte[] valid = Encoding.UTF8.GetBytes("{\"epoch\":1,\"accuracy\":0.5,\"replay_bytes\":12}\n{\"epoch\":2,\"accuracy\":0.625,\"replay_bytes\":12}\n");
        Fuzz("metrics.jsonl", Gen.Select(Mutated(valid), Gen.Int[0, 3]), input =>
        {
            var log = new MetricsLog(Temp(input.Item1, "metrics.jsonl"));
            log.TruncateAfter(input.Item2);  // what a resume does first
            log.ReadAll();
            log.Column("accuracy");          // what pre-dfkd and its study read back
        });
    }

    [Fact]
    public void CheckpointsOnResume()
    {
        var spec = new ModelSpec("mlp", 0.125f, 1, 3, 4);
        var model = spec.Create();
        var optimizer = new OptimizerConfig("sgd", 0.1f, 0.9f, 0f, false, "none").Create(model.Parameters());
        string path = _dir.File("checkpoint.safetensors");
        Checkpoint.Save(path, model, spec, optimizer, 1, "fp", new PartialEpoch(3, [1.5, 2, 3, 4]).ToMetadata(new Dictionary<string, string> { ["transfer_position"] = "7" }));
        var valid = File.ReadAllBytes(path);
        int headerEnd = 8 + (int)BitConverter.ToInt64(valid);
        Fuzz("checkpoint", Either((1, Mutated(valid)), (3, Mutated(valid[..headerEnd]).Select(h => h.Concat(valid[headerEnd..]).ToArray()))), bytes =>
        {
            var (_, meta) = Checkpoint.Load(Temp(bytes, "checkpoint.safetensors"), model, optimizer, "fp");
            PartialEpoch.From(meta);
        });
    }

    [Fact]
    public void StudyRunFiles()
    {
        byte[] valid = Encoding.UTF8.GetBytes("{\n  \"acc_cs\": 0.5,\n  \"histogram_before\": [1, 2, 3],\n  \"transfer\": \"gaussian\"\n}");
        Fuzz("study run summary", Mutated(valid), bytes =>
        {
            var summary = RunFiles.ReadSummary(Temp(bytes, "summary.json"));
            foreach (string key in summary.Keys)
            {
                StudyRuns.Number(summary, key);
                StudyRuns.Ints(summary, key);
            }
        });
    }
}
