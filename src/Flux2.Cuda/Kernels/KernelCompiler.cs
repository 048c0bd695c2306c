using System.Runtime.InteropServices;
using Flux2.Cuda.Native;

namespace Flux2.Cuda.Kernels;

/// <summary>Compiles a kernel family to a cubin for one GPU architecture with NVRTC (which needs no GPU).</summary>
internal static unsafe class KernelCompiler
{
    /// <summary>The NVRTC options for a compute capability (major·10 + minor): a cubin of exactly that architecture, C++17.
    /// Floating point keeps NVRTC's defaults (IEEE division and square root, FMA contraction); kernels that must round
    /// like the host's separate multiply and add say so with __fmul_rn.</summary>
    public static IReadOnlyList<string> Options(int computeCapability) => [$"--gpu-architecture=sm_{computeCapability}", "--std=c++17"];

    /// <summary>The NVRTC version, "12.4" (loads NVRTC).</summary>
    public static string Version()
    {
        NativeLibraries.Load(CudaLibrary.Nvrtc);
        Nvrtc.Check(Nvrtc.nvrtcVersion(out int major, out int minor), nameof(Nvrtc.nvrtcVersion));
        return $"{major}.{minor}";
    }

    /// <exception cref="CudaException">when NVRTC fails; the message carries the compiler's log</exception>
    public static byte[] Compile(KernelFamily family, IReadOnlyList<string> options)
    {
        NativeLibraries.Load(CudaLibrary.Nvrtc);
        string file = family.Name + ".cu";
        Nvrtc.Check(Nvrtc.nvrtcCreateProgram(out nint program, family.Source, file, 0, null, null), nameof(Nvrtc.nvrtcCreateProgram));
        var optionText = new nint[options.Count];
        try
        {
            for (int i = 0; i < options.Count; i++) optionText[i] = Marshal.StringToCoTaskMemUTF8(options[i]);
            int result;
            fixed (nint* pointers = optionText) result = Nvrtc.nvrtcCompileProgram(program, options.Count, (byte**)pointers);
            Nvrtc.Check(result, $"{nameof(Nvrtc.nvrtcCompileProgram)} ({file})", result == 0 ? null : Log(program));
            Nvrtc.Check(Nvrtc.nvrtcGetCUBINSize(program, out nuint size), nameof(Nvrtc.nvrtcGetCUBINSize));
            var cubin = new byte[(int)size];
            fixed (byte* destination = cubin) Nvrtc.Check(Nvrtc.nvrtcGetCUBIN(program, destination), nameof(Nvrtc.nvrtcGetCUBIN));
            return cubin;
        }
        finally
        {
            foreach (var text in optionText) Marshal.FreeCoTaskMem(text);
            Nvrtc.nvrtcDestroyProgram(ref program);
        }
    }

    /// <summary>The compiler's messages on one line (an error message is one line).</summary>
    private static string Log(nint program)
    {
        if (Nvrtc.nvrtcGetProgramLogSize(program, out nuint size) != 0 || size <= 1) return "";
        var log = new byte[(int)size];
        fixed (byte* text = log)
        {
            if (Nvrtc.nvrtcGetProgramLog(program, text) != 0) return "";
        }
        var lines = System.Text.Encoding.UTF8.GetString(log, 0, log.Length - 1).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join(" | ", lines);
    }
}
