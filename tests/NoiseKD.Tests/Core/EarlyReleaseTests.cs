using NoiseKD.Autograd;
using NoiseKD.Functional;
using NoiseKD.Nn;
using NoiseKD.Tensors;
using Xunit;

namespace NoiseKD.Tests.Core;

/// <summary>
/// Module.ReleaseConsumed and TensorScope.Release: an intermediate goes back to the pool before its scope
/// ends only when nothing can read it again (NoGrad, no hook on the layers that saw it, no shared memory
/// with what it became, owned by the innermost scope), and a released tensor throws instead of reading
/// memory that now belongs to someone else.
/// </summary>
public class EarlyReleaseTests
{
    static Tensor Values(int count) => Tensor.FromArray(Enumerable.Range(0, count).Select(i => (float)i).ToArray(), [count]);

    static bool IsReleased(Tensor t)
    {
        try
        {
            _ = t.Buffer;
            return false;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }

    [Fact]
    public void UnderNoGradAConsumedIntermediateIsReleasedAndThrowsOnUse()
    {
        using var scope = new TensorScope();
        using var _ = Tape.NoGrad();
        var intermediate = Values(100);
        var result = F.Relu(intermediate);
        Module.ReleaseConsumed(intermediate, result, new ReLU());
        Assert.True(IsReleased(intermediate));
        Assert.Throws<ObjectDisposedException>(() => intermediate.ToArray());
        Assert.Equal(400, scope.LiveBytes); // the result only
    }

    [Fact]
    public void WithTheTapeOnNothingIsReleased()
    {
        using var scope = new TensorScope();
        var intermediate = Values(100);
        Module.ReleaseConsumed(intermediate, F.Relu(intermediate), new ReLU());
        Assert.False(IsReleased(intermediate));
    }

    [Fact]
    public void AResultSharingTheMemoryKeepsIt()
    {
        using var scope = new TensorScope();
        using var _ = Tape.NoGrad();
        var intermediate = Values(100);
        var view = F.Reshape(intermediate, [10, 10]);
        Module.ReleaseConsumed(intermediate, view, new Identity());
        Assert.False(IsReleased(intermediate));
    }

    /// <summary>A hook anywhere inside a layer that saw the tensor may have kept it.</summary>
    [Fact]
    public void AHookInsideALayerThatSawItKeepsIt()
    {
        var inner = new ReLU();
        var layer = new Sequential(new Identity(), inner);
        using var hook = inner.AddForwardHook((_, _, _) => { });
        using var scope = new TensorScope();
        using var _ = Tape.NoGrad();
        var intermediate = Values(100);
        Module.ReleaseConsumed(intermediate, F.Relu(intermediate), new ReLU(), layer, null);
        Assert.False(IsReleased(intermediate));
    }

    /// <summary>Parameters (no scope) and tensors of an outer scope are never released from an inner one.</summary>
    [Fact]
    public void OnlyTheInnermostScopesTensorsAreReleased()
    {
        Tensor persistent;
        using (TensorScope.Suspend()) persistent = Values(100);
        using var outer = new TensorScope();
        var outerTensor = Values(100);
        using var inner = new TensorScope();
        using var _ = Tape.NoGrad();
        Module.ReleaseConsumed(persistent, F.Relu(persistent), new ReLU());
        Module.ReleaseConsumed(outerTensor, F.Relu(outerTensor), new ReLU());
        Assert.False(IsReleased(persistent));
        Assert.False(IsReleased(outerTensor));
    }

    /// <summary>
    /// The pool hands the released buffer to the next tensor of its size; the scope then frees that tensor
    /// at its end and nothing twice (a second free would corrupt the pool's accounting).
    /// </summary>
    [Fact]
    public void AReusedBufferBelongsToItsNewTensor()
    {
        Tensor reused;
        using (var scope = new TensorScope())
        using (Tape.NoGrad())
        {
            var intermediate = Values(1001);
            Module.ReleaseConsumed(intermediate, F.Relu(intermediate), new ReLU());
            reused = Values(1001);
            Assert.True(IsReleased(intermediate));
            Assert.Equal(1000f, reused.ToArray()[^1]);
            Assert.Equal(2 * 1001 * sizeof(float), scope.LiveBytes);
        }
        Assert.True(IsReleased(reused));
    }

    /// <summary>Samples the scope's live bytes each time a forward passes through it (a layer, not a hook: hooks stop releases).</summary>
    sealed class LiveBytesProbe(TensorScope scope, List<long> samples) : Module
    {
        protected override Tensor OnForward(Tensor x)
        {
            samples.Add(scope.LiveBytes);
            return x;
        }
    }

    /// <summary>
    /// Under NoGrad a Sequential keeps its input and the latest output only: at every point between layers
    /// the scope holds the input and one activation; with the tape on it holds every activation.
    /// </summary>
    [Fact]
    public void SequentialUnderNoGradHoldsTheInputAndOneActivation()
    {
        const int n = 4, c = 8, hw = 16;
        long activation = (long)n * c * hw * hw * sizeof(float);
        var samples = new List<long>();
        using var scope = new TensorScope();
        var probe = new LiveBytesProbe(scope, samples);
        var net = new Sequential(new Conv2d(c, c, 3, padding: 1), probe, new BatchNorm2d(c), new ReLU(), probe,
                                 new Conv2d(c, c, 3, padding: 1), probe, new BatchNorm2d(c), new ReLU6(), probe, new Conv2d(c, c, 1), probe);
        net.Eval();
        var x = Tensor.Zeros([n, c, hw, hw]);
        Tensor y;
        using (Tape.NoGrad()) y = net.Forward(x);
        Assert.Equal(5, samples.Count);
        Assert.All(samples, live => Assert.Equal(2 * activation, live));
        Assert.Equal(2 * activation, scope.LiveBytes);

        samples.Clear();
        net.Forward(x);
        Assert.Equal(2 * activation + 5 * activation, samples[^1]); // plus the first output; fused BN-ReLU pairs keep one each
    }
}
