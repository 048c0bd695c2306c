// libcuda.so.1 of the host emulation: the driver API calls the CUDA backend makes, on one emulated device whose memory
// is host memory. Every allocation ends at a page followed by an inaccessible one, so a kernel reading or writing past
// the end of a buffer fails its launch (CUDA_ERROR_ILLEGAL_ADDRESS) instead of reading a neighbour; fresh allocations
// are filled with 0xff bytes (NaN in every float type) as device memory is not zeroed. Copies and memsets must stay
// inside one allocation. Work runs when it is queued (every stream is synchronous); launches run one at a time.
#include <dlfcn.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "emulator.h"

namespace
{
enum Result
{
    Success = 0,
    InvalidValue = 1,
    OutOfMemory = 2,
    NotInitialized = 3,
    InvalidDevice = 101,
    InvalidImage = 200,
    InvalidContext = 201,
    NotFound = 500,
    IllegalAddress = 700,
    LaunchFailed = 719,
};

constexpr size_t TotalMemory = 16ull << 30;
constexpr size_t Page = 4096;

struct Allocation
{
    char* mapping;
    size_t mapped;
    size_t bytes;
};

struct Module
{
    void* library;
    int (*run_grid)(void (*)(void**), void**, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, char*, int);
};

struct Function
{
    Module* module;
    void (*entry)(void**);
    std::string name;
};

std::mutex memory_lock;
std::map<uint64_t, Allocation> allocations;  // by device address
size_t allocated;
bool initialized;

// One launch at a time: kernels' shared memory is static in their module, and the fault handler below serves it.
std::recursive_mutex launch_lock;
sigjmp_buf fault_return;
volatile sig_atomic_t launching;
volatile uintptr_t fault_address;
struct sigaction previous_segv, previous_bus;

int context_token;

int check_initialized() { return initialized ? Success : NotInitialized; }

// The allocation holding [address, address + bytes), or null.
const Allocation* find(uint64_t address, size_t bytes)
{
    auto it = allocations.upper_bound(address);
    if (it == allocations.begin()) return nullptr;
    --it;
    if (address + bytes > it->first + it->second.bytes) return nullptr;
    return &it->second;
}

int check_range(uint64_t address, size_t bytes, const char* call)
{
    std::lock_guard<std::mutex> guard(memory_lock);
    if (bytes == 0 || find(address, bytes) != nullptr) return Success;
    fprintf(stderr, "cuda emulator: %s touches [0x%llx, +%zu), which is not inside one allocation\n", call, (unsigned long long)address, bytes);
    return InvalidValue;
}

void on_fault(int signal, siginfo_t* info, void* context)
{
    if (launching)
    {
        fault_address = (uintptr_t)info->si_addr;
        siglongjmp(fault_return, 1);
    }
    const struct sigaction& previous = signal == SIGSEGV ? previous_segv : previous_bus;
    if (previous.sa_flags & SA_SIGINFO)
        previous.sa_sigaction(signal, info, context);
    else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN)
        previous.sa_handler(signal);
    else
    {
        ::signal(signal, SIG_DFL);
        raise(signal);
    }
}

std::string describe_address(uintptr_t address)
{
    std::lock_guard<std::mutex> guard(memory_lock);
    for (auto& [start, a] : allocations)
    {
        uintptr_t end = start + a.bytes, guard_end = (uintptr_t)a.mapping + a.mapped;
        if (address >= start - Page && address < guard_end)
        {
            char text[200];
            snprintf(text, sizeof text, "%lld bytes past the end of an allocation of %zu bytes", (long long)(address - end), a.bytes);
            return text;
        }
    }
    return "outside every allocation";
}
}  // namespace

