// The MiniLM kernels' source, compiled once per instruction set (QuiverMiniLMKernels.h).
//
// No include guard: each `minilm_<isa>.c` defines, then includes this file once:
//   MINILM_SUFFIX  the variant's name, appended to the exported functions (`skylake`, ...)
//   MINILM_TARGET  its function target attribute, or nothing for the compiler's baseline
//   MINILM_LANES   floats per vector (16, 8 or 4); a GEMM panel is two vectors wide
//   MINILM_FUSED   1: multiply-adds are fused (`__builtin_elementwise_fma`), 0: multiply, then add
// Vectors are Clang extended vectors, lowered to the target's registers (zmm, ymm, xmm, q).
// Floating-point contraction is off, so every fused multiply-add below is one written out:
// a variant computes the same bits whether the file is built at -O0 or -O3.

#include <stdlib.h>

#include "QuiverMiniLMKernels.h"

#pragma clang fp contract(off)

#if !__has_builtin(__builtin_elementwise_fma)
#error "the MiniLM kernels need Clang's __builtin_elementwise_fma (Clang 17 or later)"
#endif

#define MINILM_CAT_(a, b) a##_##b
#define MINILM_CAT(a, b) MINILM_CAT_(a, b)
#define MINILM_EXPORT(name) MINILM_CAT(name, MINILM_SUFFIX)

#define L MINILM_LANES
#define W (2 * MINILM_LANES) /* GEMM panel width */
#define MR 6                 /* rows per register tile: 6 x 2 accumulators + 2 panel vectors + 1 broadcast */
#define KC 256               /* k per slice: a slice of one panel (KC x W floats) stays in L1 */

#define KERNEL static inline __attribute__((always_inline)) MINILM_TARGET

typedef float vec __attribute__((ext_vector_type(MINILM_LANES)));
typedef float vec_u __attribute__((ext_vector_type(MINILM_LANES), aligned(4)));
typedef int ivec __attribute__((ext_vector_type(MINILM_LANES)));

KERNEL vec load(const float *p) { return *(const vec_u *)p; }
KERNEL void store(float *p, vec v) { *(vec_u *)p = v; }

/// `acc + a * b`, fused in the FMA variants. A macro, not a function: at -O0 (SwiftPM's debug
/// builds) every inlined function still copies its arguments through the stack.
#if MINILM_FUSED
#define MADD(acc, a, b) __builtin_elementwise_fma(a, b, acc)
#else
#define MADD(acc, a, b) ((acc) + (a) * (b))
#endif

KERNEL vec clamp(vec x, float lo, float hi) {
    return __builtin_elementwise_min(__builtin_elementwise_max(x, (vec)lo), (vec)hi);
}

/// Lane sum, lanes in order.
KERNEL float hsum(vec v) {
    float s = v[0];
    for (int i = 1; i < L; i++) s += v[i];
    return s;
}

KERNEL float hmax(vec v) {
    float m = v[0];
    for (int i = 1; i < L; i++) m = v[i] > m ? v[i] : m;
    return m;
}

/// erf: the rational approximation `x P(x^2) / Q(x^2)` on [-4, 4] of Eigen and XLA
/// (`generic_fast_erf_float`); max abs error 3.7e-7 against erf in double. Beyond +-4 erf is +-1 in float.
KERNEL vec erf_approx(vec v) {
    const vec x = clamp(v, -4.0f, 4.0f);
    const vec x2 = x * x;
    vec p = (vec)-2.72614225801306e-10f;
    p = p * x2 + 2.77068142495902e-08f;
    p = p * x2 + -2.10102402082508e-06f;
    p = p * x2 + -5.69250639462346e-05f;
    p = p * x2 + -7.34990630326855e-04f;
    p = p * x2 + -2.95459980854025e-03f;
    p = p * x2 + -1.60960333262415e-02f;
    p = p * x;
    vec q = (vec)-1.45660718464996e-05f;
    q = q * x2 + -2.13374055278905e-04f;
    q = q * x2 + -1.68282697438203e-03f;
    q = q * x2 + -7.37332916720468e-03f;
    q = q * x2 + -1.42647390514189e-02f;
    return p / q;
}

/// Exact-form GELU, `0.5 x (1 + erf(x / sqrt 2))` (BERT's `hidden_act: "gelu"`).
KERNEL vec gelu(vec x) {
    return 0.5f * x * (1.0f + erf_approx(x / 1.41421356237309515f));
}

/// exp (Cephes `expf`: range reduction by ln 2 in two parts, degree-5 polynomial, 2^n through the
/// exponent bits; 1-2 ulp). Inputs below -87 give (nearly) 0, as softmax needs.
KERNEL vec exp_approx(vec v) {
    const vec x0 = clamp(v, -87.0f, 88.0f);
    // n = round(x log2 e) with the 1.5 * 2^23 trick: the sum's low mantissa bits hold n.
    const vec t = x0 * 1.44269504088896341f + 12582912.0f;
    const vec n = t - 12582912.0f;
    vec x = x0 - n * 0.693359375f;
    x = x - n * -2.12194440e-4f;
    const vec z = x * x;
    vec y = (vec)1.9875691500e-4f;
    y = y * x + 1.3981999507e-3f;
    y = y * x + 8.3334519073e-3f;
    y = y * x + 4.1665795894e-2f;
    y = y * x + 1.6666665459e-1f;
    y = y * x + 5.0000001201e-1f;
    y = y * z + x + 1.0f;
    const ivec bits = ((ivec)t - 0x4B400000 + 127) << 23;  // (ivec)t reinterprets the bits
    return y * (vec)bits;
}

