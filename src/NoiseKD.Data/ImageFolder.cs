namespace NoiseKD.Data;

/// <summary>
/// Every image under a folder, recursively, in any format <see cref="ImageFile"/> reads (decided by content,
/// not by extension). Files that do not decode are skipped and counted, with the first one's reason kept, so
/// one stray README or damaged photo does not stop a run; hidden files (.DS_Store, ...) are not looked at.
/// </summary>
public sealed record ImageFolder(string Path, IReadOnlyList<HostImage> Images, int Skipped, string? SkippedExample)
{
    public static ImageFolder Read(string folder, int? maxShorterEdge = null)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"image folder '{folder}' does not exist");
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                             .Where(f => !System.IO.Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal).ToList();
        var images = new List<HostImage>();
        int skipped = 0;
        string? example = null;
        foreach (string file in files)
        {
            try { images.Add(ImageFile.Read(file, maxShorterEdge)); }
            catch (DataFormatException e)
            {
                skipped++;
                example ??= e.Message;
            }
        }
        if (images.Count == 0)
            throw new DataFormatException(files.Count == 0
                ? $"image folder '{folder}' holds no files (PNG, JPEG, BMP, GIF, WebP, TIFF or PGM/PPM images, searched recursively)"
                : $"none of the {files.Count} files under '{folder}' is a readable image, e.g. {example}");
        return new ImageFolder(folder, images, skipped, example);
    }

    /// <summary>"" or "2 unreadable files skipped (e.g. cannot read image '...': ...)".</summary>
    public string SkippedNote => Skipped == 0 ? "" : $"{Skipped} unreadable file{(Skipped == 1 ? "" : "s")} skipped (e.g. {SkippedExample})";
}
