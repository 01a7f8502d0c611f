namespace NoiseKD.Data;

/// <summary>An image as planes of floats in [0, 1]: [channels, height, width].</summary>
public sealed record HostImage(int Channels, int Height, int Width, float[] Pixels);
