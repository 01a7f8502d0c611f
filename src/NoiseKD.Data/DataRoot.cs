namespace NoiseKD.Data;

/// <summary>
/// Where datasets that the engine installs itself live when no --data-root is given:
/// $NOISEKD_DATA_ROOT, else $XDG_DATA_HOME/noisekd/datasets, else ~/.local/share/noisekd/datasets
/// (the XDG base-directory layout, so a per-user install needs no root).
/// </summary>
public static class DataRoot
{
    public static string Default
    {
        get
        {
            if (Environment.GetEnvironmentVariable("NOISEKD_DATA_ROOT") is { Length: > 0 } custom) return custom;
            string? xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
            string root = string.IsNullOrEmpty(xdg)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share")
                : xdg;
            return Path.Combine(root, "noisekd", "datasets");
        }
    }
}
