// Kernels for rows stored as 16-bit floats, IEEE float16 or bfloat16 (QuiverKernels.h). The
// query stays float32; each chunk of 8 stored values is widened in registers (`vcvtph2ps` at the
// AVX2 level, integer operations at the baseline, a shift for bfloat16) and fed to the float32
// accumulators in the same order as float32.c, so a score equals the float32 kernel's on the
// widened row bit for bit.

#include "kernels.h"
#include "variants.h"

QK_INLINE void widen_body(const uint16_t *src, size_t count, int bf16, float *dst, qk_level lv) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) QK_STORE8(dst + i, QK_LOAD8_HALF(src + i, bf16, lv));
    if (i < count) {
        const qk_f32x8 v = QK_LOAD_PARTIAL8_HALF(src + i, count - i, bf16, lv);
        for (size_t j = 0; i + j < count; j++) dst[i + j] = v[j];
    }
}

/// float32.c's `pairwise_body` with the row widened.
QK_INLINE float pairwise_half_body(const float *q, const uint16_t *row, size_t n, int bf16, int l2, qk_level lv) {
    qk_f32x8 s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = QK_STEP8(s0, QK_LOAD8(q + i), QK_LOAD8_HALF(row + i, bf16, lv), l2, lv);
        s1 = QK_STEP8(s1, QK_LOAD8(q + i + 8), QK_LOAD8_HALF(row + i + 8, bf16, lv), l2, lv);
        s2 = QK_STEP8(s2, QK_LOAD8(q + i + 16), QK_LOAD8_HALF(row + i + 16, bf16, lv), l2, lv);
        s3 = QK_STEP8(s3, QK_LOAD8(q + i + 24), QK_LOAD8_HALF(row + i + 24, bf16, lv), l2, lv);
    }
    for (; i + 8 <= n; i += 8) s0 = QK_STEP8(s0, QK_LOAD8(q + i), QK_LOAD8_HALF(row + i, bf16, lv), l2, lv);
    if (i < n) s1 = QK_STEP8(s1, QK_LOAD_PARTIAL8(q + i, n - i), QK_LOAD_PARTIAL8_HALF(row + i, n - i, bf16, lv), l2, lv);
    return QK_REDUCE8((s0 + s1) + (s2 + s3));
}

QK_INLINE float squared_norm_half_body(const uint16_t *row, size_t n, int bf16, qk_level lv) {
    qk_f32x8 s0 = 0, s1 = 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const qk_f32x8 a = QK_LOAD8_HALF(row + i, bf16, lv), b = QK_LOAD8_HALF(row + i + 8, bf16, lv);
        s0 = QK_MADD8(s0, a, a, lv);
        s1 = QK_MADD8(s1, b, b, lv);
    }
    for (; i + 8 <= n; i += 8) {
        const qk_f32x8 a = QK_LOAD8_HALF(row + i, bf16, lv);
        s0 = QK_MADD8(s0, a, a, lv);
    }
    if (i < n) {
        const qk_f32x8 a = QK_LOAD_PARTIAL8_HALF(row + i, n - i, bf16, lv);
        s1 = QK_MADD8(s1, a, a, lv);
    }
    return QK_REDUCE8(s0 + s1);
}

