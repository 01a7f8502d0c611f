using NoiseKD.Tests.Cli;
using Xunit;

namespace NoiseKD.Tests.Cuda;

/// <summary>--device cuda[:N] and `noisekd devices` on any machine; the no-GPU answers where there is no CUDA device.</summary>
public class CudaCliTests
{
    [Fact]
    public void DevicesHasACudaLine()
    {
        var (code, output, _) = CliRunner.Run("devices");
        Assert.Equal(0, code);
        Assert.Contains(output.Split('\n'), line => line.StartsWith("cuda", StringComparison.Ordinal) || line.StartsWith("CUDA driver", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("cuda:x")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:0:0")]
    public void MalformedCudaDeviceIsAUserError(string device)
    {
        var (code, _, error) = CliRunner.Run("check", "--device", device, "--ops", "Gemm");
        Assert.Equal(2, code);
        Assert.Contains(device, error);
    }

    [NoCudaFact]
    public void CudaWithoutADeviceSaysWhyAndExitsTwo()
    {
        var (code, _, error) = CliRunner.Run("check", "--device", "cuda", "--ops", "Gemm");
        Assert.Equal(2, code);
        Assert.Contains("--device 'cuda' is not available", error);
        Assert.Contains(CudaDevice.Unavailable!, error);
    }
}

/// <summary>A fact about the answers a machine without CUDA gives; skipped where a CUDA device works.</summary>
public sealed class NoCudaFactAttribute : FactAttribute
{
    public NoCudaFactAttribute()
    {
        if (CudaDevice.Unavailable is null) Skip = "a CUDA device is present";
    }
}
