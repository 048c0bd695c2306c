using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Models.Transformer;

namespace Flux2.Pipelines.Tests.Caching;

/// <summary>A velocity model for cache tests. Its prediction of every token is <c>output(call, prompt value)</c>, where the
/// prompt value is the first embedding value; when a First-Block-Cache hook is given it shows the hook the image streams
/// <c>firstBlock(call)</c> (before, after block 0). Counts the full passes. Reads and writes only through the backend.</summary>
internal sealed class ScriptedVelocityModel(IBackend backend, Func<int, float, float> output,
    Func<int, (float[] Before, float[] After, int Rows)>? firstBlock = null) : IVelocityModel
{
    public const int Features = 4;

    public int Calls { get; private set; }
    public int FullPasses { get; private set; }
    public IBackend Backend => backend;
    public int TextFeatures => 8;

    public bool Predict(Tensor hiddenStates, Tensor imageIds, PromptEmbedding prompt, float timestep, float? guidance, IFirstBlockHook? hook,
        Tensor velocity)
    {
        int call = Calls++;
        if (hook != null)
        {
            var (before, after, rows) = firstBlock!(call);
            using var img = backend.Upload<float>(before, 1, rows, Features);
            hook.BeforeFirstBlock(img);
            backend.Upload<float>(after, img);
            if (hook.SkipAfterFirstBlock(img)) return false;
        }
        FullPasses++;
        float value = output(call, backend.DownloadFloat32(prompt.Embeddings)[0]);
        backend.Upload<float>(Enumerable.Repeat(value, checked((int)velocity.Length)).ToArray(), velocity);
        return true;
    }

    public ReferenceKvCache PredictExtractingReferences(Tensor hiddenStates, int referenceTokens, Tensor imageIds, PromptEmbedding prompt, float timestep,
        Tensor velocity) => throw new NotSupportedException("the cache tests' model has no reference cache");

    public void PredictWithReferences(Tensor hiddenStates, ReferenceKvCache references, Tensor imageIds, PromptEmbedding prompt, float timestep,
        Tensor velocity) => throw new NotSupportedException("the cache tests' model has no reference cache");

    public static PromptEmbedding Prompt(IBackend backend, float value) =>
        PromptEmbedding.Upload(backend, Enumerable.Repeat(value, 3 * 8).ToArray(), 3, 8);
}
