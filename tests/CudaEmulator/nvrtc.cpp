// libnvrtc.so.12 of the host emulation: "compiles" a kernel family by compiling it as C++ for the host with
// kernel_runtime.h in front (g++, or $FLUX2_EMULATOR_CXX), and hands out the shared library as the cubin. The kernels are
// found in the preprocessed source by the marker kernel_runtime.h gives __global__, and each gets an entry point
// emu_entry_NAME(void** params) that unpacks cuLaunchKernel's parameters by the kernel's own signature.
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "emulator.h"

namespace
{
enum Result
{
    Success = 0,
    InvalidInput = 3,
    InvalidProgram = 4,
    Compilation = 6,
};

struct Program
{
    std::string source, name, log;
    std::vector<char> image;
};

std::string folder_of_this_library()
{
    Dl_info info;
    dladdr((void*)&folder_of_this_library, &info);
    std::string path = info.dli_fname;
    return path.substr(0, path.rfind('/'));
}

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string quote(const std::string& s)
{
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

// Runs a shell command; its output (stdout and stderr) is appended to log.
bool run(const std::string& command, std::string& log)
{
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) return false;
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) log.append(buffer, n);
    int status = pclose(pipe);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// The names of the kernels in preprocessed source: what follows the marker and "void".
std::vector<std::string> kernels(const std::string& preprocessed)
{
    const std::string marker = "__attribute__((annotate(\"flux2_kernel\")))";
    std::vector<std::string> names;
    for (size_t at = preprocessed.find(marker); at != std::string::npos; at = preprocessed.find(marker, at + 1))
    {
        size_t p = at + marker.size();
        while (p < preprocessed.size() && isspace((unsigned char)preprocessed[p])) p++;
        if (preprocessed.compare(p, 4, "void") != 0) continue;
        p += 4;
        while (p < preprocessed.size() && isspace((unsigned char)preprocessed[p])) p++;
        size_t end = p;
        while (end < preprocessed.size() && (isalnum((unsigned char)preprocessed[end]) || preprocessed[end] == '_')) end++;
        if (end > p) names.push_back(preprocessed.substr(p, end - p));
    }
    return names;
}

int compile(Program& program)
{
    char folder[] = "/tmp/flux2-emulated-nvrtc-XXXXXX";
    if (mkdtemp(folder) == nullptr)
    {
        program.log = "cannot make a temporary folder";
        return Compilation;
    }
    std::string dir = folder, source = dir + "/" + program.name, unit = dir + "/unit.ii", library = dir + "/module.so";
    const char* configured = getenv("FLUX2_EMULATOR_CXX");
    std::string compiler = configured && *configured ? configured : "g++";
    std::string header = folder_of_this_library() + "/kernel_runtime.h";
    std::ofstream(source, std::ios::binary) << program.source;

    int result = Success;
    std::string preprocessed_path = dir + "/preprocessed.ii";
    if (!run(compiler + " -std=c++17 -E -P -x c++ -include " + quote(header) + " " + quote(source) + " -o " + quote(preprocessed_path), program.log))
        result = Compilation;
    if (result == Success)
    {
        std::string preprocessed = read_file(preprocessed_path);
        std::ofstream out(unit, std::ios::binary);
        out << preprocessed << "\n";
        for (const std::string& name : kernels(preprocessed))
            out << "extern \"C\" __attribute__((visibility(\"default\"))) void emu_entry_" << name << "(void** p) { emu::invoke(" << name << ", p); }\n";
        out.close();
        if (!run(compiler + " -std=c++17 -O1 -g0 -fPIC -shared -ffp-contract=off -fno-strict-aliasing -w -x c++ " + quote(unit) + " -o " + quote(library), program.log))
            result = Compilation;
    }
    if (result == Success)
    {
        std::string bytes = read_file(library);
        EmulatedModuleHeader h;
        memcpy(h.magic, EMULATED_MODULE_MAGIC, sizeof h.magic);
        h.length = bytes.size();
        program.image.assign((const char*)&h, (const char*)&h + sizeof h);
        program.image.insert(program.image.end(), bytes.begin(), bytes.end());
    }
    run("rm -rf " + quote(dir), program.log);
    return result;
}
}  // namespace

extern "C"
{
// A version no NVRTC has, so cubins cached by a real NVRTC and modules of this one never meet in the cubin cache.
int nvrtcVersion(int* major, int* minor)
{
    *major = 0;
    *minor = 1;
    return Success;
}

int nvrtcCreateProgram(void** program, const char* source, const char* name, int header_count, const char* const*, const char* const*)
{
    if (program == nullptr || source == nullptr || header_count != 0) return InvalidInput;
    *program = new Program { source, name ? name : "kernels.cu", "", {} };
    return Success;
}

int nvrtcDestroyProgram(void** program)
{
    if (program == nullptr || *program == nullptr) return InvalidProgram;
    delete (Program*)*program;
    *program = nullptr;
    return Success;
}

int nvrtcCompileProgram(void* program, int option_count, const char* const* options)
{
    if (program == nullptr) return InvalidProgram;
    for (int i = 0; i < option_count; i++)
        if (strncmp(options[i], "--gpu-architecture=sm_", 22) != 0 && strcmp(options[i], "--std=c++17") != 0) return InvalidInput;
    return compile(*(Program*)program);
}

int nvrtcGetProgramLogSize(void* program, size_t* size)
{
    *size = ((Program*)program)->log.size() + 1;
    return Success;
}

int nvrtcGetProgramLog(void* program, char* log)
{
    const std::string& text = ((Program*)program)->log;
    memcpy(log, text.c_str(), text.size() + 1);
    return Success;
}

int nvrtcGetCUBINSize(void* program, size_t* size)
{
    *size = ((Program*)program)->image.size();
    return Success;
}

int nvrtcGetCUBIN(void* program, char* cubin)
{
    const std::vector<char>& image = ((Program*)program)->image;
    memcpy(cubin, image.data(), image.size());
    return Success;
}
}
