using System.Security.Cryptography;
using System.Text;

namespace NoiseKD.Backends.Kernels;

/// <summary>
/// Where compiled kernels persist between runs: ~/.cache/noisekd/&lt;device kind&gt;/ ($XDG_CACHE_HOME
/// respected, $NOISEKD_CACHE_DIR overrides), one file per sha256 of everything the compiled form depends
/// on. A cache that cannot be written only costs the next run a compile.
/// </summary>
internal static class KernelCache
{
    /// <summary>The cache folder of one kind of device ("opencl", "cuda").</summary>
    public static string Directory(string kind) => CacheFolder.Of(kind);

    /// <summary>The lowercase hex sha256 of the parts joined by newlines: a cache file's name.</summary>
    public static string Key(params string[] parts)
        => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", parts))));

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically; false (and nothing written) when the folder is not writable.</summary>
    public static bool TryWrite(string path, byte[] bytes)
    {
        // NoiseKD.IO.AtomicFile lives above this assembly; a cache write may fail quietly, but leaves no temporary file.
        string temporary = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(temporary, bytes);
            File.Move(temporary, path, overwrite: true); // a concurrent reader sees the old file or the whole new one
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temporary); } catch (Exception d) when (d is IOException or UnauthorizedAccessException) { }
            return false;
        }
    }
}
