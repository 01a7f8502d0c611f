using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace NoiseKD.Backends.Cuda;

/// <summary>
/// Finds the two native libraries the CUDA backend binds: the driver (libcuda.so.1, installed with the
/// NVIDIA driver, normally on the loader's path) and NVRTC (libnvrtc.so.N, part of the CUDA toolkit or
/// of pip's nvidia-cuda-nvrtc wheel, normally NOT on the loader's path). The search is a pure function
/// of the environment and the folders' contents, so it is tested with fake folders; the result feeds a
/// DllImport resolver that maps the logical names of <see cref="CudaNative"/> and <see cref="NvrtcNative"/>.
/// </summary>
public static class CudaLibraries
{
    /// <summary>Environment variable naming the NVRTC library file, or a folder holding it.</summary>
    public const string NvrtcVariable = "NOISEKD_NVRTC";

    static readonly Lazy<string?> NvrtcFile = new(() => FindNvrtc(Environment.GetEnvironmentVariable, "/usr/local"));
    static readonly Lazy<string?> DriverFile = new(() => Find(DriverDirectories(Environment.GetEnvironmentVariable), "libcuda"));
    static int _resolverSet;

    /// <summary>The NVRTC library this process uses (null: none found).</summary>
    public static string? Nvrtc => NvrtcFile.Value;

    /// <summary>The driver library found in the usual folders (null: left to the loader's own search for libcuda.so.1).</summary>
    public static string? Driver => DriverFile.Value;

    /// <summary>
    /// Folders searched for NVRTC, in order: $NOISEKD_NVRTC (a folder), $CUDA_HOME/lib64, $CUDA_PATH/lib64,
    /// $LD_LIBRARY_PATH, /usr/local/cuda/lib64 and its targets folder, then /usr/local/cuda-X.Y/lib64 newest
    /// first, then the distribution's library folders.
    /// </summary>
    public static IReadOnlyList<string> NvrtcDirectories(Func<string, string?> environment, string usrLocal)
    {
        var folders = new List<string>();
        if (environment(NvrtcVariable) is { Length: > 0 } custom && !File.Exists(custom)) folders.Add(custom);
        foreach (var home in new[] { "CUDA_HOME", "CUDA_PATH" })
            if (environment(home) is { Length: > 0 } root) folders.Add(Path.Combine(root, "lib64"));
        folders.AddRange(LoaderPath(environment));
        string cuda = Path.Combine(usrLocal, "cuda");
        folders.Add(Path.Combine(cuda, "lib64"));
        folders.Add(Path.Combine(cuda, "targets", "x86_64-linux", "lib"));
        if (Directory.Exists(usrLocal))
            folders.AddRange(Directory.GetDirectories(usrLocal, "cuda-*")
                                      .OrderByDescending(d => VersionOf(Path.GetFileName(d)["cuda-".Length..]))
                                      .Select(d => Path.Combine(d, "lib64")));
        folders.AddRange(SystemDirectories);
        return folders.Distinct().ToList();
    }

    /// <summary>Folders searched for the driver: $LD_LIBRARY_PATH, then where drivers, containers and WSL put libcuda.</summary>
    public static IReadOnlyList<string> DriverDirectories(Func<string, string?> environment)
        => LoaderPath(environment).Concat(SystemDirectories).Concat(["/usr/local/nvidia/lib64", "/usr/lib/wsl/lib"]).Distinct().ToList();

    static readonly string[] SystemDirectories = ["/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"];

    static IEnumerable<string> LoaderPath(Func<string, string?> environment)
        => (environment("LD_LIBRARY_PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>$NOISEKD_NVRTC when it names a file, else the first match in <see cref="NvrtcDirectories"/>.</summary>
    public static string? FindNvrtc(Func<string, string?> environment, string usrLocal)
    {
        if (environment(NvrtcVariable) is { Length: > 0 } custom && File.Exists(custom)) return custom;
        return Find(NvrtcDirectories(environment, usrLocal), "libnvrtc");
    }

    /// <summary>
    /// The library <paramref name="stem"/>.so[.N[.M...]] (or torch's hashed stem-1a2b3c4d.so.N) in the first
    /// folder that has one; within a folder the highest version wins (libnvrtc.so.12.4.127 over libnvrtc.so.12
    /// over the unversioned development link). Missing folders are skipped.
    /// </summary>
    public static string? Find(IEnumerable<string> directories, string stem)
    {
        var pattern = new Regex($"^{Regex.Escape(stem)}(-[0-9a-f]{{8}})?\\.so((\\.[0-9]+)*)$");
        foreach (var folder in directories)
        {
            if (!Directory.Exists(folder)) continue;
            var best = Directory.EnumerateFiles(folder)
                                .Select(f => (File: f, Match: pattern.Match(Path.GetFileName(f))))
                                .Where(m => m.Match.Success)
                                .OrderByDescending(m => VersionOf(m.Match.Groups[2].Value.TrimStart('.')))
                                .Select(m => m.File)
                                .FirstOrDefault();
            if (best is not null) return best;
        }
        return null;
    }

    /// <summary>"12.4.127" as comparable numbers; "" (an unversioned name) sorts lowest.</summary>
    static Version VersionOf(string dotted)
    {
        var parts = dotted.Split('.', StringSplitOptions.RemoveEmptyEntries).Select(p => int.TryParse(p, out int v) ? v : 0).Take(4).ToList();
        while (parts.Count < 2) parts.Add(0);
        return parts.Count switch
        {
            2 => new Version(parts[0], parts[1]),
            3 => new Version(parts[0], parts[1], parts[2]),
            _ => new Version(parts[0], parts[1], parts[2], parts[3]),
        };
    }

    /// <summary>Maps the logical library names of the bindings to the files found above (once per process).</summary>
    internal static void EnsureResolver()
    {
        if (Interlocked.Exchange(ref _resolverSet, 1) == 1) return;
        NativeLibrary.SetDllImportResolver(typeof(CudaLibraries).Assembly, Resolve);
    }

    static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        string? file = name switch
        {
            CudaNative.Library => Driver,
            NvrtcNative.Library => Nvrtc,
            _ => null,
        };
        // 0 falls back to the runtime's own probing (the loader path for libcuda.so.1).
        return file is not null && NativeLibrary.TryLoad(file, out nint handle) ? handle : 0;
    }
}
