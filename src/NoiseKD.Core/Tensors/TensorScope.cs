using NoiseKD.Backends;

namespace NoiseKD.Tensors;

/// <summary>
/// Owns the device memory of every tensor created while it is the innermost open scope, and returns
/// that memory to the device's pool when disposed. A training step inside a scope therefore reuses
/// the same buffers every step instead of allocating. Tensors created outside any scope (parameters,
/// optimizer state) are owned by the garbage collector. Use <see cref="Keep"/> to let a tensor outlive
/// the scope; touching a released tensor throws instead of reading someone else's data.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] static TensorScope? _current;

    readonly TensorScope? _outer;
    readonly List<(DeviceBuffer Buffer, int Generation)> _owned = new();
    bool _disposed;

    public TensorScope()
    {
        _outer = _current;
        _current = this;
    }

    internal static TensorScope? Current => _current;

    internal void Own(DeviceBuffer buffer) => _owned.Add((buffer, buffer.Generation));

    /// <summary>Hands the tensor's memory to the enclosing scope (or to the GC if there is none).</summary>
    public Tensor Keep(Tensor tensor)
    {
        int i = _owned.FindIndex(o => ReferenceEquals(o.Buffer, tensor.Buffer));
        if (i >= 0)
        {
            var entry = _owned[i];
            _owned.RemoveAt(i);
            _outer?._owned.Add(entry);
        }
        return tensor;
    }

    /// <summary>Opens a region in which new tensors belong to no scope (for state that must persist).</summary>
    public static IDisposable Suspend() => new Suspension();

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!ReferenceEquals(_current, this))
            throw new InvalidOperationException("TensorScope disposed out of order (scopes must nest)");
        _current = _outer;
        foreach (var (buffer, generation) in _owned)
            if (!buffer.IsReleased && buffer.Generation == generation) buffer.Dispose();
        _owned.Clear();
    }

    sealed class Suspension : IDisposable
    {
        readonly TensorScope? _saved = _current;
        public Suspension() => _current = null;
        public void Dispose() => _current = _saved;
    }
}
