// libcublasLt.so.12 of the host emulation: the matmul calls the CUDA backend makes, computed on the host in double
// precision and rounded once to D's type. Column-major layouts; D = alpha·(scaleA·op(A))·(scaleB·op(B)) + beta·C, C
// not read when beta is 0. What cuBLASLt refuses is refused here too: mismatched shapes, leading dimensions below the
// row count, an operand less aligned than the plan's preference promised, and FP8 (E4M3) operands outside the "TN"
// form with k, m·sizeof(C) and the leading dimensions in bytes multiples of 16, or with pointers not 16-byte aligned.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <vector>

#include "emulator.h"

namespace
{
enum Status
{
    Success = 0,
    NotInitialized = 1,
    InvalidValue = 7,
    NotSupported = 15,
};

enum DataType
{
    Float32 = 0,
    Float16 = 2,
    BFloat16 = 14,
    Float8E4M3 = 28,
};

struct Description
{
    int compute, scale;
    int trans_a = 0, trans_b = 0;
    uint64_t a_scale = 0, b_scale = 0;
};

struct Layout
{
    int type;
    uint64_t rows, columns;
    int64_t ld;
};

struct Preference
{
    uint64_t workspace = 0;
    uint32_t alignment[4] = { 256, 256, 256, 256 };  // A, B, C, D
};

int handle_token;

bool known_type(int type) { return type == Float32 || type == Float16 || type == BFloat16 || type == Float8E4M3; }

size_t element_bytes(int type) { return type == Float32 ? 4 : type == Float8E4M3 ? 1 : 2; }

double read(int type, const void* base, uint64_t index)
{
    switch (type)
    {
        case Float32: return ((const float*)base)[index];
        case BFloat16: return emulated_bf16_to_f32(((const uint16_t*)base)[index]);
        case Float16: return emulated_cvt_f32_f16(((const uint16_t*)base)[index]);
        default:
        {
            // E4M3: bias 7, no infinities, S.1111.111 is NaN.
            uint8_t b = ((const uint8_t*)base)[index];
            int exponent = (b >> 3) & 15, mantissa = b & 7;
            double m = (b & 0x7f) == 0x7f ? NAN : exponent == 0 ? ldexp(mantissa, -9) : ldexp(mantissa | 8, exponent - 10);
            return b & 0x80 ? -m : m;
        }
    }
}

uint16_t round_to_f16(float v)
{
    uint32_t bits;
    memcpy(&bits, &v, 4);
    uint32_t sign = (bits >> 16) & 0x8000;
    float a = fabsf(v);
    if (isnan(v)) return (uint16_t)(sign | 0x7e00);
    if (a >= 65520.f) return (uint16_t)(sign | 0x7c00);
    if (a < ldexpf(1, -14))  // subnormal: multiples of 2^-24, rounded to nearest even by rintf
        return (uint16_t)(sign | (uint32_t)rintf(ldexpf(a, 24)));
    int exponent;
    float fraction = frexpf(a, &exponent);           // a = fraction·2^exponent, fraction in [0.5, 1)
    uint32_t mantissa = (uint32_t)rintf(ldexpf(fraction, 11));  // 1024..2048
    if (mantissa == 2048) { mantissa = 1024; exponent++; }
    return (uint16_t)(sign | (uint32_t)(exponent + 14) << 10 | (mantissa - 1024));
}

void write(int type, void* base, uint64_t index, double value)
{
    float v = (float)value;
    switch (type)
    {
        case Float32: ((float*)base)[index] = v; break;
        case BFloat16: ((uint16_t*)base)[index] = emulated_cvt_rn_bf16_f32(v); break;
        case Float16: ((uint16_t*)base)[index] = round_to_f16(v); break;
        default: break;
    }
}

uint32_t alignment_of(uint64_t address)
{
    if (address == 0) return 256;
    uint64_t lowest = address & (~address + 1);
    return lowest > 256 ? 256 : (uint32_t)lowest;
}

// Checks a problem; writes m, n, k. Returns a status.
int validate(const Description* d, const Layout* a, const Layout* b, const Layout* c, const Layout* out, uint64_t* m, uint64_t* n, uint64_t* k)
{
    if (d->compute != 68 || d->scale != Float32) return NotSupported;
    for (const Layout* l : { a, b, c, out })
        if (!known_type(l->type) || l->ld < (int64_t)l->rows || l->ld < 1) return InvalidValue;
    *m = d->trans_a ? a->columns : a->rows;
    *k = d->trans_a ? a->rows : a->columns;
    uint64_t kb = d->trans_b ? b->columns : b->rows;
    *n = d->trans_b ? b->rows : b->columns;
    if (kb != *k || c->rows != *m || c->columns != *n || out->rows != *m || out->columns != *n) return InvalidValue;
    if (c->type != out->type || out->type == Float8E4M3) return NotSupported;
    bool fp8 = a->type == Float8E4M3 || b->type == Float8E4M3;
    if (fp8)
    {
        // The "TN" form, and 16-byte multiples of k, m·sizeof(C) and every leading dimension (cuBLAS, tensor core usage).
        if (a->type != Float8E4M3 || b->type != Float8E4M3 || !d->trans_a || d->trans_b) return NotSupported;
        if (*k % 16 || *m * element_bytes(c->type) % 16 || a->ld % 16 || b->ld % 16 || c->ld * element_bytes(c->type) % 16) return NotSupported;
    }
    else
    {
        // CUBLAS_COMPUTE_32F's table without FP8: C and D in the inputs' type, or fp32 for 16-bit inputs.
        if (a->type != b->type || (out->type != a->type && out->type != Float32)) return NotSupported;
        if (d->a_scale || d->b_scale) return NotSupported;
    }
    return Success;
}
}  // namespace

