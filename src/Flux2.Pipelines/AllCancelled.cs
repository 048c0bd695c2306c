namespace Flux2.Pipelines;

/// <summary>A token that fires once every one of several tokens has fired: work shared by several requests stops only when
/// none of them wants it any more.</summary>
internal sealed class AllCancelled : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly IReadOnlyList<CancellationToken> _tokens;
    private readonly List<CancellationTokenRegistration> _registrations = [];

    public AllCancelled(IReadOnlyList<CancellationToken> tokens)
    {
        _tokens = tokens;
        foreach (var token in tokens) _registrations.Add(token.Register(Check));
        Check();
    }

    public CancellationToken Token => _source.Token;

    private void Check()
    {
        if (_tokens.All(t => t.IsCancellationRequested)) _source.Cancel();
    }

    public void Dispose()
    {
        foreach (var registration in _registrations) registration.Dispose();
        _source.Dispose();
    }
}