/// float32.c's 1×4 and 1×1 block micro-kernels with the rows widened in registers: per pair,
/// one accumulator over the 8-value chunks in order, the tail last, then `qk_reduce8`.
QK_INLINE void block_half_body(const float *queries, size_t nq, size_t qs, const uint16_t *rows, int bf16,
                               size_t nr, size_t d, int l2, float *out, size_t os, qk_level lv) {
    const size_t d8 = d & ~(size_t)7, t = d - d8;
    for (size_t qi = 0; qi < nq; qi++) {
        const float *q = queries + qi * qs;
        float *o = out + qi * os;
        size_t r = 0;
        for (; r + 4 <= nr; r += 4) {
            const uint16_t *r0p = rows + r * d, *r1p = r0p + d, *r2p = r0p + 2 * d, *r3p = r0p + 3 * d;
            qk_f32x8 a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            for (size_t i = 0; i < d8; i += 8) {
                const qk_f32x8 qv = QK_LOAD8(q + i);
                a0 = QK_STEP8(a0, qv, QK_LOAD8_HALF(r0p + i, bf16, lv), l2, lv);
                a1 = QK_STEP8(a1, qv, QK_LOAD8_HALF(r1p + i, bf16, lv), l2, lv);
                a2 = QK_STEP8(a2, qv, QK_LOAD8_HALF(r2p + i, bf16, lv), l2, lv);
                a3 = QK_STEP8(a3, qv, QK_LOAD8_HALF(r3p + i, bf16, lv), l2, lv);
            }
            if (t > 0) {
                const qk_f32x8 qv = QK_LOAD8(q + d8);
                a0 = QK_STEP8(a0, qv, QK_LOAD_PARTIAL8_HALF(r0p + d8, t, bf16, lv), l2, lv);
                a1 = QK_STEP8(a1, qv, QK_LOAD_PARTIAL8_HALF(r1p + d8, t, bf16, lv), l2, lv);
                a2 = QK_STEP8(a2, qv, QK_LOAD_PARTIAL8_HALF(r2p + d8, t, bf16, lv), l2, lv);
                a3 = QK_STEP8(a3, qv, QK_LOAD_PARTIAL8_HALF(r3p + d8, t, bf16, lv), l2, lv);
            }
            o[r] = QK_REDUCE8(a0); o[r + 1] = QK_REDUCE8(a1); o[r + 2] = QK_REDUCE8(a2); o[r + 3] = QK_REDUCE8(a3);
        }
        for (; r < nr; r++) {
            const uint16_t *rp = rows + r * d;
            qk_f32x8 a = 0;
            for (size_t i = 0; i < d8; i += 8) a = QK_STEP8(a, QK_LOAD8(q + i), QK_LOAD8_HALF(rp + i, bf16, lv), l2, lv);
            if (t > 0) a = QK_STEP8(a, QK_LOAD8(q + d8), QK_LOAD_PARTIAL8_HALF(rp + d8, t, bf16, lv), l2, lv);
            o[r] = QK_REDUCE8(a);
        }
    }
}

// Each entry point branches once on the format and the metric, so every body is specialised.
#define QK_HALF_VARIANTS(suffix, attribute, level)                                                                    \
    attribute void quiver_widen_##suffix(const uint16_t *src, size_t count, int bf16, float *dst) {                   \
        if (bf16) widen_body(src, count, 1, dst, level);                                                              \
        else widen_body(src, count, 0, dst, level);                                                                   \
    }                                                                                                                 \
    attribute float quiver_dot_half_##suffix(const float *q, const uint16_t *row, size_t n, int bf16) {               \
        return bf16 ? pairwise_half_body(q, row, n, 1, 0, level) : pairwise_half_body(q, row, n, 0, 0, level);        \
    }                                                                                                                 \
    attribute float quiver_l2_squared_half_##suffix(const float *q, const uint16_t *row, size_t n, int bf16) {        \
        return bf16 ? pairwise_half_body(q, row, n, 1, 1, level) : pairwise_half_body(q, row, n, 0, 1, level);        \
    }                                                                                                                 \
    attribute float quiver_squared_norm_half_##suffix(const uint16_t *row, size_t n, int bf16) {                      \
        return bf16 ? squared_norm_half_body(row, n, 1, level) : squared_norm_half_body(row, n, 0, level);            \
    }                                                                                                                 \
    attribute void quiver_score_block_half_##suffix(const float *queries, size_t nq, size_t qs, const uint16_t *rows, \
                                                    int bf16, size_t nr, size_t d, int l2, float *out, size_t os) {   \
        if (bf16 && l2) block_half_body(queries, nq, qs, rows, 1, nr, d, 1, out, os, level);                          \
        else if (bf16) block_half_body(queries, nq, qs, rows, 1, nr, d, 0, out, os, level);                           \
        else if (l2) block_half_body(queries, nq, qs, rows, 0, nr, d, 1, out, os, level);                             \
        else block_half_body(queries, nq, qs, rows, 0, nr, d, 0, out, os, level);                                     \
    }

#if QK_X86
QK_HALF_VARIANTS(baseline, , QK_PLAIN)
QK_HALF_VARIANTS(haswell, QK_HASWELL, QK_FUSED)
#else
QK_HALF_VARIANTS(neon, , QK_FUSED)
#endif
