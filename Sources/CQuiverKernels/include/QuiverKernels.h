#pragma once

// The engine's distance kernels, one variant per instruction-set level, chosen once per process
// (see QuiverCPU.h and Documentation/Architecture.md, "Kernels and CPU dispatch").
//
// Families, one file each: float32.c (pairwise dot / L2, the HNSW walk's distances, the
// unpacked block kernel of flat scans), panel.c (the packed batch micro-kernel), half.c
// (float16 and bfloat16 rows), binary.c (HAMMING, JACCARD), sq8.c (8-bit scalar quantization);
// scores.c (a flat scan's scores to top-k candidates) has one variant and is called directly.
// Variants are named after their instruction set: `_baseline` (x86-64 SSE2), `_haswell` (AVX2,
// FMA, F16C), `_skylake` (AVX-512 F; only the walk's kernels differ from `_haswell`) and
// `_neon` (arm64).
//
// Within one level, every code path that scores the same (query, row) pair in a family gets
// the same bits (the summation order is pinned; see each file). Between levels results differ
// by rounding only: the baseline x86-64 level rounds the product before the add, the others fuse.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The kernels of one instruction-set level. Dimensions and counts are element counts.
typedef struct {
    /// The level these kernels are compiled for (a `quiver_isa`).
    int isa;

    // MARK: float32 (float32.c)

    /// Dot product of `n` floats at `a` and `b`.
    float (*dot)(const float *a, const float *b, size_t n);
    /// Squared Euclidean distance between `n` floats at `a` and `b`.
    float (*l2_squared)(const float *a, const float *b, size_t n);
    /// The HNSW walk's dot product: 16 floats wide where the level has AVX-512 and `n` is a
    /// multiple of 32 (a different summation order than `dot`), `dot` otherwise.
    float (*dot_wide)(const float *a, const float *b, size_t n);
    /// The HNSW walk's squared L2 distance (see `dot_wide`).
    float (*l2_squared_wide)(const float *a, const float *b, size_t n);
    /// `out[i] = dot_wide(q, rows + ids[i] * d, d)` for `i < n` (the same bits), each row
    /// prefetched two rows before it is scored: a walk's batch of neighbours in one call.
    void (*dot_gather)(const float *q, const float *rows, size_t d, const int32_t *ids, size_t n, float *out);
    /// `out[i] = l2_squared_wide(q, rows + ids[i] * d, d)` for `i < n` (see `dot_gather`).
    void (*l2_squared_gather)(const float *q, const float *rows, size_t d, const int32_t *ids, size_t n, float *out);
    /// Scores `row_count` consecutive rows (`d` floats each) against `query_count` queries
    /// (stride `query_stride` ≥ `d` rounded up to 8, padding zero): the dot product, or with
    /// `l2` the squared L2 distance, of query `q` and row `r` at `out[q * out_stride + r]`.
    /// Every pair is one accumulator over the 8-float chunks in order, the zero-padded tail
    /// last, then a fixed reduction tree, whichever micro-kernel computes it.
    void (*score_block)(const float *queries, size_t query_count, size_t query_stride, const float *rows,
                        size_t row_count, size_t d, int l2, float *out, size_t out_stride);

    // MARK: Packed panels (panel.c)

    /// Packs `row_count` rows (`d` floats each) into ⌈row_count / 8⌉ panels of 8 rows stored
    /// dimension-major (`out[p * 8d + i * 8 + j]` = dimension `i` of row `8p + j`); missing rows zero.
    void (*pack_panels)(const float *rows, size_t row_count, size_t d, float *out);
    /// Scores `panel_count` panels against `query_count` queries (stride `query_stride`):
    /// query `q` and row `r` of the block at `out[q * out_stride + r]`. Each score is one chain
    /// of multiply-adds over the dimensions in order, whichever micro-kernel computes it; `wide`
    /// allows the 4×16 micro-kernel (same result; the baseline level never uses it).
    void (*score_panels)(const float *queries, size_t query_count, size_t query_stride, const float *panels,
                         size_t panel_count, size_t d, int l2, float *out, size_t out_stride, int wide);
    /// The squared norm of each row of `panel_count` panels (`8 × panel_count` values), in the
    /// panel kernels' order, so it equals the row's dot product with itself there bit for bit.
    void (*squared_norms_of_panels)(const float *panels, size_t panel_count, size_t d, float *out);
    /// The squared norm of one unpacked vector in the panel kernels' order.
    float (*squared_norm_sequential)(const float *v, size_t d);
    /// One query against one unpacked row in the panel kernels' order.
    float (*score_row_sequential)(const float *q, const float *row, size_t d, int l2);

    // MARK: 16-bit floats (half.c); `bf16` = 1 for bfloat16, 0 for IEEE float16

    /// `count` 16-bit values at `src` widened to float32 at `dst` (exact).
    void (*widen)(const uint16_t *src, size_t count, int bf16, float *dst);
    /// Dot product of a float32 query with a 16-bit row.
    float (*dot_half)(const float *q, const uint16_t *row, size_t n, int bf16);
    /// Squared L2 distance between a float32 query and a 16-bit row.
    float (*l2_squared_half)(const float *q, const uint16_t *row, size_t n, int bf16);
    /// Squared Euclidean norm of a 16-bit row.
    float (*squared_norm_half)(const uint16_t *row, size_t n, int bf16);
    /// `score_block` over 16-bit rows widened in registers: equal, bit for bit, to `score_block`
    /// on the widened rows.
    void (*score_block_half)(const float *queries, size_t query_count, size_t query_stride, const uint16_t *rows,
                             int bf16, size_t row_count, size_t d, int l2, float *out, size_t out_stride);

    // MARK: Binary (binary.c)

    /// The number of differing bits between `byte_count` bytes at `a` and `b`.
    uint64_t (*hamming)(const uint8_t *a, const uint8_t *b, size_t byte_count);
    /// `|a ∧ b|` and `|a ∨ b|` of `byte_count` bytes at `a` and `b`.
    void (*intersection_union)(const uint8_t *a, const uint8_t *b, size_t byte_count, uint64_t *intersection,
                               uint64_t *union_count);

    // MARK: 8-bit scalar quantization (sq8.c)

    /// `Σ (q[i] − codes[i] × scale[i])²` over `d` dimensions.
    float (*sq8_l2_squared)(const float *q, const float *scale, const uint8_t *codes, size_t d);
    /// `Σ q[i] × codes[i]` over `d` dimensions.
    float (*sq8_dot)(const float *q, const uint8_t *codes, size_t d);
} quiver_kernels;

// MARK: Scores to top-k candidates (scores.c; one variant: no arithmetic differs between levels)

/// `scores[j] = max(0, (query_square + row_squares[j]) − 2 × scores[j])` for `n` scores (dot
/// products to squared L2 distances); NaN stays NaN.
void quiver_expand_l2(float *scores, size_t n, float query_square, const float *row_squares);
/// The bits `j < n ≤ 64` of `mask` whose score can enter a top k: `lower < scores[j] ≤ upper`
/// when higher is better, otherwise `lower ≤ scores[j] < upper` (NaN never).
uint64_t quiver_select_scores(const float *scores, size_t n, int higher_is_better, float lower, float upper,
                              uint64_t mask);

/// The kernels of `isa` (a `quiver_isa`), or NULL when this CPU cannot run them (or the
/// architecture has no such level). For tests and benchmarks that compare levels.
const quiver_kernels *quiver_kernels_for(int isa);

/// The kernels of `quiver_isa_selected()`: what the engine uses.
const quiver_kernels *quiver_kernels_selected(void);

#ifdef __cplusplus
}
#endif
