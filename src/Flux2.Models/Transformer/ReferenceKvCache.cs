using Flux2.Core;
using Flux2.Core.Backend;

namespace Flux2.Models.Transformer;

/// <summary>
/// The reference tokens' keys and values of every attention layer, FLUX.2 klein 9B-KV's cache (spec §3.11): written by
/// <see cref="Flux2Transformer.ForwardExtractingReferences"/>, where the reference tokens go through the model at
/// timestep 0 attending only to each other, then spliced between the text and image keys by every
/// <see cref="Flux2Transformer.ForwardWithReferenceCache"/>, whose input no longer carries the reference tokens. Lives on
/// the transformer's backend; the caller disposes it.
/// </summary>
public sealed class ReferenceKvCache : IDisposable
{
    private readonly Tensor[] _layers;
    private readonly Tensor[][] _rows;

    public ReferenceKvCache(IBackend backend, int batch, int referenceTokens, int layers, int innerDim)
    {
        Batch = batch;
        ReferenceTokens = referenceTokens;
        _layers = new Tensor[layers];
        try
        {
            for (int i = 0; i < layers; i++) _layers[i] = backend.Allocate(backend.ActivationDType, batch, referenceTokens, 2 * innerDim);
        }
        catch
        {
            Dispose();
            throw;
        }
        _rows = [.. _layers.Select(t => Enumerable.Range(0, batch).Select(b => t.SliceRows(b, 0, referenceTokens)).ToArray())];
    }

    public int Batch { get; }

    public int ReferenceTokens { get; }

    public int Layers => _layers.Length;

    /// <summary>Values per token of a layer: keys then values, 2·D.</summary>
    public int Width => _layers.Length == 0 ? 0 : _layers[0].Shape[2];

    /// <summary>Layer <paramref name="layer"/> (double blocks first, then single blocks), batch element <paramref name="b"/>:
    /// [1, reference tokens, 2·D], the post-RoPE keys then the values of every head (a view).</summary>
    public Tensor Rows(int layer, int b) => _rows[layer][b];

    public void Dispose()
    {
        foreach (var t in _layers) t?.Dispose();
    }
}
