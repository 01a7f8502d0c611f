using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using NoiseKD.Models;
using NoiseKD.Serialization;
using Xunit;

namespace NoiseKD.Tests.Parity;

/// <summary>
/// Weights in and out under PyTorch's names: our state dicts equal those of the reference definitions
/// (tests/parity/models.py) entry for entry, loading names every tensor that does not fit, and export
/// writes what PyTorch's load_state_dict reads back (num_batches_tracked as I64).
/// </summary>
public class StateDictParityTests
{
    public static TheoryData<int> Layouts()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < LayoutJson().Count; i++) data.Add(i);
        return data;
    }

    static JsonArray LayoutJson() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(ParityFixture.Directory, "state_dict_layouts.json")))!.AsArray();

    [Theory]
    [MemberData(nameof(Layouts))]
    public void NamesShapesAndOrderEqualTheReference(int index)
    {
        var layout = LayoutJson()[index]!;
        var spec = new ModelSpec(layout["arch"]!.GetValue<string>(), layout["width"]!.GetValue<float>(), layout["in_channels"]!.GetValue<int>(),
                                 layout["classes"]!.GetValue<int>(), layout["image_size"]!.GetValue<int>());
        var model = spec.Create();
        var expected = layout["state_dict"]!.AsArray().Select(e => $"{e![0]} [{string.Join(", ", e[1]!.AsArray().Select(d => d!.GetValue<int>()))}]");
        var ours = model.StateDict().Select(e => $"{e.Name} [{string.Join(", ", e.Value.Shape)}]");
        Assert.Equal(expected, ours);
        Assert.Equal(layout["parameters"]!.GetValue<long>(), model.ParameterCount());
    }

    [Fact]
    public void LoadingNamesEveryMissingUnexpectedAndMisshapedTensor()
    {
        var f = ParityFixture.Load("model_resnet18");
        var state = f.WithPrefix("state.");
        state.Remove("layer2.0.shortcut.1.running_var");
        state.Remove("linear.bias");
        state["layer5.0.conv1.weight"] = new NamedArray("layer5.0.conv1.weight", [1], [0f]);
        state["fc.weight"] = new NamedArray("fc.weight", [10, 64], new float[640]);
        var conv = state["conv1.weight"];
        state["conv1.weight"] = conv with { Shape = [conv.Shape[0], 1, conv.Shape[1], conv.Shape[2] * conv.Shape[3]] };

        var model = new ModelSpec("resnet18", 0.125f).Create();
        var before = model.StateDict().Select(e => e.Value.ToArray()).ToList();
        var e = Assert.Throws<InvalidDataException>(() => StateDictIo.Load(model, state.Values));
        foreach (var part in new[] { "missing 'layer2.0.shortcut.1.running_var'", "missing 'linear.bias'", "unexpected 'layer5.0.conv1.weight'",
                                     "unexpected 'fc.weight'", "'conv1.weight' has shape [8, 1, 3, 9], the model expects [8, 3, 3, 3]" })
            Assert.Contains(part, e.Message);
        // Nothing was changed by the failed load.
        Assert.Equal(before, model.StateDict().Select(t => t.Value.ToArray()).ToList());
    }

    [Fact]
    public void PytorchStateDictLoadsWithInt64BatchCountersAndExportsTheSame()
    {
        var f = ParityFixture.Load("model_resnet18");
        var state = f.WithPrefix("state.");
        Assert.Equal("I64", state["bn1.num_batches_tracked"].DType);
        Assert.Empty(state["bn1.num_batches_tracked"].Shape);

        var model = new ModelSpec("resnet18", 0.125f).Create();
        StateDictIo.Load(model, state.Values);
        var exported = StateDictIo.ToArrays(model).ToList();
        Assert.Equal(state.Keys, exported.Select(a => a.Name)); // PyTorch's state_dict order
        foreach (var a in exported)
        {
            Assert.Equal(state[a.Name].DType, a.DType);
            Assert.Equal(state[a.Name].Shape, a.Shape);
            Assert.Equal(state[a.Name].Data, a.Data);
        }

        using var dir = new TempDir();
        Safetensors.Write(dir.File("sd.safetensors"), exported);
        var bytes = File.ReadAllBytes(dir.File("sd.safetensors"));
        var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)BinaryPrimitives.ReadInt64LittleEndian(bytes)))!;
        Assert.Equal("I64", header["bn1.num_batches_tracked"]!["dtype"]!.GetValue<string>());
        Assert.Empty(header["bn1.num_batches_tracked"]!["shape"]!.AsArray());
        Assert.Equal(7f, Safetensors.Read(dir.File("sd.safetensors")).Tensors.Single(t => t.Name == "bn1.num_batches_tracked").Data[0]);
    }
}
