// The host side of CUDA C that the emulated NVRTC (nvrtc.cpp) puts in front of a kernel family's source, so the
// kernels compile as C++ and run on the CPU: every thread of a block is a fiber on the launching thread, __syncthreads
// and the warp operations (shuffles, mma.sync, ldmatrix) are points where a fiber waits for the others, __shared__
// variables are static (blocks run one after another), and a cp.async copy lands only when its thread waits for its
// group (or at once, with FLUX2_EMULATOR_CP_ASYNC=early). A barrier that can never complete, a full-mask warp operation
// with a lane missing, or a launch the GPU would refuse fails the launch with a message instead of hanging. x86-64 Linux
// only.
#pragma once
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <type_traits>
#include <utility>

#include "emulator.h"

struct emu_uint3 { unsigned x, y, z; };

namespace emu
{
enum class State { Runnable, AtBlockBarrier, AtWarpBarrier, Done };

// A cp.async copy in flight: the source's bytes as read at issue (zero past src_bytes), written to dst when its group
// is waited for, so a kernel that reads shared memory before waiting sees the old contents, as it may on a GPU.
struct PendingCopy
{
    void* dst;
    unsigned char bytes[16];
    int group;
};

constexpr int MaxPendingCopies = 64;

struct Fiber
{
    void* sp;
    emu_uint3 index;
    int linear;
    State state;
    PendingCopy pending[MaxPendingCopies];
    int pending_count;
    int open_group;  // the group that cp.async.commit_group closes next; groups below it are committed
};

constexpr int MaxThreads = 1024;
constexpr size_t StackBytes = 256 * 1024;

static Fiber fibers[MaxThreads];
static Fiber* current;
static void* scheduler_sp;
static char* stacks;
static void (*kernel_entry)(void**);
static void** kernel_params;
static emu_uint3 block_index, block_dim, grid_dim;
static int block_threads;
static bool failed;
static char failure[1024];
// One 64-bit slot per lane of every warp for shuffles, and the mma operands of every lane.
static uint64_t warp_slots[MaxThreads / 32][32];
static uint32_t mma_a[MaxThreads / 32][32][4];
static uint32_t mma_b[MaxThreads / 32][32][2];

// emu_switch(save, next): saves the callee-saved registers and the floating-point control words on the current stack,
// stores the stack pointer in *save, and resumes the stack next (which was saved the same way, or made by new_stack).
extern "C" void emu_switch(void** save, void* next);
asm(R"(
    .text
    .p2align 4
    .type emu_switch, @function
emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size emu_switch, .-emu_switch
)");

static void fiber_start();

// A stack that emu_switch resumes into fiber_start, as if fiber_start had been called (the stack pointer ≡ 8 mod 16).
static void* new_stack(char* base)
{
    uint64_t* top = (uint64_t*)(base + StackBytes);
    top[-1] = 0;                          // fiber_start's return address: it never returns
    top[-2] = (uint64_t)&fiber_start;     // where emu_switch's ret goes
    for (int i = 3; i <= 8; i++) top[-i] = 0;  // rbp, rbx, r12 to r15
    uint32_t* control = (uint32_t*)&top[-9];
    control[0] = 0x1f80;                  // MXCSR: round to nearest, exceptions masked, no flush to zero
    control[1] = 0x037f;                  // x87 control word
    return &top[-9];
}

static void yield(State state)
{
    current->state = state;
    emu_switch(&current->sp, scheduler_sp);
}

static void fiber_start()
{
    kernel_entry(kernel_params);
    yield(State::Done);
}

static void fail(const char* what)
{
    if (!failed)
    {
        snprintf(failure, sizeof failure, "%s (block %u,%u,%u thread %u,%u,%u)", what, block_index.x, block_index.y,
            block_index.z, current->index.x, current->index.y, current->index.z);
        failed = true;
    }
    yield(State::Done);
}

static int lane() { return current->linear & 31; }
static int warp() { return current->linear >> 5; }

// A warp-wide operation with the full mask: every lane of the warp must exist and take part.
static void warp_barrier(unsigned mask)
{
    if (mask != 0xffffffffu) fail("a warp operation with a mask other than 0xffffffff, which the emulation does not model");
    yield(State::AtWarpBarrier);
}

static int warp_count() { return (block_threads + 31) / 32; }

// One past warp w's last thread (a block's last warp may be partial).
static int warp_end(int w) { return w * 32 + 32 < block_threads ? w * 32 + 32 : block_threads; }

// Releases warp w when all its live lanes wait at a warp operation; sets failed when lanes are missing from it.
static bool release_warp(int w)
{
    int waiting = 0, live = 0;
    for (int i = w * 32; i < warp_end(w); i++)
    {
        waiting += fibers[i].state == State::AtWarpBarrier;
        live += fibers[i].state != State::Done;
    }
    if (waiting == 0 || waiting < live) return false;
    if (waiting < 32)
    {
        snprintf(failure, sizeof failure,
            "a full-mask warp operation in warp %d of block %u,%u,%u has %d of 32 lanes (the others have exited or do not exist)",
            w, block_index.x, block_index.y, block_index.z, waiting);
        failed = true;
        return false;
    }
    for (int i = w * 32; i < warp_end(w); i++) fibers[i].state = State::Runnable;
    return true;
}

// Releases what can go on after every fiber of the block has stopped: the warps whose lanes all wait at a warp
// operation, else the block when all its live threads wait at __syncthreads. False when nothing can go on (a deadlock
// on a GPU), or when a warp operation waits for lanes that have exited or do not exist (undefined on a GPU).
static bool release()
{
    bool released = false;
    for (int w = 0; w < warp_count(); w++)
    {
        released |= release_warp(w);
        if (failed) return false;
    }
    if (released) return true;
    int live = 0, waiting = 0;
    for (int i = 0; i < block_threads; i++)
    {
        live += fibers[i].state != State::Done;
        waiting += fibers[i].state == State::AtBlockBarrier;
    }
    if (live == 0 || waiting != live) return false;
    for (int i = 0; i < block_threads; i++)
        if (fibers[i].state == State::AtBlockBarrier) fibers[i].state = State::Runnable;
    return true;
}

static void describe_deadlock()
{
    int blocked = 0, warps = 0, done = 0;
    for (int i = 0; i < block_threads; i++)
    {
        blocked += fibers[i].state == State::AtBlockBarrier;
        warps += fibers[i].state == State::AtWarpBarrier;
        done += fibers[i].state == State::Done;
    }
    snprintf(failure, sizeof failure,
        "the block can never go on (block %u,%u,%u of %d threads: %d wait at __syncthreads, %d at a warp operation, %d have exited)",
        block_index.x, block_index.y, block_index.z, block_threads, blocked, warps, done);
    failed = true;
}

// The order fibers run in. Lockstep (the default): every live thread runs to its next warp operation or barrier before
// any goes on, so the warps keep pace. FLUX2_EMULATOR_SCHEDULE=warps: each warp runs as far as it can (to a __syncthreads
// or its exit) before the next starts, warp 0 first; warps-reversed: the last warp first. A GPU may interleave warps in
// any of these ways, so a kernel that shares memory between warps without a barrier between the write and the read (or
// between a read and the next write) gives a wrong result under one of them.
enum class Schedule { Lockstep, Warps, WarpsReversed };

static const char* const schedule_setting = getenv("FLUX2_EMULATOR_SCHEDULE");
static const char* const copies_setting = getenv("FLUX2_EMULATOR_CP_ASYNC");

static bool setting_is(const char* setting, const char* value) { return setting != nullptr && strcmp(setting, value) == 0; }

static const Schedule schedule = setting_is(schedule_setting, "warps") ? Schedule::Warps
    : setting_is(schedule_setting, "warps-reversed") ? Schedule::WarpsReversed : Schedule::Lockstep;

// When a copy lands: at the wait (the default), or at once with FLUX2_EMULATOR_CP_ASYNC=early.
static const bool copies_land_early = setting_is(copies_setting, "early");

// The settings above, spelled as they must be: a misspelt one fails every launch rather than run the default unnoticed.
static bool settings_are_valid(char* message, int message_length)
{
    if (schedule_setting != nullptr && schedule == Schedule::Lockstep && !setting_is(schedule_setting, "lockstep"))
        snprintf(message, message_length, "FLUX2_EMULATOR_SCHEDULE=%s: expected lockstep, warps or warps-reversed", schedule_setting);
    else if (copies_setting != nullptr && !copies_land_early && !setting_is(copies_setting, "late"))
        snprintf(message, message_length, "FLUX2_EMULATOR_CP_ASYNC=%s: expected late or early", copies_setting);
    else
        return true;
    return false;
}

// Runs the runnable fibers of warp w, and with a warps schedule releases its warp operations until none of its threads
// can go on alone. True when a fiber ran.
static bool run_warp(int w, Schedule order)
{
    bool ran = false;
    for (;;)
    {
        bool any = false;
        for (int i = w * 32; i < warp_end(w); i++)
        {
            if (fibers[i].state != State::Runnable) continue;
            current = &fibers[i];
            emu_switch(&scheduler_sp, current->sp);
            ran = any = true;
            if (failed) return true;
        }
        if (order == Schedule::Lockstep || (!any && !release_warp(w))) return ran;
    }
}

static bool run_block()
{
    for (int i = 0; i < block_threads; i++)
    {
        Fiber& f = fibers[i];
        f.linear = i;
        f.index = { (unsigned)i % block_dim.x, (unsigned)i / block_dim.x % block_dim.y, (unsigned)i / (block_dim.x * block_dim.y) };
        f.state = State::Runnable;
        f.pending_count = 0;
        f.open_group = 0;
        f.sp = new_stack(stacks + (size_t)i * StackBytes);
    }
    for (;;)
    {
        bool ran = false;
        for (int k = 0; k < warp_count(); k++)
        {
            ran |= run_warp(schedule == Schedule::WarpsReversed ? warp_count() - 1 - k : k, schedule);
            if (failed) return false;
        }
        if (ran) continue;
        bool finished = true;
        for (int i = 0; i < block_threads; i++) finished &= fibers[i].state == State::Done;
        if (finished) return true;
        if (!release())
        {
            if (!failed) describe_deadlock();
            return false;
        }
    }
}

template <typename... A, size_t... I>
static void call(void (*kernel)(A...), void** params, std::index_sequence<I...>)
{
    kernel(*static_cast<std::remove_reference_t<A>*>(params[I])...);
}

template <typename... A>
static void invoke(void (*kernel)(A...), void** params)
{
    call(kernel, params, std::index_sequence_for<A...>{});
}

template <typename T>
static uint64_t to_slot(T v)
{
    static_assert(sizeof(T) <= 8, "a shuffled value is at most 64 bits");
    uint64_t bits = 0;
    memcpy(&bits, &v, sizeof(T));
    return bits;
}

template <typename T>
static T from_slot(uint64_t bits)
{
    T v;
    memcpy(&v, &bits, sizeof(T));
    return v;
}

template <typename T>
static T shuffle(unsigned mask, T v, int source)
{
    warp_slots[warp()][lane()] = to_slot(v);
    warp_barrier(mask);
    T r = from_slot<T>(warp_slots[warp()][source & 31]);
    warp_barrier(mask);  // every lane has read before any lane's next shuffle writes
    return r;
}

}  // namespace emu

