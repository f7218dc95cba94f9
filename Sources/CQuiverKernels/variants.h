#pragma once

// Declarations of every kernel variant, for the dispatch tables in dispatch.c (private).

#include <stddef.h>
#include <stdint.h>

#define QK_DECLARE_VARIANTS(s)                                                                                        \
    float quiver_dot_##s(const float *a, const float *b, size_t n);                                                   \
    float quiver_l2_squared_##s(const float *a, const float *b, size_t n);                                            \
    void quiver_dot_gather_##s(const float *q, const float *rows, size_t d, const int32_t *ids, size_t n, float *out);  \
    void quiver_l2_squared_gather_##s(const float *q, const float *rows, size_t d, const int32_t *ids, size_t n,        \
                                      float *out);                                                                    \
    void quiver_score_block_##s(const float *queries, size_t nq, size_t qs, const float *rows, size_t nr, size_t d,   \
                                int l2, float *out, size_t os);                                                       \
    void quiver_pack_panels_##s(const float *rows, size_t n, size_t d, float *out);                                   \
    void quiver_score_panels_##s(const float *queries, size_t nq, size_t qs, const float *panels, size_t np,          \
                                 size_t d, int l2, float *out, size_t os, int wide);                                  \
    void quiver_squared_norms_of_panels_##s(const float *panels, size_t np, size_t d, float *out);                    \
    float quiver_squared_norm_sequential_##s(const float *v, size_t d);                                               \
    float quiver_score_row_sequential_##s(const float *q, const float *row, size_t d, int l2);                        \
    void quiver_widen_##s(const uint16_t *src, size_t count, int bf16, float *dst);                                   \
    float quiver_dot_half_##s(const float *q, const uint16_t *row, size_t n, int bf16);                               \
    float quiver_l2_squared_half_##s(const float *q, const uint16_t *row, size_t n, int bf16);                        \
    float quiver_squared_norm_half_##s(const uint16_t *row, size_t n, int bf16);                                      \
    void quiver_score_block_half_##s(const float *queries, size_t nq, size_t qs, const uint16_t *rows, int bf16,      \
                                     size_t nr, size_t d, int l2, float *out, size_t os);                             \
    uint64_t quiver_hamming_##s(const uint8_t *a, const uint8_t *b, size_t n);                                        \
    void quiver_intersection_union_##s(const uint8_t *a, const uint8_t *b, size_t n, uint64_t *intersection,          \
                                       uint64_t *union_count);                                                        \
    float quiver_sq8_l2_squared_##s(const float *q, const float *scale, const uint8_t *codes, size_t d);              \
    float quiver_sq8_dot_##s(const float *q, const uint8_t *codes, size_t d);

#if defined(__x86_64__) || defined(_M_X64)
QK_DECLARE_VARIANTS(baseline)
QK_DECLARE_VARIANTS(haswell)
float quiver_dot_wide_skylake(const float *a, const float *b, size_t n);
float quiver_l2_squared_wide_skylake(const float *a, const float *b, size_t n);
void quiver_dot_gather_wide_skylake(const float *q, const float *rows, size_t d, const int32_t *ids, size_t n, float *out);
void quiver_l2_squared_gather_wide_skylake(const float *q, const float *rows, size_t d, const int32_t *ids, size_t n,
                                           float *out);
#else
QK_DECLARE_VARIANTS(neon)
#endif

/// The table entries every level has, from the variants with suffix `s`.
#define QK_TABLE_ENTRIES(s)                                                                                           \
    .dot = quiver_dot_##s, .l2_squared = quiver_l2_squared_##s, .score_block = quiver_score_block_##s,                \
    .pack_panels = quiver_pack_panels_##s, .score_panels = quiver_score_panels_##s,                                   \
    .squared_norms_of_panels = quiver_squared_norms_of_panels_##s,                                                    \
    .squared_norm_sequential = quiver_squared_norm_sequential_##s,                                                    \
    .score_row_sequential = quiver_score_row_sequential_##s, .widen = quiver_widen_##s,                               \
    .dot_half = quiver_dot_half_##s, .l2_squared_half = quiver_l2_squared_half_##s,                                   \
    .squared_norm_half = quiver_squared_norm_half_##s, .score_block_half = quiver_score_block_half_##s,               \
    .hamming = quiver_hamming_##s, .intersection_union = quiver_intersection_union_##s,                               \
    .sq8_l2_squared = quiver_sq8_l2_squared_##s, .sq8_dot = quiver_sq8_dot_##s
