using NoiseKD.Nn;
using NoiseKD.Serialization;

namespace NoiseKD.Models;

/// <summary>Converts a module's state dict to and from safetensors arrays (PyTorch names, num_batches_tracked as I64).</summary>
public static class StateDictIo
{
    public static IEnumerable<NamedArray> ToArrays(Module module, string prefix = "") =>
        module.StateDict().Select(e => new NamedArray(prefix + e.Name, e.Value.Shape, e.Value.ToArray(),
                                                      e.Name.EndsWith("num_batches_tracked", StringComparison.Ordinal) ? "I64" : "F32"));

    /// <summary>Loads arrays whose names start with <paramref name="prefix"/> (prefix stripped) into the module.</summary>
    public static void Load(Module module, IEnumerable<NamedArray> arrays, string prefix = "", bool strict = true)
    {
        var state = arrays.Where(a => a.Name.StartsWith(prefix, StringComparison.Ordinal))
                          .ToDictionary(a => a.Name[prefix.Length..], a => (a.Shape, a.Data));
        module.LoadStateDict(state, strict);
    }
}
