namespace NoiseKD.IO;

/// <summary>Text quoted from a hostile file, made safe for a one-sentence error message.</summary>
public static class Printable
{
    /// <summary>Control characters (newlines included) as '?', at most 200 characters (parsers quote the bytes they choked on).</summary>
    public static string OneLine(string text)
    {
        var chars = text.Select(c => char.IsControl(c) ? '?' : c).ToArray();
        return chars.Length <= 200 ? new string(chars) : new string(chars, 0, 200) + "...";
    }
}
