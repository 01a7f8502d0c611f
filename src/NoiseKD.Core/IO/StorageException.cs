namespace NoiseKD.IO;

/// <summary>
/// The machine, not the user's input, stopped a write: no space left, permission denied, a read-only
/// folder, a path that is a file, a folder that vanished. The message is one sentence naming the path and
/// the cause; the command line exits with its own code (3) for it.
/// </summary>
public sealed class StorageException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>"cannot ACTION 'PATH': CAUSE" for an I/O failure, the cause named from the OS error.</summary>
    public static StorageException For(string action, string path, Exception e) => new($"cannot {action} '{path}': {Cause(e)}", e);

    /// <summary>The OS error behind <paramref name="e"/> in a few words (.NET on Unix keeps errno in HResult for plain IOExceptions).</summary>
    public static string Cause(Exception e) => e switch
    {
        StorageException s => s.Message,
        UnauthorizedAccessException => "permission denied",
        DirectoryNotFoundException => "the folder does not exist (was it removed?)",
        FileNotFoundException => "the file does not exist (was it removed?)",
        IOException io => io.HResult switch
        {
            28 => "no space left on device",
            122 => "disk quota exceeded",
            30 => "read-only file system",
            13 or 1 => "permission denied",
            20 => "a part of the path is a file, not a folder",
            21 => "it is a folder, not a file",
            5 => "input/output error",
            27 => "file too large",
            _ => io.Message.TrimEnd('.'),
        },
        _ => e.Message.TrimEnd('.'),
    };
}