/// Adds the row's base (bias on the first k slice, else the partial sums already in C), applies
/// the epilogue on the last slice, and stores the row's `cols` (at most W) columns.
KERNEL void finish_row(vec lo, vec hi, float *cp, size_t cols, int first, int last, const float *bias,
                       int epilogue, const float *rp) {
    const float *base = first ? bias : cp;
    const float *residual = rp;
    float base_copy[W], residual_copy[W], out[W];
    if (cols < W) {  // a ragged last panel: work on copies holding its real columns
        for (size_t j = 0; j < W; j++) {
            base_copy[j] = j < cols ? base[j] : 0.0f;
            residual_copy[j] = rp != NULL && j < cols ? rp[j] : 0.0f;
        }
        base = base_copy;
        residual = residual_copy;
    }
    lo += load(base);
    hi += load(base + L);
    if (last && epilogue == QUIVER_MINILM_EPILOGUE_GELU) {
        lo = gelu(lo);
        hi = gelu(hi);
    } else if (last && epilogue == QUIVER_MINILM_EPILOGUE_RESIDUAL) {
        lo += load(residual);
        hi += load(residual + L);
    }
    if (cols == W) {
        store(cp, lo);
        store(cp + L, hi);
    } else {
        store(out, lo);
        store(out + L, hi);
        for (size_t j = 0; j < cols; j++) cp[j] = out[j];
    }
}

#define MINILM_ROW_POINTER(i) const float *a##i = a + (i < rows ? i : rows - 1) * lda;
#define MINILM_ROW_FMA(i)                                                                                   \
    x = (vec)a##i[kk];                                                                                  \
    c##i##0 = MADD(c##i##0, x, b0);                                                                     \
    c##i##1 = MADD(c##i##1, x, b1);

/// One MR x W tile of C over `depth` values of k: `b` is the panel slice (W floats per k).
/// Rows past `rows` repeat the last valid row and are not stored, so ragged edges take the same path.
KERNEL void tile(const float *a, size_t lda, size_t rows, const float *b, size_t depth, float *c, size_t ldc,
                 size_t cols, int first, int last, const float *bias, int epilogue, const float *residual) {
    MINILM_ROW_POINTER(0) MINILM_ROW_POINTER(1) MINILM_ROW_POINTER(2)
    MINILM_ROW_POINTER(3) MINILM_ROW_POINTER(4) MINILM_ROW_POINTER(5)
    vec c00 = 0, c01 = 0, c10 = 0, c11 = 0, c20 = 0, c21 = 0;
    vec c30 = 0, c31 = 0, c40 = 0, c41 = 0, c50 = 0, c51 = 0;
    for (size_t kk = 0; kk < depth; kk++) {
        const vec b0 = *(const vec_u *)b, b1 = *(const vec_u *)(b + L);
        vec x;
        MINILM_ROW_FMA(0) MINILM_ROW_FMA(1) MINILM_ROW_FMA(2)
        MINILM_ROW_FMA(3) MINILM_ROW_FMA(4) MINILM_ROW_FMA(5)
        b += W;
    }
    const vec lo[MR] = {c00, c10, c20, c30, c40, c50}, hi[MR] = {c01, c11, c21, c31, c41, c51};
    for (size_t r = 0; r < rows; r++) {
        finish_row(lo[r], hi[r], c + r * ldc, cols, first, last, bias, epilogue,
                   residual != NULL ? residual + r * ldc : NULL);
    }
}

#undef MINILM_ROW_POINTER
#undef MINILM_ROW_FMA

MINILM_TARGET void MINILM_EXPORT(quiver_minilm_gemm_item)(const quiver_minilm_gemm *g, size_t r0, size_t r1,
                                                          size_t p0, size_t p1) {
    const size_t k = g->k, n = g->n;
    for (size_t k0 = 0; k0 < k; k0 += KC) {
        const size_t depth = k - k0 < KC ? k - k0 : KC;
        const int first = k0 == 0, last = k0 + depth == k;
        for (size_t p = p0; p < p1; p++) {
            const float *b = g->packed + p * k * W + k0 * W;
            const size_t cols = n - p * W < W ? n - p * W : W;
            for (size_t r = r0; r < r1; r += MR) {
                const size_t rows = r1 - r < MR ? r1 - r : MR;
                tile(g->a + r * k + k0, k, rows, b, depth, g->c + r * n + p * W, n, cols, first, last,
                     g->bias + p * W, g->epilogue, g->residual != NULL ? g->residual + r * n + p * W : NULL);
            }
        }
    }
}

