using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;
using Flux2.Models.Lora;
using Flux2.Models.Transformer;
using Flux2.Tests;

namespace Flux2.Cuda.Tests;

/// <summary>A golden transformer case run whole on a backend: the weights file loaded there, the io file's inputs uploaded,
/// the output downloaded.</summary>
internal static class GoldenTransformerRun
{
    /// <param name="weights">a golden weights file, e.g. fp8_klein.bfl.safetensors</param>
    /// <param name="io">the golden case, e.g. fp8_klein (its .io.safetensors holds the inputs)</param>
    public static float[] Output(string weights, SafeTensorsFile io, IBackend backend) => OutputOfFile(Fixtures.Golden(weights), io, backend);

    /// <param name="weightsPath">any transformer weights file, run on the inputs of <paramref name="io"/></param>
    /// <param name="loras">adapters the model runs beside its layers</param>
    public static float[] OutputOfFile(string weightsPath, SafeTensorsFile io, IBackend backend, IReadOnlyList<LoraFile>? loras = null)
    {
        using var model = Flux2Transformer.Load(weightsPath, backend, loras: loras);
        return Forward(model, io, backend);
    }

    /// <summary>One forward pass of <paramref name="model"/> on the inputs of <paramref name="io"/>, uploaded to
    /// <paramref name="backend"/> and released after.</summary>
    public static float[] Forward(Flux2Transformer model, SafeTensorsFile io, IBackend backend)
    {
        var inputs = new List<Tensor>();
        Tensor Upload(string name)
        {
            var view = io.Get(name);
            int[] shape = view.Shape.Select(d => checked((int)d)).ToArray();
            var tensor = name.EndsWith("_ids", StringComparison.Ordinal)
                ? backend.Upload<long>(view.ToInt64Array(), shape)
                : backend.Upload<float>(view.ToFloat32Array(), shape);
            inputs.Add(tensor);
            return tensor;
        }
        try
        {
            var guidance = io.Contains("inputs.guidance") ? Upload("inputs.guidance") : null;
            using var output = model.Forward(Upload("inputs.hidden_states"), Upload("inputs.encoder_hidden_states"), Upload("inputs.timestep"),
                guidance, Upload("inputs.img_ids"), Upload("inputs.txt_ids"));
            return backend.DownloadFloat32(output);
        }
        finally
        {
            foreach (var t in inputs) t.Dispose();
        }
    }
}
