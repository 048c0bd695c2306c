using System.Text;

namespace Flux2.Hub.Tests;

public class HubChecksumTests
{
    [Fact]
    public void AGitSha1CoversTheBlobHeaderAsGitDoes()
    {
        // git hash-object of an empty file and of "hello\n": well-known values.
        using (var empty = HubChecksum.For("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391", 0, "x")) Assert.True(empty.Matches());
        using var hello = HubChecksum.For("ce013625030ba8dba906f756967f9e9ca394464a", 6, "x");
        hello.Append(Encoding.ASCII.GetBytes("hello\n"));
        Assert.Equal("git sha1", hello.Algorithm);
        Assert.True(hello.Matches());
    }

    [Fact]
    public void ASha256IsOfTheContentsAndResetStartsOver()
    {
        using var sum = HubChecksum.For("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03", 6, "x");
        sum.Append(Encoding.ASCII.GetBytes("partial"));
        Assert.False(sum.Matches());
        sum.Reset();
        sum.Append(Encoding.ASCII.GetBytes("hello\n"));
        Assert.Equal("sha256", sum.Algorithm);
        Assert.True(sum.Matches());
    }

    [Theory]
    [InlineData("../../../etc/passwd")]
    [InlineData("abc")]
    [InlineData("E69DE29BB2D1D6434B8B29AE775AD8C2E48C5391")]
    [InlineData("")]
    public void AnythingElseIsRefusedBeforeItNamesAFile(string etag)
    {
        var e = Assert.Throws<HubException>(() => HubChecksum.Require(etag, "vae/config.json of a/b"));
        Assert.Contains("vae/config.json of a/b", e.Message);
        Assert.Contains("neither a sha256 nor a git sha1", e.Message);
    }
}
