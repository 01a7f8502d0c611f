using System.Runtime.InteropServices;
using Google.Protobuf;
using NoiseKD.Export.Onnx;
using NoiseKD.Tensors;

namespace NoiseKD.Export;

/// <summary>
/// Collects the nodes and initializers of one ONNX graph in execution order (which is a topological
/// order, as ONNX requires). Value names are unique: a name already used gets a numeric suffix.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    readonly HashSet<string> _names = new();

    public GraphProto Graph { get; } = new();

    /// <summary>A float32 constant stored as raw little-endian bytes (ONNX writers' usual form for weights).</summary>
    public string Initializer(string name, ReadOnlySpan<float> data, params int[] shape)
    {
        var tensor = new TensorProto
        {
            Name = Unique(name),
            DataType = (int)TensorProto.Types.DataType.Float,
            RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data)),
        };
        tensor.Dims.AddRange(shape.Select(d => (long)d));
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>A tensor's current values (parameters and running statistics) as an initializer.</summary>
    public string Initializer(string name, Tensor value) => Initializer(name, value.ToArray(), value.Shape);

    /// <summary>Appends one node; returns the name of its (single) output.</summary>
    public string Node(string opType, string name, string[] inputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = Unique(name) };
        node.Input.AddRange(inputs);
        node.Output.Add(node.Name);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return node.Name;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    /// <summary>A float32 graph input or output of the given shape; a null dimension is the free "batch" dimension.</summary>
    public static ValueInfoProto TensorValue(string name, string doc, params long?[] shape)
    {
        var tensorShape = new TensorShapeProto();
        foreach (var d in shape)
            tensorShape.Dim.Add(d is long v ? new TensorShapeProto.Types.Dimension { DimValue = v }
                                             : new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        return new ValueInfoProto
        {
            Name = name, DocString = doc,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = tensorShape } },
        };
    }

    /// <summary>Reserves a name for a value defined outside <see cref="Node"/> (the graph input).</summary>
    public string Reserve(string name) => Unique(name);

    string Unique(string name)
    {
        string candidate = name;
        for (int i = 1; !_names.Add(candidate); i++) candidate = $"{name}_{i}";
        return candidate;
    }
}
