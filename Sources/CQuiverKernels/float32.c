// float32 kernels: pairwise dot product and squared L2, the HNSW walk's distances, and the
// unpacked block kernel of flat scans (QuiverKernels.h).

#include "kernels.h"
#include "variants.h"

// MARK: Pairwise

/// Asks the second-level cache for the line at `p`: `prefetcht1` on x86-64, `prfm pldl2keep` on
/// arm64. A row a gather scores a few rows later is asked for this way, not into the first level
/// (`prefetcht0`): hints to the first level each hold one of its few miss buffers until the line
/// arrives, and a walk's rows of 24 lines filled them (see `QK_GATHER_AHEAD`).
#define QK_PREFETCH_L2(p) __builtin_prefetch((p), 0, 2)

/// Asks the second-level cache for the two lines at `next + offset` (a row to be scored soon),
/// when `next` is not null. The walk's gather kernels spread a row's hints over the steps of the
/// row before.
QK_INLINE void prefetch_step(const char *next, size_t offset) {
    if (next) {
        QK_PREFETCH_L2(next + offset);
        QK_PREFETCH_L2(next + offset + 64);
    }
}

/// Asks the second-level cache for the lines of the `n`-float row at `next` from float `i` on
/// (the last one included, wherever the row starts), when `next` is not null.
QK_INLINE void prefetch_rest(const char *next, size_t i, size_t n) {
    if (next && i < n) {
        for (size_t offset = i * sizeof(float); offset < n * sizeof(float); offset += 64) QK_PREFETCH_L2(next + offset);
        QK_PREFETCH_L2(next + n * sizeof(float) - 1);
    }
}

/// Four independent chains over 32-float steps, 8-float steps into the first, the zero-padded
/// tail into the second, then `(s0 + s1) + (s2 + s3)` reduced. With `next`, the row at `next`
/// is prefetched as this one is read (`prefetch_step`); the arithmetic is the same.
QK_INLINE float pairwise_body(const float *a, const float *b, size_t n, int l2, qk_level lv, const char *next) {
    qk_f32x8 s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        prefetch_step(next, i * sizeof(float));
        s0 = QK_STEP8(s0, QK_LOAD8(a + i), QK_LOAD8(b + i), l2, lv);
        s1 = QK_STEP8(s1, QK_LOAD8(a + i + 8), QK_LOAD8(b + i + 8), l2, lv);
        s2 = QK_STEP8(s2, QK_LOAD8(a + i + 16), QK_LOAD8(b + i + 16), l2, lv);
        s3 = QK_STEP8(s3, QK_LOAD8(a + i + 24), QK_LOAD8(b + i + 24), l2, lv);
    }
    prefetch_rest(next, i, n);
    for (; i + 8 <= n; i += 8) s0 = QK_STEP8(s0, QK_LOAD8(a + i), QK_LOAD8(b + i), l2, lv);
    if (i < n) s1 = QK_STEP8(s1, QK_LOAD_PARTIAL8(a + i, n - i), QK_LOAD_PARTIAL8(b + i, n - i), l2, lv);
    return QK_REDUCE8((s0 + s1) + (s2 + s3));
}

// MARK: Gather (the HNSW walk's batch of neighbours)

/// How many rows ahead of the one being scored a gather kernel asks the second-level cache for
/// (`QK_PREFETCH_L2`). The first rows are asked for whole; each later one a step at a time while
/// the row `QK_GATHER_AHEAD` before it is scored (`prefetch_step`). Measured on 100k × 384 text,
/// HNSW ef 32, AMD EPYC with AVX-512 (session 17): hints into the first level, a whole row 4 ahead
/// (24 at once), stalled the core on its full miss buffers (a fifth of the kernel's samples fell
/// on them); spread out, 2 ahead, they walked 5–9% faster single and in a batch; into the second
/// level, 4 ahead and spread, 27–54% faster again (2, 6 and 8 ahead and whole rows were close).
#define QK_GATHER_AHEAD 4

/// Asks the second-level cache for all `d` floats of one row.
QK_INLINE void prefetch_row(const float *row, size_t d) { prefetch_rest((const char *)row, 0, d); }

