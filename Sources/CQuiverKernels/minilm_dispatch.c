// The MiniLM kernels' dispatch table (QuiverMiniLMKernels.h), and the encoder's loops that are not
// worth a variant per instruction set (weight packing at load time, embedding gather, pooling).

#include "QuiverMiniLMKernels.h"

#include <math.h>

#include "QuiverCPU.h"

#pragma clang fp contract(off)

#define MINILM_VARIANT(suffix)                                                                                 \
    void quiver_minilm_gemm_item_##suffix(const quiver_minilm_gemm *g, size_t r0, size_t r1, size_t p0,       \
                                          size_t p1);                                                         \
    int quiver_minilm_attention_head_##suffix(const float *q, const float *k, const float *v, size_t ld,        \
                                              size_t n, size_t head_dim, float scale, float *out, size_t ldo);  \
    void quiver_minilm_layer_norm_##suffix(float *x, size_t rows, size_t h, const float *gamma,                \
                                           const float *beta, float eps);
#define MINILM_TABLE(suffix, level, lanes)                                                                     \
    {#suffix, level, 2 * (lanes), quiver_minilm_gemm_item_##suffix, quiver_minilm_attention_head_##suffix,      \
     quiver_minilm_layer_norm_##suffix}

#if defined(__x86_64__) || defined(_M_X64)
MINILM_VARIANT(skylake)
MINILM_VARIANT(haswell)
MINILM_VARIANT(baseline)
static const quiver_minilm_kernels minilm_skylake = MINILM_TABLE(skylake, QUIVER_ISA_AVX512, 16);
static const quiver_minilm_kernels minilm_haswell = MINILM_TABLE(haswell, QUIVER_ISA_AVX2, 8);
static const quiver_minilm_kernels minilm_baseline = MINILM_TABLE(baseline, QUIVER_ISA_BASELINE, 4);
#elif defined(__aarch64__) || defined(_M_ARM64)
MINILM_VARIANT(neon)
static const quiver_minilm_kernels minilm_baseline = MINILM_TABLE(neon, QUIVER_ISA_BASELINE, 4);
#else
MINILM_VARIANT(baseline)
static const quiver_minilm_kernels minilm_baseline = MINILM_TABLE(baseline, QUIVER_ISA_BASELINE, 4);
#endif

const quiver_minilm_kernels *quiver_minilm_kernels_for_isa(int isa) {
    if (!quiver_isa_supported(isa)) return NULL;
    switch (isa) {
    case QUIVER_ISA_BASELINE: return &minilm_baseline;
#if defined(__x86_64__) || defined(_M_X64)
    case QUIVER_ISA_AVX2: return &minilm_haswell;
    case QUIVER_ISA_AVX512: return &minilm_skylake;
#endif
    default: return NULL;
    }
}

const quiver_minilm_kernels *quiver_minilm_kernels_selected(void) {
    static const quiver_minilm_kernels *selected = NULL;
    const quiver_minilm_kernels *table = __atomic_load_n(&selected, __ATOMIC_ACQUIRE);
    if (table == NULL) {
        table = quiver_minilm_kernels_for_isa(quiver_isa_selected());
        if (table == NULL) table = &minilm_baseline;  // a level this architecture has no variant for
        __atomic_store_n(&selected, table, __ATOMIC_RELEASE);
    }
    return table;
}

size_t quiver_minilm_packed_count(size_t n, size_t k, size_t panel_width) {
    return (n + panel_width - 1) / panel_width * k * panel_width;
}

void quiver_minilm_pack(const float *weight, const float *bias, size_t n, size_t k, size_t panel_width,
                        float *packed, float *bias_out) {
    const size_t panels = (n + panel_width - 1) / panel_width;
    for (size_t i = 0; i < panels * k * panel_width; i++) packed[i] = 0.0f;
    for (size_t i = 0; i < panels * panel_width; i++) bias_out[i] = i < n ? bias[i] : 0.0f;
    for (size_t o = 0; o < n; o++) {
        float *dst = packed + (o / panel_width) * k * panel_width + o % panel_width;
        const float *src = weight + o * k;
        for (size_t kk = 0; kk < k; kk++) dst[kk * panel_width] = src[kk];
    }
}

void quiver_minilm_embed_tokens(const int32_t *ids, size_t count, const float *word, const float *position,
                                const float *type0, size_t h, float *out) {
    for (size_t p = 0; p < count; p++) {
        const float *w = word + (size_t)ids[p] * h, *e = position + p * h;
        float *row = out + p * h;
        for (size_t d = 0; d < h; d++) row[d] = w[d] + e[d] + type0[d];
    }
}

void quiver_minilm_mean_pool(const float *x, size_t count, size_t h, float *out) {
    for (size_t d = 0; d < h; d++) out[d] = 0.0f;
    for (size_t t = 0; t < count; t++) {
        for (size_t d = 0; d < h; d++) out[d] += x[t * h + d];
    }
    const float inv = 1.0f / (float)(count > 1 ? count : 1);
    float norm = 0.0f;
    for (size_t d = 0; d < h; d++) {
        out[d] *= inv;
        norm += out[d] * out[d];
    }
    const float root = sqrtf(norm);
    const float scale = 1.0f / (root > 1e-12f ? root : 1e-12f);
    for (size_t d = 0; d < h; d++) out[d] *= scale;
}
