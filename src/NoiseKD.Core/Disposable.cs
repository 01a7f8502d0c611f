namespace NoiseKD;

/// <summary>Runs an action once when disposed: the handle returned by anything that must be undone (hooks, temporary settings).</summary>
public sealed class Disposable(Action undo) : IDisposable
{
    Action? _undo = undo;

    public void Dispose()
    {
        _undo?.Invoke();
        _undo = null;
    }
}
