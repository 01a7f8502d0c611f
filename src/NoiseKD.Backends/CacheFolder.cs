namespace NoiseKD.Backends;

/// <summary>
/// Where the engine keeps what it can rebuild (compiled kernels, downloaded packages): ~/.cache/noisekd/&lt;kind&gt;/,
/// $XDG_CACHE_HOME respected, $NOISEKD_CACHE_DIR overrides.
/// </summary>
public static class CacheFolder
{
    public static string Of(string kind)
    {
        if (Environment.GetEnvironmentVariable("NOISEKD_CACHE_DIR") is { Length: > 0 } custom) return Path.Combine(custom, kind);
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = string.IsNullOrEmpty(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
            : xdg;
        return Path.Combine(root, "noisekd", kind);
    }
}
