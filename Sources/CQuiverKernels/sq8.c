// Distances between a float query and 8-bit scalar-quantized codes (QuiverKernels.h), for
// HNSW_SQ and IVF_SQ8: `x ≈ min + code × scale` per dimension; the caller prepares the query
// (`q − min` for L2, `q × scale` for the dot product) and adds the bias. Two chains of 8 over
// 16-dimension steps, so consecutive multiply-adds do not wait for each other; the last
// `d mod 16` dimensions are added one by one after the reduction.

#include "kernels.h"
#include "variants.h"

typedef uint8_t u8x8u __attribute__((ext_vector_type(8), aligned(1), may_alias));

/// Eight codes as floats (a macro, as the helpers in kernels.h).
#define LOAD8_CODES(p) __builtin_convertvector(*(const u8x8u *)(p), qk_f32x8)

QK_INLINE float sq8_l2_body(const float *q, const float *s, const uint8_t *c, size_t d, qk_level lv) {
    qk_f32x8 acc0 = 0, acc1 = 0;
    size_t i = 0;
    for (; i + 16 <= d; i += 16) {
        const qk_f32x8 d0 = QK_LOAD8(q + i) - LOAD8_CODES(c + i) * QK_LOAD8(s + i);
        const qk_f32x8 d1 = QK_LOAD8(q + i + 8) - LOAD8_CODES(c + i + 8) * QK_LOAD8(s + i + 8);
        acc0 = QK_MADD8(acc0, d0, d0, lv);
        acc1 = QK_MADD8(acc1, d1, d1, lv);
    }
    float sum = QK_REDUCE8(acc0 + acc1);
    for (; i < d; i++) {
        const float diff = q[i] - (float)c[i] * s[i];
        sum += diff * diff;
    }
    return sum;
}

QK_INLINE float sq8_dot_body(const float *q, const uint8_t *c, size_t d, qk_level lv) {
    qk_f32x8 acc0 = 0, acc1 = 0;
    size_t i = 0;
    for (; i + 16 <= d; i += 16) {
        acc0 = QK_MADD8(acc0, QK_LOAD8(q + i), LOAD8_CODES(c + i), lv);
        acc1 = QK_MADD8(acc1, QK_LOAD8(q + i + 8), LOAD8_CODES(c + i + 8), lv);
    }
    float sum = QK_REDUCE8(acc0 + acc1);
    for (; i < d; i++) sum += q[i] * (float)c[i];
    return sum;
}

#define QK_SQ8_VARIANTS(suffix, attribute, level)                                                                  \
    attribute float quiver_sq8_l2_squared_##suffix(const float *q, const float *scale, const uint8_t *codes,       \
                                                   size_t d) {                                                     \
        return sq8_l2_body(q, scale, codes, d, level);                                                             \
    }                                                                                                              \
    attribute float quiver_sq8_dot_##suffix(const float *q, const uint8_t *codes, size_t d) {                      \
        return sq8_dot_body(q, codes, d, level);                                                                   \
    }

#if QK_X86
QK_SQ8_VARIANTS(baseline, , QK_PLAIN)
QK_SQ8_VARIANTS(haswell, QK_HASWELL, QK_FUSED)
#else
QK_SQ8_VARIANTS(neon, , QK_FUSED)
#endif
