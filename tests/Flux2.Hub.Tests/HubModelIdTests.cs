namespace Flux2.Hub.Tests;

public class HubModelIdTests
{
    [Theory]
    [InlineData("black-forest-labs/FLUX.2-klein-4B", "black-forest-labs/FLUX.2-klein-4B", "main")]
    [InlineData("black-forest-labs/FLUX.2-dev@v1.0", "black-forest-labs/FLUX.2-dev", "v1.0")]
    [InlineData("org/name@refs/pr/12", "org/name", "refs/pr/12")]
    [InlineData("org_1/model.v2@0123456789abcdef0123456789abcdef01234567", "org_1/model.v2", "0123456789abcdef0123456789abcdef01234567")]
    public void ReadsRepositoryAndRevision(string text, string repo, string revision)
    {
        Assert.True(HubModelId.TryParse(text, out var id));
        Assert.Equal(new HubModelId(repo, revision), id);
        Assert.Equal(text, id.ToString());
    }

    [Theory]
    [InlineData("FLUX.2-klein-4B")]          // no organisation
    [InlineData("a/b/c")]                     // a path
    [InlineData("/abs/path")]
    [InlineData("./models/x")]
    [InlineData("../models/x")]
    [InlineData("org/na--me")]
    [InlineData("org/-name")]
    [InlineData("org/name.")]
    [InlineData("org/name@")]
    [InlineData("org/name@../../etc")]
    [InlineData("org/name@a//b")]
    [InlineData("org/name@a b")]
    [InlineData("org/name@x@y")]
    public void RejectsWhatIsNoRepositoryId(string text) => Assert.False(HubModelId.TryParse(text, out _));

    [Fact]
    public void OnlyAFullLowerCaseHashIsACommit()
    {
        Assert.True(new HubModelId("a/b", "0123456789abcdef0123456789abcdef01234567").RevisionIsCommit);
        Assert.False(new HubModelId("a/b", "0123456789ABCDEF0123456789abcdef01234567").RevisionIsCommit);
        Assert.False(new HubModelId("a/b", "0123456").RevisionIsCommit);
        Assert.False(new HubModelId("a/b", "main").RevisionIsCommit);
    }
}
