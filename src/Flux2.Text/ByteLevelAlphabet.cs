using System.Text;

namespace Flux2.Text;

/// <summary>
/// GPT-2's byte-to-character map used by byte-level BPE vocabularies (spec §8.1): printable bytes 33–126, 161–172
/// and 174–255 stand for themselves, the other 68 bytes map to U+0100 onward in increasing byte order.
/// </summary>
public static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = Build();

    /// <summary>The vocabulary character standing for byte <paramref name="b"/>.</summary>
    public static char ForByte(byte b) => ByteToChar[b];

    /// <summary>The vocabulary spelling of <paramref name="text"/>'s UTF-8 bytes.</summary>
    public static string Encode(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    private static char[] Build()
    {
        var map = new char[256];
        int next = 0x100;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= 33 and <= 126 or >= 161 and <= 172 or >= 174 and <= 255;
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }
}