extern "C"
{
size_t cublasLtGetVersion() { return 120000; }

int cublasLtCreate(void** handle)
{
    *handle = &handle_token;
    return Success;
}

int cublasLtDestroy(void* handle) { return handle == &handle_token ? Success : NotInitialized; }

int cublasLtMatmulDescCreate(void** description, int compute, int scale)
{
    Description* d = new Description();
    d->compute = compute;
    d->scale = scale;
    *description = d;
    return Success;
}

int cublasLtMatmulDescDestroy(void* description)
{
    delete (Description*)description;
    return Success;
}

int cublasLtMatmulDescSetAttribute(void* description, int attribute, const void* value, size_t size)
{
    Description* d = (Description*)description;
    switch (attribute)
    {
        case 3:
        case 4:
        {
            if (size != sizeof(int)) return InvalidValue;
            int op = *(const int*)value;
            if (op != 0 && op != 1) return InvalidValue;
            (attribute == 3 ? d->trans_a : d->trans_b) = op;
            return Success;
        }
        case 17:
        case 18:
            if (size != sizeof(uint64_t)) return InvalidValue;
            (attribute == 17 ? d->a_scale : d->b_scale) = *(const uint64_t*)value;
            return Success;
        default:
            fprintf(stderr, "cublasLt emulator: matmul description attribute %d is not modelled\n", attribute);
            return InvalidValue;
    }
}

int cublasLtMatrixLayoutCreate(void** layout, int type, uint64_t rows, uint64_t columns, int64_t ld)
{
    if (!known_type(type)) return InvalidValue;
    *layout = new Layout { type, rows, columns, ld };
    return Success;
}

int cublasLtMatrixLayoutDestroy(void* layout)
{
    delete (Layout*)layout;
    return Success;
}

int cublasLtMatmulPreferenceCreate(void** preference)
{
    *preference = new Preference();
    return Success;
}

int cublasLtMatmulPreferenceDestroy(void* preference)
{
    delete (Preference*)preference;
    return Success;
}

int cublasLtMatmulPreferenceSetAttribute(void* preference, int attribute, const void* value, size_t size)
{
    Preference* p = (Preference*)preference;
    if (attribute == 1 && size == sizeof(uint64_t))
    {
        p->workspace = *(const uint64_t*)value;
        return Success;
    }
    if (attribute >= 5 && attribute <= 8 && size == sizeof(uint32_t))
    {
        p->alignment[attribute - 5] = *(const uint32_t*)value;
        return Success;
    }
    fprintf(stderr, "cublasLt emulator: preference attribute %d (%zu bytes) is not modelled\n", attribute, size);
    return InvalidValue;
}

// The algorithm's first word records the alignments the plan was made for; cublasLtMatmul holds operands to them.
struct HeuristicResult
{
    uint64_t algorithm[8];
    size_t workspace;
    int state;
    float waves;
    int reserved[4];
};

int cublasLtMatmulAlgoGetHeuristic(void* handle, void* description, void* a, void* b, void* c, void* d, void* preference,
    int requested, HeuristicResult* results, int* returned)
{
    if (handle != &handle_token) return NotInitialized;
    if (requested < 1) return InvalidValue;
    uint64_t m, n, k;
    int status = validate((Description*)description, (Layout*)a, (Layout*)b, (Layout*)c, (Layout*)d, &m, &n, &k);
    if (status != Success) return status;
    Preference* p = (Preference*)preference;
    memset(&results[0], 0, sizeof results[0]);
    for (int i = 0; i < 4; i++) results[0].algorithm[i] = p->alignment[i];
    results[0].waves = 1.f;
    *returned = 1;
    return Success;
}

int cublasLtMatmul(void* handle, void* description, const void* alpha, uint64_t a, void* layout_a, uint64_t b, void* layout_b,
    const void* beta, uint64_t c, void* layout_c, uint64_t d, void* layout_d, const HeuristicResult* algorithm,
    uint64_t workspace, size_t workspace_bytes, void* stream)
{
    if (handle != &handle_token) return NotInitialized;
    const Description* desc = (const Description*)description;
    const Layout *la = (const Layout*)layout_a, *lb = (const Layout*)layout_b, *lc = (const Layout*)layout_c, *ld = (const Layout*)layout_d;
    uint64_t m, n, k;
    int status = validate(desc, la, lb, lc, ld, &m, &n, &k);
    if (status != Success) return status;
    if (algorithm != nullptr)
    {
        const uint64_t addresses[4] = { a, b, c, d };
        for (int i = 0; i < 4; i++)
            if (alignment_of(addresses[i]) < algorithm->algorithm[i])
            {
                fprintf(stderr, "cublasLt emulator: operand %c at 0x%llx is less aligned than the %llu bytes its plan was made for\n",
                    "ABCD"[i], (unsigned long long)addresses[i], (unsigned long long)algorithm->algorithm[i]);
                return InvalidValue;
            }
    }
    if ((la->type == Float8E4M3) && (a % 16 || b % 16 || c % 16 || d % 16)) return InvalidValue;
    double scale = *(const float*)alpha;
    if (desc->a_scale) scale *= *(const float*)desc->a_scale;
    if (desc->b_scale) scale *= *(const float*)desc->b_scale;
    double beta_value = *(const float*)beta;
    // op(A) as m rows of k and op(B) as n columns of k, so each element of D is one contiguous dot product.
    std::vector<double> rows(m * k), columns(n * k);
    for (uint64_t i = 0; i < m; i++)
        for (uint64_t p = 0; p < k; p++) rows[i * k + p] = read(la->type, (const void*)a, desc->trans_a ? p + i * la->ld : i + p * la->ld);
    for (uint64_t j = 0; j < n; j++)
        for (uint64_t p = 0; p < k; p++) columns[j * k + p] = read(lb->type, (const void*)b, desc->trans_b ? j + p * lb->ld : p + j * lb->ld);
    for (uint64_t j = 0; j < n; j++)
        for (uint64_t i = 0; i < m; i++)
        {
            const double *x = &rows[i * k], *y = &columns[j * k];
            double sum = 0;
            for (uint64_t p = 0; p < k; p++) sum += x[p] * y[p];
            double value = scale * sum;
            if (beta_value != 0) value += beta_value * read(lc->type, (const void*)c, i + j * lc->ld);
            write(ld->type, (void*)d, i + j * ld->ld, value);
        }
    return Success;
}
}
