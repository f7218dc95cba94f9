// The packed GEMM-style kernel of batched flat scans (QuiverKernels.h): a block of rows is
// packed into panels of 8 rows stored dimension-major, and a 4×16 micro-kernel broadcasts one
// query value at a time against two panels,
//
//     for each dimension i:  acc[q][p] += broadcast(query[q][i]) × panel[p][i]   (4 × 2 vectors of 8)
//
// so each accumulator lane is one (query, row) score and no horizontal sums are needed: 8
// multiply-adds per 2 panel loads and 4 broadcasts (the AVX2 SGEMM micro-kernel shape, e.g. BLIS
// `bli_sgemm_haswell_asm_6x16`). Every score is one chain of multiply-adds over the dimensions
// in order, whichever micro-kernel computes it (4×16, 4×8, 1×16, 1×8, or
// `score_row_sequential` for single rows), so every query of a batch gets the same bits.

#include "kernels.h"
#include "variants.h"

QK_INLINE void pack_body(const float *rows, size_t n, size_t d, float *out) {
    for (size_t p = 0; p * 8 < n; p++) {
        float *dst = out + p * 8 * d;
        const float *src = rows + p * 8 * d;
        const size_t m = n - p * 8 < 8 ? n - p * 8 : 8;
        if (m == 8) {
            for (size_t i = 0; i < d; i++) {
                const qk_f32x8 v = {src[i], src[d + i], src[2 * d + i], src[3 * d + i],
                                    src[4 * d + i], src[5 * d + i], src[6 * d + i], src[7 * d + i]};
                QK_STORE8(dst + i * 8, v);
            }
        } else {
            for (size_t i = 0; i < d; i++) {
                qk_f32x8 v = 0;
                for (size_t j = 0; j < m; j++) v[j] = src[j * d + i];
                QK_STORE8(dst + i * 8, v);
            }
        }
    }
}

/// Four queries against two panels (16 rows): 8 accumulators.
QK_INLINE void panel4x16(const float *q, size_t qs, const float *panel, size_t d, int l2, qk_level lv,
                         float *out, size_t os) {
    const float *p0 = panel, *p1 = panel + 8 * d;
    const float *q0 = q, *q1 = q + qs, *q2 = q + 2 * qs, *q3 = q + 3 * qs;
    qk_f32x8 a00 = 0, a01 = 0, a10 = 0, a11 = 0, a20 = 0, a21 = 0, a30 = 0, a31 = 0;
    for (size_t i = 0; i < d; i++) {
        const qk_f32x8 c0 = QK_LOAD8(p0 + 8 * i), c1 = QK_LOAD8(p1 + 8 * i);
        const qk_f32x8 b0 = q0[i];
        a00 = QK_STEP8(a00, b0, c0, l2, lv); a01 = QK_STEP8(a01, b0, c1, l2, lv);
        const qk_f32x8 b1 = q1[i];
        a10 = QK_STEP8(a10, b1, c0, l2, lv); a11 = QK_STEP8(a11, b1, c1, l2, lv);
        const qk_f32x8 b2 = q2[i];
        a20 = QK_STEP8(a20, b2, c0, l2, lv); a21 = QK_STEP8(a21, b2, c1, l2, lv);
        const qk_f32x8 b3 = q3[i];
        a30 = QK_STEP8(a30, b3, c0, l2, lv); a31 = QK_STEP8(a31, b3, c1, l2, lv);
    }
    QK_STORE8(out, a00); QK_STORE8(out + 8, a01);
    QK_STORE8(out + os, a10); QK_STORE8(out + os + 8, a11);
    QK_STORE8(out + 2 * os, a20); QK_STORE8(out + 2 * os + 8, a21);
    QK_STORE8(out + 3 * os, a30); QK_STORE8(out + 3 * os + 8, a31);
}

/// Four queries against one panel.
QK_INLINE void panel4x8(const float *q, size_t qs, const float *panel, size_t d, int l2, qk_level lv,
                        float *out, size_t os) {
    const float *q0 = q, *q1 = q + qs, *q2 = q + 2 * qs, *q3 = q + 3 * qs;
    qk_f32x8 a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (size_t i = 0; i < d; i++) {
        const qk_f32x8 c = QK_LOAD8(panel + 8 * i);
        a0 = QK_STEP8(a0, (qk_f32x8)q0[i], c, l2, lv);
        a1 = QK_STEP8(a1, (qk_f32x8)q1[i], c, l2, lv);
        a2 = QK_STEP8(a2, (qk_f32x8)q2[i], c, l2, lv);
        a3 = QK_STEP8(a3, (qk_f32x8)q3[i], c, l2, lv);
    }
    QK_STORE8(out, a0); QK_STORE8(out + os, a1); QK_STORE8(out + 2 * os, a2); QK_STORE8(out + 3 * os, a3);
}

