using Flux2.Core.Checkpoints;
using Flux2.Core.Files;
using Flux2.Core.SafeTensors;
using Flux2.Tests;

namespace Flux2.Core.Tests.Files;

public class RegularFileTests
{
    private static Exception Error(string problem) => new Flux2Exception(problem);

    [Fact]
    public void FifoIsRefusedByNameWithoutBlocking()
    {
        using var dir = new TempDirectory();
        var fifo = SpecialFiles.Fifo(dir.File("model.safetensors"));
        SpecialFiles.FinishesPromptly(fifo, () =>
        {
            var e = Assert.Throws<Flux2Exception>(() => RegularFile.ReadAllBytes(fifo, 100, Error));
            Assert.Equal("is a FIFO (named pipe), not a regular file", e.Message);
            var s = Assert.Throws<SafeTensorsException>(() => SafeTensorsFile.Open(fifo));
            Assert.Contains("model.safetensors: is a FIFO (named pipe), not a regular file", s.Message);
        });
    }

    [Fact]
    public void DevicesSocketsAndDirectoriesAreRefused()
    {
        using var dir = new TempDirectory();
        Assert.Equal("is a character device, not a regular file",
            Assert.Throws<Flux2Exception>(() => RegularFile.Require("/dev/zero", Error)).Message);
        var link = SpecialFiles.LinkToDevZero(dir.File("config.json"));
        Assert.Equal("is a character device, not a regular file",
            Assert.Throws<Flux2Exception>(() => RegularFile.ReadAllBytes(link, 1000, Error)).Message);
        using var socket = SpecialFiles.Socket(dir.File("tokenizer.json"));
        Assert.Equal("is a socket, not a regular file",
            Assert.Throws<Flux2Exception>(() => RegularFile.Require(dir.File("tokenizer.json"), Error)).Message);
        Assert.Equal("is a directory, not a file", Assert.Throws<Flux2Exception>(() => RegularFile.Require(dir.Path, Error)).Message);
        Assert.Equal("file not found", Assert.Throws<Flux2Exception>(() => RegularFile.Require(dir.File("absent"), Error)).Message);
    }

    [Fact]
    public void ReadsARegularFileUpToTheCapAndRefusesALargerOne()
    {
        using var dir = new TempDirectory();
        var path = dir.File("small.json");
        File.WriteAllBytes(path, [1, 2, 3, 4]);
        Assert.Equal([1, 2, 3, 4], RegularFile.ReadAllBytes(path, 4, Error));
        var e = Assert.Throws<Flux2Exception>(() => RegularFile.ReadAllBytes(path, 3, Error));
        Assert.Equal("is 4 bytes, more than the 3-byte limit for this file", e.Message);
    }

    [Fact]
    public void JsonConfigsAndShardIndexesGoThroughTheCheck()
    {
        using var dir = new TempDirectory();
        var config = SpecialFiles.LinkToDevZero(dir.File("config.json"));
        var c = Assert.Throws<CheckpointException>(() => JsonText.ReadFile(config, (p, cause) => new CheckpointException(config, p, cause)));
        Assert.Contains("is a character device", c.Message);
        var index = SpecialFiles.Fifo(dir.File("model.safetensors.index.json"));
        SpecialFiles.FinishesPromptly(index, () =>
            Assert.Contains("shard index is a FIFO", Assert.Throws<SafeTensorsException>(() => SafeTensorsCheckpoint.Open(index)).Message));
    }
}
