using System.Runtime.CompilerServices;

namespace Flux2.Tests;

/// <summary>Points the front ends' prompt-embedding cache (FLUX2_PROMPT_CACHE) at a folder of this test process, deleted at
/// exit, so that no test reads an embedding another run left in the user's cache or leaves one there.</summary>
internal static class PromptCacheIsolation
{
    [ModuleInitializer]
    internal static void Isolate()
    {
        var folder = Path.Combine(Path.GetTempPath(), "flux2-test-prompts-" + Guid.NewGuid().ToString("N"));
        Environment.SetEnvironmentVariable("FLUX2_PROMPT_CACHE", folder);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        };
    }
}
