using NoiseKD.Autograd;
using NoiseKD.Functional;
using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.Tensors;
using NoiseKD.Tests.Ops;
using NoiseKD.Training;
using Xunit;

namespace NoiseKD.Tests.Models;

/// <summary>
/// The models run their BN-(add-)activation tails fused and release NoGrad intermediates early; with a
/// hook on every BatchNorm they run unfused and release nothing a hook could see. Both paths must give
/// the same logits, gradients and running buffers, and a NoGrad forward must end holding almost nothing.
/// </summary>
public class FusedModelTests
{
    const int Batch = 4, Image = 8;

    /// <summary>Every model with a BN-activation chain: BasicBlock and Bottleneck ResNets, a pre-activation WRN, MobileNetV2, the BN MLP.</summary>
    public static TheoryData<string, float> Models => new()
    {
        { "resnet18", 0.25f },
        { "resnet50", 0.125f },
        { "wrn-16-2", 0.5f },
        { "mobilenetv2", 0.25f },
        { "mlp", 1f },
    };

    static Module Create(string arch, float width) => new ModelSpec(arch, width, 3, 10, Image).Create();

    /// <summary>A second model with the same parameters and buffers, and a no-op hook on each BatchNorm (so it runs unfused).</summary>
    static (Module Twin, List<IDisposable> Hooks) UnfusedTwin(Module model, string arch, float width)
    {
        var twin = Create(arch, width);
        twin.LoadStateDict(model.StateDict().ToDictionary(p => p.Name, p => (p.Value.Shape, p.Value.ToArray())));
        var hooks = twin.NamedModules().Where(m => m.Module is BatchNorm).Select(m => m.Module.AddForwardHook((_, _, _) => { })).ToList();
        Assert.NotEmpty(hooks);
        return (twin, hooks);
    }

    static Tensor Input(int seed) => Tensor.FromArray(OpCheck.ToFloat(OpCheck.Draw(Batch * 3 * Image * Image, -2, 2, new Random(seed))), [Batch, 3, Image, Image]);

    static void AssertClose(float[] expected, float[] actual, double tolerance, string what)
    {
        double error = OpCheck.RelativeError(OpCheck.ToDouble(actual), OpCheck.ToDouble(expected));
        Assert.True(error <= tolerance, $"{what}: relative error {error:E2} > {tolerance:E0}");
    }

    /// <summary>
    /// A training step's logits and running buffers bit for bit (the fused pass does the unfused float
    /// operations), every parameter gradient to rounding (the residual's gradient is summed in another
    /// order); then eval logits on running and on current statistics under NoGrad, where the fused model
    /// also releases its intermediates.
    /// </summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void FusedMatchesUnfused(string arch, float width)
    {
        var fused = Create(arch, width);
        var (unfused, hooks) = UnfusedTwin(fused, arch, width);
        int[] labels = [1, 3, 5, 7];
        using (var scope = new TensorScope())
        {
            var x = Input(1);
            var (a, b) = (fused.Forward(x), unfused.Forward(x));
            Assert.Equal(b.ToArray(), a.ToArray());
            F.CrossEntropy(a, labels).Backward();
            F.CrossEntropy(b, labels).Backward();
        }
        var twinParameters = unfused.NamedParameters().ToDictionary(p => p.Name, p => p.Value);
        foreach (var (name, p) in fused.NamedParameters())
            AssertClose(twinParameters[name].Grad!.ToArray(), p.Grad!.ToArray(), 1e-5, "grad." + name);
        var twinBuffers = unfused.NamedBuffers().ToDictionary(p => p.Name, p => p.Value);
        foreach (var (name, buffer) in fused.NamedBuffers())
            Assert.Equal(twinBuffers[name].ToArray(), buffer.ToArray());

        fused.Eval();
        unfused.Eval();
        foreach (var statistics in new[] { BnStatistics.Running, BnStatistics.Current })
        {
            using var scope = new TensorScope();
            using var fusedBn = BnControl.Override(fused, statistics, updateRunning: false);
            using var unfusedBn = BnControl.Override(unfused, statistics, updateRunning: false);
            using var _ = Tape.NoGrad();
            var x = Input(2);
            Assert.Equal(unfused.Forward(x).ToArray(), fused.Forward(x).ToArray());
        }
        hooks.ForEach(h => h.Dispose());
    }

    /// <summary>
    /// After a NoGrad forward (the noise-KD teacher's: eval, current statistics) the scope holds the input
    /// and exactly the linear head's input and output (pooled features, logits): every activation map and
    /// every batch statistic went back to the pool once used. The same forward with the tape on holds all
    /// of them. With hooks on the BatchNorms the blocks release nothing the hooks could have kept.
    /// </summary>
    [Theory]
    [InlineData("resnet18", 0.25f)]
    [InlineData("wrn-16-2", 0.5f)]
    [InlineData("mobilenetv2", 0.25f)]
    public void NoGradForwardEndsHoldingAlmostNothing(string arch, float width)
    {
        var model = Create(arch, width);
        model.Eval();
        using var bn = BnControl.Override(model, BnStatistics.Current, updateRunning: false);
        long inputBytes = (long)Batch * 3 * Image * Image * sizeof(float);

        long Held(Module m, bool noGrad)
        {
            using var scope = new TensorScope();
            var x = Input(3);
            using (noGrad ? Tape.NoGrad() : null) m.Forward(x);
            return scope.LiveBytes - inputBytes;
        }

        var head = model.NamedModules().Select(m => m.Module).OfType<Linear>().Last();
        long noGrad = Held(model, noGrad: true), withGrad = Held(model, noGrad: false);
        Assert.Equal((long)Batch * (head.InFeatures + head.OutFeatures) * sizeof(float), noGrad);
        Assert.True(noGrad * 20 < withGrad, $"NoGrad forward holds {noGrad} bytes, with the tape on {withGrad}");

        var (hooked, hooks) = UnfusedTwin(model, arch, width);
        hooked.Eval();
        using var hookedBn = BnControl.Override(hooked, BnStatistics.Current, updateRunning: false);
        Assert.True(Held(hooked, noGrad: true) > 5 * noGrad, "with hooks on every BatchNorm the blocks must keep what the hooks saw");
        hooks.ForEach(h => h.Dispose());
    }
}
