#pragma once

// Shared pieces of the engine's kernels (float32.c, panel.c, half.c, binary.c, sq8.c); private
// to this target. See include/QuiverKernels.h for the dispatch and the naming of the variants.
//
// Each kernel body is written once, as an always-inline function over Clang vector extensions
// (`ext_vector_type(8)`) that takes a `qk_level`, and each variant is a small function with the
// variant's target attribute that calls the body with its level. After inlining, the body is
// compiled with the variant's instruction set (ymm registers and `vfmadd231ps` in a `_haswell`
// variant, two xmm registers and `mulps` + `addps` in a `_baseline` one), and the constant
// level removes the branches. Intrinsics are not needed; the only ISA-specific code is the
// AVX-512 walk kernels (float32.c).

#include <stddef.h>
#include <stdint.h>

#include "QuiverKernels.h"

// Sums are pinned: a multiply-add is fused exactly where a body asks for it (`qk_madd8`), never
// contracted by the compiler, so every variant's order of operations is the one written here.
#pragma clang fp contract(off)

// 8-float vectors are passed between always-inline functions only, which never exist as calls,
// so the vector calling convention (which differs with and without AVX) never applies.
#pragma clang diagnostic ignored "-Wpsabi"

#define QK_INLINE static inline __attribute__((always_inline))

#if defined(__x86_64__) || defined(_M_X64)
#define QK_X86 1
/// x86-64-v3: AVX2, FMA, F16C (and POPCNT, which every such CPU has; checked in cpu.c).
#define QK_HASWELL __attribute__((target("avx2,fma,f16c,popcnt")))
/// AVX-512 F on top of the Haswell set.
#define QK_SKYLAKE __attribute__((target("avx512f,avx2,fma,f16c,popcnt")))
#else
#define QK_X86 0
#endif

/// How a body computes:
/// - `QK_PLAIN`: x86-64 baseline (SSE2): a separate multiply and add (a fused multiply-add
///   would be a libm call per lane), float16 widened with integer operations.
/// - `QK_FUSED`: fused multiply-add and hardware float16 conversion (x86 AVX2 level, arm64).
typedef enum { QK_PLAIN = 0, QK_FUSED = 1 } qk_level;

typedef float qk_f32x4 __attribute__((ext_vector_type(4)));
typedef float qk_f32x8 __attribute__((ext_vector_type(8)));
typedef uint16_t qk_u16x8 __attribute__((ext_vector_type(8)));
typedef uint32_t qk_u32x8 __attribute__((ext_vector_type(8)));
typedef int32_t qk_i32x8 __attribute__((ext_vector_type(8)));
typedef _Float16 qk_f16x8 __attribute__((ext_vector_type(8)));
// Unaligned, aliasing views for loads and stores.
typedef float qk_f32x8u __attribute__((ext_vector_type(8), aligned(4), may_alias));
typedef uint16_t qk_u16x8u __attribute__((ext_vector_type(8), aligned(2), may_alias));

/// Eight floats from `p` (unaligned).
QK_INLINE qk_f32x8 qk_load8(const float *p) { return *(const qk_f32x8u *)p; }

/// Stores eight floats at `p` (unaligned).
QK_INLINE void qk_store8(float *p, qk_f32x8 v) { *(qk_f32x8u *)p = v; }

/// The first `n` (< 8) floats at `p`, the other lanes zero; never reads past `p + n`.
QK_INLINE qk_f32x8 qk_load_partial8(const float *p, size_t n) {
    qk_f32x8 v = 0;
    for (size_t j = 0; j < n; j++) v[j] = p[j];
    return v;
}

/// `acc + a × b`, fused at `QK_FUSED`.
QK_INLINE qk_f32x8 qk_madd8(qk_f32x8 acc, qk_f32x8 a, qk_f32x8 b, qk_level lv) {
    return lv == QK_FUSED ? __builtin_elementwise_fma(a, b, acc) : acc + a * b;
}

/// Scalar twin of `qk_madd8`.
QK_INLINE float qk_madd1(float acc, float a, float b, qk_level lv) {
    return lv == QK_FUSED ? __builtin_fmaf(a, b, acc) : acc + a * b;
}

/// One accumulation step of a scoring kernel: `acc + q·r` or, with `l2`, `acc + (q−r)²`.
QK_INLINE qk_f32x8 qk_step8(qk_f32x8 acc, qk_f32x8 q, qk_f32x8 r, int l2, qk_level lv) {
    if (l2) {
        const qk_f32x8 t = q - r;
        return qk_madd8(acc, t, t, lv);
    }
    return qk_madd8(acc, q, r, lv);
}

