#pragma once

// The all-MiniLM-L6-v2 encoder's kernels (QuiverMiniLM): GEMM with a fused epilogue, one
// attention head, LayerNorm; one variant per instruction set, chosen at run time (QuiverCPU.h).
//
// Variants (`minilm_<isa>.c`, each compiled from the template `minilm_kernels.h` through
// function target attributes, never build flags):
//   skylake   x86-64 AVX-512F + AVX2 + FMA: 6 x 32 GEMM tile of 16-float vectors
//   haswell   x86-64 AVX2 + FMA + F16C:     6 x 16 tile of 8-float vectors
//   baseline  x86-64 SSE2:                  6 x 8 tile of 4-float vectors, separate multiply and add
//   neon      arm64 NEON:                   6 x 8 tile of 4-float vectors, fused multiply-add
// Every multiply-add is written out (fused in the FMA variants, separate in `baseline`) and
// floating-point contraction is off, so a variant gives the same bits at every optimisation level;
// variants differ from each other by FMA rounding and by the vector width of their reductions.
//
// Threading stays with the caller: a GEMM is cut into work items (row block x panel group) and an
// attention into (sequence, head) items, each a single call here.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// What a GEMM does to each finished element of C.
typedef enum {
    QUIVER_MINILM_EPILOGUE_NONE = 0,
    /// Exact-form GELU, `0.5 x (1 + erf(x / sqrt 2))`, with a rational erf (max abs error 3.7e-7).
    QUIVER_MINILM_EPILOGUE_GELU = 1,
    /// Add `residual[i, j]` (same `[m, n]` layout as C).
    QUIVER_MINILM_EPILOGUE_RESIDUAL = 2,
} quiver_minilm_epilogue;

/// One GEMM `C[m, n] = A[m, k] W^T + bias` (then the epilogue), `W` packed by
/// `quiver_minilm_pack` for the same kernel table. C must not alias A or the residual.
typedef struct {
    const float *a;        ///< `[m, k]`, row-major
    size_t k;              ///< at least 1
    const float *packed;   ///< `panels * k * panel_width` floats
    const float *bias;     ///< `panels * panel_width` floats (zero-padded)
    float *c;              ///< `[m, n]`, row-major
    size_t n;
    int epilogue;          ///< a `quiver_minilm_epilogue`
    const float *residual; ///< `[m, n]` for QUIVER_MINILM_EPILOGUE_RESIDUAL, else NULL
} quiver_minilm_gemm;

/// The kernels of one instruction-set variant. Tables are static constants.
typedef struct {
    /// "skylake", "haswell", "baseline" or "neon".
    const char *name;
    /// The `quiver_isa` level the variant needs.
    int isa;
    /// Output columns per packed weight panel (32, 16 or 8): weights must be packed with it.
    size_t panel_width;
    /// Rows `r0 ..< r1` of C times panels `p0 ..< p1` (`k` cut into 256-deep slices; a ragged
    /// last panel stores only its `n - panel_width * p` real columns).
    void (*gemm_item)(const quiver_minilm_gemm *g, size_t r0, size_t r1, size_t p0, size_t p1);
    /// One head of one sequence: `out[i, :] = softmax(q_i K^T * scale) V` for `i < n`, where row
    /// `j` of Q, K, V starts at `q + j * ld`, `k + j * ld`, `v + j * ld` (`head_dim` floats) and
    /// row `i` of the output at `out + i * ldo`. Returns 0, or -1 if scratch memory could not be
    /// allocated (nothing written then).
    int (*attention_head)(const float *q, const float *k, const float *v, size_t ld, size_t n, size_t head_dim,
                          float scale, float *out, size_t ldo);
    /// In place, each of `rows` rows of `h` floats: `(x - mean) / sqrt(var + eps) * gamma + beta`.
    void (*layer_norm)(float *x, size_t rows, size_t h, const float *gamma, const float *beta, float eps);
} quiver_minilm_kernels;

/// The variant for `quiver_isa_selected()` (the CPU's best, capped by `QUIVER_CPU`); the same
/// table for the life of the process.
const quiver_minilm_kernels *quiver_minilm_kernels_selected(void);

/// The variant for level `isa`, or NULL when this CPU cannot run it or this architecture has
/// none (arm64 has only the baseline level, served by `neon`). For tests and benchmarks.
const quiver_minilm_kernels *quiver_minilm_kernels_for_isa(int isa);

/// Floats in a packed weight of `n` outputs and `k` inputs for `panel_width`.
size_t quiver_minilm_packed_count(size_t n, size_t k, size_t panel_width);

/// Packs row-major `weight` (`[n, k]`, PyTorch's `[out, in]`) into panels of `panel_width`
/// output columns: panel `p` holds, for each `kk < k`, the weights `W[panel_width * p + j][kk]`
/// contiguously, zero-padded past `n`; `bias` (n floats) goes to `bias_out`, zero-padded.
/// `packed` has `quiver_minilm_packed_count` floats, `bias_out` `panels * panel_width`.
void quiver_minilm_pack(const float *weight, const float *bias, size_t n, size_t k, size_t panel_width,
                        float *packed, float *bias_out);

/// BERT's input embeddings for one sequence: `out[p, :] = word[ids[p], :] + position[p, :] + type0`
/// for `p < count`, rows of `h` floats. Ids are checked by the caller.
void quiver_minilm_embed_tokens(const int32_t *ids, size_t count, const float *word, const float *position,
                                const float *type0, size_t h, float *out);

/// Mean of `count` rows of `h` floats starting at `x`, L2-normalised (norm floored at 1e-12), into `out`.
void quiver_minilm_mean_pool(const float *x, size_t count, size_t h, float *out);

#ifdef __cplusplus
}
#endif
