using Flux2.Core;
using Flux2.Models.Transformer;

namespace Flux2.Pipelines.Tests.Caching;

/// <summary>A velocity model for cache tests. Its prediction of every token is <c>output(call, prompt value)</c>, where the
/// prompt value is the first embedding value; when a First-Block-Cache hook is given it shows the hook the image streams
/// <c>firstBlock(call)</c> (before, after block 0). Counts the full passes.</summary>
internal sealed class ScriptedVelocityModel(Func<int, float, float> output, Func<int, (float[] Before, float[] After, int Rows)>? firstBlock = null)
    : IVelocityModel
{
    public const int Features = 4;

    public int Calls { get; private set; }
    public int FullPasses { get; private set; }
    public int TextFeatures => 8;

    public Tensor? Predict(Tensor hiddenStates, Tensor imageIds, PromptEmbedding prompt, float timestep, float? guidance, IFirstBlockHook? hook)
    {
        int call = Calls++;
        if (hook != null)
        {
            var (before, after, rows) = firstBlock!(call);
            using var img = Tensor.FromArray(before, 1, rows, Features);
            hook.BeforeFirstBlock(img);
            after.CopyTo(img.AsSpan<float>());
            if (hook.SkipAfterFirstBlock(img)) return null;
        }
        FullPasses++;
        var result = Tensor.Zeros(hiddenStates.Shape);
        result.AsSpan<float>().Fill(output(call, prompt.Embeddings.AsSpan<float>()[0]));
        return result;
    }

    public static PromptEmbedding Prompt(float value)
    {
        var e = Tensor.Zeros(1, 3, 8);
        e.AsSpan<float>().Fill(value);
        return new PromptEmbedding(e);
    }
}
