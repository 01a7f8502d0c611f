using System.Globalization;
using NoiseKD.Autograd;
using NoiseKD.Backends;
using NoiseKD.Nn;
using NoiseKD.Tensors;
using NoiseKD.Training;

namespace NoiseKD.Distillation;

/// <summary>
/// Target-class balancing (Nayak, Mopuri &amp; Chakraborty, WACV 2021): draw a candidate pool from the
/// transfer source, label each candidate with the teacher's argmax, and keep <c>PerClass</c> per class, so
/// the student sees every class the teacher can be made to predict equally often. Classes the teacher
/// predicts fewer than PerClass times are, with Missing = "fill", topped up with the unused candidates of highest
/// teacher probability for that class; with "skip", left short. Every image appears at most once in the set.
/// The pool is <see cref="PoolSize"/> candidates, by default 10 x PerClass x the teacher's classes.
/// </summary>
public sealed record BalanceOptions(int PerClass, int? PoolSize = null, string Missing = "fill", bool Balanced = true)
{
    /// <summary>The unbalanced control: a fixed set of the same size (PerClass x classes), kept as drawn.</summary>
    public static BalanceOptions Unbalanced(int perClass) => new(perClass, null, "skip", Balanced: false);

    /// <summary>Candidates drawn for a teacher with <paramref name="classes"/> classes.</summary>
    public int Pool(int classes) => Balanced ? PoolSize ?? 10 * PerClass * classes : PerClass * classes;

    public static BalanceOptions Parse(int perClass, int? poolSize, string missing)
    {
        if (perClass <= 0 || poolSize is <= 0) throw new ArgumentException("--balance N and --balance-pool must be positive");
        if (missing is not ("fill" or "skip")) throw new ArgumentException($"--balance-missing '{missing}' must be fill or skip");
        return new BalanceOptions(perClass, poolSize, missing);
    }
}

/// <summary>What balancing did: teacher-argmax histograms of the pool and of the kept set, and how many were filled per class.</summary>
public sealed record BalanceReport(int Pool, int[] Before, int[] After, int[] Filled)
{
    public Dictionary<string, object> ToMetrics() => new()
    {
        ["epoch"] = 0, ["balance_pool"] = Pool, ["histogram_before"] = Before, ["histogram_after"] = After, ["filled"] = Filled,
    };
}

/// <summary>A fixed, balanced set of transfer images, served in a fresh random order every pass.</summary>
public sealed class BalancedTransfer : TransferSet
{
    readonly float[] _images;
    readonly int[] _shape;
    readonly int _count;
    readonly ulong _seed;
    readonly IBackend _device;
    readonly string _source;
    readonly bool _balanced;
    readonly int[] _classes;
    int[] _order = [];
    int _pass = -1, _next;

    BalancedTransfer(float[] images, int[] classes, int[] imageShape, ulong seed, IBackend device, string source, bool balanced)
    {
        (_images, _classes, _count, _shape, _seed, _device, _source, _balanced) = (images, classes, classes.Length, imageShape, seed, device, source, balanced);
    }

    public int Count => _count;

    /// <summary>Up to <paramref name="max"/> of the kept images [k, C, H, W] of teacher class <paramref name="label"/> (the class each was kept for).</summary>
    public float[] ImagesOfClass(int label, int max)
    {
        int per = _shape[0] * _shape[1] * _shape[2];
        return Enumerable.Range(0, _count).Where(i => _classes[i] == label).Take(max)
                         .SelectMany(i => _images.AsSpan(i * per, per).ToArray()).ToArray();
    }

    public override ulong Position
    {
        get => ((ulong)(uint)(_pass + 1) << 32) | (uint)_next;
        set { _pass = (int)(value >> 32) - 1; _next = (int)(value & 0xFFFFFFFF); _order = _pass >= 0 ? Order(_pass) : []; }
    }

    public override Tensor Next(int batchSize)
    {
        int per = _shape[0] * _shape[1] * _shape[2];
        var batch = new float[batchSize * per];
        for (int i = 0; i < batchSize; i++)
        {
            if (_pass < 0 || _next >= _count) { _order = Order(++_pass); _next = 0; }
            Array.Copy(_images, (long)_order[_next++] * per, batch, (long)i * per, per);
        }
        return Tensor.FromArray(batch, [batchSize, _shape[0], _shape[1], _shape[2]], _device);
    }

    int[] Order(int pass) => new Generator(_seed * 7919UL + (ulong)pass).Permutation(_count);

    public override string Describe() => $"{_source}, fixed set of {_count} images{(_balanced ? ", class-balanced" : "")}";

