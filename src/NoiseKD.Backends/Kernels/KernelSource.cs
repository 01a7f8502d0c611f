using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace NoiseKD.Backends.Kernels;

/// <summary>
/// The device kernels of kernels/ (embedded in this assembly) as one program source: every *.cl file
/// in name order, with `#include "x.h"` replaced by the header's text the first time it is seen (the
/// headers carry include guards). OpenCL builds it as OpenCL C; NVRTC compiles the same text as CUDA C++,
/// where __CUDACC_RTC__ selects the CUDA half of portability.h.
/// </summary>
internal static partial class KernelSource
{
    const string Prefix = "kernels/";

    public static string Program { get; } = Assemble();

    /// <summary>The entry points of <see cref="Program"/> (every KERNEL function), for APIs that look kernels up by name (CUDA).</summary>
    public static IReadOnlyList<string> KernelNames { get; } = KernelDeclaration().Matches(Program).Select(m => m.Groups[1].Value).ToList();

    static string Assemble()
    {
        var assembly = typeof(KernelSource).Assembly;
        var names = assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)).ToList();
        var files = names.Where(n => n.EndsWith(".cl", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new InvalidOperationException("no kernels/*.cl resources in NoiseKD.Backends; the build did not embed them");
        var included = new HashSet<string>();
        var source = new StringBuilder();
        foreach (var file in files)
        {
            source.Append("/* ---- ").Append(file).Append(" ---- */\n");
            source.Append(Include().Replace(Read(assembly, file), m =>
            {
                string header = Prefix + m.Groups[1].Value;
                if (!names.Contains(header)) throw new InvalidOperationException($"{file} includes {m.Groups[1].Value}, which is not in kernels/");
                return included.Add(header) ? Read(assembly, header) : "";
            })).Append('\n');
        }
        return source.ToString();
    }

    static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"^KERNEL\s+void\s+(\w+)\s*\(", RegexOptions.Multiline)]
    private static partial Regex KernelDeclaration();

    [GeneratedRegex("^#include \"([^\"]+)\"[ \\t]*$", RegexOptions.Multiline)]
    private static partial Regex Include();
}