extern "C"
{
int cuInit(unsigned flags)
{
    if (flags != 0) return InvalidValue;
    initialized = true;
    return Success;
}

int cuDriverGetVersion(int* version)
{
    *version = 12080;
    return Success;
}

int cuDeviceGetCount(int* count)
{
    if (int r = check_initialized()) return r;
    *count = 1;
    return Success;
}

int cuDeviceGet(int* device, int ordinal)
{
    if (int r = check_initialized()) return r;
    if (ordinal != 0) return InvalidDevice;
    *device = 0;
    return Success;
}

int cuDeviceGetName(char* name, int length, int device)
{
    if (device != 0) return InvalidDevice;
    snprintf(name, length, "%s", EMULATED_DEVICE_NAME);
    return Success;
}

int cuDeviceGetAttribute(int* value, int attribute, int device)
{
    if (device != 0) return InvalidDevice;
    switch (attribute)
    {
        case 16: *value = 2; return Success;           // multiprocessors: few blocks per grid-stride launch
        case 75: *value = 9; return Success;           // compute capability 9.0, as the H100 and H200
        case 76: *value = 0; return Success;
        case 97: *value = 227 * 1024; return Success;  // shared memory per block with opt-in
        default: return InvalidValue;
    }
}

int cuDeviceTotalMem_v2(size_t* bytes, int device)
{
    if (device != 0) return InvalidDevice;
    *bytes = TotalMemory;
    return Success;
}

int cuDevicePrimaryCtxRetain(void** context, int device)
{
    if (int r = check_initialized()) return r;
    if (device != 0) return InvalidDevice;
    *context = &context_token;
    return Success;
}

int cuDevicePrimaryCtxRelease_v2(int device) { return device == 0 ? Success : InvalidDevice; }

int cuCtxSetCurrent(void* context) { return context == &context_token || context == nullptr ? Success : InvalidContext; }

int cuStreamCreate(void** stream, unsigned flags)
{
    *stream = new int(0);
    return Success;
}

int cuStreamDestroy_v2(void* stream)
{
    delete (int*)stream;
    return Success;
}

int cuStreamSynchronize(void*) { return Success; }

int cuMemGetInfo_v2(size_t* free, size_t* total)
{
    std::lock_guard<std::mutex> guard(memory_lock);
    *total = TotalMemory;
    *free = TotalMemory - allocated;
    return Success;
}

int cuMemAlloc_v2(uint64_t* pointer, size_t bytes)
{
    if (int r = check_initialized()) return r;
    if (bytes == 0) return InvalidValue;
    std::lock_guard<std::mutex> guard(memory_lock);
    if (bytes > TotalMemory - allocated) return OutOfMemory;
    // The buffer ends (rounded up to 256 bytes, the driver's alignment) where an inaccessible page begins.
    size_t rounded = (bytes + 255) / 256 * 256, data = (rounded + Page - 1) / Page * Page, mapped = data + Page;
    void* mapping = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mapping == MAP_FAILED) return OutOfMemory;
    char* base = (char*)mapping;
    mprotect(base + data, Page, PROT_NONE);
    char* start = base + data - rounded;
    memset(start, 0xff, rounded);
    allocations[(uint64_t)start] = { base, mapped, bytes };
    allocated += bytes;
    *pointer = (uint64_t)start;
    return Success;
}

int cuMemFree_v2(uint64_t pointer)
{
    std::lock_guard<std::mutex> guard(memory_lock);
    auto it = allocations.find(pointer);
    if (it == allocations.end()) return InvalidValue;
    munmap(it->second.mapping, it->second.mapped);
    allocated -= it->second.bytes;
    allocations.erase(it);
    return Success;
}

int cuMemcpyHtoDAsync_v2(uint64_t destination, const void* source, size_t bytes, void*)
{
    if (int r = check_range(destination, bytes, "cuMemcpyHtoDAsync")) return r;
    memcpy((void*)destination, source, bytes);
    return Success;
}

int cuMemcpyDtoHAsync_v2(void* destination, uint64_t source, size_t bytes, void*)
{
    if (int r = check_range(source, bytes, "cuMemcpyDtoHAsync")) return r;
    memcpy(destination, (const void*)source, bytes);
    return Success;
}

int cuMemcpyDtoDAsync_v2(uint64_t destination, uint64_t source, size_t bytes, void*)
{
    if (int r = check_range(source, bytes, "cuMemcpyDtoDAsync (source)")) return r;
    if (int r = check_range(destination, bytes, "cuMemcpyDtoDAsync (destination)")) return r;
    memmove((void*)destination, (const void*)source, bytes);
    return Success;
}

int cuMemsetD8Async(uint64_t destination, unsigned char value, size_t count, void*)
{
    if (int r = check_range(destination, count, "cuMemsetD8Async")) return r;
    memset((void*)destination, value, count);
    return Success;
}

int cuMemsetD32Async(uint64_t destination, unsigned value, size_t count, void*)
{
    if (destination % 4 != 0) return InvalidValue;
    if (int r = check_range(destination, count * 4, "cuMemsetD32Async")) return r;
    for (size_t i = 0; i < count; i++) ((uint32_t*)destination)[i] = value;
    return Success;
}

