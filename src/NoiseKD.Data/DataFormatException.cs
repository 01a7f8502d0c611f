namespace NoiseKD.Data;

/// <summary>A data file is missing, truncated or not in the expected format: a user error, reported in one sentence.</summary>
public sealed class DataFormatException(string message) : Exception(message);
