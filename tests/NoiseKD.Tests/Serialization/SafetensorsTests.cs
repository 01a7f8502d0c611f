using System.Buffers.Binary;
using System.Text;
using NoiseKD.Serialization;
using Xunit;

namespace NoiseKD.Tests.Serialization;

public class SafetensorsTests
{
    [Fact]
    public void RoundTripsWithMetadataAndLayout()
    {
        using var dir = new TempDir();
        var a = new NamedArray("layer.weight", [2, 3], [1, 2, 3, 4, 5, -6.5f]);
        var b = new NamedArray("bn.num_batches_tracked", [], [42], "I64");
        Safetensors.Write(dir.File("m.safetensors"), [a, b], new Dictionary<string, string> { ["arch"] = "x" });
        var bytes = File.ReadAllBytes(dir.File("m.safetensors"));
        long n = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.Contains("\"data_offsets\":[0,24]", header);
        Assert.Contains("\"dtype\":\"I64\"", header);
        Assert.Equal(8 + n + 24 + 8, bytes.Length);
        Assert.Equal(-6.5f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)(8 + n + 20))));

        var (tensors, meta) = Safetensors.Read(dir.File("m.safetensors"));
        Assert.Equal("x", meta["arch"]);
        Assert.Equal(a.Data, tensors[0].Data);
        Assert.Equal([2, 3], tensors[0].Shape);
        Assert.Equal(42f, tensors[1].Data[0]);
        Assert.Empty(tensors[1].Shape);
    }

    [Fact]
    public void ReadsHalfPrecisionAndDoubles()
    {
        // Written by hand in the published layout: F16 [1.5, -2], F64 [0.25], BF16 [3].
        string json = "{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[4,12]},\"b\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[12,14]}}";
        var head = Encoding.UTF8.GetBytes(json);
        var data = new byte[14];
        BinaryPrimitives.WriteHalfLittleEndian(data, (Half)1.5f);
        BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(2), (Half)(-2f));
        BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(4), 0.25);
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(12), (ushort)(BitConverter.SingleToInt32Bits(3f) >> 16));
        var file = new byte[8 + head.Length + data.Length];
        BinaryPrimitives.WriteInt64LittleEndian(file, head.Length);
        head.CopyTo(file, 8);
        data.CopyTo(file, 8 + head.Length);
        var (tensors, _) = Safetensors.Parse(file, "mem");
        Assert.Equal([1.5f, -2f], tensors.Single(t => t.Name == "h").Data);
        Assert.Equal([0.25f], tensors.Single(t => t.Name == "d").Data);
        Assert.Equal([3f], tensors.Single(t => t.Name == "b").Data);
    }

    [Fact]
    public void TruncatedFileIsAClearError()
    {
        using var dir = new TempDir();
        Safetensors.Write(dir.File("m"), [new NamedArray("w", [100], new float[100])]);
        var bytes = File.ReadAllBytes(dir.File("m"));
        File.WriteAllBytes(dir.File("m"), bytes[..^8]);
        var e = Assert.Throws<SafetensorsException>(() => Safetensors.Read(dir.File("m")));
        Assert.Contains("'w'", e.Message);
        File.WriteAllBytes(dir.File("m"), Encoding.ASCII.GetBytes("not a tensor file at all"));
        Assert.Throws<SafetensorsException>(() => Safetensors.Read(dir.File("m")));
    }

    [Fact]
    public void WriteIsAtomicAndLeavesNoTemporaryFile()
    {
        using var dir = new TempDir();
        Safetensors.Write(dir.File("m"), [new NamedArray("w", [1], [1f])]);
        Safetensors.Write(dir.File("m"), [new NamedArray("w", [1], [2f])]);
        Assert.Equal([2f], Safetensors.Read(dir.File("m")).Tensors[0].Data);
        Assert.Single(Directory.GetFiles(dir.Path));
    }
}