// Runs every block of a launch; returns false with emu::failure set when the launch fails.
extern "C" __attribute__((visibility("default"))) int emu_run_grid(void (*entry)(void**), void** params, unsigned gx,
    unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, char* message, int message_length)
{
    using namespace emu;
    if (!settings_are_valid(message, message_length)) return 0;
    if (stacks == nullptr)
    {
        void* memory = mmap(nullptr, MaxThreads * StackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (memory == MAP_FAILED)
        {
            snprintf(message, message_length, "no memory for the fiber stacks");
            return 0;
        }
        stacks = (char*)memory;
    }
    kernel_entry = entry;
    kernel_params = params;
    grid_dim = { gx, gy, gz };
    block_dim = { bx, by, bz };
    block_threads = (int)(bx * by * bz);
    failed = false;
    for (unsigned z = 0; z < gz; z++)
        for (unsigned y = 0; y < gy; y++)
            for (unsigned x = 0; x < gx; x++)
            {
                block_index = { x, y, z };
                if (!run_block())
                {
                    snprintf(message, message_length, "%s", failure);
                    return 0;
                }
            }
    return 1;
}

// CUDA C's names for the above.
#define threadIdx (emu::current->index)
#define blockIdx (emu::block_index)
#define blockDim (emu::block_dim)
#define gridDim (emu::grid_dim)
// The marker the emulated NVRTC finds kernels by (GCC ignores the attribute).
#define __global__ __attribute__((annotate("flux2_kernel")))
#define __device__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(...)

inline void __syncthreads() { emu::yield(emu::State::AtBlockBarrier); }

template <typename T> inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask) { return emu::shuffle(mask, v, emu::lane() ^ lane_mask); }
template <typename T> inline T __shfl_sync(unsigned mask, T v, int source) { return emu::shuffle(mask, v, source); }

