using NoiseKD.Tensors;

namespace NoiseKD.Autograd;

/// <summary>Records operations for reverse-mode differentiation and runs the backward pass.</summary>
public static class Tape
{
    [ThreadStatic] static int _noGradDepth;

    /// <summary>False inside a <see cref="NoGrad"/> region: operations record nothing.</summary>
    public static bool IsEnabled => _noGradDepth == 0;

    /// <summary>torch.no_grad(): operations inside record no graph (inference, optimizer updates).</summary>
    public static IDisposable NoGrad() => new NoGradRegion();

    /// <summary>Attaches a backward closure to <paramref name="output"/> if any input needs a gradient.</summary>
    internal static Tensor Record(Tensor output, string name, Tensor[] inputs, Action<Tensor> backward)
    {
        if (!IsEnabled) return output;
        foreach (var input in inputs)
        {
            if (!input.RequiresGrad) continue;
            output.RequiresGrad = true;
            output.Node = new GradNode(name, inputs, backward);
            break;
        }
        return output;
    }

    /// <param name="gradientReady">
    /// Called with each leaf that requires a gradient as soon as the last operation that feeds it has run,
    /// while backward goes on (torch's post-accumulate-grad hook; what a DDP reducer starts its all-reduce from).
    /// </param>
    internal static void Backward(Tensor root, Action<Tensor>? gradientReady = null)
    {
        if (!root.RequiresGrad)
            throw new InvalidOperationException("Backward() on a tensor that does not require grad (no parameter reaches it, or it was computed under NoGrad)");
        if (root.GraphFreed)
            throw new InvalidOperationException("Backward() through a graph a second time: its intermediate values were freed by the first backward pass");
        if (root.Numel != 1)
            throw new InvalidOperationException($"Backward() needs a scalar, got {Shape.Format(root.Shape)}");

        var order = TopologicalOrder(root);
        var leavesDoneAt = gradientReady is null ? null : LeavesDoneAt(order);
        var (seed, accumulate) = root.GradSink();
        if (accumulate) root.Backend.Affine(1f, seed.Buffer, 1f, seed.Buffer, 1);
        else root.Backend.Fill(seed.Buffer, 0, 1, 1f);

        for (int i = order.Count - 1; i >= 0; i--)
        {
            var tensor = order[i];
            var node = tensor.Node!;
            if (tensor.Grad is null) continue; // no path from the root reached it
            long start = OpProfiler.Enabled ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
            node.Backward(tensor.Grad);
            if (OpProfiler.Enabled) OpProfiler.Add("backward " + node.Name, start);
            if (leavesDoneAt is not null && leavesDoneAt.TryGetValue(i, out var done))
                foreach (var leaf in done) gradientReady!(leaf);
            // Intermediate gradients and the graph are not needed again (retain_graph=False).
            tensor.Node = null;
            tensor.GraphFreed = true;
            if (!ReferenceEquals(tensor, root))
            {
                // Back to the pool now rather than at scope end: lowers the peak of a training step.
                tensor.Grad.Buffer.Dispose();
                tensor.Grad = null;
            }
        }
    }

    /// <summary>
    /// For each position in <paramref name="order"/>, the leaves whose gradient is complete once that node's
    /// backward has run: backward runs the order from its end, so a leaf is done at the smallest position that uses it.
    /// </summary>
    static Dictionary<int, List<Tensor>> LeavesDoneAt(List<Tensor> order)
    {
        var last = new Dictionary<Tensor, int>(ReferenceEqualityComparer.Instance);
        for (int i = order.Count - 1; i >= 0; i--)
            foreach (var input in order[i].Node!.Inputs)
                if (input.RequiresGrad && input.Node is null) last[input] = i;
        var doneAt = new Dictionary<int, List<Tensor>>();
        foreach (var (leaf, i) in last)
        {
            if (!doneAt.TryGetValue(i, out var list)) doneAt[i] = list = [];
            list.Add(leaf);
        }
        return doneAt;
    }

    /// <summary>Tensors with a node, inputs before outputs (iterative DFS: deep nets must not overflow the stack).</summary>
    static List<Tensor> TopologicalOrder(Tensor root)
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor Tensor, bool Expanded)>();
        stack.Push((root, false));
        while (stack.Count > 0)
        {
            var (t, expanded) = stack.Pop();
            if (expanded) { order.Add(t); continue; }
            if (t.Node is null || !visited.Add(t)) continue;
            stack.Push((t, true));
            foreach (var input in t.Node.Inputs)
            {
                if (input.GraphFreed)
                    throw new InvalidOperationException("Backward() reaches a tensor whose graph an earlier backward pass already freed");
                if (input.Node is not null && !visited.Contains(input)) stack.Push((input, false));
            }
        }
        return order;
    }

    sealed class NoGradRegion : IDisposable
    {
        bool _done;
        public NoGradRegion() => _noGradDepth++;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            _noGradDepth--;
        }
    }
}
