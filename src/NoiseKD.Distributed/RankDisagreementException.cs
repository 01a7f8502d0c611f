namespace NoiseKD.Distributed;

/// <summary>The ranks of one job were started with different options or see different input files.</summary>
public sealed class RankDisagreementException(string message) : ArgumentException(message);
