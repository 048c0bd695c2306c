using System.Diagnostics;
using System.Net.Sockets;

namespace Flux2.Tests;

/// <summary>Files that are not regular files, for the tests that readers refuse them (Linux).</summary>
public static class SpecialFiles
{
    /// <summary>Makes a FIFO (named pipe) at <paramref name="path"/>: opening it for reading would block until a writer comes.</summary>
    public static string Fifo(string path)
    {
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        mkfifo.WaitForExit();
        if (mkfifo.ExitCode != 0) throw new InvalidOperationException($"mkfifo {path} failed");
        return path;
    }

    /// <summary>A bound Unix domain socket at <paramref name="path"/>; dispose it after the test.</summary>
    public static Socket Socket(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    /// <summary>A symbolic link at <paramref name="path"/> to the endless character device /dev/zero.</summary>
    public static string LinkToDevZero(string path)
    {
        File.CreateSymbolicLink(path, "/dev/zero");
        return path;
    }

    /// <summary>Runs <paramref name="action"/>, which is given the FIFO <paramref name="fifo"/>, and fails if it does not finish
    /// within 10 seconds (a blocked open); a blocked reader is then released by opening the FIFO from this side.</summary>
    public static void FinishesPromptly(string fifo, Action action)
    {
        var task = Task.Run(action);
        if (Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(10))).Result == task)
        {
            task.GetAwaiter().GetResult(); // the action's own failure, as it is
            return;
        }
        using (new FileStream(fifo, FileMode.Open, FileAccess.ReadWrite)) { } // O_RDWR does not wait for a peer
        throw new TimeoutException($"reading {fifo} blocked for 10 s");
    }
}