int cuModuleLoadData(void** module, const void* image)
{
    const EmulatedModuleHeader* header = (const EmulatedModuleHeader*)image;
    if (memcmp(header->magic, EMULATED_MODULE_MAGIC, sizeof header->magic) != 0)
    {
        fprintf(stderr, "cuda emulator: cuModuleLoadData was given an image the emulated NVRTC did not make\n");
        return InvalidImage;
    }
    char path[] = "/tmp/flux2-emulated-module-XXXXXX";
    int file = mkstemp(path);
    if (file < 0) return InvalidImage;
    const char* bytes = (const char*)(header + 1);
    size_t written = 0;
    while (written < header->length)
    {
        ssize_t n = write(file, bytes + written, header->length - written);
        if (n <= 0) break;
        written += (size_t)n;
    }
    close(file);
    void* library = written == header->length ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : nullptr;
    if (library == nullptr) fprintf(stderr, "cuda emulator: a module does not load: %s\n", dlerror());
    unlink(path);
    if (library == nullptr) return InvalidImage;
    auto run_grid = (decltype(Module::run_grid))dlsym(library, "emu_run_grid");
    if (run_grid == nullptr) return InvalidImage;
    *module = new Module { library, run_grid };
    return Success;
}

int cuModuleUnload(void* module)
{
    Module* m = (Module*)module;
    dlclose(m->library);
    delete m;
    return Success;
}

int cuModuleGetFunction(void** function, void* module, const char* name)
{
    Module* m = (Module*)module;
    std::string symbol = std::string("emu_entry_") + name;
    auto entry = (void (*)(void**))dlsym(m->library, symbol.c_str());
    if (entry == nullptr) return NotFound;
    *function = new Function { m, entry, name };
    return Success;
}

int cuFuncSetAttribute(void* function, int attribute, int value)
{
    if (attribute != 8) return InvalidValue;  // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
    return value >= 0 && value <= 227 * 1024 ? Success : InvalidValue;
}

int cuLaunchKernel(void* function, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
    unsigned shared_bytes, void* stream, void** params, void** extra)
{
    Function* f = (Function*)function;
    if (gx == 0 || gy == 0 || gz == 0 || bx == 0 || by == 0 || bz == 0 || gy > 65535 || gz > 65535 || bx > 1024 || by > 1024
        || bz > 64 || extra != nullptr || params == nullptr)
        return InvalidValue;
    if ((uint64_t)bx * by * bz > 1024) return InvalidValue;
    if (shared_bytes > 0)
    {
        fprintf(stderr, "cuda emulator: %s asks for %u bytes of dynamic shared memory, which the emulation does not model\n", f->name.c_str(), shared_bytes);
        return InvalidValue;
    }
    std::lock_guard<std::recursive_mutex> guard(launch_lock);
    struct sigaction handler = {};
    handler.sa_sigaction = on_fault;
    handler.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&handler.sa_mask);
    sigaction(SIGSEGV, &handler, &previous_segv);
    sigaction(SIGBUS, &handler, &previous_bus);
    char message[1024] = "";
    int result = Success;
    if (sigsetjmp(fault_return, 1) == 0)
    {
        launching = 1;
        if (!f->module->run_grid(f->entry, params, gx, gy, gz, bx, by, bz, message, sizeof message)) result = LaunchFailed;
        launching = 0;
    }
    else
    {
        launching = 0;
        std::string where = describe_address(fault_address);
        snprintf(message, sizeof message, "an access to 0x%llx, %s", (unsigned long long)fault_address, where.c_str());
        result = IllegalAddress;
    }
    sigaction(SIGSEGV, &previous_segv, nullptr);
    sigaction(SIGBUS, &previous_bus, nullptr);
    if (result != Success)
        fprintf(stderr, "cuda emulator: %s <<<(%u,%u,%u), (%u,%u,%u)>>>: %s\n", f->name.c_str(), gx, gy, gz, bx, by, bz, message);
    return result;
}

int cuEventCreate(void** event, unsigned flags)
{
    *event = new std::chrono::steady_clock::time_point();
    return Success;
}

int cuEventRecord(void* event, void*)
{
    *(std::chrono::steady_clock::time_point*)event = std::chrono::steady_clock::now();
    return Success;
}

int cuEventSynchronize(void*) { return Success; }

int cuEventElapsedTime(float* milliseconds, void* start, void* end)
{
    auto a = *(std::chrono::steady_clock::time_point*)start, b = *(std::chrono::steady_clock::time_point*)end;
    *milliseconds = std::chrono::duration<float, std::milli>(b - a).count();
    return Success;
}

int cuEventDestroy_v2(void* event)
{
    delete (std::chrono::steady_clock::time_point*)event;
    return Success;
}
}
