using Flux2.Core.SafeTensors;
using Flux2.Tests;

namespace Flux2.Core.Tests.SafeTensors;

public class MalformedFileTests
{
    public static TheoryData<MalformedCase> Cases => new(MalformedSafeTensors.All);

    [Fact]
    public void CatalogueHasAtLeastThirtyDistinctCases()
    {
        Assert.True(MalformedSafeTensors.All.Count >= 30);
        Assert.Equal(MalformedSafeTensors.All.Count, MalformedSafeTensors.All.Select(c => c.Name).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RejectedWithTypedErrorNamingFileAndTensor(MalformedCase c)
    {
        using var dir = new TempDirectory();
        var path = c.Create(dir.Path);
        var e = Assert.Throws<SafeTensorsException>(() => SafeTensorsCheckpoint.Open(path).Dispose());
        Assert.Equal(c.File, Path.GetFileName(e.FilePath));
        Assert.Equal(c.Tensor, e.TensorName);
        Assert.Contains(c.Problem, e.Message);
        Assert.Contains(c.File, e.Message);
        if (c.Tensor != null) Assert.Contains($"'{c.Tensor}'", e.Message);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FileReaderAgreesWithCheckpointReader(MalformedCase c)
    {
        using var dir = new TempDirectory();
        var path = c.Create(dir.Path);
        if (path.EndsWith(".json", StringComparison.Ordinal)) return;
        var e = Assert.Throws<SafeTensorsException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.Contains(c.Problem, e.Message);
    }

    [Fact]
    public void MissingFileIsATypedError()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<SafeTensorsException>(() => SafeTensorsFile.Open(dir.File("absent.safetensors")));
        Assert.Contains("not found", e.Message);
        Assert.Throws<SafeTensorsException>(() => SafeTensorsCheckpoint.Open(dir.File("absent.safetensors.index.json")));
    }
}
