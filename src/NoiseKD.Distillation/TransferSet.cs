using System.Globalization;
using NoiseKD.Backends;
using NoiseKD.Data;
using NoiseKD.Functional;
using NoiseKD.Serialization;
using NoiseKD.Tensors;

namespace NoiseKD.Distillation;

/// <summary>
/// Where the student's training inputs come from. Values are in the teacher's normalized input space
/// (what the network sees), so N(0, 1) noise is "Gaussian noise" in the sense of Raikwar &amp; Mishra.
/// Every batch is drawn fresh; no labels are used.
/// </summary>
public abstract class TransferSet
{
    /// <summary>The next batch [batchSize, C, H, W], owned by the current TensorScope.</summary>
    public abstract Tensor Next(int batchSize);

    public abstract string Describe();

    /// <summary>How far the source has advanced (random counters or file position), saved in checkpoints for exact resumption.</summary>
    public virtual ulong Position { get; set; }

    /// <summary>
    /// Parses --transfer: gaussian[:MEAN,STD], gaussian-lowres:R, uniform, real, file:PATH,
    /// shapes, plasma, dead-leaves, folder:PATH (netpbm images), dataset:NAME[:train|test] (another dataset, labels unused).
    /// </summary>
    public static TransferSet Parse(string spec, int channels, int size, Normalization normalization, ulong seed,
                                    IBackend device, Func<Dataset> realData, string? dataRoot = null)
    {
        var parts = spec.Split(':', 2);
        string kind = parts[0].ToLowerInvariant(), arg = parts.Length > 1 ? parts[1] : "";
        var gen = new Generator(seed);
        switch (kind)
        {
            case "gaussian":
            {
                float mean = 0f, std = 1f;
                if (arg.Length > 0)
                {
                    var v = arg.Split(',');
                    if (v.Length != 2 || !TryFloat(v[0], out mean) || !TryFloat(v[1], out std) || !(std > 0))
                        throw new ArgumentException($"--transfer gaussian:{arg} must be gaussian:MEAN,STD with STD > 0");
                }
                return new GaussianTransfer(channels, size, 1, mean, std, gen, device);
            }
            case "gaussian-lowres":
                if (!int.TryParse(arg, NumberStyles.Integer, CultureInfo.InvariantCulture, out int r) || r <= 0 || size % r != 0)
                    throw new ArgumentException($"--transfer gaussian-lowres:{arg} needs a resolution R that divides the input size {size}");
                return new GaussianTransfer(channels, r, size / r, 0f, 1f, gen, device);
            case "uniform":
                return new UniformTransfer(channels, size, normalization, gen, device);
            case "real":
            {
                // The real-data oracle sees what a CIFAR teacher trains on (pad-4 crop + flip); 28x28 sets stay unaugmented as measured before.
                var data = realData();
                return new DatasetTransfer(data, normalization, seed, device, data.Name.StartsWith("cifar", StringComparison.Ordinal) ? Augmentation.Standard(data.Name) : null);
            }
            case "file":
                return new FileTransfer(arg, channels, size, device);
            case "shapes" or "plasma" or "dead-leaves":
                return new ProceduralTransfer(kind, channels, size, normalization, gen, device);
            case "folder":
                return ImageListTransfer.FromFolder(arg, channels, size, normalization, gen, device);
            case "dataset":
            {
                var a = arg.Split(':');
                bool train = a.Length < 2 || a[1] != "test";
                if (a[0].Length == 0 || (a.Length > 1 && a[1] is not ("train" or "test")))
                    throw new ArgumentException($"--transfer dataset:{arg} must be dataset:NAME[:train|test]");
                return ImageListTransfer.FromDataset(DatasetCatalog.Load(a[0], train, dataRoot), channels, size, normalization, gen, device);
            }
            default:
                throw new ArgumentException($"--transfer '{spec}' must be gaussian[:MEAN,STD], gaussian-lowres:R, uniform, shapes, plasma, dead-leaves, " +
                                            "real, dataset:NAME[:train|test], folder:PATH or file:PATH");
        }
    }

    static bool TryFloat(string s, out float v) => float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v);
}

/// <summary>N(mean, std) noise; with an upsampling factor, drawn at low resolution and upsampled (nearest).</summary>
public sealed class GaussianTransfer(int channels, int resolution, int upsample, float mean, float std, Generator gen, IBackend device) : TransferSet
{
    public override ulong Position { get => gen.Offset; set => gen.Offset = value; }

