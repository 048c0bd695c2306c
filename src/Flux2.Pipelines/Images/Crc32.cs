namespace Flux2.Pipelines.Images;

/// <summary>The CRC-32 of PNG chunks and zlib/gzip (ISO-HDLC: reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF).</summary>
public static class Crc32
{
    private static readonly uint[] s_table = BuildTable();

    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Append(Start, data));

    public const uint Start = 0xFFFFFFFFu;

    /// <summary>Continues a running CRC (begin with <see cref="Start"/>, end with <see cref="Finish"/>).</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data) crc = s_table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    public static uint Finish(uint crc) => crc ^ 0xFFFFFFFFu;

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