/// One query against two panels. Two chains per panel would be faster on their own, but the
/// order of operations must match the 4×16 kernel; the scan is memory-bound for one query.
QK_INLINE void panel1x16(const float *q, const float *panel, size_t d, int l2, qk_level lv, float *out) {
    const float *p0 = panel, *p1 = panel + 8 * d;
    qk_f32x8 a0 = 0, a1 = 0;
    for (size_t i = 0; i < d; i++) {
        const qk_f32x8 b = q[i];
        a0 = QK_STEP8(a0, b, QK_LOAD8(p0 + 8 * i), l2, lv);
        a1 = QK_STEP8(a1, b, QK_LOAD8(p1 + 8 * i), l2, lv);
    }
    QK_STORE8(out, a0); QK_STORE8(out + 8, a1);
}

/// One query against one panel.
QK_INLINE void panel1x8(const float *q, const float *panel, size_t d, int l2, qk_level lv, float *out) {
    qk_f32x8 a = 0;
    for (size_t i = 0; i < d; i++) a = QK_STEP8(a, (qk_f32x8)q[i], QK_LOAD8(panel + 8 * i), l2, lv);
    QK_STORE8(out, a);
}

/// The 4×16 kernel keeps 8 accumulators: 8 of the 16 ymm registers with AVX, but all 16 xmm
/// registers on baseline x86-64 (each 8-float vector is two), which would spill; there the 4×8
/// kernel is used.
QK_INLINE void panels_body(const float *queries, size_t nq, size_t qs, const float *panels, size_t np, size_t d,
                           int l2, float *out, size_t os, int wide, qk_level lv) {
    const size_t ps = 8 * d;
    size_t q = 0;
    for (; q + 4 <= nq; q += 4) {
        size_t p = 0;
        for (; wide && p + 2 <= np; p += 2) panel4x16(queries + q * qs, qs, panels + p * ps, d, l2, lv, out + q * os + p * 8, os);
        for (; p < np; p++) panel4x8(queries + q * qs, qs, panels + p * ps, d, l2, lv, out + q * os + p * 8, os);
    }
    for (; q < nq; q++) {
        size_t p = 0;
        for (; p + 2 <= np; p += 2) panel1x16(queries + q * qs, panels + p * ps, d, l2, lv, out + q * os + p * 8);
        if (p < np) panel1x8(queries + q * qs, panels + p * ps, d, l2, lv, out + q * os + p * 8);
    }
}

QK_INLINE void squared_norms_of_panels_body(const float *panels, size_t np, size_t d, float *out, qk_level lv) {
    for (size_t p = 0; p < np; p++) {
        const float *panel = panels + p * 8 * d;
        qk_f32x8 a = 0;
        for (size_t i = 0; i < d; i++) {
            const qk_f32x8 c = QK_LOAD8(panel + 8 * i);
            a = QK_MADD8(a, c, c, lv);
        }
        QK_STORE8(out + p * 8, a);
    }
}

QK_INLINE float squared_norm_sequential_body(const float *v, size_t d, qk_level lv) {
    float a = 0;
    for (size_t i = 0; i < d; i++) a = QK_MADD1(a, v[i], v[i], lv);
    return a;
}

QK_INLINE float score_row_sequential_body(const float *q, const float *row, size_t d, int l2, qk_level lv) {
    float a = 0;
    if (l2) {
        for (size_t i = 0; i < d; i++) {
            const float t = q[i] - row[i];
            a = QK_MADD1(a, t, t, lv);
        }
    } else {
        for (size_t i = 0; i < d; i++) a = QK_MADD1(a, q[i], row[i], lv);
    }
    return a;
}

#define QK_PANEL_VARIANTS(suffix, attribute, level, wide_allowed)                                                  \
    attribute void quiver_pack_panels_##suffix(const float *rows, size_t n, size_t d, float *out) {                \
        pack_body(rows, n, d, out);                                                                                \
    }                                                                                                              \
    attribute void quiver_score_panels_##suffix(const float *queries, size_t nq, size_t qs, const float *panels,   \
                                                size_t np, size_t d, int l2, float *out, size_t os, int wide) {    \
        const int w = wide && (wide_allowed);                                                                      \
        if (l2) panels_body(queries, nq, qs, panels, np, d, 1, out, os, w, level);                                 \
        else panels_body(queries, nq, qs, panels, np, d, 0, out, os, w, level);                                    \
    }                                                                                                              \
    attribute void quiver_squared_norms_of_panels_##suffix(const float *panels, size_t np, size_t d, float *out) { \
        squared_norms_of_panels_body(panels, np, d, out, level);                                                   \
    }                                                                                                              \
    attribute float quiver_squared_norm_sequential_##suffix(const float *v, size_t d) {                            \
        return squared_norm_sequential_body(v, d, level);                                                          \
    }                                                                                                              \
    attribute float quiver_score_row_sequential_##suffix(const float *q, const float *row, size_t d, int l2) {     \
        return score_row_sequential_body(q, row, d, l2, level);                                                    \
    }

#if QK_X86
QK_PANEL_VARIANTS(baseline, , QK_PLAIN, 0)
QK_PANEL_VARIANTS(haswell, QK_HASWELL, QK_FUSED, 1)
#else
QK_PANEL_VARIANTS(neon, , QK_FUSED, 1)
#endif
