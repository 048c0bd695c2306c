using System.Runtime.CompilerServices;

namespace Flux2.Tests;

/// <summary>Locates the test fixtures committed under tests/fixtures (copies of the golden reference data).
/// The path is taken from this source file's location at compile time, so it holds whatever the build's output folder.</summary>
public static class Fixtures
{
    public static string Root { get; } = FindRoot();

    public static string Golden(string fileName) => Path.Combine(Root, "golden", fileName);

    public static string File(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot([CallerFilePath] string sourceFile = "")
    {
        var root = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(sourceFile)!, "..", "fixtures"));
        if (!Directory.Exists(Path.Combine(root, "golden"))) throw new DirectoryNotFoundException("test fixtures not found at " + root);
        return root;
    }
}
