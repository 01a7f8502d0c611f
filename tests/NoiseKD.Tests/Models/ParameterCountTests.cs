using NoiseKD.Models;
using Xunit;

namespace NoiseKD.Tests.Models;

/// <summary>Parameter counts equal those of the reference PyTorch definitions (pytorch-cifar, RepDistiller).</summary>
public class ParameterCountTests
{
    [Theory]
    [InlineData("resnet18", 1f, 3, 11_173_962)]
    [InlineData("resnet34", 1f, 3, 21_282_122)]
    [InlineData("resnet50", 1f, 3, 23_520_842)]
    [InlineData("resnet101", 1f, 3, 42_512_970)]
    [InlineData("wrn-16-8", 1f, 3, 10_961_370)]
    [InlineData("wrn-40-2", 1f, 3, 2_243_546)]
    [InlineData("mobilenetv2", 1f, 3, 2_296_922)]
    [InlineData("resnet18", 0.25f, 1, 701_178)]
    [InlineData("resnet34", 0.25f, 1, 1_334_330)]
    public void MatchesReference(string arch, float width, int inChannels, long expected)
    {
        var model = new ModelSpec(arch, width, inChannels, 10).Create();
        Assert.Equal(expected, model.ParameterCount());
    }

    [Fact]
    public void ResNetNamesFollowPytorchCifar()
    {
        var names = ModelSpecNames("resnet18");
        Assert.Contains("conv1.weight", names);
        Assert.Contains("bn1.running_mean", names);
        Assert.Contains("layer1.0.conv1.weight", names);
        Assert.Contains("layer2.0.shortcut.0.weight", names);
        Assert.Contains("layer2.0.shortcut.1.num_batches_tracked", names);
        Assert.Contains("linear.bias", names);
        Assert.DoesNotContain("layer1.0.shortcut.0.weight", names); // identity shortcut has no parameters
    }

    [Fact]
    public void MobileNetV2NamesFollowPytorchCifar()
    {
        var names = ModelSpecNames("mobilenetv2");
        Assert.Contains("layers.0.conv2.weight", names);
        Assert.Contains("layers.0.shortcut.0.weight", names); // stride 1, 32 -> 16 channels
        Assert.Contains("conv2.weight", names);
        Assert.Contains("bn2.running_var", names);
        Assert.Contains("linear.weight", names);
    }

    [Fact]
    public void UnknownArchitectureIsNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => new ModelSpec("resnet19").Create());
        Assert.Contains("resnet19", e.Message);
        Assert.Contains("resnet18", e.Message);
    }

    static HashSet<string> ModelSpecNames(string arch) =>
        new ModelSpec(arch, 0.25f).Create().StateDict().Select(e => e.Name).ToHashSet();
}
