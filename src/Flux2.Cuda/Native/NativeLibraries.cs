using System.Reflection;
using System.Runtime.InteropServices;
using Flux2.Core.Backend;

namespace Flux2.Cuda.Native;

/// <summary>A CUDA library loaded for this process: the file the loader opened, the place of the search that found it,
/// and its handle.</summary>
internal sealed record LoadedLibrary(CudaLibrary Library, string Path, string Where, nint Handle);

/// <summary>
/// Loads the CUDA libraries by <see cref="LibrarySearch"/> and hands their handles to our [LibraryImport] declarations
/// (whose names, <see cref="CudaLibrary.ImportName"/>, match no file, so nothing but a library loaded here can bind).
/// Loading goes through dlopen directly to report the loader's own reason when a file is found but does not load.
/// </summary>
internal static partial class NativeLibraries
{
    private const int RtldNow = 2;
    private const int RtldNoLoad = 4;

    private static readonly Dictionary<string, LoadedLibrary> Loaded = new(StringComparer.Ordinal);

    static NativeLibraries() => NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, Resolve);

    /// <summary>The library, found and loaded once per process.</summary>
    /// <exception cref="BackendUnavailableException">when no place of the search has a copy that loads; the message names every place</exception>
    public static LoadedLibrary Load(CudaLibrary library)
    {
        lock (Loaded)
        {
            if (Loaded.TryGetValue(library.ImportName, out var loaded)) return loaded;
            loaded = Find(library, LibrarySearch.ForProcess());
            Loaded[library.ImportName] = loaded;
            return loaded;
        }
    }

    /// <summary>The first copy of the library that loads, trying <paramref name="search"/>'s plan in order.</summary>
    internal static LoadedLibrary Find(CudaLibrary library, LibrarySearch search)
    {
        if (!OperatingSystem.IsLinux())
            throw new BackendUnavailableException($"the CUDA backend runs on Linux only ({library.Title} is not looked for on {RuntimeInformation.OSDescription})");
        var searched = new List<string>();
        foreach (var step in search.Plan(library))
        {
            var failures = new List<string>();
            foreach (var candidate in step.Candidates)
            {
                if (step.Kind == SearchKind.Files) LoadCompanion(library, Path.GetDirectoryName(candidate)!);
                var handle = Open(candidate, step.Kind == SearchKind.AlreadyLoaded ? RtldNow | RtldNoLoad : RtldNow);
                if (handle != 0) return new(library, FileOf(handle) ?? candidate, step.Description, handle);
                // A file that exists but does not load is worth naming; a name the loader does not know is the usual miss.
                if (step.Kind == SearchKind.Files) failures.Add($"{candidate} did not load: {LastError()}");
            }
            searched.Add(failures.Count == 0 ? step.Description : $"{step.Description}: {string.Join(", ", failures)}");
        }
        throw new BackendUnavailableException($"{library.Title} ({library.Names}) not found; searched: {string.Join("; ", searched)}");
    }

    private static void LoadCompanion(CudaLibrary library, string folder)
    {
        if (library.Companion == null || !Directory.Exists(folder)) return;
        // The shortest name is the soname's link (libnvrtc-builtins.so.12.4 rather than .so.12.4.127).
        var file = Directory.EnumerateFiles(folder, library.Companion).OrderBy(f => f.Length).FirstOrDefault();
        if (file != null) Open(file, RtldNow);
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        lock (Loaded) return Loaded.TryGetValue(name, out var loaded) ? loaded.Handle : 0;
    }

    private static nint Open(string file, int flags) => dlopen(file, flags);

    private static string LastError() => Marshal.PtrToStringUTF8(dlerror()) ?? "unknown reason";

    /// <summary>The path the loader opened for a handle: l_name of its link_map (after the load address on every ABI).</summary>
    private static unsafe string? FileOf(nint handle)
    {
        if (dlinfo(handle, RtldDiLinkMap, out nint linkMap) != 0 || linkMap == 0) return null;
        var name = Marshal.PtrToStringUTF8(*(nint*)(linkMap + sizeof(nint)));
        return string.IsNullOrEmpty(name) ? null : name;
    }

    private const int RtldDiLinkMap = 2;

    // libdl.so.2 exists on every glibc: the library itself before 2.34, a link to libc's symbols since.
    [LibraryImport("libdl.so.2", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint dlopen(string file, int flags);

    [LibraryImport("libdl.so.2")]
    private static partial nint dlerror();

    [LibraryImport("libdl.so.2")]
    private static partial int dlinfo(nint handle, int request, out nint linkMap);
}
