namespace Flux2.Pipelines.Images;

/// <summary>
/// A read-only stream over a file's bytes that notes when its reader asks for bytes past the end. StbImageSharp reads
/// through its stream and takes the missing bytes of a truncated file as zeros without a word (black or background
/// pixels); the reader asks this stream afterwards whether that happened. It answers past the end as a MemoryStream does
/// (-1, or fewer bytes than asked) and never throws there: stb's output buffer is unmanaged memory, which an exception
/// thrown in the middle of a decode would leak.
/// </summary>
internal sealed class TruncationDetectingStream(byte[] bytes) : MemoryStream(bytes, writable: false)
{
    public bool ReadPastEnd { get; private set; }

    public override int ReadByte()
    {
        if (Position >= Length) ReadPastEnd = true;
        return base.ReadByte();
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        if (count > Length - Position) ReadPastEnd = true;
        return base.Read(buffer, offset, count);
    }

    public override int Read(Span<byte> buffer)
    {
        if (buffer.Length > Length - Position) ReadPastEnd = true;
        return base.Read(buffer);
    }
}