inline float __int_as_float(int v) { return emu::from_slot<float>((uint32_t)v); }
inline float __uint_as_float(unsigned v) { return emu::from_slot<float>(v); }
inline unsigned __float_as_uint(float v) { return (unsigned)emu::to_slot(v); }
inline int __float_as_int(float v) { return (int)(unsigned)emu::to_slot(v); }
// Built with -ffp-contract=off, so a product is never fused into a following add.
inline float __fmul_rn(float a, float b) { return a * b; }

// CUDA's integer min and max (device code has them without a header).
template <typename A, typename B> inline std::common_type_t<A, B> min(A a, B b) { return b < a ? b : a; }
template <typename A, typename B> inline std::common_type_t<A, B> max(A a, B b) { return a < b ? b : a; }

// Fibers of one launch run on one thread, one at a time: an atomic is a plain read-modify-write.
inline double atomicAdd(double* p, double v) { double old = *p; *p = old + v; return old; }
inline float atomicAdd(float* p, float v) { float old = *p; *p = old + v; return old; }
inline unsigned atomicMax(unsigned* p, unsigned v) { unsigned old = *p; if (v > old) *p = v; return old; }
inline int atomicMax(int* p, int v) { int old = *p; if (v > old) *p = v; return old; }

// The PTX instructions the kernels write as inline asm, with the instruction's operands in its order.

