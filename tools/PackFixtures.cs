// Packs the golden reference data and the Qwen3 tokenizer into tests/fixtures/fixtures.tar.br, the archive the tests
// extract on first use. Run from the repository root with the shared reference folder beside it:
//   dotnet run tools/PackFixtures.cs -- ../shared tests/fixtures/fixtures.tar.br
// Files are stored sorted by path, so a BFL checkpoint and its diffusers conversion (the same tensor bytes under other
// names) sit next to each other inside Brotli's 16 MiB window and cost little more than one copy.
using System.Formats.Tar;
using System.IO.Compression;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: dotnet run tools/PackFixtures.cs -- SHARED_DIR OUTPUT.tar.br");
    return 2;
}
string shared = args[0], output = args[1];
var files = new[] { "golden", "tokenizers" }
    .SelectMany(dir => Directory.GetFiles(Path.Combine(shared, dir), "*", SearchOption.AllDirectories))
    .Select(path => Path.GetRelativePath(shared, path).Replace('\\', '/'))
    .Order(StringComparer.Ordinal)
    .ToList();

var tar = new MemoryStream();
using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
    foreach (var name in files)
        writer.WriteEntry(Path.Combine(shared, name), name);

using var encoder = new BrotliEncoder(quality: 11, window: 24);
var source = tar.GetBuffer().AsSpan(0, (int)tar.Length);
var buffer = new byte[1 << 20];
using var file = File.Create(output);
while (true)
{
    var status = encoder.Compress(source, buffer, out int consumed, out int written, isFinalBlock: true);
    file.Write(buffer, 0, written);
    source = source[consumed..];
    if (status == System.Buffers.OperationStatus.Done) break;
    if (status == System.Buffers.OperationStatus.InvalidData) throw new InvalidDataException("Brotli refused the input");
}
Console.WriteLine($"{files.Count} files, {tar.Length / 1048576.0:F1} MiB -> {file.Length / 1048576.0:F1} MiB");
return 0;
