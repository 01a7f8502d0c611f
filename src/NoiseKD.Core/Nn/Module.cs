using System.Diagnostics;
using NoiseKD.Autograd;
using NoiseKD.Tensors;

namespace NoiseKD.Nn;

/// <summary>
/// Base of every layer and model (torch.nn.Module): named parameters, buffers and children,
/// train/eval mode, a state dictionary whose names follow PyTorch's dotted convention
/// ("layer1.0.bn1.running_mean"), and forward hooks that see any layer's output without changing
/// the model's code.
/// </summary>
public abstract class Module
{
    readonly List<(string Name, Tensor Value)> _parameters = new();
    readonly List<(string Name, Tensor Value)> _buffers = new();
    readonly List<(string Name, Module Value)> _children = new();
    readonly List<Action<Module, Tensor, Tensor>> _hooks = new();

    /// <summary>Training mode (torch's module.training): dropout active, BatchNorm on batch statistics by default.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Runs the layer and then its forward hooks.</summary>
    public Tensor Forward(Tensor input)
    {
        long start = StartTiming();
        var output = OnForward(input);
        EndTiming(start);
        foreach (var hook in _hooks) hook(this, input, output);
        return output;
    }

    protected abstract Tensor OnForward(Tensor input);

    /// <summary>The op profiler's clock for a leaf layer's forward (0 when the profiler is off or this layer has children).</summary>
    protected long StartTiming() => OpProfiler.Enabled && _children.Count == 0 ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Books the time since <see cref="StartTiming"/> as "forward {type}".</summary>
    protected void EndTiming(long start)
    {
        if (start != 0) OpProfiler.Add("forward " + GetType().Name, start);
    }

    /// <summary>Registers hook(module, input, output) after every forward; dispose the result to remove it.</summary>
    public IDisposable AddForwardHook(Action<Module, Tensor, Tensor> hook)
    {
        _hooks.Add(hook);
        return new Disposable(() => _hooks.Remove(hook));
    }

    /// <summary>Whether a forward hook is attached to this module itself.</summary>
    internal bool HasForwardHooks => _hooks.Count > 0;

    /// <summary>Whether this module or any module inside it has a forward hook.</summary>
    bool HasForwardHooksInside() => NamedModules().Any(m => m.Module._hooks.Count > 0);

    /// <summary>
    /// Returns <paramref name="intermediate"/>'s memory to the pool before its TensorScope ends, so that a
    /// forward under <see cref="Tape.NoGrad"/> holds a few activations at a time rather than all of them
    /// (PyTorch frees each as soon as its last user has run). The caller states that the consumers of
    /// <paramref name="intermediate"/> inside its forward have all run and that it is neither that forward's
    /// input nor its output. It is released only when nothing else can read it again: the tape is off, so no
    /// backward closure saved it; <paramref name="result"/>, what it was consumed into, does not share its
    /// memory (a view, a layer that returns its input); none of <paramref name="seenBy"/>, the layers that
    /// produced or consumed it, nor any layer inside them, has a forward hook that might have kept it (null
    /// entries stand for an optional layer that is absent); and the innermost scope owns it (parameters and
    /// tensors of outer scopes are never released). Otherwise this does nothing and the scope frees it at its
    /// end. Reading a released tensor throws.
    /// </summary>
    public static void ReleaseConsumed(Tensor intermediate, Tensor result, params Module?[] seenBy)
    {
        if (Tape.IsEnabled || ReferenceEquals(intermediate.Buffer, result.Buffer)) return;
        foreach (var module in seenBy)
            if (module is not null && module.HasForwardHooksInside()) return;
        TensorScope.Release(intermediate);
    }

    public Module Train(bool mode = true)
    {
        Training = mode;
        foreach (var (_, child) in _children) child.Train(mode);
        return this;
    }

    public Module Eval() => Train(false);

    // ---- registration (constructors) -------------------------------------------------------------

