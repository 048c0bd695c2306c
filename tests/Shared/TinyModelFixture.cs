namespace Flux2.Tests;

/// <summary>A <see cref="TinyModelFolders"/> model folder as a class fixture: written once for a test class, deleted after it.</summary>
public abstract class TinyModelFixture : IDisposable
{
    public TempDirectory Dir { get; } = new();
    public string Folder { get; }

    protected TinyModelFixture(string name, Action<string> write)
    {
        Folder = Dir.File(name);
        write(Folder);
    }

    public void Dispose() => Dir.Dispose();
}

/// <summary>tiny_dev + vae_small without a text encoder (the pipe_t2i / pipe_edit golden setup).</summary>
public sealed class TinyDevModel() : TinyModelFixture("dev", TinyModelFolders.Dev);

/// <summary>The distilled tiny klein folder (Qwen3 tokenizer and text encoder, tiny_klein, vae_small).</summary>
public sealed class TinyKleinModel() : TinyModelFixture("klein", folder => TinyModelFolders.Klein(folder));

/// <summary>The distilled tiny klein folder as a klein 9B-KV repository.</summary>
public sealed class TinyKleinKvModel() : TinyModelFixture("klein-kv", TinyModelFolders.KleinKv);

/// <summary>The klein-base tiny folder: its step count is free, so a request can be made as long as a test needs.</summary>
public sealed class TinyKleinBaseModel() : TinyModelFixture("klein-base", folder => TinyModelFolders.Klein(folder, distilled: false));
