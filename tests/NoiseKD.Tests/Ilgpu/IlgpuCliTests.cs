using NoiseKD.Tensors;
using NoiseKD.Tests.Backends;
using NoiseKD.Tests.Cli;
using Xunit;

namespace NoiseKD.Tests.Ilgpu;

/// <summary>
/// --device ilgpu-cpu, ilgpu-cuda[:N], ilgpu-opencl[:N] and the ILGPU lines of `noisekd devices`. A verb that opens a
/// device makes it the process-wide default and disposes it when done, so these run alone and put the default back.
/// </summary>
[Collection(DeviceDefaultsCollection.Name)]
public class IlgpuCliTests
{
    [Fact]
    public void CheckOnIlgpuCpuPasses()
    {
        var previous = Devices.Default;
        (int code, string output, string error) = (0, "", "");
        try
        {
            (code, output, error) = CliRunner.Run("check", "--device", "ilgpu-cpu", "--ops", "Gemm,BatchNormAddActivationForward,Softmax");
        }
        finally
        {
            Devices.Default = previous;
        }
        Assert.True(code == 0, output + error);
        Assert.Contains("check: ilgpu-cpu against cpu", output);
        Assert.Matches(@"all \d+ cases passed", output);
    }

    [Fact]
    public void DevicesListsIlgpuCpuAndExplainsTheRest()
    {
        var (code, output, _) = CliRunner.Run("devices");
        Assert.Equal(0, code);
        var lines = output.Split('\n');
        Assert.Contains(lines, line => line.StartsWith("ilgpu-cpu ", StringComparison.Ordinal) && line.Contains("CPU accelerator"));
        // Every ILGPU CUDA/OpenCL line is a device or says in one sentence why there is none or why it cannot be used.
        foreach (var line in lines.Where(l => l.StartsWith("ilgpu-cuda", StringComparison.Ordinal) || l.StartsWith("ilgpu-opencl", StringComparison.Ordinal)))
            Assert.True(line.Contains("cannot be used: ") ? line.TrimEnd().EndsWith('.') : !line.Contains("no CUDA device") && !line.Contains("no OpenCL device"), line);
    }

    [Theory]
    [InlineData("ilgpu-cuda:x")]
    [InlineData("ilgpu-opencl:-1")]
    [InlineData("ilgpu-cuda:0:0")]
    public void MalformedIlgpuDeviceIsAUserError(string device)
    {
        var (code, _, error) = CliRunner.Run("check", "--device", device, "--ops", "Gemm");
        Assert.Equal(2, code);
        Assert.Contains(device, error);
    }

    [Fact]
    public void MissingIlgpuDeviceSaysWhyAndExitsTwo()
    {
        var (code, _, error) = CliRunner.Run("check", "--device", "ilgpu-cuda:7", "--ops", "Gemm");
        Assert.Equal(2, code);
        Assert.Contains("--device 'ilgpu-cuda:7' is not available: ", error);
        Assert.Single(error.Trim().Split('\n'));
    }
}
