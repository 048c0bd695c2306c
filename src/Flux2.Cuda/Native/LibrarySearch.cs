namespace Flux2.Cuda.Native;

/// <summary>How one place of the search is tried.</summary>
internal enum SearchKind
{
    /// <summary>A library of that file name already loaded in the process (dlopen with RTLD_NOLOAD).</summary>
    AlreadyLoaded,
    /// <summary>Files that exist in a folder, loaded by their full path.</summary>
    Files,
    /// <summary>The bare file name handed to the system loader (LD_LIBRARY_PATH, ld.so.cache, the default folders).</summary>
    SystemLoader,
}

/// <summary>One place of the search: what it is, for the error message, and what to try there, in order.</summary>
internal sealed record SearchStep(SearchKind Kind, string Description, IReadOnlyList<string> Candidates);

/// <summary>
/// Where a CUDA library is looked for, in NVIDIA's cuda-pathfinder order with our override second: a copy already
/// loaded in the process; the folders of <see cref="OverrideVariable"/>; NVIDIA's pip wheels under the site-packages
/// of a virtual environment, conda or the system Python; the system loader; a CUDA toolkit under CUDA_HOME or
/// CUDA_PATH. Only the plan is computed here (paths and file existence), so tests check it on fake folder trees;
/// <see cref="NativeLibraries"/> loads.
/// </summary>
internal sealed class LibrarySearch(Func<string, string?> environment, IReadOnlyList<string> systemPythonRoots)
{
    /// <summary>Folders (separated by ':') searched before anything but an already loaded copy.</summary>
    public const string OverrideVariable = "FLUX2_CUDA_LIBRARY_PATH";

    /// <summary>Where distribution and pip-installed Pythons keep their packages.</summary>
    public static readonly IReadOnlyList<string> DefaultSystemPythonRoots = ["/usr/local/lib", "/usr/lib"];

    /// <summary>The search of this process: its environment variables and the system's Python folders.</summary>
    public static LibrarySearch ForProcess() => new(Environment.GetEnvironmentVariable, DefaultSystemPythonRoots);

    public IReadOnlyList<SearchStep> Plan(CudaLibrary library)
    {
        var steps = new List<SearchStep>
        {
            new(SearchKind.AlreadyLoaded, "already loaded", library.FileNames),
            FolderStep(OverrideVariable, SplitFolders(environment(OverrideVariable)), library),
        };
        if (library.WheelFolders.Count > 0)
        {
            var sitePackages = SitePackages();
            var wheelFolders = sitePackages.SelectMany(s => library.WheelFolders.Select(w => Path.Combine(s, w))).ToList();
            steps.Add(new(SearchKind.Files,
                sitePackages.Count == 0
                    ? "pip wheels (no site-packages found)"
                    : $"pip wheels ({string.Join(", ", library.WheelFolders)} under {string.Join(", ", sitePackages)})",
                ExistingFiles(wheelFolders, library)));
        }
        steps.Add(new(SearchKind.SystemLoader, "system loader (LD_LIBRARY_PATH, ld.so.cache)", library.FileNames));
        if (library.InToolkit)
        {
            foreach (var variable in new[] { "CUDA_HOME", "CUDA_PATH" })
            {
                var root = environment(variable);
                var folders = string.IsNullOrEmpty(root) ? [] : new[] { Path.Combine(root, "lib64"), Path.Combine(root, "lib") };
                steps.Add(FolderStep(variable, folders, library));
            }
        }
        return steps;
    }

    /// <summary>The site-packages folders that exist: $VIRTUAL_ENV, $CONDA_PREFIX, the user's and the system's Pythons.</summary>
    public IReadOnlyList<string> SitePackages()
    {
        var libFolders = new List<string>();
        foreach (var variable in new[] { "VIRTUAL_ENV", "CONDA_PREFIX" })
            if (environment(variable) is { Length: > 0 } prefix) libFolders.Add(Path.Combine(prefix, "lib"));
        if (environment("HOME") is { Length: > 0 } home) libFolders.Add(Path.Combine(home, ".local", "lib"));
        libFolders.AddRange(systemPythonRoots);

        var found = new List<string>();
        foreach (var lib in libFolders.Where(Directory.Exists))
        {
            // lib/python3.12/site-packages (venv, conda, user, pip) or lib/python3/dist-packages (Debian's own packages).
            foreach (var python in Directory.EnumerateDirectories(lib, "python3*").Order(StringComparer.Ordinal))
                foreach (var packages in new[] { "site-packages", "dist-packages" })
                    if (Directory.Exists(Path.Combine(python, packages))) found.Add(Path.Combine(python, packages));
        }
        return found.Distinct().ToList();
    }

    private static SearchStep FolderStep(string variable, IReadOnlyList<string> folders, CudaLibrary library) =>
        new(SearchKind.Files, folders.Count == 0 ? $"{variable} (not set)" : $"{variable} ({string.Join(":", folders)})",
            ExistingFiles(folders, library));

    /// <summary>Each folder's files of the library's names that exist, folder by folder, names in their order.</summary>
    private static IReadOnlyList<string> ExistingFiles(IEnumerable<string> folders, CudaLibrary library) =>
        folders.SelectMany(f => library.FileNames.Select(n => Path.Combine(f, n))).Where(File.Exists).ToList();

    private static IReadOnlyList<string> SplitFolders(string? value) =>
        string.IsNullOrEmpty(value) ? [] : value.Split(':', StringSplitOptions.RemoveEmptyEntries);
}
