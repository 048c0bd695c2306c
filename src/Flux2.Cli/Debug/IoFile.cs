using Flux2.Core;
using Flux2.Core.SafeTensors;

namespace Flux2.Cli.Debug;

/// <summary>A golden-style io file (<c>inputs.*</c> tensors) opened for reading, with typed accessors that
/// report a missing or mis-shaped input by name.</summary>
public sealed class IoFile : IDisposable
{
    private readonly SafeTensorsFile _file;

    public IoFile(string path)
    {
        _file = SafeTensorsFile.Open(path);
    }

    public string Path => _file.FilePath;

    public bool Contains(string name) => _file.Contains(name);

    public TensorView Get(string name) =>
        _file.TryGet(name, out var v) ? v : throw new Flux2Exception($"{Path}: missing input tensor '{name}'");

    /// <summary>An fp32 tensor copy of a float input, checked against the expected rank.</summary>
    public Tensor Float32(string name, int rank)
    {
        var v = Get(name);
        if (v.Shape.Length != rank) throw new Flux2Exception($"{Path}: '{name}' must have rank {rank}, found {v.Info.ShapeText}");
        if (!v.DType.IsFloatingPoint()) throw new Flux2Exception($"{Path}: '{name}' must be a float tensor, found {v.DType.SafetensorsName()}");
        return Tensor.FromArray(v.ToFloat32Array(), v.Shape.Select(d => checked((int)d)).ToArray());
    }

    /// <summary>An int64 tensor copy of an integer input, checked against the expected rank.</summary>
    public Tensor Int64(string name, int rank)
    {
        var v = Get(name);
        if (v.Shape.Length != rank) throw new Flux2Exception($"{Path}: '{name}' must have rank {rank}, found {v.Info.ShapeText}");
        return Tensor.FromArray(v.ToInt64Array(), v.Shape.Select(d => checked((int)d)).ToArray());
    }

    public void Dispose() => _file.Dispose();
}