/// Softmax of `row[0 ..< n]` scaled by `scale`, in place, over a row padded to `np` (a multiple of W):
/// the padding ends as 0.
KERNEL void softmax_row(float *row, size_t n, size_t np, float scale) {
    for (size_t j = 0; j < np; j += L) store(row + j, load(row + j) * scale);
    for (size_t j = n; j < np; j++) row[j] = -__builtin_inff();
    vec mx = (vec)-__builtin_inff();
    for (size_t j = 0; j < np; j += L) mx = __builtin_elementwise_max(mx, load(row + j));
    const float m = hmax(mx);
    for (size_t j = 0; j < np; j += L) store(row + j, exp_approx(load(row + j) - m));
    for (size_t j = n; j < np; j++) row[j] = 0.0f;
    vec sum = 0;
    for (size_t j = 0; j < np; j += L) sum += load(row + j);
    const float inv = 1.0f / hsum(sum);
    for (size_t j = 0; j < np; j += L) store(row + j, load(row + j) * inv);
}

/// Both products run on the GEMM tile: `S = Q K^T` with K packed into W-key panels (depth
/// head_dim), a row-wise softmax in place, then `O = P V` with V packed into W-dimension panels
/// (depth n).
MINILM_TARGET int MINILM_EXPORT(quiver_minilm_attention_head)(const float *q, const float *k, const float *v,
                                                              size_t ld, size_t n, size_t head_dim, float scale,
                                                              float *out, size_t ldo) {
    if (n == 0) return 0;
    const size_t np = (n + W - 1) / W * W;             // keys, padded to whole panels
    const size_t dp = (head_dim + W - 1) / W * W;      // dimensions, padded to whole panels
    const size_t total = np * head_dim + dp * n + n * np + W;
    float *buffer = malloc(total * sizeof(float));
    if (buffer == NULL) return -1;
    float *kp = buffer, *vp = kp + np * head_dim, *s = vp + dp * n, *zeros = s + n * np;
    for (size_t j = 0; j < W; j++) zeros[j] = 0.0f;
    // kp[panel][d][j] = K[W panel + j][d]
    for (size_t j = 0; j < np; j++) {
        float *dst = kp + (j / W) * (head_dim * W) + j % W;
        for (size_t d = 0; d < head_dim; d++) dst[d * W] = j < n ? k[j * ld + d] : 0.0f;
    }
    // vp[panel][j][c] = V[j][W panel + c]
    for (size_t panel = 0; panel < dp / W; panel++) {
        for (size_t j = 0; j < n; j++) {
            float *dst = vp + (panel * n + j) * W;
            const float *vj = v + j * ld + panel * W;
            for (size_t c = 0; c < W; c++) dst[c] = panel * W + c < head_dim ? vj[c] : 0.0f;
        }
    }
    for (size_t panel = 0; panel < np / W; panel++) {
        for (size_t r = 0; r < n; r += MR) {
            tile(q + r * ld, ld, n - r < MR ? n - r : MR, kp + panel * head_dim * W, head_dim, s + r * np + panel * W,
                 np, W, 1, 1, zeros, QUIVER_MINILM_EPILOGUE_NONE, NULL);
        }
    }
    for (size_t i = 0; i < n; i++) softmax_row(s + i * np, n, np, scale);
    for (size_t panel = 0; panel < dp / W; panel++) {
        const size_t cols = head_dim - panel * W < W ? head_dim - panel * W : W;
        for (size_t r = 0; r < n; r += MR) {
            tile(s + r * np, np, n - r < MR ? n - r : MR, vp + panel * n * W, n, out + r * ldo + panel * W, ldo, cols,
                 1, 1, zeros, QUIVER_MINILM_EPILOGUE_NONE, NULL);
        }
    }
    free(buffer);
    return 0;
}

MINILM_TARGET void MINILM_EXPORT(quiver_minilm_layer_norm)(float *x, size_t rows, size_t h, const float *gamma,
                                                           const float *beta, float eps) {
    const size_t hv = h / L * L;  // the vector part; the rest one float at a time
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * h;
        vec s = 0;
        for (size_t d = 0; d < hv; d += L) s += load(row + d);
        float sum = hsum(s);
        for (size_t d = hv; d < h; d++) sum += row[d];
        const float mean = sum / (float)h;
        vec q = 0;
        for (size_t d = 0; d < hv; d += L) {
            const vec c = load(row + d) - mean;
            q = MADD(q, c, c);
        }
        float squares = hsum(q);
        for (size_t d = hv; d < h; d++) squares += (row[d] - mean) * (row[d] - mean);
        const float inv = 1.0f / __builtin_sqrtf(squares / (float)h + eps);
        for (size_t d = 0; d < hv; d += L) {
            store(row + d, (load(row + d) - mean) * inv * load(gamma + d) + load(beta + d));
        }
        for (size_t d = hv; d < h; d++) row[d] = (row[d] - mean) * inv * gamma[d] + beta[d];
    }
}

#undef L
#undef W
#undef MR
#undef KC
#undef KERNEL
#undef MADD
