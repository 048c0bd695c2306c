using Flux2.Core;
using Flux2.Core.Backend;
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

    /// <summary>A float input widened to fp32 and uploaded to <paramref name="backend"/>, checked against the expected rank.</summary>
    public Tensor Float32(string name, int rank, IBackend backend) => backend.Upload<float>(Float32Values(name, rank), Shape(name));

    /// <summary>A float input's values widened to fp32, checked against the expected rank.</summary>
    public float[] Float32Values(string name, int rank)
    {
        var v = Checked(name, rank);
        if (!v.DType.IsFloatingPoint()) throw new Flux2Exception($"{Path}: '{name}' must be a float tensor, found {v.DType.SafetensorsName()}");
        return v.ToFloat32Array();
    }

    /// <summary>An integer input widened to int64 and uploaded to <paramref name="backend"/>, checked against the expected rank.</summary>
    public Tensor Int64(string name, int rank, IBackend backend) => backend.Upload<long>(Int64Values(name, rank), Shape(name));

    /// <summary>An integer input's values widened to int64, checked against the expected rank.</summary>
    public long[] Int64Values(string name, int rank) => Checked(name, rank).ToInt64Array();

    public int[] Shape(string name) => Get(name).Shape.Select(d => checked((int)d)).ToArray();

    private TensorView Checked(string name, int rank)
    {
        var v = Get(name);
        if (v.Shape.Length != rank) throw new Flux2Exception($"{Path}: '{name}' must have rank {rank}, found {v.Info.ShapeText}");
        return v;
    }

    public void Dispose() => _file.Dispose();
}
