namespace NoiseKD.Export;

/// <summary>
/// How to write the ONNX graph. <paramref name="Batch"/> null: a free "batch" dimension (any N);
/// otherwise a fixed N. <paramref name="IncludeNormalization"/>: the graph takes raw pixels in [0, 1]
/// and applies the model file's (x - mean) / std itself.
/// </summary>
public sealed record OnnxExportOptions(int Opset = OnnxExportOptions.DefaultOpset, int? Batch = null, bool IncludeNormalization = false)
{
    public const int DefaultOpset = 17, MinOpset = 11, MaxOpset = 21;

    /// <summary>Checks the values a user chose; a bad one is an ArgumentException naming the option.</summary>
    public void Validate()
    {
        if (Opset is < MinOpset or > MaxOpset)
            throw new ArgumentException($"--opset {Opset} is not supported; use {MinOpset} to {MaxOpset} (Clip takes its bounds as inputs from 11 on)");
        if (Batch is <= 0) throw new ArgumentException($"--batch {Batch} must be positive or 'dynamic'");
    }

    /// <summary>"dynamic" or a positive N, as --batch takes it.</summary>
    public static int? ParseBatch(string text) =>
        text.Equals("dynamic", StringComparison.OrdinalIgnoreCase) ? null
        : int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n > 0 ? n
        : throw new ArgumentException($"--batch '{text}' must be 'dynamic' or a positive number");

    /// <summary>
    /// The ONNX IR version that goes with an operator set (onnx/docs/Versioning.md): the oldest IR that
    /// knows the opset, so older runtimes still load the file.
    /// </summary>
    public long IrVersion => Opset switch
    {
        <= 11 => 6,
        <= 14 => 7,
        <= 18 => 8,
        <= 20 => 9,
        _ => 10,
    };
}