    /// <summary>Draws the pool in batches of <paramref name="chunk"/> (the teacher's BN mode applies per chunk) and balances it.</summary>
    public static (BalancedTransfer Set, BalanceReport Report) Build(TransferSet source, Module teacher, int classes, BalanceOptions options,
                                                                      int chunk, ulong seed, IBackend device)
    {
        var argmaxIds = Enumerable.Range(0, classes).Select(_ => new List<int>()).ToArray();
        // Min-heaps of the most probable candidates per class, for topping up. A candidate fills one class at most and may be
        // taken by its own argmax class or by another short class first, so a class could need PerClass x (2 x classes - 1)
        // candidates; the depth is capped at 20 x PerClass (exact for up to 10 classes). Each image is held once, so memory
        // stays within the pool.
        var bestByProb = Enumerable.Range(0, classes).Select(_ => new PriorityQueue<int, float>()).ToArray();
        int fillDepth = options.PerClass * Math.Min(2 * classes, 20);
        var labelOf = new Dictionary<int, int>();
        var before = new int[classes];
        var kept = new Dictionary<int, float[]>();
        int[] imageShape = [];
        int drawn = 0, poolSize = options.Pool(classes);
        var asDrawn = new List<int>();
        using (Tape.NoGrad())
            while (drawn < poolSize)
            {
                using var scope = new TensorScope();
                int n = Math.Min(chunk, poolSize - drawn);
                if (n < 2) n = 2; // BatchNorm on current statistics needs two samples
                var x = source.Next(n);
                imageShape = x.Shape[1..];
                var probs = Functional.F.Softmax(teacher.Forward(x)).ToArray();
                var pixels = x.ToArray();
                int per = pixels.Length / n;
                for (int i = 0; i < n; i++)
                {
                    int id = drawn + i, label = Evaluator.ArgMax(probs.AsSpan(i * classes, classes));
                    before[label]++;
                    labelOf[id] = label;
                    if (!options.Balanced)
                    {
                        asDrawn.Add(id);
                        kept[id] = pixels.AsSpan(i * per, per).ToArray();
                        continue;
                    }
                    bool keep = false;
                    if (argmaxIds[label].Count < options.PerClass) { argmaxIds[label].Add(id); keep = true; }
                    if (options.Missing == "fill")
                        for (int k = 0; k < classes; k++)
                        {
                            float p = probs[i * classes + k];
                            var heap = bestByProb[k];
                            if (heap.Count < fillDepth) { heap.Enqueue(id, p); keep = true; }
                            else if (heap.TryPeek(out _, out float low) && p > low) { heap.DequeueEnqueue(id, p); keep = true; }
                        }
                    if (keep) kept[id] = pixels.AsSpan(i * per, per).ToArray();
                }
                drawn += n;
            }

        var chosen = new List<int>();
        var chosenClass = new List<int>();
        var filled = new int[classes];
        if (options.Balanced)
        {
            for (int k = 0; k < classes; k++)
            {
                chosen.AddRange(argmaxIds[k]); // each candidate has one argmax class, so these never repeat
                chosenClass.AddRange(argmaxIds[k].Select(_ => k));
            }
            if (options.Missing == "fill")
                foreach (var (id, k) in TopUp(argmaxIds, bestByProb, options.PerClass, filled)) { chosen.Add(id); chosenClass.Add(k); }
        }
        else (chosen, chosenClass) = (asDrawn, asDrawn.Select(id => labelOf[id]).ToList());
        if (chosen.Count == 0) throw new InvalidOperationException("balancing kept no images");

        // Histogram of the kept set by the teacher's argmax class (filled images count under the class they were drawn for).
        var after = options.Balanced ? new int[classes] : (int[])before.Clone();
        for (int k = 0; k < classes && options.Balanced; k++) after[k] = Math.Min(argmaxIds[k].Count, options.PerClass) + filled[k];
        int size = kept[chosen[0]].Length;
        var images = new float[(long)chosen.Count * size];
        for (int i = 0; i < chosen.Count; i++) kept[chosen[i]].CopyTo(images, (long)i * size);
        return (new BalancedTransfer(images, [.. chosenClass], imageShape, seed, device, source.Describe(), options.Balanced), new BalanceReport(drawn, before, after, filled));
    }

    /// <summary>
    /// Tops up the classes with fewer than <paramref name="perClass"/> argmax candidates. The most probable class-0 and
    /// class-1 inputs are often the same few images, and each image may go to one class only (none already in the set),
    /// so the short classes take turns, rarest first, each taking its most probable unused candidate per turn; a class
    /// whose candidates run out stays short, as <paramref name="filled"/> then shows.
    /// </summary>
    static List<(int Id, int Class)> TopUp(List<int>[] argmaxIds, PriorityQueue<int, float>[] bestByProb, int perClass, int[] filled)
    {
        var used = argmaxIds.SelectMany(ids => ids).ToHashSet();
        var queues = new List<(int Class, Queue<int> Best)>();
        foreach (int k in Enumerable.Range(0, argmaxIds.Length).Where(k => argmaxIds[k].Count < perClass).OrderBy(k => argmaxIds[k].Count).ThenBy(k => k))
        {
            var best = new List<(int Id, float P)>();
            while (bestByProb[k].TryDequeue(out int id, out float p)) best.Add((id, p));
            queues.Add((k, new Queue<int>(best.OrderByDescending(c => c.P).ThenBy(c => c.Id).Select(c => c.Id))));
        }
        var added = new List<(int Id, int Class)>();
        for (bool progress = true; progress;)
        {
            progress = false;
            foreach (var (k, queue) in queues)
            {
                if (argmaxIds[k].Count + filled[k] >= perClass) continue;
                while (queue.TryDequeue(out int id))
                    if (used.Add(id)) { added.Add((id, k)); filled[k]++; progress = true; break; }
            }
        }
        return added;
    }

    public static string FormatHistogram(int[] counts) => string.Join(" ", counts.Select(c => c.ToString(CultureInfo.InvariantCulture)));
}