    /// <summary>Registers a trainable tensor. Created outside any TensorScope: parameters persist.</summary>
    protected Tensor RegisterParameter(string name, Func<Tensor> create)
    {
        Tensor value;
        using (TensorScope.Suspend()) value = create();
        value.RequiresGrad = true;
        _parameters.Add((CheckName(name), value));
        return value;
    }

    /// <summary>Registers state that is saved but not trained (running statistics).</summary>
    protected Tensor RegisterBuffer(string name, Func<Tensor> create)
    {
        Tensor value;
        using (TensorScope.Suspend()) value = create();
        _buffers.Add((CheckName(name), value));
        return value;
    }

    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        _children.Add((CheckName(name), module));
        return module;
    }

    string CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"'{name}' is not a valid member name (non-empty, no dots)");
        if (_parameters.Any(p => p.Name == name) || _buffers.Any(b => b.Name == name) || _children.Any(c => c.Name == name))
            throw new ArgumentException($"'{name}' is already registered on {GetType().Name}");
        return name;
    }

    // ---- traversal -------------------------------------------------------------------------------

    public IReadOnlyList<(string Name, Module Module)> Children => _children;

    /// <summary>This module and all below it, depth first, with dotted names ("" for this one).</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix, this);
        foreach (var (name, child) in _children)
            foreach (var item in child.NamedModules(Join(prefix, name)))
                yield return item;
    }

    public IEnumerable<(string Name, Tensor Value)> NamedParameters() =>
        NamedModules().SelectMany(m => m.Module._parameters.Select(p => (Join(m.Name, p.Name), p.Value)));

    public IEnumerable<(string Name, Tensor Value)> NamedBuffers() =>
        NamedModules().SelectMany(m => m.Module._buffers.Select(b => (Join(m.Name, b.Name), b.Value)));

    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Value);

    public long ParameterCount() => Parameters().Sum(p => p.Numel);

    /// <summary>
    /// Every parameter and buffer by dotted name, in PyTorch's state_dict order (each module's own
    /// parameters, then its buffers, then its children).
    /// </summary>
    public IReadOnlyList<(string Name, Tensor Value)> StateDict()
    {
        var result = new List<(string, Tensor)>();
        foreach (var (prefix, module) in NamedModules())
        {
            foreach (var (name, p) in module._parameters) result.Add((Join(prefix, name), p));
            foreach (var (name, b) in module._buffers) result.Add((Join(prefix, name), b));
        }
        return result;
    }

    /// <summary>
    /// Copies values into the parameters and buffers by name. Every missing, unexpected or mis-shaped
    /// entry is named in one error; nothing is changed unless all fit.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, (int[] Shape, float[] Data)> state, bool strict = true)
    {
        var own = StateDict();
        var problems = new List<string>();
        foreach (var (name, tensor) in own)
        {
            if (!state.TryGetValue(name, out var entry))
            {
                if (strict) problems.Add($"missing '{name}'");
                continue;
            }
            if (Shape.Numel(entry.Shape) != tensor.Numel || !ShapesCompatible(entry.Shape, tensor.Shape))
                problems.Add($"'{name}' has shape {Shape.Format(entry.Shape)}, the model expects {Shape.Format(tensor.Shape)}");
        }
        if (strict)
        {
            var known = own.Select(o => o.Name).ToHashSet();
            problems.AddRange(state.Keys.Where(k => !known.Contains(k)).Select(k => $"unexpected '{k}'"));
        }
        if (problems.Count > 0)
            throw new InvalidDataException("state dict does not fit the model: " + string.Join("; ", problems));
        foreach (var (name, tensor) in own)
            if (state.TryGetValue(name, out var entry)) tensor.CopyFrom(entry.Data);
        foreach (var (_, module) in NamedModules()) module.OnStateLoaded();
    }

    /// <summary>Lets a module refresh host-side mirrors of its buffers after a load.</summary>
    protected virtual void OnStateLoaded() { }

    // A 0-d buffer (num_batches_tracked) may arrive as shape [1] or [].
    static bool ShapesCompatible(int[] a, int[] b) => Shape.Equal(a, b) || Shape.Numel(a) == 1 && Shape.Numel(b) == 1;

    static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;
}
