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
// AVX-512 walk kernels (float32.c). Bodies take and return pointers and scalars only; every
// step on vectors is a macro below (see "Vector helpers" for why, debug builds).

#include <stddef.h>
#include <stdint.h>

#include "QuiverKernels.h"

// Sums are pinned: a multiply-add is fused exactly where a body asks for it (`QK_MADD8`), never
// contracted by the compiler, so every variant's order of operations is the one written here.
#pragma clang fp contract(off)


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

// MARK: Vector helpers
//
// The helpers that take or give 8-float vectors are macros, not always-inline functions. Shared
// by every level, a function would carry no target attribute, so its 32-byte vector arguments
// follow the baseline ABI and go through memory: at -O0 (SwiftPM's debug builds, also an app's
// debug build of Quiver) every call, although inlined, copied them in 8-byte pieces and reloaded
// them as one vector, a failed store-to-load forward per operation; the debug kernels ran 10× to
// 70× slower than release (the batch micro-kernel 545 against 8 ns per query-row pair, now 44).
// Optimised builds compute the same operations in the same order either way. Arguments are
// evaluated once, except `QK_MADD8`'s and `QK_REDUCE_TRANSPOSED8`'s, which are variables at
// every use; names declared inside end in `_`.

/// Eight floats from `p` (unaligned).
#define QK_LOAD8(p) ((qk_f32x8) * (const qk_f32x8u *)(p))

/// Stores the eight floats `v` at `p` (unaligned).
#define QK_STORE8(p, v) (*(qk_f32x8u *)(p) = (v))

/// The first `n` (< 8) floats at `p`, the other lanes zero; never reads past `p + n`.
#define QK_LOAD_PARTIAL8(p, n)                                          \
    ({                                                                  \
        const float *qk_p_ = (p);                                       \
        const size_t qk_n_ = (n);                                       \
        qk_f32x8 qk_v_ = 0;                                             \
        for (size_t qk_j_ = 0; qk_j_ < qk_n_; qk_j_++) qk_v_[qk_j_] = qk_p_[qk_j_]; \
        qk_v_;                                                          \
    })

/// `acc + a × b`, fused at `QK_FUSED`.
#define QK_MADD8(acc, a, b, lv) ((lv) == QK_FUSED ? __builtin_elementwise_fma(a, b, acc) : (acc) + (a) * (b))

/// Scalar twin of `QK_MADD8`.
#define QK_MADD1(acc, a, b, lv) ((lv) == QK_FUSED ? __builtin_fmaf(a, b, acc) : (acc) + (a) * (b))

/// One accumulation step of a scoring kernel: `acc + q·r` or, with `l2`, `acc + (q−r)²`.
#define QK_STEP8(acc, q, r, l2, lv)                \
    ({                                             \
        qk_f32x8 qk_x_ = (q), qk_y_ = (r);         \
        if (l2) {                                  \
            qk_x_ -= qk_y_;                        \
            qk_y_ = qk_x_;                         \
        }                                          \
        QK_MADD8(acc, qk_x_, qk_y_, lv);           \
    })

/// The sum of the lanes in a fixed order, `((v0+v4)+(v1+v5)) + ((v2+v6)+(v3+v7))`, so every
/// kernel that reduces the same accumulator gets the same bits (`QK_REDUCE_TRANSPOSED8`
/// follows the same tree for eight accumulators at once).
#define QK_REDUCE8(v)                                   \
    ({                                                  \
        const qk_f32x8 qk_s_ = (v);                     \
        const qk_f32x4 qk_h_ = qk_s_.lo + qk_s_.hi;     \
        (qk_h_[0] + qk_h_[1]) + (qk_h_[2] + qk_h_[3]);  \
    })

#define QK_HALVES_(x, y) (__builtin_shufflevector(x, y, 0, 1, 2, 3, 8, 9, 10, 11) + \
                          __builtin_shufflevector(x, y, 4, 5, 6, 7, 12, 13, 14, 15))
#define QK_PAIRS_(x, y) (__builtin_shufflevector(x, y, 0, 2, 8, 10, 4, 6, 12, 14) + \
                         __builtin_shufflevector(x, y, 1, 3, 9, 11, 5, 7, 13, 15))

