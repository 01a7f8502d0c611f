using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoiseKD.IO;

namespace NoiseKD.Serialization;

/// <summary>One tensor read from or written to a safetensors file, as float32 on the host.</summary>
public sealed record NamedArray(string Name, int[] Shape, float[] Data, string DType = "F32");

/// <summary>
/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header mapping
/// each tensor name to {dtype, shape, data_offsets [begin, end)} relative to the data section, an
/// optional "__metadata__" string map, then the raw little-endian data. We read F32, F64, F16, BF16,
/// I64, I32, I16, I8, U8 and BOOL (converted to float32) and write F32, or I64 for integer counters
/// such as num_batches_tracked.
/// </summary>
public static class Safetensors
{
    const long MaxHeader = 100L << 20;

    public static (List<NamedArray> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SafetensorsException($"cannot read '{path}': {e.Message}");
        }
        return Parse(bytes, path);
    }

    public static (List<NamedArray> Tensors, Dictionary<string, string> Metadata) Parse(byte[] bytes, string source)
    {
        if (bytes.Length < 8) throw new SafetensorsException($"'{source}' is too short to be a safetensors file");
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        if (headerLength <= 0 || headerLength > MaxHeader || 8 + headerLength > bytes.Length)
            throw new SafetensorsException($"'{source}' is not a safetensors file (header length {headerLength} does not fit a {bytes.Length}-byte file)");
        List<KeyValuePair<string, JsonNode?>> header;
        // Listed inside the try: JsonObject finds a duplicate name only when first enumerated (ArgumentException; found by fuzzing).
        try { header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength))!.AsObject().ToList(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or ArgumentException)
        {
            throw new SafetensorsException($"'{source}' has a malformed safetensors header: {Printable.OneLine(e.Message)}");
        }
        long dataStart = 8 + headerLength, dataLength = bytes.Length - dataStart;
        var metadata = new Dictionary<string, string>();
        var tensors = new List<NamedArray>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                if (node is not JsonObject meta) throw new SafetensorsException($"'{source}': the header's __metadata__ is not an object of strings");
                foreach (var (k, v) in meta) metadata[k] = v?.ToString() ?? "";
                continue;
            }
            try
            {
                var entry = node!.AsObject();
                string dtype = entry["dtype"]!.GetValue<string>();
                int[] shape = entry["shape"]!.AsArray().Select(d => d!.GetValue<int>()).ToArray();
                var offsets = entry["data_offsets"]!.AsArray();
                if (offsets.Count != 2) throw new SafetensorsException($"'{source}': tensor '{Printable.OneLine(name)}' has {offsets.Count} data offsets, not 2");
                long begin = offsets[0]!.GetValue<long>(), end = offsets[1]!.GetValue<long>();
                int width = ElementSize(dtype, name, source);
                long count = ElementCount(shape, name, source);
                if (begin < 0 || end < begin || end > dataLength)
                    throw new SafetensorsException($"'{source}': tensor '{Printable.OneLine(name)}' has data offsets [{begin}, {end}) outside the {dataLength}-byte data section (file truncated?)");
                // Checked against the bytes present before anything is allocated: a header cannot make us allocate more than the file holds.
                if (end - begin != count * width)
                    throw new SafetensorsException($"'{source}': tensor '{Printable.OneLine(name)}' ({dtype} [{string.Join(", ", shape)}]) needs {count * width} bytes, its data offsets hold {end - begin}");
                tensors.Add(new NamedArray(name, shape, Decode(bytes.AsSpan((int)(dataStart + begin), (int)(end - begin)), dtype, (int)count), dtype));
            }
            catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException or JsonException)
            {
                throw new SafetensorsException($"'{source}': header entry '{Printable.OneLine(name)}' is malformed ({Printable.OneLine(e.Message)})");
            }
        }
        return (tensors, metadata);
    }

    /// <summary>Writes atomically through <see cref="AtomicFile"/>: a crash or a full disk never leaves half a file.</summary>
    public static void Write(string path, IEnumerable<NamedArray> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        foreach (var t in list)
        {
            if (t.Data.Length != t.Shape.Aggregate(1L, (a, d) => a * d))
                throw new ArgumentException($"tensor '{t.Name}': {t.Data.Length} values for shape [{string.Join(", ", t.Shape)}]");
            long size = (long)t.Data.Length * ElementSize(t.DType, t.Name, path);
            header[t.Name] = new JsonObject
            {
                ["dtype"] = t.DType,
                ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + size),
            };
            offset += size;
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8; // the format pads the header with spaces to 8 bytes
        AtomicFile.Write(path, file =>
        {
            Span<byte> eight = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(eight, padded);
            file.Write(eight);
            file.Write(json);
            for (int i = json.Length; i < padded; i++) file.WriteByte((byte)' ');
            foreach (var t in list) Encode(file, t);
        });
    }

    /// <summary>The product of the dimensions in checked arithmetic; a negative dimension or an overflow is a format error.</summary>
    static long ElementCount(int[] shape, string name, string source)
    {
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new SafetensorsException($"'{source}': tensor '{Printable.OneLine(name)}' has a negative dimension in shape [{string.Join(", ", shape)}]");
            try { count = checked(count * d); }
            catch (OverflowException) { throw new SafetensorsException($"'{source}': tensor '{Printable.OneLine(name)}' has a shape [{string.Join(", ", shape)}] too large to hold"); }
        }
        return count;
    }

    static int ElementSize(string dtype, string name, string source) => dtype switch
    {
        "F64" or "I64" or "U64" => 8,
        "F32" or "I32" or "U32" => 4,
        "F16" or "BF16" or "I16" or "U16" => 2,
        "I8" or "U8" or "BOOL" => 1,
        _ => throw new SafetensorsException($"'{source}': tensor '{Printable.OneLine(name)}' has unsupported dtype '{Printable.OneLine(dtype)}'"),
    };

    static float[] Decode(ReadOnlySpan<byte> raw, string dtype, int count)
    {
        var result = new float[count];
        for (int i = 0; i < count; i++)
        {
            result[i] = dtype switch
            {
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]),
                "F64" => (float)BinaryPrimitives.ReadDoubleLittleEndian(raw[(8 * i)..]),
                "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(raw[(2 * i)..]),
                "BF16" => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(raw[(2 * i)..]) << 16),
                "I64" => BinaryPrimitives.ReadInt64LittleEndian(raw[(8 * i)..]),
                "U64" => BinaryPrimitives.ReadUInt64LittleEndian(raw[(8 * i)..]),
                "I32" => BinaryPrimitives.ReadInt32LittleEndian(raw[(4 * i)..]),
                "U32" => BinaryPrimitives.ReadUInt32LittleEndian(raw[(4 * i)..]),
                "I16" => BinaryPrimitives.ReadInt16LittleEndian(raw[(2 * i)..]),
                "U16" => BinaryPrimitives.ReadUInt16LittleEndian(raw[(2 * i)..]),
                "I8" => (sbyte)raw[i],
                _ => raw[i], // U8, BOOL
            };
        }
        return result;
    }

    static void Encode(Stream stream, NamedArray t)
    {
        var buffer = new byte[1 << 16];
        int width = t.DType == "I64" ? 8 : 4;
        if (t.DType is not ("F32" or "I64")) throw new ArgumentException($"writing dtype {t.DType} is not supported (F32, I64)");
        int per = buffer.Length / width, done = 0;
        while (done < t.Data.Length)
        {
            int n = Math.Min(per, t.Data.Length - done);
            for (int i = 0; i < n; i++)
            {
                if (width == 8) BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(8 * i), (long)t.Data[done + i]);
                else BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(4 * i), t.Data[done + i]);
            }
            stream.Write(buffer, 0, n * width);
            done += n;
        }
    }
}

/// <summary>A safetensors file is missing, truncated or malformed (a user error).</summary>
public sealed class SafetensorsException(string message) : Exception(message);
