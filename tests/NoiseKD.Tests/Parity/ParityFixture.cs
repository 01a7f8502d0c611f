using System.Globalization;
using NoiseKD.Serialization;
using NoiseKD.Tensors;
using Xunit;

namespace NoiseKD.Tests.Parity;

/// <summary>
/// One PyTorch-generated fixture (tests/parity/fixtures/NAME.safetensors, written by
/// tests/parity/make_fixtures.py): named tensors plus string metadata describing the case.
/// </summary>
public sealed class ParityFixture
{
    static readonly Lazy<string> Folder = new(FindFolder);

    ParityFixture(string name, List<NamedArray> arrays, Dictionary<string, string> metadata)
    {
        Name = name;
        Arrays = arrays;
        Metadata = metadata;
        _byName = arrays.ToDictionary(a => a.Name);
    }

    readonly Dictionary<string, NamedArray> _byName;

    public string Name { get; }
    public IReadOnlyList<NamedArray> Arrays { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>tests/parity/fixtures, found by walking up from the test assembly to the repository root.</summary>
    public static string Directory => Folder.Value;

    public static string PathOf(string name) => Path.Combine(Directory, name + ".safetensors");

    public static ParityFixture Load(string name)
    {
        var (arrays, metadata) = Safetensors.Read(PathOf(name));
        return new ParityFixture(name, arrays, metadata);
    }

    /// <summary>Fixture names (without extension) starting with <paramref name="prefix"/>, for [MemberData].</summary>
    public static TheoryData<string> Names(string prefix, Func<string, bool>? where = null)
    {
        var data = new TheoryData<string>();
        foreach (var file in System.IO.Directory.GetFiles(Directory, prefix + "*.safetensors").Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileNameWithoutExtension(file);
            if (where is null || where(name)) data.Add(name);
        }
        return data;
    }

    public NamedArray this[string name] =>
        _byName.TryGetValue(name, out var a) ? a : throw new KeyNotFoundException($"fixture {Name} has no tensor '{name}'");

    public bool Has(string name) => _byName.ContainsKey(name);

    /// <summary>The tensors whose names start with <paramref name="prefix"/>, renamed to the rest of the name.</summary>
    public Dictionary<string, NamedArray> WithPrefix(string prefix) =>
        Arrays.Where(a => a.Name.StartsWith(prefix, StringComparison.Ordinal))
              .Select(a => a with { Name = a.Name[prefix.Length..] })
              .ToDictionary(a => a.Name);

    public Tensor Tensor(string name, bool requiresGrad = false)
    {
        var a = this[name];
        var t = Tensors.Tensor.FromArray(a.Data, a.Shape);
        t.RequiresGrad = requiresGrad;
        return t;
    }

    /// <summary>Item <paramref name="index"/> along the first axis of a stacked tensor ("steps.input"[s]).</summary>
    public Tensor Slice(string name, int index)
    {
        var a = this[name];
        int[] shape = a.Shape[1..];
        int size = (int)Shape.Numel(shape);
        return Tensors.Tensor.FromArray(a.Data.AsSpan(index * size, size), shape);
    }

    public string Text(string key) =>
        Metadata.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"fixture {Name} has no metadata '{key}'");

    public int Int(string key) => int.Parse(Text(key), CultureInfo.InvariantCulture);
    public float Float(string key) => float.Parse(Text(key), CultureInfo.InvariantCulture);
    public bool Bool(string key) => bool.Parse(Text(key));

    static string FindFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "parity", "fixtures");
            if (System.IO.Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException($"tests/parity/fixtures not found above {AppContext.BaseDirectory}; run /usr/bin/python3 tests/parity/make_fixtures.py");
    }
}