/// `out[i] = score(q, rows + ids[i] × d)` for `i < n`, the row `QK_GATHER_AHEAD` later (`next`)
/// prefetched as row `i` is scored; `score` is a kernel body, so each score has its bits.
#define QK_GATHER_BODY(score)                                                                                \
    do {                                                                                                     \
        for (size_t i = 0; i < n && i < QK_GATHER_AHEAD; i++) prefetch_row(rows + (size_t)ids[i] * d, d);    \
        for (size_t i = 0; i < n; i++) {                                                                     \
            const float *r = rows + (size_t)ids[i] * d;                                                      \
            const char *next =                                                                               \
                i + QK_GATHER_AHEAD < n ? (const char *)(rows + (size_t)ids[i + QK_GATHER_AHEAD] * d) : 0;   \
            out[i] = (score);                                                                                \
        }                                                                                                    \
    } while (0)

// MARK: Block kernel (one accumulator per (query, row) pair)

/// Four queries (stride `qs`) against two consecutive rows: the scores at `o[j × os]` and
/// `o[j × os + 1]` for query `j`.
QK_INLINE void micro4x2(const float *q, size_t qs, const float *row, size_t d, int l2, qk_level lv, float *o,
                        size_t os) {
    const float *r0p = row, *r1p = row + d;
    const float *q0p = q, *q1p = q + qs, *q2p = q + 2 * qs, *q3p = q + 3 * qs;
    qk_f32x8 a00 = 0, a01 = 0, a10 = 0, a11 = 0, a20 = 0, a21 = 0, a30 = 0, a31 = 0;
    const size_t d8 = d & ~(size_t)7;
    for (size_t i = 0; i < d8; i += 8) {
        const qk_f32x8 r0 = QK_LOAD8(r0p + i), r1 = QK_LOAD8(r1p + i);
        const qk_f32x8 q0 = QK_LOAD8(q0p + i);
        a00 = QK_STEP8(a00, q0, r0, l2, lv); a01 = QK_STEP8(a01, q0, r1, l2, lv);
        const qk_f32x8 q1 = QK_LOAD8(q1p + i);
        a10 = QK_STEP8(a10, q1, r0, l2, lv); a11 = QK_STEP8(a11, q1, r1, l2, lv);
        const qk_f32x8 q2 = QK_LOAD8(q2p + i);
        a20 = QK_STEP8(a20, q2, r0, l2, lv); a21 = QK_STEP8(a21, q2, r1, l2, lv);
        const qk_f32x8 q3 = QK_LOAD8(q3p + i);
        a30 = QK_STEP8(a30, q3, r0, l2, lv); a31 = QK_STEP8(a31, q3, r1, l2, lv);
    }
    if (d8 < d) {
        const qk_f32x8 r0 = QK_LOAD_PARTIAL8(r0p + d8, d - d8), r1 = QK_LOAD_PARTIAL8(r1p + d8, d - d8);
        const qk_f32x8 q0 = QK_LOAD8(q0p + d8), q1 = QK_LOAD8(q1p + d8), q2 = QK_LOAD8(q2p + d8), q3 = QK_LOAD8(q3p + d8);
        a00 = QK_STEP8(a00, q0, r0, l2, lv); a01 = QK_STEP8(a01, q0, r1, l2, lv);
        a10 = QK_STEP8(a10, q1, r0, l2, lv); a11 = QK_STEP8(a11, q1, r1, l2, lv);
        a20 = QK_STEP8(a20, q2, r0, l2, lv); a21 = QK_STEP8(a21, q2, r1, l2, lv);
        a30 = QK_STEP8(a30, q3, r0, l2, lv); a31 = QK_STEP8(a31, q3, r1, l2, lv);
    }
    // The transposed reduction's lane order is [a, c, e, g, b, d, f, h].
    const qk_f32x8 w = QK_REDUCE_TRANSPOSED8(a00, a01, a10, a11, a20, a21, a30, a31);
    for (int j = 0; j < 4; j++) {
        o[j * os] = w[j];
        o[j * os + 1] = w[4 + j];
    }
}

