using NoiseKD.Autograd;
using NoiseKD.Backends.Cpu;
using NoiseKD.Functional;
using NoiseKD.Nn;
using NoiseKD.Tensors;
using NoiseKD.Tests.Ops;
using Xunit;

namespace NoiseKD.Tests.Core;

/// <summary>Tests that read the CPU pool's global byte counters run alone (no other test allocates meanwhile).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryAccountingCollection
{
    public const string Name = "memory accounting";
}

public class AutogradTests
{
    static Tensor Leaf(float[] values, params int[] shape)
    {
        var t = Tensor.FromArray(values, shape);
        t.RequiresGrad = true;
        return t;
    }

    /// <summary>x feeds two branches, y = sum(x * a + tanh(x)): dy/dx = a + 1 - tanh(x)^2, both paths added.</summary>
    [Fact]
    public void TensorUsedInTwoBranchesAccumulatesGradients()
    {
        float[] xs = [0.5f, -1f, 2f], a = [3f, -2f, 0.25f];
        using var scope = new TensorScope();
        var x = Leaf(xs, 3);
        var y = F.Sum(F.Add(F.Mul(x, Tensor.FromArray(a, [3])), F.Tanh(x)));
        y.Backward();
        var expected = xs.Select((v, i) => a[i] + 1 - Math.Tanh(v) * Math.Tanh(v)).ToArray();
        Assert.True(OpCheck.RelativeError(OpCheck.ToDouble(x.Grad!.ToArray()), expected) <= 1e-6);
    }

    /// <summary>A diamond: h = relu(x) is reused by two later ops; its gradient must be complete before it flows on.</summary>
    [Fact]
    public void DiamondGraphVisitsSharedNodeOnce()
    {
        float[] xs = [0.5f, -1f, 2f];
        using var scope = new TensorScope();
        var x = Leaf(xs, 3);
        var h = F.Relu(x);
        F.Sum(F.Add(F.Mul(h, h), F.Scale(h, 3f))).Backward();   // d/dh = 2h + 3
        Assert.Equal([4f, 0f, 7f], x.Grad!.ToArray());
    }

    [Fact]
    public void NoGradRecordsNothing()
    {
        using var scope = new TensorScope();
        var x = Leaf([1f, 2f], 2);
        Tensor y;
        using (Tape.NoGrad())
        {
            Assert.False(Tape.IsEnabled);
            y = F.Sum(F.Mul(x, x));
        }
        Assert.True(Tape.IsEnabled);
        Assert.False(y.RequiresGrad);
        Assert.True(y.IsLeaf);
        Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Null(x.Grad);
    }

    [Fact]
    public void NestedNoGradRestoresOnlyAtTheOutermostExit()
    {
        var outer = Tape.NoGrad();
        var inner = Tape.NoGrad();
        inner.Dispose();
        inner.Dispose();   // disposing twice must not re-enable recording
        Assert.False(Tape.IsEnabled);
        outer.Dispose();
        Assert.True(Tape.IsEnabled);
    }

    [Fact]
    public void BackwardOnANonScalarThrows()
    {
        using var scope = new TensorScope();
        var x = Leaf([1f, 2f, 3f], 3);
        var e = Assert.Throws<InvalidOperationException>(() => F.Relu(x).Backward());
        Assert.Contains("scalar", e.Message);
    }

    [Fact]
    public void BackwardWithoutAnyGradientPathThrows()
    {
        using var scope = new TensorScope();
        Assert.Throws<InvalidOperationException>(() => F.Sum(Tensor.Ones([3])).Backward());
    }

    [Fact]
    public void DetachCutsTheGraph()
    {
        using var scope = new TensorScope();
        var x = Leaf([1f, 2f], 2);
        var y = F.Mul(x, x).Detach();
        Assert.False(y.RequiresGrad);
        F.Sum(F.Mul(y, x)).Backward();          // only the direct x path: dy/dx = y = x^2
        Assert.Equal([1f, 4f], x.Grad!.ToArray());
    }

    [Fact]
    public void TensorUsedAfterItsScopeThrows()
    {
        Tensor t;
        using (var scope = new TensorScope()) t = Tensor.Ones([5]);
        Assert.Throws<ObjectDisposedException>(() => t.ToArray());
        // Still an error once the pool has handed the same memory to a new tensor.
        using (var scope = new TensorScope())
        {
            var reuse = Tensor.Zeros([5]);
            Assert.Throws<ObjectDisposedException>(() => t.ToArray());
            Assert.Equal(new float[5], reuse.ToArray());
        }
    }

