using Flux2.Core;

namespace Flux2.Text;

/// <summary>A tokenizer file or folder that cannot be used: missing, malformed, or inconsistent. The message names the file.</summary>
public sealed class TokenizerFormatException : Flux2Exception
{
    public TokenizerFormatException(string file, string message) : base($"{file}: {message}") => File = file;

    public TokenizerFormatException(string file, string message, Exception inner) : base($"{file}: {message}", inner) => File = file;

    public string File { get; }
}
