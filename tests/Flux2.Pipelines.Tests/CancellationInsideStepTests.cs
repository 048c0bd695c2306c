using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Pipelines.Config;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Pipelines.Tests;

/// <summary>Cancellation reaches inside the backend's ops: a request cancelled in the middle of a step runs no further
/// op, instead of finishing the step (which takes minutes at large sizes).</summary>
public sealed class CancellationInsideStepTests(TinyKleinModel klein) : IClassFixture<TinyKleinModel>
{
    /// <summary>Counts Linear calls; the call numbered <see cref="CancelAt"/> fires the token just before it runs.</summary>
    private sealed class CountingBackend(IBackend inner, CancellationTokenSource source) : DelegatingBackend(inner)
    {
        public int CancelAt { get; set; } = -1;
        public int Calls { get; private set; }

        public override void Linear(Tensor x, LinearWeight weight, Tensor y, int yColumn = 0, bool accumulate = false)
        {
            if (++Calls == CancelAt) source.Cancel();
            base.Linear(x, weight, y, yColumn, accumulate);
        }
    }

    private sealed class Factory(Func<IBackend, IBackend> wrap) : IBackendFactory
    {
        public IBackend Create(DeviceRef device) => wrap(TestBackends.Create(TestBackends.Cpu));
    }

    [Fact]
    public void A_request_cancelled_in_the_middle_of_a_step_runs_no_further_op()
    {
        using var source = new CancellationTokenSource();
        CountingBackend? backend = null;
        using var pipeline = Flux2Pipeline.Load(new PipelineConfig { ModelPath = klein.Folder },
            new Factory(cpu => backend = new CountingBackend(cpu, source)));
        var request = new GenerationRequest { Prompt = "a red fox", Width = 32, Height = 32, Steps = 4, Seed = 3 };

        var callsAfterStep = new List<int>();
        pipeline.Generate(request with { OnStep = _ => callsAfterStep.Add(backend!.Calls) });
        int perStep = callsAfterStep[1] - callsAfterStep[0];
        Assert.True(perStep > 4, $"a step made {perStep} Linear calls");

        // Fire halfway through the second step: a check between steps alone would let that step finish.
        var cancelled = request with { OnStep = s => { if (s.Step == 1) backend!.CancelAt = backend.Calls + perStep / 2; } };
        Assert.Throws<OperationCanceledException>(() => pipeline.Generate(cancelled, source.Token));
        Assert.Equal(backend!.CancelAt, backend.Calls);
    }
}
