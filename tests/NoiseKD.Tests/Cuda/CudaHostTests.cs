using NoiseKD.Backends.Cuda;
using NoiseKD.Backends.Kernels;
using Xunit;

namespace NoiseKD.Tests.Cuda;

/// <summary>The host-side arithmetic of the CUDA backend: launch geometry, architecture choice, error names (no GPU needed).</summary>
public class CudaHostTests
{
    [Fact]
    public void GridStrideLaunchIsGlobalOverLocalBlocksOfLocalThreads()
    {
        var launch = CudaLaunch.For(Grid.Elements(1000));
        Assert.Equal(new CudaLaunch(4, 1, 1, 256, 1, 1), launch);
        // Beyond 2^20 items the grid stays at 2^20 / 256 blocks and each thread loops.
        Assert.Equal(4096u, CudaLaunch.For(Grid.Elements(10_000_000)).GridX);
    }

    [Fact]
    public void ReductionsGetOneBlockPerGroupInBothDimensions()
        => Assert.Equal(new CudaLaunch(7, 13, 1, 256, 1, 1), CudaLaunch.For(Grid.Groups(7, 13)));

    [Fact]
    public void GemmTilesAreTwoDimensionalBlocksAndSplitKIsTheZDimension()
    {
        // ceil(100/64) x ceil(70/64) tiles of 16 x 16 threads, K split in 3.
        var grid = Grid.Tiles(2, 2, 16) with { Groups2 = 3 };
        Assert.Equal(new CudaLaunch(2, 2, 3, 16, 16, 1), CudaLaunch.For(grid));
    }

    [Fact]
    public void PlaneLaunchKeepsRowsInY()
        => Assert.Equal(new CudaLaunch(1, 9, 1, 256, 1, 1), CudaLaunch.For(Grid.Plane(10, 9)));

    [Fact]
    public void LaunchesCudaWouldRefuseFailWithTheSizes()
    {
        var tooTall = Assert.Throws<ArgumentException>(() => CudaLaunch.For(Grid.Groups(1, 70_000)));
        Assert.Contains("65535", tooTall.Message);
        Assert.Throws<ArgumentException>(() => CudaLaunch.For(new Grid(2048, 1, 2048, 1)));
        Assert.Throws<ArgumentException>(() => CudaLaunch.For(new Grid(300, 1, 256, 1)));
    }

    [Theory]
    [InlineData(86, new[] { 50, 60, 70, 75, 80, 86, 87, 89, 90 }, 86)]
    [InlineData(90, new[] { 35, 50, 60, 70, 75, 80, 86 }, 86)] // an NVRTC older than the GPU: newest PTX it can write
    [InlineData(75, new[] { 70, 80, 90 }, 70)]
    public void ArchitectureIsTheNewestNotAboveTheDevice(int device, int[] supported, int expected)
        => Assert.Equal(expected, Nvrtc.ChooseArchitecture(device, supported));

    [Fact]
    public void ADeviceOlderThanEveryArchitectureIsRefused()
    {
        var e = Assert.Throws<NotSupportedException>(() => Nvrtc.ChooseArchitecture(35, [50, 60]));
        Assert.Contains("3.5", e.Message);
    }

    [Theory]
    [InlineData(0, "CUDA_SUCCESS")]
    [InlineData(2, "CUDA_ERROR_OUT_OF_MEMORY")]
    [InlineData(34, "CUDA_ERROR_STUB_LIBRARY")]
    [InlineData(100, "CUDA_ERROR_NO_DEVICE")]
    [InlineData(209, "CUDA_ERROR_NO_BINARY_FOR_GPU")]
    [InlineData(218, "CUDA_ERROR_INVALID_PTX")]
    [InlineData(222, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION")]
    [InlineData(700, "CUDA_ERROR_ILLEGAL_ADDRESS")]
    [InlineData(701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES")]
    [InlineData(719, "CUDA_ERROR_LAUNCH_FAILED")]
    [InlineData(999, "CUDA_ERROR_UNKNOWN")]
    [InlineData(12345, "an unknown CUDA error")]
    public void DriverErrorsHaveCudaHeaderNames(int status, string name) => Assert.Equal(name, CudaException.Name(status));

    [Fact]
    public void DriverErrorMessageNamesTheCallAndTheError()
    {
        var e = new CudaException("cuMemAlloc (10 floats)", 2);
        Assert.StartsWith("cuMemAlloc (10 floats) failed with CUDA_ERROR_OUT_OF_MEMORY (2)", e.Message);
        Assert.Equal(2, e.Status);
    }

    [Theory]
    [InlineData(0, "NVRTC_SUCCESS")]
    [InlineData(5, "NVRTC_ERROR_INVALID_OPTION")]
    [InlineData(6, "NVRTC_ERROR_COMPILATION")]
    [InlineData(11, "NVRTC_ERROR_INTERNAL_ERROR")]
    public void NvrtcErrorsHaveNvrtcHeaderNames(int status, string name) => Assert.Equal(name, NvrtcException.Name(status));

    [Fact]
    public void CompileErrorsCarryTheLog()
    {
        var e = new NvrtcException("nvrtcCompileProgram(--gpu-architecture=compute_80)", 6, "noisekd_kernels.cu(12): error: identifier \"ulong\" is undefined");
        Assert.Contains("NVRTC_ERROR_COMPILATION", e.Message);
        Assert.Contains("identifier \"ulong\" is undefined", e.Message);
    }
}
