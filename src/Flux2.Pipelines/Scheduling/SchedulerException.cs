using Flux2.Core;

namespace Flux2.Pipelines.Scheduling;

/// <summary>An invalid sampling request: a step count below 1 or a custom sigma list that is not a schedule.</summary>
public sealed class SchedulerException(string message) : Flux2Exception(message);
