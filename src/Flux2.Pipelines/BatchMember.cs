using Flux2.Core;

namespace Flux2.Pipelines;

/// <summary>One request of a <see cref="Flux2Pipeline.GenerateTogether"/> call while it runs: its prompt embeddings, its
/// images so far, what it owns, and whether it failed or was cancelled.</summary>
internal sealed class BatchMember(PreparedGeneration prepared, CancellationToken cancellation) : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public PreparedGeneration Prepared => prepared;
    public GenerationRequest Request => prepared.Request;
    public GenerationPlan Plan => prepared.Plan;
    public CancellationToken Cancellation => cancellation;
    public bool Cancelled => cancellation.IsCancellationRequested;

    public PromptEmbedding? Positive { get; set; }
    public PromptEmbedding? Negative { get; set; }

    /// <summary>Why this request alone failed (its prompt could not be encoded).</summary>
    public Flux2Exception? Error { get; set; }

    public List<GeneratedImage> Images { get; } = [];

    public void Notice(string notice) => Request.OnNotice?.Invoke(notice);

    /// <summary>Reports a step of one of this request's images, unless the request was cancelled.</summary>
    public void Report(DenoiseStep step)
    {
        if (!Cancelled) Request.OnStep?.Invoke(step);
    }

    public T Own<T>(T item) where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }

    public GenerationOutcome Outcome(PhaseTimings timings) =>
        Error != null ? new(null, Error)
        : Cancelled ? new(null, new OperationCanceledException(cancellation))
        : new(new GenerationResult(Images, Plan, timings), null);

    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
    }
}
