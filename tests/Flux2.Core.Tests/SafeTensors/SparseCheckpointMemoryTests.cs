using System.Globalization;
using Flux2.Core.SafeTensors;
using Flux2.Tests;

namespace Flux2.Core.Tests.SafeTensors;

/// <summary>Runs alone: the process's resident set must not grow with other tests' work while it is measured.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ResidentMemoryMeasurementCollection
{
    public const string Name = "resident memory measurement";
}

/// <summary>Opening a checkpoint maps it; nothing is read until a tensor is touched (spec §4.1).</summary>
[Collection(ResidentMemoryMeasurementCollection.Name)]
public class SparseCheckpointMemoryTests
{
    private const long GiB = 1L << 30;

    /// <summary>Resident set size from /proc/self/status (Linux), in bytes.</summary>
    private static long ResidentBytes()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }

    private static long Settled()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return ResidentBytes();
    }

    [Fact]
    public void OpeningASixteenGigabyteShardedCheckpointCostsAFewMegabytes()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new TempDirectory();
        // Two 8 GiB shards of 128 BF16 tensors of 64 MiB each (the shape of a real 4096-wide checkpoint).
        var shards = Enumerable.Range(0, 2)
            .Select(s => (IReadOnlyList<(string, DType, long[])>)Enumerable.Range(0, 128)
                .Select(i => ($"blocks.{s * 128 + i}.weight", DType.BFloat16, new long[] { 8192, 4096 }))
                .ToList())
            .ToList();
        var index = SparseSafeTensors.WriteSharded(dir.Path, "diffusion_pytorch_model", shards);
        Assert.Equal(2, Directory.GetFiles(dir.Path, "*.safetensors").Length);
        Assert.All(Directory.GetFiles(dir.Path, "*.safetensors"), f => Assert.True(new FileInfo(f).Length > 8 * GiB));

        // Warm up the code paths so their JIT cost is not counted.
        using (var warm = SafeTensorsCheckpoint.Open(index)) _ = warm.Get("blocks.0.weight").Data;

        long before = Settled();
        using var checkpoint = SafeTensorsCheckpoint.Open(index);
        Assert.Equal(16 * GiB, checkpoint.TotalBytes);
        var views = checkpoint.Names.Select(checkpoint.Get).ToList();
        Assert.Equal(256, views.Count);
        long opened = Settled();
        Assert.True(opened - before < 8 << 20, $"opening took {(opened - before) >> 20} MiB resident");

        // The measurement does see touched pages: reading one 64 MiB tensor makes it resident.
        long sum = 0;
        unsafe
        {
            var p = (byte*)views[3].Data;
            for (long i = 0; i < views[3].ByteLength; i += 4096) sum += p[i];
        }
        Assert.Equal(0, sum);
        long touched = ResidentBytes();
        Assert.True(touched - opened > 32 << 20, $"touching 64 MiB added only {(touched - opened) >> 20} MiB resident");
    }
}
