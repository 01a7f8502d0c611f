using NoiseKD.Autograd;
using NoiseKD.Backends;

namespace NoiseKD.Tensors;

/// <summary>
/// A dense, contiguous float32 tensor on one device. Values stay on the device; reading them back
/// (<see cref="ToArray"/>, <see cref="Item"/>) is explicit. Views (<see cref="Reshape"/>) share memory.
/// </summary>
public sealed class Tensor
{
    readonly int _generation;
    readonly DeviceBuffer _buffer;
    Tensor? _gradCache;

    Tensor(int[] shape, DeviceBuffer buffer)
    {
        Shape = shape;
        Numel = Tensors.Shape.Numel(shape);
        _buffer = buffer;
        _generation = buffer.Generation;
    }

    public int[] Shape { get; }
    public long Numel { get; }
    public int Rank => Shape.Length;
    public int Dim(int axis) => Shape[axis < 0 ? axis + Shape.Length : axis];

    public IBackend Backend => Buffer.Backend;

    /// <summary>The device memory. Throws if the owning scope has already released it.</summary>
    public DeviceBuffer Buffer
    {
        get
        {
            if (_buffer.IsReleased || _buffer.Generation != _generation)
                throw new ObjectDisposedException("Tensor",
                    $"tensor {Tensors.Shape.Format(Shape)} was released when its TensorScope ended; use scope.Keep(t) to keep it");
            return _buffer;
        }
    }

    /// <summary>Whether gradients flow into this tensor (parameters and tensors computed from them).</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>The accumulated gradient after <see cref="Backward"/>, or null.</summary>
    public Tensor? Grad { get; internal set; }

    /// <summary>The operation that produced this tensor (null for leaves and under no-grad).</summary>
    internal GradNode? Node { get; set; }

    public bool IsLeaf => Node is null && !GraphFreed;

    /// <summary>Set when a backward pass has consumed and freed the op that produced this tensor.</summary>
    internal bool GraphFreed { get; set; }

    // ---- creation -------------------------------------------------------------------------------

    /// <summary>Uninitialized tensor (contents unspecified), owned by the current scope if any.</summary>
    public static Tensor Empty(int[] shape, IBackend? device = null)
    {
        var backend = device ?? Devices.Default;
        var buffer = backend.Allocate(Tensors.Shape.Numel(shape));
        TensorScope.Current?.Own(buffer);
        return new Tensor((int[])shape.Clone(), buffer);
    }

    public static Tensor Full(int[] shape, float value, IBackend? device = null)
    {
        var t = Empty(shape, device);
        t.Backend.Fill(t.Buffer, 0, t.Numel, value);
        return t;
    }

    public static Tensor Zeros(int[] shape, IBackend? device = null) => Full(shape, 0f, device);
    public static Tensor Ones(int[] shape, IBackend? device = null) => Full(shape, 1f, device);
    public static Tensor Scalar(float value, IBackend? device = null) => Full([], value, device);

    public static Tensor FromArray(ReadOnlySpan<float> data, int[] shape, IBackend? device = null)
    {
        if (Tensors.Shape.Numel(shape) != data.Length)
            throw new ArgumentException($"{data.Length} values do not fill shape {Tensors.Shape.Format(shape)}");
        var t = Empty(shape, device);
        t.Backend.Upload(data, t.Buffer, 0);
        return t;
    }

    /// <summary>A new tensor sharing this one's memory but with another shape (no gradient link).</summary>
    internal Tensor View(int[] shape) => new(shape, Buffer);

    // ---- reading back -----------------------------------------------------------------------------

    public float[] ToArray()
    {
        var host = new float[Numel];
        Backend.Download(Buffer, 0, host);
        return host;
    }

    public void CopyTo(Span<float> destination)
    {
        if (destination.Length != Numel) throw new ArgumentException($"destination holds {destination.Length}, tensor has {Numel}");
        Backend.Download(Buffer, 0, destination);
    }

    public void CopyFrom(ReadOnlySpan<float> source)
    {
        if (source.Length != Numel) throw new ArgumentException($"source holds {source.Length}, tensor has {Numel}");
        Backend.Upload(source, Buffer, 0);
    }

    public float Item()
    {
        if (Numel != 1) throw new InvalidOperationException($"Item() needs one element, tensor {Tensors.Shape.Format(Shape)} has {Numel}");
        Span<float> one = stackalloc float[1];
        Backend.Download(Buffer, 0, one);
        return one[0];
    }

    // ---- autograd ---------------------------------------------------------------------------------

    /// <summary>Same memory, cut from the graph.</summary>
    public Tensor Detach() => View(Shape);

    /// <summary>Reverse-mode differentiation from this scalar: fills Grad of every tensor that requires it.</summary>
    public void Backward() => Tape.Backward(this);

    /// <summary>Backward, calling <paramref name="gradientReady"/> with each leaf as soon as its gradient is complete.</summary>
    public void Backward(Action<Tensor> gradientReady) => Tape.Backward(this, gradientReady);

    /// <summary>
    /// Forgets the gradient. The memory is kept for the next backward pass, which overwrites it instead
    /// of adding to it, so zeroing costs nothing.
    /// </summary>
    public void ZeroGrad()
    {
        if (Grad is not null) _gradCache = Grad;
        Grad = null;
    }

    /// <summary>
    /// The buffer a backward pass writes this tensor's gradient into, and whether it must add to it
    /// (a gradient is already there) or may overwrite it. Leaf gradients persist outside any scope.
    /// </summary>
    internal (Tensor Grad, bool Accumulate) GradSink()
    {
        if (Grad is not null) return (Grad, true);
        if (IsLeaf)
        {
            if (_gradCache is null || !Tensors.Shape.Equal(_gradCache.Shape, Shape))
                using (TensorScope.Suspend()) _gradCache = Empty(Shape, Backend);
            Grad = _gradCache;
        }
        else
        {
            Grad = Empty(Shape, Backend);
        }
        return (Grad, false);
    }

    public override string ToString() => $"Tensor{Tensors.Shape.Format(Shape)} on {Backend.Name}{(RequiresGrad ? " requires_grad" : "")}";
}
