using Flux2.Core;
using Flux2.Core.SafeTensors;
using Flux2.Cpu;
using Flux2.Models.Transformer;
using Flux2.Tests;

namespace Flux2.Models.Tests.Transformer;

/// <summary>Loads a golden DiT case (weights in either naming + io file) and runs it.</summary>
internal sealed class TransformerGolden : IDisposable
{
    public static readonly CpuBackend Backend = new();

    public SafeTensorsFile Io { get; }
    public Tensor Hidden { get; }
    public Tensor Encoder { get; }
    public Tensor Timestep { get; }
    public Tensor? Guidance { get; }
    public Tensor ImgIds { get; }
    public Tensor TxtIds { get; }

    public TransformerGolden(string name)
    {
        Io = SafeTensorsFile.Open(Fixtures.Golden(name + ".io.safetensors"));
        Hidden = Float("inputs.hidden_states");
        Encoder = Float("inputs.encoder_hidden_states");
        Timestep = Float("inputs.timestep");
        Guidance = Io.Contains("inputs.guidance") ? Float("inputs.guidance") : null;
        ImgIds = Long("inputs.img_ids");
        TxtIds = Long("inputs.txt_ids");
    }

    public static Flux2Transformer Load(string name, string naming) =>
        Flux2Transformer.Load(Fixtures.Golden($"{name}.{naming}.safetensors"), Backend);

    public Tensor Run(Flux2Transformer model) => model.Forward(Hidden, Encoder, Timestep, Guidance, ImgIds, TxtIds);

    public float[] Expected(string tensor) => Io.Get(tensor).ToFloat32Array();

    public Tensor Float(string tensor) => Io.Get(tensor).ToFloat32Tensor();

    public Tensor Long(string tensor) => Io.Get(tensor).ToInt64Tensor();

    public void Dispose()
    {
        foreach (var t in new[] { Hidden, Encoder, Timestep, Guidance, ImgIds, TxtIds }) t?.Dispose();
        Io.Dispose();
    }
}
