using System.Buffers.Binary;
using System.Text;

namespace Flux2.Text.Normalization;

/// <summary>
/// Unicode canonical composition (NFC, UAX #15), the normaliser of the Qwen tokenizer. Own implementation because
/// <see cref="string.Normalize()"/> is a no-op when the process runs in globalization-invariant mode, as Flux2 does;
/// this one also gives the same result on every platform, whatever ICU it has. Tables: nfc-data.bin (Unicode 14.0,
/// written by generate_nfc_data.py).
/// </summary>
public static class Nfc
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    /// <summary>Code points below this are NFC-stable and never combine with what precedes them.</summary>
    private const char FirstCombiningMark = '\u0300';

    private static readonly Tables Data = Tables.Load();

    public static string Normalize(string text)
    {
        int firstSuspect = 0;
        while (firstSuspect < text.Length && text[firstSuspect] < FirstCombiningMark) firstSuspect++;
        if (firstSuspect == text.Length) return text;

        var cps = new List<int>(text.Length);
        foreach (var rune in text.EnumerateRunes()) Decompose(rune.Value, cps);
        ReorderCombiningMarks(cps);
        Compose(cps);

        var sb = new StringBuilder(text.Length);
        foreach (int cp in cps) sb.Append(char.ConvertFromUtf32(cp));
        return sb.ToString();
    }

    private static void Decompose(int cp, List<int> output)
    {
        int s = cp - SBase;
        if ((uint)s < SCount)
        {
            output.Add(LBase + s / NCount);
            output.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0) output.Add(TBase + s % TCount);
            return;
        }
        if (!Data.Decompositions.TryGetValue(cp, out var pair))
        {
            output.Add(cp);
            return;
        }
        Decompose(pair.First, output);
        if (pair.Second != 0) Decompose(pair.Second, output);
    }

    /// <summary>Canonical ordering: a stable sort by combining class within each run of non-starters.</summary>
    private static void ReorderCombiningMarks(List<int> cps)
    {
        for (int i = 1; i < cps.Count; i++)
        {
            int cp = cps[i];
            int cc = CombiningClass(cp);
            if (cc == 0) continue;
            int j = i;
            while (j > 0 && CombiningClass(cps[j - 1]) > cc)
            {
                cps[j] = cps[j - 1];
                j--;
            }
            cps[j] = cp;
        }
    }

    /// <summary>Canonical composition: each mark combines with the last starter unless a mark of the same or a
    /// higher class lies in between (it is then blocked).</summary>
    private static void Compose(List<int> cps)
    {
        int starterPos = 0;
        int lastClass = CombiningClass(cps[0]) == 0 ? 0 : 256;
        int write = 1;
        for (int read = 1; read < cps.Count; read++)
        {
            int cp = cps[read];
            int cc = CombiningClass(cp);
            if ((lastClass < cc || lastClass == 0) && TryCompose(cps[starterPos], cp, out int composite))
            {
                cps[starterPos] = composite;
                continue;
            }
            if (cc == 0) starterPos = write;
            lastClass = cc;
            cps[write++] = cp;
        }
        cps.RemoveRange(write, cps.Count - write);
    }

    private static bool TryCompose(int first, int second, out int composite)
    {
        int l = first - LBase, v = second - VBase;
        if ((uint)l < LCount && (uint)v < VCount)
        {
            composite = SBase + (l * VCount + v) * TCount;
            return true;
        }
        int s = first - SBase, t = second - TBase;
        if ((uint)s < SCount && s % TCount == 0 && t > 0 && t < TCount)
        {
            composite = first + t;
            return true;
        }
        return Data.Compositions.TryGetValue(PairKey(first, second), out composite);
    }

    private static int CombiningClass(int cp) => Data.CombiningClasses.TryGetValue(cp, out byte cc) ? cc : 0;

    private static long PairKey(int first, int second) => (long)first << 21 | (uint)second;

    private sealed class Tables
    {
        public Dictionary<int, byte> CombiningClasses { get; } = [];
        public Dictionary<int, (int First, int Second)> Decompositions { get; } = [];
        public Dictionary<long, int> Compositions { get; } = [];

        public static Tables Load()
        {
            const string name = "Flux2.Text.nfc-data.bin";
            using var stream = typeof(Nfc).Assembly.GetManifestResourceStream(name)
                ?? throw new InvalidOperationException($"embedded resource {name} is missing from the build");
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            int pos = 4; // Unicode version
            uint Next()
            {
                uint v = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(pos));
                pos += 4;
                return v;
            }

            var tables = new Tables();
            for (uint n = Next(); n > 0; n--)
            {
                uint entry = Next();
                tables.CombiningClasses[(int)(entry >> 8)] = (byte)entry;
            }
            for (uint n = Next(); n > 0; n--)
            {
                int cp = (int)Next(), first = (int)Next(), second = (int)Next();
                bool composes = Next() != 0;
                tables.Decompositions[cp] = (first, second);
                if (composes) tables.Compositions[PairKey(first, second)] = cp;
            }
            return tables;
        }
    }
}
