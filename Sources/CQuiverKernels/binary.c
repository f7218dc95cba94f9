// Kernels for binary vectors (8 dimensions per byte) by population count (QuiverKernels.h):
// HAMMING counts the differing bits, JACCARD needs the counts of `a ∧ b` and `a ∨ b`. At the
// AVX2 level the count is one `popcnt` per 64 bits; at the baseline LLVM's bit-twiddling
// sequence. Integer sums, so every level gives the same results.

#include "kernels.h"
#include "variants.h"

QK_INLINE uint64_t load64(const uint8_t *p) {
    uint64_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

QK_INLINE uint64_t hamming_body(const uint8_t *a, const uint8_t *b, size_t n) {
    uint64_t c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        c0 += (uint64_t)__builtin_popcountll(load64(a + i) ^ load64(b + i));
        c1 += (uint64_t)__builtin_popcountll(load64(a + i + 8) ^ load64(b + i + 8));
        c2 += (uint64_t)__builtin_popcountll(load64(a + i + 16) ^ load64(b + i + 16));
        c3 += (uint64_t)__builtin_popcountll(load64(a + i + 24) ^ load64(b + i + 24));
    }
    for (; i + 8 <= n; i += 8) c0 += (uint64_t)__builtin_popcountll(load64(a + i) ^ load64(b + i));
    for (; i < n; i++) c1 += (uint64_t)__builtin_popcount(a[i] ^ b[i]);
    return (c0 + c1) + (c2 + c3);
}

QK_INLINE void intersection_union_body(const uint8_t *a, const uint8_t *b, size_t n, uint64_t *inter, uint64_t *uni) {
    uint64_t i0 = 0, i1 = 0, u0 = 0, u1 = 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const uint64_t x0 = load64(a + i), y0 = load64(b + i), x1 = load64(a + i + 8), y1 = load64(b + i + 8);
        i0 += (uint64_t)__builtin_popcountll(x0 & y0); u0 += (uint64_t)__builtin_popcountll(x0 | y0);
        i1 += (uint64_t)__builtin_popcountll(x1 & y1); u1 += (uint64_t)__builtin_popcountll(x1 | y1);
    }
    for (; i + 8 <= n; i += 8) {
        const uint64_t x = load64(a + i), y = load64(b + i);
        i0 += (uint64_t)__builtin_popcountll(x & y); u0 += (uint64_t)__builtin_popcountll(x | y);
    }
    for (; i < n; i++) {
        i1 += (uint64_t)__builtin_popcount(a[i] & b[i]); u1 += (uint64_t)__builtin_popcount(a[i] | b[i]);
    }
    *inter = i0 + i1;
    *uni = u0 + u1;
}

#define QK_BINARY_VARIANTS(suffix, attribute)                                                                   \
    attribute uint64_t quiver_hamming_##suffix(const uint8_t *a, const uint8_t *b, size_t n) {                  \
        return hamming_body(a, b, n);                                                                           \
    }                                                                                                           \
    attribute void quiver_intersection_union_##suffix(const uint8_t *a, const uint8_t *b, size_t n,             \
                                                      uint64_t *intersection, uint64_t *union_count) {          \
        intersection_union_body(a, b, n, intersection, union_count);                                            \
    }

#if QK_X86
QK_BINARY_VARIANTS(baseline, )
QK_BINARY_VARIANTS(haswell, QK_HASWELL)
#else
QK_BINARY_VARIANTS(neon, )
#endif
