namespace Flux2.Bench;

/// <summary>Benchmark runner: <c>dotnet run -c Release --project bench/Flux2.Bench -- NAME [options]</c>.</summary>
public static class Program
{
    /// <summary>Every benchmark: name, summary, entry point taking the remaining arguments.</summary>
    private static readonly (string Name, string Summary, Func<string[], int> Run)[] Benchmarks =
    [
    ];

    public static int Main(string[] args)
    {
        var bench = args.Length > 0 ? Benchmarks.FirstOrDefault(b => b.Name == args[0]) : default;
        if (bench.Run == null)
        {
            Console.WriteLine("Usage: dotnet run -c Release --project bench/Flux2.Bench -- <benchmark> [options]");
            foreach (var b in Benchmarks) Console.WriteLine($"  {b.Name,-16} {b.Summary}");
            return args.Length == 0 ? 0 : 2;
        }
        return bench.Run(args[1..]);
    }
}