// cvt.rn.bf16x2.f32 d, a, b: a rounded into the upper half of d, b into the lower.
inline uint32_t emulated_cvt_rn_bf16x2_f32(float a, float b)
{
    return (uint32_t)emulated_cvt_rn_bf16_f32(a) << 16 | emulated_cvt_rn_bf16_f32(b);
}

// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {d0..d3}, {a0..a3}, {b0, b1}, {c0..c3} with d = c: the warp's
// 16×16 A and 16×8 B gathered from every lane's fragments as the PTX ISA lays them out (lane = 4·groupID + threadID;
// A register r: row groupID + 8·(r & 1), columns 2·threadID + 8·(r >> 1) and the next, the lower column in the lower
// half; B register r: rows (k) 2·threadID + 8·r and the next, column groupID; accumulator e: row groupID + 8·(e >> 1),
// column 2·threadID + (e & 1)).
inline void emulated_mma_m16n8k16_row_col_f32_bf16_bf16_f32(float* c, const uint32_t* a, uint32_t b0, uint32_t b1)
{
    using namespace emu;
    int w = warp(), l = lane();
    for (int r = 0; r < 4; r++) mma_a[w][l][r] = a[r];
    mma_b[w][l][0] = b0;
    mma_b[w][l][1] = b1;
    warp_barrier(0xffffffffu);
    auto element_a = [w](int row, int k) {
        int owner = 4 * (row & 7) + ((k & 7) >> 1), r = (row >> 3) + 2 * (k >> 3);
        return emulated_bf16_to_f32(mma_a[w][owner][r] >> (16 * (k & 1)) & 0xffff);
    };
    auto element_b = [w](int k, int n) {
        int owner = 4 * n + ((k & 7) >> 1), r = k >> 3;
        return emulated_bf16_to_f32(mma_b[w][owner][r] >> (16 * (k & 1)) & 0xffff);
    };
    int g = l >> 2, t = l & 3;
    for (int e = 0; e < 4; e++)
    {
        int row = g + 8 * (e >> 1), n = 2 * t + (e & 1);
        float sum = c[e];
        for (int k = 0; k < 16; k++) sum += element_a(row, k) * element_b(k, n);
        c[e] = sum;
    }
    warp_barrier(0xffffffffu);
}

