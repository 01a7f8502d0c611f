namespace NoiseKD.Backends.Conformance;

/// <summary>
/// The conformance cases: every IBackend primitive on awkward shapes (batch 1, odd sizes, channels 3, 5
/// and 13, stride 2, groups, depthwise, offsets and leading dimensions, both values of every accumulate
/// flag). Tolerances: integer-exact primitives (copies, uniform and Bernoulli draws) 0; the rest allow
/// float32 rounding of a different summation order.
/// </summary>
public static class ConformanceCases
{
    const double Exact = 0, Rounding = 1e-6, Summation = 1e-5;

    public static IReadOnlyList<ConformanceCase> All { get; } =
    [
        .. Memory(), .. Random(), .. Elementwise(), .. Reductions(), .. Gemm(), .. Convolution(),
        .. BatchNorm(), .. Pooling(), .. Softmax(), .. Optimizers(),
    ];

    static IEnumerable<ConformanceCase> Memory()
    {
        yield return new("Fill", "offset 3, 1000 of 1007", Exact, c =>
        {
            var y = c.Input(1007);
            c.Backend.Fill(y, 3, 1000, 2.5f);
            return c.Read(y);
        });
        foreach (var (rows, length, srcStride, dstStride) in new[] { (1, 1001, 0, 0), (7, 13, 13, 13), (7, 13, 20, 17) })
            yield return new("CopyBlocks", $"{rows}x{length} strides {srcStride}/{dstStride}", Exact, c =>
            {
                var x = c.Input(5 + rows * Math.Max(length, srcStride));
                var y = c.Input(2 + rows * Math.Max(length, dstStride));
                c.Backend.CopyBlocks(x, 5, srcStride, y, 2, dstStride, rows, length);
                return c.Read(y);
            });
    }

    static IEnumerable<ConformanceCase> Random()
    {
        // A counter offset beyond 2^32 checks the 64-bit integer math of the hash.
        const ulong seed = 0x1234_5678_9ABCUL, offset = (1UL << 40) + 17;
        yield return new("FillUniform", "1003 in [-2, 3)", Exact, c => Fill(c, y => c.Backend.FillUniform(y, 1003, seed, offset, -2f, 3f)));
        yield return new("FillNormal", "1003, mean 1, std 2", Rounding, c => Fill(c, y => c.Backend.FillNormal(y, 1003, seed, offset, 1f, 2f)));
        yield return new("FillBernoulli", "1003, keep 0.7, scale 1/0.7", Exact,
                         c => Fill(c, y => c.Backend.FillBernoulli(y, 1003, seed, offset, 0.7f, 1f / 0.7f)));
    }

    static float[][] Fill(ConformanceContext c, Action<DeviceBuffer> fill)
    {
        var y = c.Output(1003);
        fill(y);
        return c.Read(y);
    }

    static IEnumerable<ConformanceCase> Elementwise()
    {
        const int n = 1003;
        foreach (var op in Enum.GetValues<UnaryOp>())
        {
            // Log needs positive inputs; the others see both signs (and Relu6 both sides of 6).
            var (low, high) = op switch { UnaryOp.Log => (0.1f, 3f), UnaryOp.Relu6 => (-2f, 8f), _ => (-3f, 3f) };
            yield return new("Unary", $"{op} {n}", Rounding, c =>
            {
                var x = c.Input(n, low, high);
                var y = c.Output(n);
                c.Backend.Unary(op, 0.1f, x, y, n);
                return c.Read(y);
            });
            foreach (bool accumulate in new[] { false, true })
                yield return new("UnaryBackward", $"{op} {n} accumulate={accumulate}", Rounding, c =>
                {
                    var saved = c.Input(n, low, high);
                    var dy = c.Input(n);
                    var dx = c.Output(n, accumulate);
                    c.Backend.UnaryBackward(op, 0.1f, saved, dy, dx, n, accumulate);
                    return c.Read(dx);
                });
        }
        foreach (var op in Enum.GetValues<BinaryOp>())
            yield return new("Binary", $"{op} {n}, y aliasing a", Exact, c =>
            {
                var a = c.Input(n);
                var b = c.Input(n);
                c.Backend.Binary(op, a, b, a, n);
                return c.Read(a);
            });
        foreach (float beta in new[] { 0f, 0.5f })
            yield return new("Axpby", $"alpha 1.5 beta {beta} {n}", Exact, c =>
            {
                var x = c.Input(n);
                var y = c.Output(n, accumulate: beta != 0f);
                c.Backend.Axpby(1.5f, x, beta, y, n);
                return c.Read(y);
            });
        yield return new("Affine", $"alpha -2 beta 0.25 {n}, in place", Exact, c =>
        {
            var x = c.Input(n);
            c.Backend.Affine(-2f, x, 0.25f, x, n);
            return c.Read(x);
        });
    }