/// The sum of the lanes in a fixed order, `((v0+v4)+(v1+v5)) + ((v2+v6)+(v3+v7))`, so every
/// kernel that reduces the same accumulator gets the same bits (`qk_reduce_transposed8`
/// follows the same tree for eight accumulators at once).
QK_INLINE float qk_reduce8(qk_f32x8 v) {
    const qk_f32x4 h = v.lo + v.hi;
    return (h[0] + h[1]) + (h[2] + h[3]);
}

/// `qk_reduce8` of eight accumulators, in lanes `[a, c, e, g, b, d, f, h]`: a transpose-and-add
/// tree instead of eight horizontal sums.
QK_INLINE qk_f32x8 qk_reduce_transposed8(qk_f32x8 a, qk_f32x8 b, qk_f32x8 c, qk_f32x8 d,
                                         qk_f32x8 e, qk_f32x8 f, qk_f32x8 g, qk_f32x8 h) {
#define QK_HALVES(x, y) (__builtin_shufflevector(x, y, 0, 1, 2, 3, 8, 9, 10, 11) + \
                         __builtin_shufflevector(x, y, 4, 5, 6, 7, 12, 13, 14, 15))
#define QK_PAIRS(x, y) (__builtin_shufflevector(x, y, 0, 2, 8, 10, 4, 6, 12, 14) + \
                        __builtin_shufflevector(x, y, 1, 3, 9, 11, 5, 7, 13, 15))
    const qk_f32x8 ab = QK_HALVES(a, b), cd = QK_HALVES(c, d), ef = QK_HALVES(e, f), gh = QK_HALVES(g, h);
    const qk_f32x8 abcd = QK_PAIRS(ab, cd), efgh = QK_PAIRS(ef, gh);
    return QK_PAIRS(abcd, efgh);
#undef QK_HALVES
#undef QK_PAIRS
}

// MARK: 16-bit floats

/// Eight float16 bit patterns widened to float32, exactly (subnormals, infinities, NaN).
/// `QK_FUSED`: the hardware conversion (`vcvtph2ps`, `fcvtl`); `QK_PLAIN`: integer operations
/// (F. Giesen, "half_to_float_fast"), which vectorise on SSE2.
QK_INLINE qk_f32x8 qk_widen_f16(qk_u16x8 h, qk_level lv) {
    if (lv == QK_FUSED) return __builtin_convertvector((qk_f16x8)h, qk_f32x8);
    const qk_u32x8 x = __builtin_convertvector(h, qk_u32x8);
    const qk_u32x8 sign = (x & 0x8000u) << 16;
    const qk_u32x8 shifted = (x & 0x7FFFu) << 13;
    // Rebias by multiplying by 2^112: exponents move from bias 15 to 127, and subnormal halves
    // come out as the right normal floats.
    const qk_u32x8 scaled = (qk_u32x8)((qk_f32x8)shifted * 0x1p112f);
    const qk_i32x8 inf_nan = (qk_i32x8)(x & 0x7FFFu) > 0x7BFF;  // all ones where Inf or NaN
    const qk_u32x8 magnitude = ((qk_u32x8)inf_nan & (shifted | 0x7F800000u)) | (~(qk_u32x8)inf_nan & scaled);
    return (qk_f32x8)(magnitude | sign);
}

/// Eight bfloat16 bit patterns widened to float32 (exact: the upper half of the float).
QK_INLINE qk_f32x8 qk_widen_bf16(qk_u16x8 h) {
    return (qk_f32x8)(__builtin_convertvector(h, qk_u32x8) << 16);
}

/// Eight 16-bit values at `p` (unaligned) widened; `bf16` picks bfloat16 over float16.
QK_INLINE qk_f32x8 qk_load8_half(const uint16_t *p, int bf16, qk_level lv) {
    const qk_u16x8 h = *(const qk_u16x8u *)p;
    return bf16 ? qk_widen_bf16(h) : qk_widen_f16(h, lv);
}

/// The first `n` (< 8) 16-bit values at `p`, widened; the other lanes zero.
QK_INLINE qk_f32x8 qk_load_partial8_half(const uint16_t *p, size_t n, int bf16, qk_level lv) {
    qk_u16x8 h = 0;
    for (size_t j = 0; j < n; j++) h[j] = p[j];
    return bf16 ? qk_widen_bf16(h) : qk_widen_f16(h, lv);
}
