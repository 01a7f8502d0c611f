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
    /// <summary>
    /// The given values, else those the weights show under the architecture's own tensor names: input channels and
    /// width from the first convolution ([out, in, k, k]; the width whose model has that many output channels),
    /// classes from the last Linear weight; else 3 input channels, width 1 and 10 classes.
    /// </summary>
    public static (int InChannels, float Width, int Classes) Infer(string arch, float? width, IReadOnlyList<NamedArray> arrays, string prefix, int? inChannels, int? classes)
    {
        var probe = new ModelSpec(arch, width ?? 1f).Create(); // a bad architecture fails here, before anything is read
        var byName = arrays.ToDictionary(a => a.Name, a => a.Shape);
        var weights = probe.StateDict().Where(t => t.Name.EndsWith(".weight", StringComparison.Ordinal)).ToList();
        var conv = weights.FirstOrDefault(t => t.Value.Shape.Length == 4);
        int[]? c = conv.Name is not null && byName.TryGetValue(prefix + conv.Name, out var shape) && shape.Length == 4 ? shape : null;
        int? seenClasses = weights.LastOrDefault(t => t.Value.Shape.Length == 2) is { Name: { } fc } && byName.TryGetValue(prefix + fc, out var f) && f.Length == 2 ? f[0] : null;
        float? seenWidth = width is null && c is not null ? WidthFor(arch, conv.Name!, conv.Value.Shape[0], c[0]) : null;
        return (inChannels ?? c?[1] ?? 3, width ?? seenWidth ?? 1f, classes ?? seenClasses ?? 10);
    }

    /// <summary>The width (of the usual ones, nearest the channel ratio first) at which <paramref name="conv"/> has <paramref name="channels"/> outputs.</summary>
    static float? WidthFor(string arch, string conv, int channelsAtWidth1, int channels)
    {
        float ratio = (float)channels / channelsAtWidth1;
        foreach (float w in new[] { 0.0625f, 0.125f, 0.25f, 0.375f, 0.5f, 0.75f, 1f, 1.5f, 2f, 4f, 8f }.OrderBy(w => Math.Abs(Math.Log(w / ratio))).Take(2))
            if (new ModelSpec(arch, w).Create().StateDict().First(t => t.Name == conv).Value.Shape[0] == channels) return w;
        return null;
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
