using System.Net;
using System.Text.Json;

namespace Flux2.Server.Tests;

/// <summary>Reads a server-sent event stream to its end: the events in order, each its name and its JSON data.</summary>
public static class EventStream
{
    public sealed record Event(string Name, JsonElement Data);

    public static async Task<(HttpStatusCode Status, string? ContentType, IReadOnlyList<Event> Events, string Text)> ReadAsync(
        HttpClient client, HttpRequestMessage request, CancellationToken cancellation = default)
    {
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
        var text = await response.Content.ReadAsStringAsync(cancellation);
        var events = new List<Event>();
        if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
            foreach (var block in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
            {
                var lines = block.Split('\n');
                Assert.Equal(2, lines.Length);
                Assert.StartsWith("event: ", lines[0]);
                Assert.StartsWith("data: ", lines[1]);
                events.Add(new Event(lines[0]["event: ".Length..], JsonDocument.Parse(lines[1]["data: ".Length..]).RootElement.Clone()));
            }
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, events, text);
    }
}
