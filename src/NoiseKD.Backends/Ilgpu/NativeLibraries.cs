using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace NoiseKD.Backends.Ilgpu;

/// <summary>
/// ILGPU asks the loader for the unversioned driver names (libOpenCL.so, libcuda.so), which only the
/// -dev packages install; drivers ship the versioned sonames. This maps them once per process through
/// <see cref="AssemblyLoadContext.ResolvingUnmanagedDll"/> (a DllImport resolver on ILGPU's own assembly
/// would replace the one ILGPU sets itself).
/// </summary>
internal static class NativeLibraries
{
    static readonly Lazy<bool> Installed = new(() =>
    {
        AssemblyLoadContext.Default.ResolvingUnmanagedDll += Resolve;
        return true;
    });

    public static void Install() => _ = Installed.Value;

    static nint Resolve(Assembly assembly, string name)
    {
        string? versioned = Path.GetFileName(name) switch
        {
            "libOpenCL.so" or "OpenCL" or "libOpenCL" => "libOpenCL.so.1",
            "libcuda.so" or "cuda" or "libcuda" or "nvcuda" => "libcuda.so.1",
            _ => null,
        };
        return versioned is not null && NativeLibrary.TryLoad(versioned, out nint handle) ? handle : 0;
    }
}