    static IEnumerable<ConformanceCase> Reductions()
    {
        foreach (long count in new long[] { 1, 1003, 100_003 })
            yield return new("Sum", $"{count} into offset 2", Summation, c =>
            {
                var x = c.Input(count);
                var result = c.Input(3);
                c.Backend.Sum(x, count, result, 2);
                return c.Read(result);
            });
        foreach (var (n, ch, hw, accumulate) in new[] { (3, 5, 7, false), (3, 5, 7, true), (1, 13, 1000, false), (64, 3, 1, true) })
            yield return new("ChannelSum", $"[{n}, {ch}, {hw}] accumulate={accumulate}", Summation, c =>
            {
                var x = c.Input((long)n * ch * hw);
                var result = c.Output(ch, accumulate);
                c.Backend.ChannelSum(x, n, ch, hw, result, accumulate);
                return c.Read(result);
            });
        yield return new("AddChannelBias", "[2, 13, 25]", Exact, c =>
        {
            var y = c.Input(2 * 13 * 25);
            var bias = c.Input(13);
            c.Backend.AddChannelBias(y, bias, 2, 13, 25);
            return c.Read(y);
        });
    }

    static IEnumerable<ConformanceCase> Gemm()
    {
        var shapes = new[] { (1, 1, 1), (17, 33, 9), (64, 64, 64), (65, 130, 67), (3, 200, 301) };
        foreach (var (m, n, k) in shapes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    foreach (float beta in new[] { 0f, 0.5f })
                        yield return new("Gemm", $"{(ta ? 'T' : 'N')}{(tb ? 'T' : 'N')} {m}x{n}x{k} alpha 1.5 beta {beta}, offsets, padded ld",
                                         Summation, c => GemmCase(c, ta, tb, m, n, k, beta));
    }

    static float[][] GemmCase(ConformanceContext c, bool ta, bool tb, int m, int n, int k, float beta)
    {
        // Leading dimensions 3 wider than the stored rows and offsets 5, 7, 11: nothing may assume a packed matrix.
        int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 3, ldc = n + 3;
        var a = c.Input(5 + (long)(ta ? k : m) * lda);
        var b = c.Input(7 + (long)(tb ? n : k) * ldb);
        var cm = c.Output(11 + (long)m * ldc, accumulate: beta != 0f);
        c.Backend.Gemm(ta, tb, m, n, k, 1.5f, a, 5, lda, b, 7, ldb, beta, cm, 11, ldc);
        var result = c.Read(cm)[0];
        // Only the m x n block is defined output (the padding of ldc keeps whatever it held).
        return [Enumerable.Range(0, m).SelectMany(i => result.AsSpan(11 + i * ldc, n).ToArray()).ToArray()];
    }

    static IEnumerable<ConformanceCase> Convolution()
    {
        ConvGeometry[] shapes =
        [
            new(1, 3, 5, 7, 5, 3, 3, 1, 1, 1, 1, 1),      // batch 1, odd sizes, 'same' 3x3
            new(3, 5, 9, 9, 13, 3, 3, 2, 2, 1, 1, 1),     // stride 2 over an odd size
            new(2, 13, 7, 5, 3, 1, 1, 1, 1, 0, 0, 1),     // 1x1 pointwise
            new(2, 3, 7, 5, 4, 3, 1, 2, 1, 1, 0, 1),      // rectangular kernel and stride
            new(2, 6, 9, 9, 4, 3, 3, 2, 2, 1, 1, 2),      // grouped, stride 2
            new(2, 13, 9, 9, 13, 3, 3, 1, 1, 1, 1, 13),   // depthwise 3x3
            new(1, 5, 9, 7, 5, 3, 3, 2, 2, 1, 1, 5),      // depthwise, stride 2
            new(1, 3, 9, 9, 6, 3, 3, 1, 1, 1, 1, 3),      // depthwise multiplier 2 (a grouped GEMM)
            new(4, 16, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1),  // several images per GEMM chunk
        ];
        foreach (var g in shapes)
        {
            string shape = $"x[{g.N}, {g.Cin}, {g.H}, {g.W}] w[{g.Cout}, {g.CinPerGroup}, {g.KH}, {g.KW}] stride {g.StrideH},{g.StrideW} pad {g.PadH},{g.PadW} groups {g.Groups}";
            yield return new("Conv2dForward", shape, Summation, c =>
            {
                var x = c.Input(g.InputLength);
                var w = c.Input(g.WeightLength);
                var y = c.Output(g.OutputLength);
                c.Backend.Conv2dForward(g, x, w, y);
                return c.Read(y);
            });
            foreach (bool accumulate in new[] { false, true })
            {
                yield return new("Conv2dBackwardData", $"{shape} accumulate={accumulate}", Summation, c =>
                {
                    var dy = c.Input(g.OutputLength);
                    var w = c.Input(g.WeightLength);
                    var dx = c.Output(g.InputLength, accumulate);
                    c.Backend.Conv2dBackwardData(g, dy, w, dx, accumulate);
                    return c.Read(dx);
                });
                yield return new("Conv2dBackwardWeight", $"{shape} accumulate={accumulate}", Summation, c =>
                {
                    var x = c.Input(g.InputLength);
                    var dy = c.Input(g.OutputLength);
                    var dw = c.Output(g.WeightLength, accumulate);
                    c.Backend.Conv2dBackwardWeight(g, x, dy, dw, accumulate);
                    return c.Read(dw);
                });
            }
        }
    }

    static IEnumerable<ConformanceCase> BatchNorm()
    {
        var shapes = new[] { (3, 5, 7), (1, 13, 33), (64, 3, 1) };
        foreach (var (n, ch, hw) in shapes)
        {
            string shape = $"[{n}, {ch}, {hw}]";
            yield return new("BatchNormStatistics", shape, Summation, c =>
            {
                // An offset mean (3 +- 1) shows whether the variance cancels digits.
                var x = c.Input((long)n * ch * hw, 2f, 4f);
                var mean = c.Output(ch);
                var variance = c.Output(ch);
                c.Backend.BatchNormStatistics(x, n, ch, hw, mean, variance);
                return c.Read(mean, variance);
            });
            foreach (bool affine in new[] { false, true })
                yield return new("BatchNormForward", $"{shape} affine={affine}", Rounding, c =>
                {
                    var (x, mean, variance) = BatchNormInputs(c, n, ch, hw);
                    var gamma = affine ? c.Input(ch, 0.5f, 1.5f) : null;
                    var beta = affine ? c.Input(ch) : null;
                    var y = c.Output((long)n * ch * hw);
                    c.Backend.BatchNormForward(x, n, ch, hw, mean, variance, 1e-5f, gamma, beta, y);
                    return c.Read(y);
                });
            foreach (bool withResidual in new[] { false, true })
                foreach (var activation in new UnaryOp?[] { null, UnaryOp.Relu, UnaryOp.Relu6 })
                    yield return new("BatchNormAddActivationForward", $"{shape} residual={withResidual} activation={activation?.ToString() ?? "none"}",
                                     Rounding, c =>
                    {
                        var (x, mean, variance) = BatchNormInputs(c, n, ch, hw);
                        // Scales up to 4 and shifts up to 3 put the sums on both sides of 0 and of Relu6's 6.
                        var gamma = c.Input(ch, 1f, 4f);
                        var beta = c.Input(ch, -1f, 3f);
                        var residual = withResidual ? c.Input((long)n * ch * hw, -3f, 3f) : null;
                        var y = c.Output((long)n * ch * hw);
                        c.Backend.BatchNormAddActivationForward(x, n, ch, hw, mean, variance, 1e-5f, gamma, beta, residual, activation, y);
                        return c.Read(y);
                    });
            foreach (bool batchStatistics in new[] { true, false })
                foreach (bool accumulate in new[] { false, true })
                    foreach (bool affine in new[] { false, true })
                        yield return new("BatchNormBackward", $"{shape} current={batchStatistics} accumulate={accumulate} affine={affine}", Summation, c =>
                        {
                            var (x, mean, variance) = BatchNormInputs(c, n, ch, hw);
                            var dy = c.Input((long)n * ch * hw);
                            var gamma = affine ? c.Input(ch, 0.5f, 1.5f) : null;
                            var dx = c.Output((long)n * ch * hw, accumulate);
                            var dgamma = affine ? c.Input(ch) : null;
                            var dbeta = affine ? c.Input(ch) : null;
                            c.Backend.BatchNormBackward(x, dy, n, ch, hw, mean, variance, 1e-5f, gamma, batchStatistics, dx, accumulate, dgamma, dbeta);
                            return affine ? c.Read(dx, dgamma!, dbeta!) : c.Read(dx);
                        });
        }
    }

    /// <summary>x with its own batch statistics (computed on the case's backend, as BN does).</summary>
    static (DeviceBuffer X, DeviceBuffer Mean, DeviceBuffer Variance) BatchNormInputs(ConformanceContext c, int n, int ch, int hw)
    {
        var x = c.Input((long)n * ch * hw, -2f, 3f);
        var mean = c.Output(ch);
        var variance = c.Output(ch);
        c.Backend.BatchNormStatistics(x, n, ch, hw, mean, variance);
        return (x, mean, variance);
    }

    static IEnumerable<ConformanceCase> Pooling()
    {
        PoolGeometry[] shapes =
        [
            new(6, 9, 7, 3, 3, 2, 2, 1, 1),                          // overlapping windows, padding
            new(5, 8, 6, 2, 2, 2, 2, 0, 0),                          // tiling windows
            new(3, 7, 9, 3, 2, 1, 2, 1, 1, CountIncludePad: false),  // rectangular, padding not counted
        ];
        foreach (var g in shapes)
        {
            string shape = $"{g.Planes} planes {g.H}x{g.W} window {g.KH}x{g.KW} stride {g.StrideH},{g.StrideW} pad {g.PadH},{g.PadW} include_pad={g.CountIncludePad}";
            yield return new("MaxPool2dForward", shape, Exact, c => Pool(c, g.InputLength, g.OutputLength, (x, y) => c.Backend.MaxPool2dForward(g, x, y)));
            yield return new("MaxPool2dBackward", shape, Rounding, c =>
            {
                var x = c.Input(g.InputLength);
                var dy = c.Input(g.OutputLength);
                var dx = c.Input(g.InputLength);
                c.Backend.MaxPool2dBackward(g, x, dy, dx);
                return c.Read(dx);
            });
            yield return new("AvgPool2dForward", shape, Rounding, c => Pool(c, g.InputLength, g.OutputLength, (x, y) => c.Backend.AvgPool2dForward(g, x, y)));
            yield return new("AvgPool2dBackward", shape, Rounding, c => PoolBackward(c, g.InputLength, g.OutputLength, (dy, dx) => c.Backend.AvgPool2dBackward(g, dy, dx)));
        }
        foreach (var (planes, h, w, oh, ow) in new[] { (6, 7, 5, 3, 2), (13, 4, 4, 1, 1), (2, 5, 5, 7, 6) })
        {
            string shape = $"{planes} planes {h}x{w} -> {oh}x{ow}";
            long inLength = (long)planes * h * w, outLength = (long)planes * oh * ow;
            yield return new("AdaptiveAvgPool2dForward", shape, Rounding,
                             c => Pool(c, inLength, outLength, (x, y) => c.Backend.AdaptiveAvgPool2dForward(planes, h, w, oh, ow, x, y)));
            yield return new("AdaptiveAvgPool2dBackward", shape, Rounding,
                             c => PoolBackward(c, inLength, outLength, (dy, dx) => c.Backend.AdaptiveAvgPool2dBackward(planes, h, w, oh, ow, dy, dx)));
        }
        foreach (var (planes, h, w, sh, sw) in new[] { (5, 3, 7, 2, 3), (2, 4, 4, 1, 1) })
        {
            string shape = $"{planes} planes {h}x{w} scale {sh}x{sw}";
            long inLength = (long)planes * h * w, outLength = inLength * sh * sw;
            yield return new("UpsampleNearestForward", shape, Exact,
                             c => Pool(c, inLength, outLength, (x, y) => c.Backend.UpsampleNearestForward(planes, h, w, sh, sw, x, y)));
            yield return new("UpsampleNearestBackward", shape, Rounding,
                             c => PoolBackward(c, inLength, outLength, (dy, dx) => c.Backend.UpsampleNearestBackward(planes, h, w, sh, sw, dy, dx)));
        }
    }

    static float[][] Pool(ConformanceContext c, long inLength, long outLength, Action<DeviceBuffer, DeviceBuffer> forward)
    {
        var x = c.Input(inLength);
        var y = c.Output(outLength);
        forward(x, y);
        return c.Read(y);
    }

    /// <summary>Backward passes of pools add into dx (dx +=), so dx starts with values.</summary>
    static float[][] PoolBackward(ConformanceContext c, long inLength, long outLength, Action<DeviceBuffer, DeviceBuffer> backward)
    {
        var dy = c.Input(outLength);
        var dx = c.Input(inLength);
        backward(dy, dx);
        return c.Read(dx);
    }

    static IEnumerable<ConformanceCase> Softmax()
    {
        foreach (var (rows, cols) in new[] { (1, 10), (7, 1000), (33, 3) })
            foreach (bool log in new[] { false, true })
            {
                string shape = $"[{rows}, {cols}] log={log}";
                yield return new("Softmax", shape, Rounding, c =>
                {
                    var x = c.Input((long)rows * cols, -5f, 5f);
                    var y = c.Output((long)rows * cols);
                    c.Backend.Softmax(x, rows, cols, log, y);
                    return c.Read(y);
                });
                foreach (bool accumulate in new[] { false, true })
                    yield return new("SoftmaxBackward", $"{shape} accumulate={accumulate}", Summation, c =>
                    {
                        var x = c.Input((long)rows * cols, -5f, 5f);
                        var y = c.Output((long)rows * cols);
                        c.Backend.Softmax(x, rows, cols, log, y);
                        var dy = c.Input((long)rows * cols);
                        var dx = c.Output((long)rows * cols, accumulate);
                        c.Backend.SoftmaxBackward(y, dy, rows, cols, log, dx, accumulate);
                        return c.Read(dx);
                    });
            }
    }

    static IEnumerable<ConformanceCase> Optimizers()
    {
        const int n = 1003;
        var sgd = new[] { (0f, 0f, 0f, false, false), (0.9f, 0f, 5e-4f, false, true), (0.9f, 0.1f, 5e-4f, false, false), (0.9f, 0f, 0f, true, false) };
        foreach (var (momentum, dampening, decay, nesterov, first) in sgd)
            yield return new("SgdUpdate", $"{n} momentum {momentum} dampening {dampening} wd {decay} nesterov={nesterov} first={first}", Rounding, c =>
            {
                var p = c.Input(n);
                var g = c.Input(n);
                var buffer = momentum == 0f ? null : c.Input(n);
                c.Backend.SgdUpdate(p, g, buffer, n, 0.1f, momentum, dampening, decay, nesterov, first);
                return buffer is null ? c.Read(p) : c.Read(p, buffer);
            });
        foreach (var (decoupled, step) in new[] { (false, 1), (false, 10), (true, 3) })
            yield return new("AdamUpdate", $"{n} {(decoupled ? "AdamW" : "Adam")} step {step} wd 0.01", Rounding, c =>
            {
                var p = c.Input(n);
                var g = c.Input(n);
                var m = c.Input(n, -0.1f, 0.1f);
                var v = c.Input(n, 0f, 0.01f);
                c.Backend.AdamUpdate(p, g, m, v, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, decoupled, step);
                return c.Read(p, m, v);
            });
    }
}