// ldmatrix.sync.aligned.m8n8.x4{.trans}.shared.b16 {r0..r3}, [address]: lanes 8m to 8m + 7 give the 16-byte rows of
// 8×8 matrix m; lane 4·g + t receives in register m row g's elements 2t and 2t + 1 (with .trans, column g's elements
// in rows 2t and 2t + 1), the first in the lower half.
inline void emulated_ldmatrix_x4(uint32_t* r, const void* row, bool transposed)
{
    using namespace emu;
    if ((uintptr_t)row % 16 != 0) fail("ldmatrix with a row address that is not 16-byte aligned");
    int w = warp(), l = lane();
    warp_slots[w][l] = (uint64_t)(uintptr_t)row;
    warp_barrier(0xffffffffu);
    auto element = [w](int matrix, int row, int column) {
        const uint16_t* p = (const uint16_t*)(uintptr_t)warp_slots[w][8 * matrix + row];
        return (uint32_t)p[column];
    };
    int g = l >> 2, t = l & 3;
    for (int m = 0; m < 4; m++)
        r[m] = transposed ? element(m, 2 * t, g) | element(m, 2 * t + 1, g) << 16
                          : element(m, g, 2 * t) | element(m, g, 2 * t + 1) << 16;
    warp_barrier(0xffffffffu);  // every lane has read before any lane's next warp operation writes its slot
}

// cp.async.cg.shared.global [dst], [src], 16, src_bytes: src_bytes of src, the rest of the 16 bytes zero.
inline void emulated_cp_async_16(void* dst, const void* src, int src_bytes)
{
    using namespace emu;
    if ((uintptr_t)dst % 16 != 0 || (src_bytes > 0 && (uintptr_t)src % 16 != 0)) fail("cp.async of 16 bytes between addresses not 16-byte aligned");
    if (src_bytes < 0 || src_bytes > 16) fail("cp.async with a source size outside 0..16");
    // Landing late (the default) shows a kernel that reads the copy before waiting for it; landing at once shows one that
    // refills a buffer before every warp still reading it has passed a barrier. A GPU may do either: test both ways.
    if (copies_land_early)
    {
        unsigned char bytes[16] = {};
        memcpy(bytes, src, (size_t)src_bytes);
        memcpy(dst, bytes, sizeof bytes);
        return;
    }
    if (current->pending_count == MaxPendingCopies) fail("more cp.async copies in flight than the emulation holds");
    PendingCopy& copy = current->pending[current->pending_count++];
    copy.dst = dst;
    copy.group = current->open_group;
    memset(copy.bytes, 0, sizeof copy.bytes);
    memcpy(copy.bytes, src, (size_t)src_bytes);
}

// cp.async.commit_group
inline void emulated_cp_async_commit_group() { emu::current->open_group++; }

// cp.async.wait_group n: the copies of every committed group but the newest n land.
inline void emulated_cp_async_wait_group(int n)
{
    using namespace emu;
    Fiber* f = current;
    int kept = 0;
    for (int i = 0; i < f->pending_count; i++)
    {
        PendingCopy& copy = f->pending[i];
        if (copy.group < f->open_group - n) memcpy(copy.dst, copy.bytes, sizeof copy.bytes);
        else f->pending[kept++] = copy;
    }
    f->pending_count = kept;
}

// ex2.approx.ftz.f32: 2^x (the GPU's is approximate; the emulation's is the host's exp2f), subnormal inputs and results
// flushed to zero.
inline float emulated_ex2_approx_ftz_f32(float x)
{
    if (fabsf(x) < 1.17549435e-38f) x = 0.f;
    float r = exp2f(x);
    return r < 1.17549435e-38f ? 0.f : r;
}
