namespace NoiseKD.Training;

/// <summary>The loss became NaN or infinite: the run stops, and the last good checkpoint is kept.</summary>
public sealed class NonFiniteLossException(string message) : Exception(message);
