using System.Runtime.InteropServices;
using System.Text;

namespace NoiseKD.IO;

/// <summary>The libc calls <see cref="RunLock"/> and <see cref="AtomicFile"/> need that .NET's file APIs do not offer.</summary>
static unsafe partial class Posix
{
    [LibraryImport("libc", SetLastError = true)] private static partial int open(byte* path, int flags);
    [LibraryImport("libc", SetLastError = true)] private static partial nint read(int fd, byte* buffer, nint count);
    [LibraryImport("libc")] private static partial int close(int fd);
    [LibraryImport("libc", SetLastError = true)] private static partial int fsync(int fd);

    /// <summary>The first 64 bytes of <paramref name="path"/> as ASCII, or "" when it cannot be read.</summary>
    public static string ReadSmallFile(string path)
    {
        byte[] name = Encoding.UTF8.GetBytes(path + "\0");
        byte* buffer = stackalloc byte[64];
        int fd;
        fixed (byte* p = name) fd = open(p, 0); // O_RDONLY
        if (fd < 0) return "";
        try
        {
            nint n = read(fd, buffer, 64);
            return n > 0 ? Encoding.ASCII.GetString(buffer, (int)n) : "";
        }
        finally { close(fd); }
    }

    /// <summary>
    /// fsync on a folder, so a rename inside it survives a power cut, not only a crash of the process. Best
    /// effort: where a file system or platform cannot (EINVAL, no libc), the rename is still atomic.
    /// </summary>
    public static void SyncFolder(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        byte[] name = Encoding.UTF8.GetBytes(directory + "\0");
        int fd;
        fixed (byte* p = name) fd = open(p, 0); // O_RDONLY: enough to fsync a folder
        if (fd < 0) return;
        try { fsync(fd); }
        finally { close(fd); }
    }
}
