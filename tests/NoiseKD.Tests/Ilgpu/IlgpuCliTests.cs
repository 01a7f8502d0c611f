using NoiseKD.Tensors;
using NoiseKD.Tests.Backends;
using NoiseKD.Tests.Cli;
using Xunit;

namespace NoiseKD.Tests.Ilgpu;

/// <summary>
/// --device ilgpu-cpu, cuda[:N], opencl[:N] (all through ILGPU; ilgpu-cuda/ilgpu-opencl are older spellings) and `noisekd devices`. A verb that opens a
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
        var deviceLines = lines.Where(l => l.StartsWith("cuda", StringComparison.Ordinal) || l.StartsWith("opencl", StringComparison.Ordinal)).ToList();
        Assert.Contains(deviceLines, l => l.StartsWith("cuda", StringComparison.Ordinal));
        Assert.Contains(deviceLines, l => l.StartsWith("opencl", StringComparison.Ordinal));
        foreach (var line in deviceLines)
            Assert.True(line.Contains("cannot be used: ") ? line.TrimEnd().EndsWith('.') : !line.Contains("no CUDA device") && !line.Contains("no OpenCL device"), line);
        // PoCL (which CI installs) runs OpenCL C 1.2 only: listed, with the reason ILGPU cannot use it.
        foreach (var line in deviceLines.Where(l => l.Contains("Portable Computing Language", StringComparison.Ordinal)))
            Assert.Contains("no generic address space", line);
    }

    [Theory]
    [InlineData("ilgpu-cuda:x")]
    [InlineData("ilgpu-opencl:-1")]
    [InlineData("ilgpu-cuda:0:0")]
    [InlineData("cuda:x")]
    [InlineData("opencl:0:0")]
    [InlineData("gpu")]
    public void MalformedIlgpuDeviceIsAUserError(string device)
    {
        var (code, _, error) = CliRunner.Run("check", "--device", device, "--ops", "Gemm");
        Assert.Equal(2, code);
        Assert.Contains(device, error);
    }

    [Theory]
    [InlineData("cuda:7")]
    [InlineData("opencl:7")]
    [InlineData("ilgpu-cuda:7")]
    public void MissingDeviceSaysWhyAndExitsTwo(string device)
    {
        var (code, _, error) = CliRunner.Run("check", "--device", device, "--ops", "Gemm");
        Assert.Equal(2, code);
        Assert.Contains($"--device '{device}' is not available: ", error);
        Assert.Single(error.Trim().Split('\n'));
    }
}
