// Packs files into a Brotli-compressed tar, the form of the two archives this repository commits:
//   the test fixtures (golden reference data and the Qwen3 tokenizer), extracted by the tests on first use:
//     dotnet run tools/PackBrotliTar.cs -- ../shared tests/fixtures/fixtures.tar.br golden tokenizers
//   the Qwen3 tokenizer built into flux2 (Flux2.Text's embedded resource):
//     dotnet run tools/PackBrotliTar.cs -- ../shared/tokenizers/qwen3 src/Flux2.Text/Tokenizers/qwen3.tar.br
// Entries are named relative to SOURCE_DIR and stored sorted by path, so a BFL checkpoint and its diffusers conversion
// (the same tensor bytes under other names) sit next to each other inside Brotli's 16 MiB window and cost little more
// than one copy.
using System.Formats.Tar;
using System.IO.Compression;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: dotnet run tools/PackBrotliTar.cs -- SOURCE_DIR OUTPUT.tar.br [SUBFOLDER ...]   (default: every file of SOURCE_DIR)");
    return 2;
}
string source = args[0], output = args[1];
string[] folders = args.Length > 2 ? args[2..] : ["."];
var files = folders
    .SelectMany(dir => Directory.GetFiles(Path.Combine(source, dir), "*", SearchOption.AllDirectories))
    .Select(path => Path.GetRelativePath(source, path).Replace('\\', '/'))
    .Order(StringComparer.Ordinal)
    .ToList();

var tar = new MemoryStream();
using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
    foreach (var name in files)
        writer.WriteEntry(Path.Combine(source, name), name);

using var encoder = new BrotliEncoder(quality: 11, window: 24);
var input = tar.GetBuffer().AsSpan(0, (int)tar.Length);
var buffer = new byte[1 << 20];
using var file = File.Create(output);
while (true)
{
    var status = encoder.Compress(input, buffer, out int consumed, out int written, isFinalBlock: true);
    file.Write(buffer, 0, written);
    input = input[consumed..];
    if (status == System.Buffers.OperationStatus.Done) break;
    if (status == System.Buffers.OperationStatus.InvalidData) throw new InvalidDataException("Brotli refused the input");
}
Console.WriteLine($"{files.Count} files, {tar.Length / 1048576.0:F1} MiB -> {file.Length / 1048576.0:F1} MiB");
return 0;
