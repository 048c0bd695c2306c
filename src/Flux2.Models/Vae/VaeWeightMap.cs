using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;

namespace Flux2.Models.Vae;

/// <summary>
/// Reads the VAE's modules from a checkpoint in either naming scheme (<see cref="VaeTensorNames"/>) with their
/// shapes checked and makes them resident on a backend: conv weights in their stored float format (F32, BF16 or F16;
/// memory-mapped on the CPU), biases and norm parameters as Float32 vectors. Records every tensor it reads so that
/// leftovers can be reported.
/// </summary>
public sealed class VaeWeightMap
{
    public const string StatisticsMean = "bn.running_mean";
    public const string StatisticsVariance = "bn.running_var";
    /// <summary>A BatchNorm bookkeeping counter some exports include; irrelevant at inference.</summary>
    public const string StatisticsCounter = "bn.num_batches_tracked";

    private readonly SafeTensorsCheckpoint _checkpoint;
    private readonly IBackend _backend;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public VaeTensorNames Names { get; }

    /// <param name="levels">resolution levels, needed to reverse the BFL decoder's level index</param>
    public VaeWeightMap(SafeTensorsCheckpoint checkpoint, int levels, IBackend backend)
    {
        _checkpoint = checkpoint;
        _backend = backend;
        Names = new VaeTensorNames(VaeTensorNames.DetectNaming(checkpoint), levels);
    }

    /// <summary>A k×k convolution <paramref name="module"/> with weight [cout, cin, k, k] and bias [cout].</summary>
    public VaeConv Conv(string module, int cout, int cin, int kernelSize)
    {
        var view = Read(module + ".weight", [cout, cin, kernelSize, kernelSize]);
        return Build(module, view, cout, cin * kernelSize * kernelSize, kernelSize);
    }

    /// <summary>An attention projection [c, c] (Linear, or a BFL 1×1 conv [c, c, 1, 1]) read as a 1×1 conv.</summary>
    public VaeConv Projection(string module, int c)
    {
        var view = Read(module + ".weight", Names.ProjectionsAsConvs ? [c, c, 1, 1] : [c, c]);
        return Build(module, view, c, c, 1);
    }

    public VaeNorm Norm(string module, int channels) =>
        new(Vector(module + ".weight", channels), Vector(module + ".bias", channels));

    /// <summary>A 1-D float tensor of <paramref name="length"/> elements widened to fp32, resident on the backend.</summary>
    public Tensor Vector(string name, int length) => _backend.Upload<float>(HostVector(name, length), length);

    /// <summary>A 1-D float tensor of <paramref name="length"/> elements widened to fp32, read on the host.</summary>
    public float[] HostVector(string name, int length) => Read(name, [length]).ToFloat32Array();

    /// <summary>The checkpoint tensors no module read (ignoring the BatchNorm counter).</summary>
    public IReadOnlyList<string> Unread() =>
        _checkpoint.Names.Where(n => !_read.Contains(n) && n != StatisticsCounter).ToList();

    private VaeConv Build(string module, TensorView view, int cout, int patchLength, int kernelSize)
    {
        var format = view.DType switch
        {
            DType.Float32 => WeightFormat.Float32,
            DType.BFloat16 => WeightFormat.BFloat16,
            DType.Float16 => WeightFormat.Float16,
            _ => throw new SafeTensorsException(view.FilePath, view.Name,
                $"dtype {view.DType.SafetensorsName()} is not supported for VAE weights (expected F32, BF16 or F16)"),
        };
        var weight = _backend.LoadLinear(new LinearWeight(view.Name, cout, patchLength, format, view.Data, _checkpoint));
        try
        {
            return new VaeConv(weight, Vector(module + ".bias", cout), kernelSize);
        }
        catch
        {
            weight.Dispose();
            throw;
        }
    }

    private TensorView Read(string name, long[] shape)
    {
        if (!_checkpoint.TryGet(name, out var view))
            throw new SafeTensorsException(_checkpoint.Path, name, $"missing from this {Names.Naming} VAE checkpoint (expected shape {ShapeText(shape)})");
        if (!shape.AsSpan().SequenceEqual(view.Shape))
            throw new SafeTensorsException(view.FilePath, name, $"has shape {view.Info.ShapeText}, expected {ShapeText(shape)}");
        if (view.DType is not (DType.Float32 or DType.BFloat16 or DType.Float16))
            throw new SafeTensorsException(view.FilePath, name, $"dtype {view.DType.SafetensorsName()} is not supported for VAE weights (expected F32, BF16 or F16)");
        _read.Add(name);
        return view;
    }

    private static string ShapeText(long[] shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>
    /// Infers the configuration from tensor shapes (a BFL single file has no config.json): the levels and their
    /// channels from the encoder's first resnet per level, layers_per_block from level 0, the latent channels from
    /// the post-quant conv, image channels from conv_in/conv_out. Norm groups and epsilons keep their defaults.
    /// </summary>
    public static VaeConfig InferConfig(SafeTensorsCheckpoint checkpoint)
    {
        // Encoder names do not depend on the level count, which is what is being inferred.
        var names = new VaeTensorNames(VaeTensorNames.DetectNaming(checkpoint), Levels: 1);
        long[] Shape(string name)
        {
            if (!checkpoint.TryGet(name, out var v))
                throw new SafeTensorsException(checkpoint.Path, name, $"missing; needed to infer the {names.Naming} VAE configuration");
            if (v.Shape.Length != 4)
                throw new SafeTensorsException(checkpoint.Path, name, $"has shape {v.Info.ShapeText}, expected a 4-D conv weight");
            return v.Shape;
        }
        bool Has(string module) => checkpoint.Contains(module + ".weight");
        var channels = new List<int>();
        while (Has(names.EncoderResnet(channels.Count, 0) + ".conv1"))
            channels.Add(checked((int)Shape(names.EncoderResnet(channels.Count, 0) + ".conv1.weight")[0]));
        int layers = 0;
        while (Has(names.EncoderResnet(0, layers) + ".conv1")) layers++;
        var config = new VaeConfig
        {
            BlockOutChannels = channels,
            LayersPerBlock = layers,
            LatentChannels = checked((int)Shape(names.PostQuantConv + ".weight")[0]),
            InChannels = checked((int)Shape("encoder.conv_in.weight")[1]),
            OutChannels = checked((int)Shape("decoder.conv_out.weight")[0]),
        };
        config.Validate($"{checkpoint.Path} (configuration inferred from tensor shapes)");
        return config;
    }
}