    [Fact]
    public void KeepMovesATensorToTheEnclosingScope()
    {
        Tensor kept, dropped;
        using (var outer = new TensorScope())
        {
            using (var inner = new TensorScope())
            {
                kept = inner.Keep(Tensor.Full([3], 2f));
                dropped = Tensor.Full([3], 1f);
            }
            Assert.Equal([2f, 2f, 2f], kept.ToArray());
            Assert.Throws<ObjectDisposedException>(() => dropped.ToArray());
        }
        Assert.Throws<ObjectDisposedException>(() => kept.ToArray());   // the outer scope owned it
    }

    [Fact]
    public void KeepWithoutAnOuterScopeHandsTheTensorToTheGarbageCollector()
    {
        Tensor kept;
        using (var scope = new TensorScope()) kept = scope.Keep(Tensor.Full([2], 3f));
        Assert.Equal([3f, 3f], kept.ToArray());
    }

    [Fact]
    public void ScopesMustNest()
    {
        var outer = new TensorScope();
        var inner = new TensorScope();
        Assert.Throws<InvalidOperationException>(() => outer.Dispose());
        inner.Dispose();
        outer.Dispose();
    }

    [Fact]
    public void SameSeedSameTensorsDifferentSeedsDiffer()
    {
        using var scope = new TensorScope();
        float[] Draw(ulong seed)
        {
            var g = new Generator(seed);
            return [.. g.Normal([4, 5]).ToArray(), .. g.Uniform([7], -1f, 1f).ToArray()];
        }
        var a = Draw(42);
        Assert.Equal(a, Draw(42));
        Assert.NotEqual(a, Draw(43));
        // Successive draws of one generator continue the stream rather than repeat it.
        var gen = new Generator(42);
        Assert.NotEqual(gen.Normal([20]).ToArray(), gen.Normal([20]).ToArray());
        Assert.Equal(40UL, gen.Offset);
    }

    [Fact]
    public void GeneratorDrawsHaveTheRequestedDistribution()
    {
        using var scope = new TensorScope();
        var gen = new Generator(5);
        var normal = gen.Normal([20000], 2f, 3f).ToArray();
        var uniform = gen.Uniform([20000], -1f, 3f).ToArray();
        double mean = normal.Average(), std = Math.Sqrt(normal.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, 1.9, 2.1);
        Assert.InRange(std, 2.9, 3.1);
        Assert.All(uniform, v => Assert.InRange(v, -1f, 3f));
        Assert.InRange(uniform.Average(), 0.95, 1.05);
    }
}

[Collection(MemoryAccountingCollection.Name)]
public class TensorScopeMemoryTests
{
    /// <summary>
    /// Every activation, intermediate gradient and temporary of a forward/backward pass inside a scope
    /// goes back to the pool when the scope ends: live bytes return to where they were. Parameters and
    /// their gradients persist, so a first pass outside the measurement creates those.
    /// </summary>
    [Fact]
    public void ScopeReleasesEverythingButParameters()
    {
        var net = new Sequential(new Conv2d(3, 5, 3, padding: 1), new BatchNorm2d(5), new ReLU(),
                                 new MaxPool2d(2), new Flatten(), new Linear(5 * 3 * 3, 4));
        var sgd = new NoiseKD.Optim.Sgd(net.Parameters(), 0.01f, momentum: 0.9f);
        void Step()
        {
            using var scope = new TensorScope();
            var x = new Generator(1).Normal([2, 3, 7, 7]);
            sgd.ZeroGrad();
            F.CrossEntropy(net.Forward(x), [1, 3]).Backward();
            sgd.Step();
        }
        Step();   // creates the parameter gradients and momentum buffers
        long before = CpuBackend.Instance.LiveBytes;
        Step();
        Assert.Equal(before, CpuBackend.Instance.LiveBytes);

        // And the measurement can fail: a tensor kept out of the scope is still live.
        using (var scope = new TensorScope()) scope.Keep(Tensor.Zeros([1000]));
        Assert.Equal(before + 4000, CpuBackend.Instance.LiveBytes);
    }

    [Fact]
    public void SecondBackwardThroughAFreedGraphThrows()
    {
        using var scope = new TensorScope();
        var w = Tensor.FromArray([1f, 2f], [2]);
        w.RequiresGrad = true;
        var hidden = F.Square(w);
        var loss = F.Sum(hidden);
        loss.Backward();
        Assert.Throws<InvalidOperationException>(() => loss.Backward());
        // A new loss built on the freed intermediate cannot silently drop the path to w.
        var again = F.Sum(F.Mul(hidden, hidden));
        Assert.Throws<InvalidOperationException>(() => again.Backward());
    }
}