/// One query against four consecutive rows (four independent chains).
QK_INLINE void micro1x4(const float *q, const float *row, size_t d, int l2, qk_level lv, float *out) {
    const float *r0p = row, *r1p = row + d, *r2p = row + 2 * d, *r3p = row + 3 * d;
    qk_f32x8 a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    const size_t d8 = d & ~(size_t)7;
    for (size_t i = 0; i < d8; i += 8) {
        const qk_f32x8 qv = QK_LOAD8(q + i);
        a0 = QK_STEP8(a0, qv, QK_LOAD8(r0p + i), l2, lv);
        a1 = QK_STEP8(a1, qv, QK_LOAD8(r1p + i), l2, lv);
        a2 = QK_STEP8(a2, qv, QK_LOAD8(r2p + i), l2, lv);
        a3 = QK_STEP8(a3, qv, QK_LOAD8(r3p + i), l2, lv);
    }
    if (d8 < d) {
        const qk_f32x8 qv = QK_LOAD8(q + d8);
        const size_t t = d - d8;
        a0 = QK_STEP8(a0, qv, QK_LOAD_PARTIAL8(r0p + d8, t), l2, lv);
        a1 = QK_STEP8(a1, qv, QK_LOAD_PARTIAL8(r1p + d8, t), l2, lv);
        a2 = QK_STEP8(a2, qv, QK_LOAD_PARTIAL8(r2p + d8, t), l2, lv);
        a3 = QK_STEP8(a3, qv, QK_LOAD_PARTIAL8(r3p + d8, t), l2, lv);
    }
    out[0] = QK_REDUCE8(a0); out[1] = QK_REDUCE8(a1); out[2] = QK_REDUCE8(a2); out[3] = QK_REDUCE8(a3);
}

/// One query against one row.
QK_INLINE float micro1x1(const float *q, const float *row, size_t d, int l2, qk_level lv) {
    qk_f32x8 a = 0;
    const size_t d8 = d & ~(size_t)7;
    for (size_t i = 0; i < d8; i += 8) a = QK_STEP8(a, QK_LOAD8(q + i), QK_LOAD8(row + i), l2, lv);
    if (d8 < d) a = QK_STEP8(a, QK_LOAD8(q + d8), QK_LOAD_PARTIAL8(row + d8, d - d8), l2, lv);
    return QK_REDUCE8(a);
}

/// 4×2 micro-kernels over groups of four queries, then 1×4 and 1×1 for the rest.
QK_INLINE void block_body(const float *queries, size_t nq, size_t qs, const float *rows, size_t nr, size_t d,
                          int l2, float *out, size_t os, qk_level lv) {
    size_t qi = 0;
    for (; qi + 4 <= nq; qi += 4) {
        const float *q = queries + qi * qs;
        float *o = out + qi * os;
        size_t r = 0;
        for (; r + 2 <= nr; r += 2) micro4x2(q, qs, rows + r * d, d, l2, lv, o + r, os);
        if (r < nr) {
            for (size_t j = 0; j < 4; j++) o[j * os + r] = micro1x1(q + j * qs, rows + r * d, d, l2, lv);
        }
    }
    for (; qi < nq; qi++) {
        const float *q = queries + qi * qs;
        float *o = out + qi * os;
        size_t r = 0;
        for (; r + 4 <= nr; r += 4) micro1x4(q, rows + r * d, d, l2, lv, o + r);
        for (; r < nr; r++) o[r] = micro1x1(q, rows + r * d, d, l2, lv);
    }
}

// MARK: Variants