    public override Tensor Next(int batchSize)
    {
        var noise = gen.Normal([batchSize, channels, resolution, resolution], mean, std, device);
        return upsample == 1 ? noise : F.UpsampleNearest(noise, upsample, upsample);
    }

    public override string Describe() => upsample == 1
        ? $"gaussian N({mean}, {std}^2)"
        : $"gaussian N({mean}, {std}^2) at {resolution}x{resolution}, upsampled x{upsample}";
}

/// <summary>Uniform random pixels in [0, 1], normalized like real images.</summary>
public sealed class UniformTransfer(int channels, int size, Normalization normalization, Generator gen, IBackend device) : TransferSet
{
    public override ulong Position { get => gen.Offset; set => gen.Offset = value; }

    public override Tensor Next(int batchSize)
    {
        var pixels = gen.Uniform([batchSize, channels, size, size], 0f, 1f, device);
        if (channels == 1) return F.Affine(pixels, 1f / normalization.Std[0], -normalization.Mean[0] / normalization.Std[0]);
        var planes = new List<Tensor>();
        var host = pixels.ToArray();
        int plane = size * size;
        for (int i = 0; i < batchSize; i++)
            for (int c = 0; c < channels; c++)
                for (int p = 0; p < plane; p++)
                {
                    int k = (i * channels + c) * plane + p;
                    host[k] = (host[k] - normalization.Mean[c]) / normalization.Std[c];
                }
        return Tensor.FromArray(host, pixels.Shape, device);
    }

    public override string Describe() => "uniform pixels in [0, 1], normalized";
}

/// <summary>A dataset's images without their labels, reshuffled every pass (the paper's "real data" oracle rows).</summary>
public sealed class DatasetTransfer(Dataset data, Normalization normalization, ulong seed, IBackend device, Augmentation? augmentation = null) : TransferSet
{
    IEnumerator<Batch>? _batches;
    int _batchSize, _pass;

    public override Tensor Next(int batchSize)
    {
        if (_batches is null || _batchSize != batchSize || !_batches.MoveNext())
        {
            _batches?.Dispose();
            _batchSize = batchSize;
            _batches = new DataLoader(data, batchSize, normalization, shuffle: true, seed, augmentation, dropLast: true).Epoch(_pass++).GetEnumerator();
            if (!_batches.MoveNext()) throw new ArgumentException($"{data.Name} has fewer than {batchSize} images for one transfer batch");
        }
        var batch = _batches.Current;
        return Tensor.FromArray(batch.ImageData, batch.Shape, device);
    }

    public override string Describe() => $"{data.Name} training images ({data.Count}){(augmentation is { IsNone: false } a ? $", random {a.CropPadding}-pixel-padded crop and flip" : "")}, labels unused";
}

/// <summary>Batches from a safetensors file's tensor `input` [N, C, H, W], used in order and wrapped around.</summary>
public sealed class FileTransfer : TransferSet
{
    readonly float[] _data;
    readonly int[] _shape;
    readonly IBackend _device;
    readonly string _path;
    int _next;

    public FileTransfer(string path, int channels, int size, IBackend device)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"transfer file '{path}' does not exist");
        var input = Safetensors.Read(path).Tensors.FirstOrDefault(t => t.Name == "input")
                    ?? throw new SafetensorsException($"transfer file '{path}' has no tensor named 'input'");
        if (input.Shape.Length != 4 || input.Shape[1] != channels || input.Shape[2] != size || input.Shape[3] != size)
            throw new ArgumentException($"transfer file '{path}': input has shape [{string.Join(", ", input.Shape)}], the teacher takes [N, {channels}, {size}, {size}]");
        (_data, _shape, _device, _path) = (input.Data, input.Shape, device, path);
    }

    public override Tensor Next(int batchSize)
    {
        int n = _shape[0], per = _shape[1] * _shape[2] * _shape[3];
        if (batchSize > n) throw new ArgumentException($"transfer file '{_path}' holds {n} samples, fewer than the batch size {batchSize}");
        var batch = new float[batchSize * per];
        for (int i = 0; i < batchSize; i++)
        {
            Array.Copy(_data, (long)_next * per, batch, (long)i * per, per);
            _next = (_next + 1) % n;
        }
        return Tensor.FromArray(batch, [batchSize, _shape[1], _shape[2], _shape[3]], _device);
    }

    public override ulong Position { get => (ulong)_next; set => _next = (int)(value % (ulong)_shape[0]); }

    public override string Describe() => $"file {_path} ({_shape[0]} samples, in order)";
}
