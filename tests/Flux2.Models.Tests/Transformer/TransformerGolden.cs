using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;
using Flux2.Cpu;
using Flux2.Models.Lora;
using Flux2.Models.Transformer;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Models.Tests.Transformer;

/// <summary>Loads a golden DiT case (weights in either naming + io file) and runs it on a test backend, with its inputs
/// uploaded there.</summary>
internal sealed class TransformerGolden : IDisposable
{
    /// <summary>The CPU backend of the tests that do not compare backends.</summary>
    public static readonly CpuBackend Cpu = new();

    public IBackend Backend { get; }
    public SafeTensorsFile Io { get; }
    public Tensor Hidden { get; }
    public Tensor Encoder { get; }
    public Tensor Timestep { get; }
    public Tensor? Guidance { get; }
    public Tensor ImgIds { get; }
    public Tensor TxtIds { get; }

    /// <param name="backend">a <see cref="TestBackends"/> name</param>
    public TransformerGolden(string name, string backend = TestBackends.Cpu)
    {
        Backend = backend == TestBackends.Cpu ? Cpu : TestBackends.Create(backend);
        Io = SafeTensorsFile.Open(Fixtures.Golden(name + ".io.safetensors"));
        Hidden = Float("inputs.hidden_states");
        Encoder = Float("inputs.encoder_hidden_states");
        Timestep = Float("inputs.timestep");
        Guidance = Io.Contains("inputs.guidance") ? Float("inputs.guidance") : null;
        ImgIds = Long("inputs.img_ids");
        TxtIds = Long("inputs.txt_ids");
    }

    /// <summary>A golden model on the CPU backend.</summary>
    public static Flux2Transformer Load(string name, string naming, IReadOnlyList<LoraFile>? loras = null) =>
        Flux2Transformer.Load(Fixtures.Golden($"{name}.{naming}.safetensors"), Cpu, loras: loras);

    /// <summary>The model of <paramref name="weightsFile"/> (a golden file name) on this case's backend, with <paramref name="loras"/>.</summary>
    public Flux2Transformer LoadOnBackend(string weightsFile, IReadOnlyList<LoraFile>? loras = null) =>
        Flux2Transformer.Load(Fixtures.Golden(weightsFile), Backend, loras: loras);

    public Tensor Run(Flux2Transformer model) => model.Forward(Hidden, Encoder, Timestep, Guidance, ImgIds, TxtIds);

    /// <summary>A tensor of this case's backend, downloaded.</summary>
    public float[] Values(Tensor t) => Backend.DownloadFloat32(t);

    public float[] Expected(string tensor) => Io.Get(tensor).ToFloat32Array();

    public Tensor Float(string tensor) => Backend.Upload<float>(Io.Get(tensor).ToFloat32Array(), Shape(tensor));

    public Tensor Long(string tensor) => Backend.Upload<long>(Io.Get(tensor).ToInt64Array(), Shape(tensor));

    private int[] Shape(string tensor) => Io.Get(tensor).Shape.Select(d => checked((int)d)).ToArray();

    public void Dispose()
    {
        foreach (var t in new[] { Hidden, Encoder, Timestep, Guidance, ImgIds, TxtIds }) t?.Dispose();
        Io.Dispose();
        if (Backend != Cpu) Backend.Dispose();
    }
}
