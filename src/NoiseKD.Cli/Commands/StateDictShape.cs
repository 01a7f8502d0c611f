using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.Serialization;

namespace NoiseKD.Cli.Commands;

/// <summary>
/// What `import` can read from a state dict before loading it: the input channels (the first convolution's
/// weight [out, in, k, k]) and the classes (the last Linear weight [classes, features]), and, when it does not
/// fit, the likely reason in words (a wrapper's prefix, torchvision's ImageNet stem).
/// </summary>
public static class StateDictShape
{
    /// <summary>The given values, else those the weights show under the architecture's own tensor names, else 3 and 10.</summary>
    public static (int InChannels, int Classes) Infer(string arch, float width, IReadOnlyList<NamedArray> arrays, string prefix, int? inChannels, int? classes)
    {
        var probe = new ModelSpec(arch, width).Create(); // a bad architecture fails here, before anything is read
        var byName = arrays.ToDictionary(a => a.Name, a => a.Shape);
        var weights = probe.StateDict().Where(t => t.Name.EndsWith(".weight", StringComparison.Ordinal)).ToList();
        int? seenIn = weights.FirstOrDefault(t => t.Value.Shape.Length == 4) is { Name: { } conv } && byName.TryGetValue(prefix + conv, out var c) && c.Length == 4 ? c[1] : null;
        int? seenClasses = weights.LastOrDefault(t => t.Value.Shape.Length == 2) is { Name: { } fc } && byName.TryGetValue(prefix + fc, out var f) && f.Length == 2 ? f[0] : null;
        return (inChannels ?? seenIn ?? 3, classes ?? seenClasses ?? 10);
    }

    /// <summary>"; every name starts with 'module.': pass --prefix module." and the like, or "".</summary>
    public static string Hint(Module model, IReadOnlyList<NamedArray> arrays, string prefix)
    {
        var names = arrays.Select(a => a.Name).ToList();
        string? first = model.StateDict().FirstOrDefault(t => t.Value.Shape.Length == 4).Name;
        if (prefix.Length == 0 && names.Count > 0 && names[0].IndexOf('.') is int dot and > 0)
        {
            string common = names[0][..(dot + 1)];
            if (names.All(n => n.StartsWith(common, StringComparison.Ordinal)) && names.Any(n => model.StateDict().Any(t => common + t.Name == n)))
                return $"; every tensor name starts with '{common}': pass --prefix {common}";
        }
        if (first is not null && arrays.FirstOrDefault(a => a.Name == prefix + first) is { Shape: [_, _, 7, 7] }
            && model.StateDict().First(t => t.Name == first).Value.Shape is [_, _, not 7, _])
            return "; its first convolution is 7x7, as in torchvision's ImageNet ResNet (7x7 stride-2 stem and max-pool), which this CIFAR-style " +
                   "ResNet (3x3 stem) does not have, so those weights cannot be imported";
        return "";
    }
}
