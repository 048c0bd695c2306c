using Flux2.Core;

namespace Flux2.Pipelines.Images;

/// <summary>An image file that cannot be read, decoded or written, or whose size is unusable; the message names the file.</summary>
public sealed class ImageFileException : Flux2Exception
{
    public ImageFileException(string message) : base(message) { }
    public ImageFileException(string message, Exception? inner) : base(message, inner) { }
}
