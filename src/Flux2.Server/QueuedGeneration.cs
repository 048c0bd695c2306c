using Flux2.Pipelines;

namespace Flux2.Server;

/// <summary>A checked request waiting for, or in, a generation, and how it is answered.</summary>
internal sealed class QueuedGeneration(string id, ResponsesRequest request, PreparedGeneration prepared, CancellationToken cancellation)
{
    public string Id => id;
    public ResponsesRequest Request => request;
    public PreparedGeneration Prepared => prepared;
    public CancellationToken Cancellation => cancellation;

    /// <summary>Set under the service's lock when its generation starts.</summary>
    public bool Started { get; private set; }

    /// <summary>When its generation started (<see cref="System.Diagnostics.Stopwatch"/> ticks).</summary>
    public long StartedAt { get; private set; }

    public void Start()
    {
        Started = true;
        StartedAt = System.Diagnostics.Stopwatch.GetTimestamp();
    }

    /// <summary>Its answer: the result, a cancellation or the error for the client.</summary>
    public TaskCompletionSource<GenerationResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
