namespace NoiseKD.Backends;

/// <summary>A buffer a <see cref="BufferPool{T}"/> can hand out again and finally free.</summary>
internal interface IPooledBuffer
{
    /// <summary>Marks the buffer live again as the pool hands it out (new generation, finalizer re-armed).</summary>
    void Revive();
    /// <summary>Returns the memory to the device; the buffer is unusable afterwards.</summary>
    void Free();
}

/// <summary>
/// Free buffers kept by exact length, so a training step that allocates the same shapes every step
/// reuses the same memory; counts the bytes in use and the bytes held for reuse. Shared by every backend.
/// </summary>
internal sealed class BufferPool<T> where T : DeviceBuffer, IPooledBuffer
{
    readonly Dictionary<long, Stack<T>> _free = new();
    readonly object _lock = new();
    long _liveBytes, _pooledBytes;

    public long LiveBytes => Interlocked.Read(ref _liveBytes);
    public long PooledBytes => Interlocked.Read(ref _pooledBytes);

    /// <summary>A pooled buffer of exactly <paramref name="length"/> floats, revived; null when the caller must create one (counted live either way).</summary>
    public T? Take(long length)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length));
        lock (_lock)
        {
            _liveBytes += length * sizeof(float);
            if (!_free.TryGetValue(length, out var stack) || stack.Count == 0) return null;
            _pooledBytes -= length * sizeof(float);
            var reused = stack.Pop();
            reused.Revive();
            return reused;
        }
    }

    public void Return(T buffer)
    {
        lock (_lock)
        {
            if (!_free.TryGetValue(buffer.Length, out var stack)) _free[buffer.Length] = stack = new Stack<T>();
            stack.Push(buffer);
            _liveBytes -= buffer.Length * sizeof(float);
            _pooledBytes += buffer.Length * sizeof(float);
        }
    }

    /// <summary>A live buffer was finalized without being returned.</summary>
    public void ForgetLive(long length) => Interlocked.Add(ref _liveBytes, -length * sizeof(float));

    /// <summary>Frees every pooled buffer (memory in use is untouched).</summary>
    public void Trim()
    {
        lock (_lock)
        {
            foreach (var stack in _free.Values)
                while (stack.Count > 0) stack.Pop().Free();
            _free.Clear();
            _pooledBytes = 0;
        }
    }
}
