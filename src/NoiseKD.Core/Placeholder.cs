namespace NoiseKD; internal static class Placeholder {}
