using System.Globalization;
using Flux2.Core.SafeTensors;

namespace Flux2.Cli;

/// <summary><c>flux2 debug compare A B</c>: per tensor name present in both safetensors files, the largest absolute and
/// relative difference; names present in one file only are listed. Exits 1 when a shared tensor's shapes differ.</summary>
public sealed class DebugCompareCommand : ICommand
{
    public string Name => "debug compare";
    public string Summary => "compare the tensors two safetensors files share (max abs / rel error)";

    public string Help =>
        "Usage: flux2 debug compare A.safetensors B.safetensors\n\n" +
        "For every tensor name in both files prints its shape, max |a - b| and max |a - b| / max(|a|, |b|)\n" +
        "(elements where both are 0 count as equal), then the names found in only one file.\n" +
        "Exits 1 when a shared tensor has different shapes in the two files.\n";

    public int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        var options = new CommandArgs(args, new HashSet<string>());
        options.EnsureAllUsed(2);
        if (options.Positionals.Count != 2) throw new CliException("expected two files: flux2 debug compare A B");
        using var a = SafeTensorsFile.Open(options.Positionals[0]);
        using var b = SafeTensorsFile.Open(options.Positionals[1]);

        bool shapesDiffer = false;
        var shared = a.Names.Where(b.Contains).ToList();
        int nameWidth = Math.Max(6, shared.Select(n => n.Length).DefaultIfEmpty(0).Max());
        output.WriteLine($"{"tensor".PadRight(nameWidth)}  {"shape",-20} {"max_abs",12} {"max_rel",12}");
        foreach (var name in shared)
        {
            var va = a.Get(name);
            var vb = b.Get(name);
            if (!va.Shape.SequenceEqual(vb.Shape))
            {
                output.WriteLine($"{name.PadRight(nameWidth)}  shapes differ: {va.Info.ShapeText} vs {vb.Info.ShapeText}");
                shapesDiffer = true;
                continue;
            }
            var (abs, rel) = Differences(va.ToFloat32Array(), vb.ToFloat32Array());
            output.WriteLine($"{name.PadRight(nameWidth)}  {va.Info.ShapeText,-20} {Number(abs),12} {Number(rel),12}");
        }
        foreach (var name in a.Names.Where(n => !b.Contains(n))) output.WriteLine($"only in {a.FilePath}: {name}");
        foreach (var name in b.Names.Where(n => !a.Contains(n))) output.WriteLine($"only in {b.FilePath}: {name}");
        if (!shapesDiffer) return CliApp.ExitOk;
        error.WriteLine("flux2 debug compare: error: some shared tensors have different shapes");
        return CliApp.ExitFailure;
    }

    /// <summary>Max absolute and relative difference; any NaN on one side only makes both NaN.</summary>
    private static (double Abs, double Rel) Differences(float[] a, float[] b)
    {
        double abs = 0, rel = 0;
        for (int i = 0; i < a.Length; i++)
        {
            if (float.IsNaN(a[i]) || float.IsNaN(b[i]))
            {
                if (float.IsNaN(a[i]) && float.IsNaN(b[i])) continue;
                return (double.NaN, double.NaN);
            }
            double diff = Math.Abs((double)a[i] - b[i]);
            double scale = Math.Max(Math.Abs((double)a[i]), Math.Abs((double)b[i]));
            abs = Math.Max(abs, diff);
            if (scale > 0) rel = Math.Max(rel, diff / scale);
        }
        return (abs, rel);
    }

    private static string Number(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}
