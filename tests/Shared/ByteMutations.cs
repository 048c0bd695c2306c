namespace Flux2.Tests;

/// <summary>Seeded edits of a valid input, for mutation tests: bit flips, byte overwrites, insertions (a random byte or one of
/// the caller's tokens), deletions, repeated runs and truncations, anywhere in it.</summary>
public static class ByteMutations
{
    /// <summary>One to <paramref name="maxEdits"/> edits of a copy of <paramref name="original"/>.</summary>
    public static byte[] Mutate(byte[] original, Random rng, int maxEdits, IReadOnlyList<byte[]> tokens)
    {
        var bytes = original.ToList();
        for (int edits = rng.Next(1, maxEdits + 1); edits > 0 && bytes.Count > 1; edits--)
        {
            int at = rng.Next(bytes.Count);
            switch (rng.Next(6))
            {
                case 0: bytes[at] ^= (byte)(1 << rng.Next(8)); break;
                case 1: bytes[at] = (byte)rng.Next(256); break;
                case 2: bytes.InsertRange(at, tokens.Count > 0 && rng.Next(2) == 0 ? tokens[rng.Next(tokens.Count)] : [(byte)rng.Next(256)]); break;
                case 3: bytes.RemoveAt(at); break;
                case 4: bytes.InsertRange(rng.Next(bytes.Count), bytes.GetRange(at, Math.Min(bytes.Count - at, rng.Next(1, 200)))); break;
                case 5: if (rng.Next(4) == 0) bytes.RemoveRange(at, bytes.Count - at); break;
            }
        }
        return [.. bytes];
    }
}
