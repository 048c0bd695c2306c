namespace Flux2.Cli.Debug;

/// <summary>Every component of <c>flux2 debug forward</c>.</summary>
public static class ForwardComponents
{
    public static IReadOnlyList<IForwardComponent> All { get; } =
    [
        new TransformerForward(),
        new TextEncoderForward(),
        new PipelineForward(),
        new VaeEncodeForward(),
        new VaeDecodeForward(),
    ];
}
