namespace NoiseKD.Data;

/// <summary>A dataset could not be fetched or installed (no npm, a failed download, a wrong hash, a full disk): one sentence, nothing left half-installed.</summary>
public sealed class DatasetFetchException(string message) : Exception(message);