#define QK_FLOAT32_VARIANTS(suffix, attribute, level)                                                        \
    attribute float quiver_dot_##suffix(const float *a, const float *b, size_t n) {                          \
        return pairwise_body(a, b, n, 0, level, 0);                                                          \
    }                                                                                                        \
    attribute float quiver_l2_squared_##suffix(const float *a, const float *b, size_t n) {                   \
        return pairwise_body(a, b, n, 1, level, 0);                                                          \
    }                                                                                                        \
    attribute void quiver_dot_gather_##suffix(const float *q, const float *rows, size_t d, const int32_t *ids, \
                                              size_t n, float *out) {                                        \
        QK_GATHER_BODY(pairwise_body(q, r, d, 0, level, next));                                              \
    }                                                                                                        \
    attribute void quiver_l2_squared_gather_##suffix(const float *q, const float *rows, size_t d,            \
                                                     const int32_t *ids, size_t n, float *out) {             \
        QK_GATHER_BODY(pairwise_body(q, r, d, 1, level, next));                                              \
    }                                                                                                        \
    attribute void quiver_score_block_##suffix(const float *queries, size_t nq, size_t qs, const float *rows, \
                                               size_t nr, size_t d, int l2, float *out, size_t os) {         \
        if (l2) block_body(queries, nq, qs, rows, nr, d, 1, out, os, level);                                 \
        else block_body(queries, nq, qs, rows, nr, d, 0, out, os, level);                                    \
    }

#if QK_X86
QK_FLOAT32_VARIANTS(baseline, , QK_PLAIN)
QK_FLOAT32_VARIANTS(haswell, QK_HASWELL, QK_FUSED)

// MARK: AVX-512 walk kernels

// A walk computes most of its distances on rows already in cache (the upper levels, the answer's
// neighbourhood), where arithmetic is the limit, so 16-float vectors pay there (a few percent on
// 384-d rows); flat scans are memory-bound and stay on the Haswell kernels. Two chains of 16
// floats, so the sums are in a different order than `dot`; rows whose dimension is not a
// multiple of 32 use `dot`.

typedef float qk_f32x16 __attribute__((ext_vector_type(16)));
typedef float qk_f32x16u __attribute__((ext_vector_type(16), aligned(4), may_alias));

#define LOAD16(p) ((qk_f32x16) * (const qk_f32x16u *)(p))

QK_INLINE float wide_body(const float *a, const float *b, size_t n, int l2, const char *next) {
    qk_f32x16 s0 = 0, s1 = 0;
    for (size_t i = 0; i < n; i += 32) {
        prefetch_step(next, i * sizeof(float));
        qk_f32x16 x0 = LOAD16(a + i), y0 = LOAD16(b + i), x1 = LOAD16(a + i + 16), y1 = LOAD16(b + i + 16);
        if (l2) {
            x0 -= y0; y0 = x0;
            x1 -= y1; y1 = x1;
        }
        s0 = __builtin_elementwise_fma(x0, y0, s0);
        s1 = __builtin_elementwise_fma(x1, y1, s1);
    }
    const qk_f32x16 s = s0 + s1;
    return QK_REDUCE8(s.lo + s.hi);
}

QK_SKYLAKE float quiver_dot_wide_skylake(const float *a, const float *b, size_t n) {
    return n % 32 == 0 ? wide_body(a, b, n, 0, 0) : pairwise_body(a, b, n, 0, QK_FUSED, 0);
}

QK_SKYLAKE float quiver_l2_squared_wide_skylake(const float *a, const float *b, size_t n) {
    return n % 32 == 0 ? wide_body(a, b, n, 1, 0) : pairwise_body(a, b, n, 1, QK_FUSED, 0);
}

QK_SKYLAKE void quiver_dot_gather_wide_skylake(const float *q, const float *rows, size_t d, const int32_t *ids,
                                               size_t n, float *out) {
    if (d % 32 == 0) QK_GATHER_BODY(wide_body(q, r, d, 0, next));
    else QK_GATHER_BODY(pairwise_body(q, r, d, 0, QK_FUSED, next));
}

QK_SKYLAKE void quiver_l2_squared_gather_wide_skylake(const float *q, const float *rows, size_t d, const int32_t *ids,
                                                      size_t n, float *out) {
    if (d % 32 == 0) QK_GATHER_BODY(wide_body(q, r, d, 1, next));
    else QK_GATHER_BODY(pairwise_body(q, r, d, 1, QK_FUSED, next));
}
#else
QK_FLOAT32_VARIANTS(neon, , QK_FUSED)
#endif
