namespace NoiseKD.Tests.Reliability;

/// <summary>
/// Byte-level mutations of a valid file, as a fuzzer makes them: flipped bits, bytes set to boundary values,
/// 32/64-bit integers overwritten with boundary values (little- and big-endian), inserted, deleted or
/// duplicated ranges, truncation. Deterministic in the seed, so a failing case replays.
/// </summary>
public static class Mutations
{
    static readonly long[] Boundary = [0, 1, -1, 2, 7, 8, 255, 256, 65535, int.MaxValue, int.MinValue, (long)int.MaxValue + 1, long.MaxValue, long.MinValue, 1L << 40];

    public static byte[] Apply(byte[] valid, ulong seed, int count)
    {
        var rng = new Random((int)(seed ^ (seed >> 32)));
        var bytes = new List<byte>(valid);
        for (int m = 0; m < count; m++)
        {
            int at = bytes.Count == 0 ? 0 : rng.Next(bytes.Count);
            switch (rng.Next(8))
            {
                case 0 when bytes.Count > 0: bytes[at] ^= (byte)(1 << rng.Next(8)); break;
                case 1 when bytes.Count > 0: bytes[at] = (byte)Boundary[rng.Next(Boundary.Length)]; break;
                case 2 when bytes.Count >= 8:
                {
                    at = Math.Min(at, bytes.Count - 8);
                    byte[] v = BitConverter.GetBytes(Boundary[rng.Next(Boundary.Length)]);
                    if (rng.Next(2) == 0) Array.Reverse(v);
                    int n = rng.Next(2) == 0 ? 4 : 8;
                    for (int i = 0; i < n; i++) bytes[at + i] = v[i];
                    break;
                }
                case 3: bytes.InsertRange(at, Enumerable.Range(0, rng.Next(1, 16)).Select(_ => (byte)rng.Next(256))); break;
                case 4 when bytes.Count > 0: bytes.RemoveRange(at, Math.Min(bytes.Count - at, rng.Next(1, 16))); break;
                case 5 when bytes.Count > 0: bytes.RemoveRange(at, bytes.Count - at); break; // truncation
                case 6 when bytes.Count > 0:
                {
                    int n = Math.Min(bytes.Count - at, rng.Next(1, 32));
                    bytes.InsertRange(rng.Next(bytes.Count), bytes.GetRange(at, n));
                    break;
                }
                default:
                    if (bytes.Count > 0) bytes[at] = (byte)"0123456789-.,[]{}\":e \n"[rng.Next(22)]; // text formats: digits and JSON punctuation
                    break;
            }
        }
        return bytes.ToArray();
    }
}
