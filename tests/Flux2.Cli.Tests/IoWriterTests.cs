using Flux2.Cli.Debug;
using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;
using Flux2.Cpu;
using Flux2.Tests;

namespace Flux2.Cli.Tests;

/// <summary>The debug commands' output file: a GPU's bf16 activations are written as the Float32 the references have.</summary>
public sealed class IoWriterTests
{
    [Fact]
    public void BFloat16ActivationsAreWidenedToFloat32()
    {
        using var dir = new TempDirectory();
        using var backend = new CpuBackend();
        float[] values = [1.5f, -0.0078125f, 3.0e38f, 0f, -2.25f, 65280f];
        using var activations = backend.UploadAs(values, DType.BFloat16, 2, 3);
        var writer = new IoWriter("vae-decode");
        writer.Add("outputs.decoded", activations, backend);
        writer.Write(dir.File("out.safetensors"));

        using var file = SafeTensorsFile.Open(dir.File("out.safetensors"));
        var written = file.Get("outputs.decoded");
        Assert.Equal(DType.Float32, written.DType);
        Assert.Equal([2L, 3L], written.Shape);
        Assert.Equal(backend.DownloadFloat32(activations), written.ToFloat32Array());
    }
}