/// `QK_REDUCE8` of eight accumulators (variables), in lanes `[a, c, e, g, b, d, f, h]`: a
/// transpose-and-add tree instead of eight horizontal sums.
#define QK_REDUCE_TRANSPOSED8(a, b, c, d, e, f, g, h)                                                          \
    ({                                                                                                         \
        const qk_f32x8 qk_ab_ = QK_HALVES_(a, b), qk_cd_ = QK_HALVES_(c, d), qk_ef_ = QK_HALVES_(e, f),        \
                       qk_gh_ = QK_HALVES_(g, h);                                                              \
        const qk_f32x8 qk_abcd_ = QK_PAIRS_(qk_ab_, qk_cd_), qk_efgh_ = QK_PAIRS_(qk_ef_, qk_gh_);             \
        QK_PAIRS_(qk_abcd_, qk_efgh_);                                                                         \
    })

// MARK: 16-bit floats

/// Eight float16 bit patterns widened to float32, exactly (subnormals, infinities, NaN).
/// `QK_FUSED`: the hardware conversion (`vcvtph2ps`, `fcvtl`); `QK_PLAIN`: integer operations
/// (F. Giesen, "half_to_float_fast"), which vectorise on SSE2.
#define QK_WIDEN_F16(h, lv)                                                                                       \
    ({                                                                                                            \
        const qk_u16x8 qk_b_ = (h);                                                                               \
        qk_f32x8 qk_f_;                                                                                           \
        if ((lv) == QK_FUSED) {                                                                                   \
            qk_f_ = __builtin_convertvector((qk_f16x8)qk_b_, qk_f32x8);                                           \
        } else {                                                                                                  \
            const qk_u32x8 qk_x_ = __builtin_convertvector(qk_b_, qk_u32x8);                                      \
            const qk_u32x8 qk_sign_ = (qk_x_ & 0x8000u) << 16;                                                    \
            const qk_u32x8 qk_shifted_ = (qk_x_ & 0x7FFFu) << 13;                                                 \
            /* Rebias by multiplying by 2^112: exponents move from bias 15 to 127, and subnormal halves */        \
            /* come out as the right normal floats. */                                                            \
            const qk_u32x8 qk_scaled_ = (qk_u32x8)((qk_f32x8)qk_shifted_ * 0x1p112f);                             \
            const qk_i32x8 qk_inf_nan_ = (qk_i32x8)(qk_x_ & 0x7FFFu) > 0x7BFF; /* all ones where Inf or NaN */   \
            const qk_u32x8 qk_magnitude_ =                                                                        \
                ((qk_u32x8)qk_inf_nan_ & (qk_shifted_ | 0x7F800000u)) | (~(qk_u32x8)qk_inf_nan_ & qk_scaled_);    \
            qk_f_ = (qk_f32x8)(qk_magnitude_ | qk_sign_);                                                         \
        }                                                                                                         \
        qk_f_;                                                                                                    \
    })

/// Eight bfloat16 bit patterns widened to float32 (exact: the upper half of the float).
#define QK_WIDEN_BF16(h) ((qk_f32x8)(__builtin_convertvector((h), qk_u32x8) << 16))

/// Eight 16-bit values at `p` (unaligned) widened; `bf16` picks bfloat16 over float16.
#define QK_LOAD8_HALF(p, bf16, lv)                                                         \
    ({                                                                                     \
        const qk_u16x8 qk_w_ = *(const qk_u16x8u *)(p);                                    \
        (bf16) ? QK_WIDEN_BF16(qk_w_) : QK_WIDEN_F16(qk_w_, lv);                           \
    })

/// The first `n` (< 8) 16-bit values at `p`, widened; the other lanes zero.
#define QK_LOAD_PARTIAL8_HALF(p, n, bf16, lv)                                              \
    ({                                                                                     \
        const uint16_t *qk_p_ = (p);                                                       \
        const size_t qk_n_ = (n);                                                          \
        qk_u16x8 qk_w_ = 0;                                                                \
        for (size_t qk_j_ = 0; qk_j_ < qk_n_; qk_j_++) qk_w_[qk_j_] = qk_p_[qk_j_];        \
        (bf16) ? QK_WIDEN_BF16(qk_w_) : QK_WIDEN_F16(qk_w_, lv);                           \
    })
