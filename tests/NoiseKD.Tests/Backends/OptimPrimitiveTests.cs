using NoiseKD.Backends;
using Xunit;
using static NoiseKD.Tests.Backends.PrimitiveTestUtil;

namespace NoiseKD.Tests.Backends;

/// <summary>Three optimizer steps against float64 loops of torch.optim.SGD / Adam / AdamW (PyTorch 1.13 formulas).</summary>
public class OptimPrimitiveTests
{
    const int Count = 1031, Steps = 3;

    static float[] Gradient(int step) => RandomArray(Count, 100 + step);

    /// <summary>The total move p_final - p_initial must match to this; p alone would hide a wrong small update.</summary>
    static void AssertMove(float[] actual, double[] expected, float[] initial, string what)
        => AssertClose(actual.Select((v, i) => (double)v - initial[i]).ToArray(),
                       expected.Select((v, i) => v - initial[i]).ToArray(), GradientTolerance, what);

    [Theory]
    [InlineData(0.1f, 0f, 0f, 0f, false)]
    [InlineData(0.1f, 0f, 0f, 1e-2f, false)]
    [InlineData(0.05f, 0.9f, 0.1f, 1e-2f, false)]
    [InlineData(0.05f, 0.9f, 0f, 5e-4f, true)]
    [InlineData(0.05f, 0.5f, 0.5f, 0f, false)]
    public void Sgd(float lr, float momentum, float dampening, float weightDecay, bool nesterov)
    {
        var initial = RandomArray(Count, 1);
        var p = ToDouble(initial);
        var buf = new double[Count];
        using var param = ToDevice(initial);
        // momentum = 0 runs without a buffer; otherwise a NaN buffer shows a first step that reads it.
        using var momentumBuffer = momentum == 0f ? null : NaNBuffer(Count);
        for (int step = 0; step < Steps; step++)
        {
            var g = Gradient(step);
            for (int i = 0; i < Count; i++)
            {
                double d = g[i] + weightDecay * p[i];
                if (momentum != 0)
                {
                    buf[i] = step == 0 ? d : momentum * buf[i] + (1 - dampening) * d;
                    d = nesterov ? d + momentum * buf[i] : buf[i];
                }
                p[i] -= lr * d;
            }
            using var grad = ToDevice(g);
            Cpu.SgdUpdate(param, grad, momentumBuffer, Count, lr, momentum, dampening, weightDecay, nesterov, firstStep: step == 0);
            Assert.Equal(g, ToHost(grad));
        }
        AssertClose(ToHost(param), p, ForwardTolerance, "param");
        AssertMove(ToHost(param), p, initial, "param move");
        if (momentumBuffer != null) AssertClose(ToHost(momentumBuffer), buf, ForwardTolerance, "momentum buffer");
    }

    [Theory]
    [InlineData(1e-2f, 0.9f, 0.999f, 1e-8f, 0f, false)]
    [InlineData(1e-2f, 0.9f, 0.99f, 1e-6f, 1e-2f, false)]
    [InlineData(2e-2f, 0.8f, 0.95f, 1e-8f, 0.1f, true)]
    [InlineData(1e-2f, 0.9f, 0.999f, 1e-3f, 0f, true)]
    public void Adam(float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled)
    {
        var initial = RandomArray(Count, 2);
        var p = ToDouble(initial);
        var (m, v) = (new double[Count], new double[Count]);
        using var param = ToDevice(initial);
        using var dm = ToDevice(new float[Count]);
        using var dv = ToDevice(new float[Count]);
        for (int step = 1; step <= Steps; step++)
        {
            var g = Gradient(step);
            double stepSize = lr / (1 - Math.Pow(beta1, step)), sqrtCorrection2 = Math.Sqrt(1 - Math.Pow(beta2, step));
            for (int i = 0; i < Count; i++)
            {
                if (decoupled) p[i] *= 1 - lr * weightDecay;
                double gi = g[i] + (decoupled ? 0 : weightDecay * p[i]);
                m[i] = beta1 * m[i] + (1 - beta1) * gi;
                v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
                p[i] -= stepSize * m[i] / (Math.Sqrt(v[i]) / sqrtCorrection2 + eps);
            }
            using var grad = ToDevice(g);
            Cpu.AdamUpdate(param, grad, dm, dv, Count, lr, beta1, beta2, eps, weightDecay, decoupled, step);
            Assert.Equal(g, ToHost(grad));
        }
        AssertClose(ToHost(param), p, ForwardTolerance, "param");
        AssertMove(ToHost(param), p, initial, "param move");
        AssertClose(ToHost(dm), m, ForwardTolerance, "first moment");
        AssertClose(ToHost(dv), v, ForwardTolerance, "second moment");
    }
}
