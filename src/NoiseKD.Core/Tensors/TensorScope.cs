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

    /// <summary>
    /// Returns the tensor's memory to the pool now, if the innermost open scope owns it; nothing happens for
    /// parameters, kept tensors and tensors of outer scopes. The scope stops owning the buffer, so its end
    /// does not free it again (by then the pool may have handed it to a new tensor, which owns it anew). The
    /// tensor and every view of its memory throw on use afterwards. For intermediates nothing will read again.
    /// </summary>
    internal static void Release(Tensor tensor)
    {
        if (_current is not { } scope) return;
        var buffer = tensor.Buffer;
        // Backwards: the tensor to release is almost always one of the most recent.
        for (int i = scope._owned.Count - 1; i >= 0; i--)
        {
            var (owned, generation) = scope._owned[i];
            if (!ReferenceEquals(owned, buffer) || generation != buffer.Generation) continue;
            scope._owned.RemoveAt(i);
            buffer.Dispose();
            return;
        }
    }

    /// <summary>
    /// Bytes of the tensors this scope owns that are still live (not released early, not handed out again
    /// by the pool, not moved on by <see cref="Keep"/>).
    /// </summary>
    public long LiveBytes =>
        _owned.Where(o => !o.Buffer.IsReleased && o.Buffer.Generation == o.Generation).Sum(o => o.Buffer.Length * sizeof(float));

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
