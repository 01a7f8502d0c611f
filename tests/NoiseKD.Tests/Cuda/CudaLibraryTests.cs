using NoiseKD.Backends.Cuda;
using Xunit;

namespace NoiseKD.Tests.Cuda;

/// <summary>Where the backend looks for NVRTC and the driver, checked on fake folders of empty files (no GPU needed).</summary>
public class CudaLibraryTests
{
    static string Touch(string folder, string name)
    {
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, name);
        File.WriteAllBytes(path, []);
        return path;
    }

    static Func<string, string?> Environment(params (string Name, string Value)[] variables)
        => name => variables.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void HighestVersionInAFolderWins()
    {
        using var dir = new TempDir();
        Touch(dir.Path, "libnvrtc.so");
        Touch(dir.Path, "libnvrtc.so.12");
        string full = Touch(dir.Path, "libnvrtc.so.12.4.127");
        Touch(dir.Path, "libnvrtc.so.11.8");
        Touch(dir.Path, "libnvrtc-builtins.so.12.4"); // loaded by NVRTC itself, never by us
        Touch(dir.Path, "libnvrtc.so.12.4.127.bak");
        Assert.Equal(full, CudaLibraries.Find([dir.Path], "libnvrtc"));
    }

    [Fact]
    public void FirstFolderWithALibraryWins()
    {
        using var dir = new TempDir();
        string empty = Path.Combine(dir.Path, "empty"), missing = Path.Combine(dir.Path, "missing");
        Directory.CreateDirectory(empty);
        string first = Touch(Path.Combine(dir.Path, "a"), "libnvrtc.so.11.2");
        Touch(Path.Combine(dir.Path, "b"), "libnvrtc.so.12.4");
        Assert.Equal(first, CudaLibraries.Find([missing, empty, Path.GetDirectoryName(first)!, Path.Combine(dir.Path, "b")], "libnvrtc"));
        Assert.Null(CudaLibraries.Find([missing, empty], "libnvrtc"));
    }

    [Fact]
    public void TorchsHashedNvrtcCounts()
    {
        using var dir = new TempDir();
        string hashed = Touch(dir.Path, "libnvrtc-672ee683.so.11.2");
        Touch(dir.Path, "libnvrtc-builtins-5e3b6b4a.so.11.2");
        Assert.Equal(hashed, CudaLibraries.Find([dir.Path], "libnvrtc"));
    }

    [Fact]
    public void DriverSearchIgnoresOtherCudaLibraries()
    {
        using var dir = new TempDir();
        Touch(dir.Path, "libcudart.so.12");
        Touch(dir.Path, "libcudadebugger.so.1");
        Assert.Null(CudaLibraries.Find([dir.Path], "libcuda"));
        string driver = Touch(dir.Path, "libcuda.so.535.104.05");
        Touch(dir.Path, "libcuda.so.1");
        Assert.Equal(driver, CudaLibraries.Find([dir.Path], "libcuda"));
    }

    [Fact]
    public void NvrtcFoldersFollowTheEnvironmentThenTheToolkitsNewestFirst()
    {
        using var usrLocal = new TempDir();
        foreach (var version in new[] { "cuda-11.8", "cuda-12.4", "cuda-12.10" }) Directory.CreateDirectory(usrLocal.File(version));
        var folders = CudaLibraries.NvrtcDirectories(
            Environment(("NOISEKD_NVRTC", "/opt/nvrtc"), ("CUDA_HOME", "/opt/cuda"), ("LD_LIBRARY_PATH", "/x:/y")), usrLocal.Path);
        Assert.Equal(["/opt/nvrtc", "/opt/cuda/lib64", "/x", "/y", usrLocal.File("cuda/lib64"), usrLocal.File("cuda/targets/x86_64-linux/lib"),
                      usrLocal.File("cuda-12.10/lib64"), usrLocal.File("cuda-12.4/lib64"), usrLocal.File("cuda-11.8/lib64"),
                      "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"], folders);
    }

    [Fact]
    public void NvrtcVariableMayNameTheFileItself()
    {
        using var dir = new TempDir();
        string custom = Touch(dir.Path, "my-nvrtc.so");
        Touch(Path.Combine(dir.Path, "cuda", "lib64"), "libnvrtc.so.12");
        Assert.Equal(custom, CudaLibraries.FindNvrtc(Environment(("NOISEKD_NVRTC", custom)), dir.Path));
        Assert.Equal(Path.Combine(dir.Path, "cuda", "lib64", "libnvrtc.so.12"), CudaLibraries.FindNvrtc(Environment(), dir.Path));
    }

    [Fact]
    public void WithoutTheLibrariesDevicesSaysWhyInOneSentence()
    {
        if (CudaDevices.All.Count > 0) return; // a CUDA machine: nothing to explain
        Assert.NotNull(CudaDevices.Problem);
        Assert.DoesNotContain('\n', CudaDevices.Problem);
        Assert.False(CudaBackend.TryCreate(0, out var backend, out var reason));
        Assert.Null(backend);
        Assert.Equal(CudaDevices.Problem, reason);
    }
}
