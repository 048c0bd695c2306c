using System.Net.Sockets;
using System.Text;

namespace Flux2.Server.Tests;

/// <summary>A POST written straight to the server's socket, for what HttpClient will not send (a body that stops short of
/// its length, broken chunked framing), with its answer read line by line.</summary>
public sealed class RawHttp : IDisposable
{
    private readonly TcpClient _socket;

    private RawHttp(TcpClient socket)
    {
        _socket = socket;
        Answer = new StreamReader(socket.GetStream(), Encoding.ASCII);
    }

    public StreamReader Answer { get; }

    /// <param name="headers">the headers after Host, each ending in CRLF</param>
    /// <param name="body">what is sent of the body (the connection stays open after it)</param>
    public static async Task<RawHttp> PostAsync(Uri server, string path, string headers, string body)
    {
        var socket = new TcpClient();
        await socket.ConnectAsync(server.Host, server.Port);
        await socket.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"POST /{path} HTTP/1.1\r\nHost: {server.Authority}\r\n{headers}\r\n{body}"));
        return new RawHttp(socket);
    }

    /// <summary>The answer's first line, e.g. "HTTP/1.1 400 Bad Request".</summary>
    public Task<string?> StatusLineAsync(TimeSpan patience) => Answer.ReadLineAsync().WaitAsync(patience);

    public void Dispose()
    {
        Answer.Dispose();
        _socket.Dispose();
    }
}
