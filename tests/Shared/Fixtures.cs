namespace Flux2.Tests;

/// <summary>Locates the test fixtures committed under tests/fixtures (copies of the golden reference data).</summary>
public static class Fixtures
{
    public static string Root { get; } = FindRoot();

    public static string Golden(string fileName) => Path.Combine(Root, "golden", fileName);

    public static string File(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "fixtures");
            if (Directory.Exists(Path.Combine(candidate, "golden"))) return candidate;
        }
        throw new DirectoryNotFoundException("tests/fixtures not found above " + AppContext.BaseDirectory);
    }
}
