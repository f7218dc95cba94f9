// The per-score work of a flat scan between the distance kernels and the top-k heaps (`Scan` in
// FlatScan.swift): turning dot products into squared L2 distances, and finding the rows of a
// block that can enter a query's top k. Written in C, like the kernels, so that a debug build
// (Swift at -Onone, where each SIMD8 operation is a generic call) stays fast; no arithmetic here
// differs between instruction-set levels (multiplies and adds are never fused), so there is one
// variant, compiled for the baseline. (Cosine scores stay in Swift, `Scan.offer`: moved here
// they measured 0.90× in release batches, within noise but not shown to be equal.)

#include "kernels.h"

void quiver_expand_l2(float *scores, size_t n, float query_square, const float *row_squares) {
    for (size_t j = 0; j < n; j++) {
        const float v = query_square + row_squares[j] - 2 * scores[j];
        scores[j] = v < 0 ? 0 : v;  // NaN stays NaN (and is never kept)
    }
}

uint64_t quiver_select_scores(const float *scores, size_t n, int higher_is_better, float lower, float upper,
                              uint64_t mask) {
    uint64_t bits = 0;
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        const qk_f32x8 v = QK_LOAD8(scores + j);
        const qk_i32x8 pass = higher_is_better ? (v > lower) & (v <= upper) : (v >= lower) & (v < upper);
        if (__builtin_reduce_or(pass)) {
            for (size_t l = 0; l < 8; l++) bits |= (uint64_t)(pass[l] & 1) << (j + l);
        }
    }
    for (; j < n; j++) {
        const float v = scores[j];
        const int pass = higher_is_better ? v > lower && v <= upper : v >= lower && v < upper;
        bits |= (uint64_t)pass << j;
    }
    return bits & mask;
}
