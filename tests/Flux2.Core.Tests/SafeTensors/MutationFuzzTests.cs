using Flux2.Core.SafeTensors;
using Flux2.Tests;

namespace Flux2.Core.Tests.SafeTensors;

/// <summary>
/// Seeded mutations of a small valid file. Every mutant either opens and reads exactly the original bytes of every tensor, or
/// is refused with a <see cref="SafeTensorsException"/>: never another exception, never a tensor read from the wrong place.
/// Byte flips stay in the length field and the header (a flip in the data would legitimately change a tensor's values);
/// insertions, deletions and truncations go anywhere.
/// </summary>
public class MutationFuzzTests
{
    private const int Cases = 400;
    private const int Seed = 15_2024;

    private enum Mutation { Flip, Insert, Delete, Truncate }

    [Fact]
    public void EveryMutantReadsTheOriginalOrIsRefusedWithATypedError()
    {
        using var dir = new TempDirectory();
        var originalPath = dir.File("original.safetensors");
        var w = new SafeTensorsWriter();
        w.Metadata["format"] = "pt";
        w.AddFloat32("a.weight", [2, 3], [1f, -2f, 3.5f, 0.25f, 32f, -0.5f]);
        w.Add("b.bias", DType.BFloat16, [4], new ushort[] { 0x3F80, 0xC000, 0x4040, 0x0020 });
        w.Add("c.ids", DType.Int64, [2], new long[] { 7, -9 });
        w.Add("d.mask", DType.UInt8, [3], new byte[] { 1, 0, 32 });
        w.Write(originalPath);
        var original = File.ReadAllBytes(originalPath);
        long dataStart;
        using (var f = SafeTensorsFile.Open(originalPath)) dataStart = f.DataStart;
        var data = original.AsSpan((int)dataStart).ToArray();

        var rng = new Random(Seed);
        var path = dir.File("mutant.safetensors");
        int opened = 0, refused = 0;
        for (int i = 0; i < Cases; i++)
        {
            var kind = (Mutation)rng.Next(4);
            var mutant = Mutate(original, (int)dataStart, kind, rng);
            File.WriteAllBytes(path, mutant);
            try
            {
                using var f = SafeTensorsFile.Open(path);
                AssertReadsOriginalData(f, dataStart, data, $"case {i} ({kind})");
                opened++;
            }
            catch (SafeTensorsException)
            {
                refused++;
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"case {i} ({kind}): {e.GetType().Name} instead of SafeTensorsException: {e.Message}");
            }
        }
        // Both outcomes occur: flips in names, metadata values and pad spaces keep a valid file.
        Assert.True(opened > 0 && refused > Cases / 2, $"opened {opened}, refused {refused}");
    }

    /// <summary>An opened mutant starts its data where the original did and every tensor spans original bytes, all of them.</summary>
    private static void AssertReadsOriginalData(SafeTensorsFile f, long dataStart, byte[] data, string what)
    {
        Assert.True(f.DataStart == dataStart, $"{what}: data starts at {f.DataStart}, the original's at {dataStart}");
        long covered = 0;
        foreach (var name in f.Names)
        {
            var info = f.Tensors[name];
            var expected = data.AsSpan((int)info.DataBegin, (int)info.ByteLength).ToArray();
            Assert.True(expected.AsSpan().SequenceEqual(f.Get(name).ToByteArray()), $"{what}: tensor '{name}' reads other bytes");
            covered += info.ByteLength;
        }
        Assert.True(covered == data.Length, $"{what}: tensors cover {covered} of {data.Length} data bytes");
    }

    private static byte[] Mutate(byte[] original, int headerEnd, Mutation kind, Random rng)
    {
        var bytes = original.ToList();
        // Half of the insertions and deletions hit the length field or the header, where they are hardest to notice.
        int Position(int count) => rng.Next(rng.Next(2) == 0 ? Math.Min(headerEnd, count) : count);
        switch (kind)
        {
            case Mutation.Flip:
                bytes[rng.Next(headerEnd)] ^= (byte)rng.Next(1, 256);
                break;
            case Mutation.Insert:
                bytes.Insert(Position(bytes.Count + 1), (byte)rng.Next(256));
                break;
            case Mutation.Delete:
                bytes.RemoveAt(Position(bytes.Count));
                break;
            case Mutation.Truncate:
                return original[..Position(original.Length)];
        }
        return [.. bytes];
    }
}
