using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;

namespace Flux2.Cli.Debug;

/// <summary>Collects <c>outputs.*</c> tensors and writes them as one safetensors file.</summary>
public sealed class IoWriter
{
    private readonly SafeTensorsWriter _writer = new();

    public IoWriter(string component)
    {
        _writer.Metadata["generator"] = $"flux2 {CliApp.Version} debug forward {component}";
    }

    /// <summary>Adds a copy of a backend tensor (Float32, Int64 or UInt8) downloaded from <paramref name="backend"/>; a GPU's
    /// BFloat16 activations are widened (exactly) to Float32, the type the references they are compared with have.</summary>
    public void Add(string name, Tensor tensor, IBackend backend)
    {
        if (tensor.DType == DType.BFloat16)
        {
            _writer.Add(name, DType.Float32, tensor.Shape.Select(d => (long)d).ToArray(), (ReadOnlySpan<float>)backend.DownloadFloat32(tensor));
            return;
        }
        using var host = backend.DownloadToHost(tensor);
        Add(name, host);
    }

    /// <summary>Adds a copy of a host tensor.</summary>
    public void Add(string name, Tensor tensor)
    {
        var shape = tensor.Shape.Select(d => (long)d).ToArray();
        switch (tensor.DType)
        {
            case DType.Float32: _writer.Add(name, DType.Float32, shape, (ReadOnlySpan<float>)tensor.AsSpan<float>()); break;
            case DType.Int64: _writer.Add(name, DType.Int64, shape, (ReadOnlySpan<long>)tensor.AsSpan<long>()); break;
            case DType.UInt8: _writer.Add(name, DType.UInt8, shape, (ReadOnlySpan<byte>)tensor.AsSpan<byte>()); break;
            default: throw new ArgumentException($"cannot write a {tensor.DType} tensor", nameof(tensor));
        }
    }

    public void Write(string path) => _writer.Write(path);
}
