// MiniLM kernels for x86-64 with AVX2, FMA and F16C (x86-64-v3: Haswell, Zen 1 and later): 6 x 16
// GEMM tile of 8-float vectors, fused multiply-add. Entered only through the dispatch table.

#if defined(__x86_64__) || defined(_M_X64)
#define MINILM_SUFFIX haswell
#define MINILM_TARGET __attribute__((target("avx2,fma,f16c")))
#define MINILM_LANES 8
#define MINILM_FUSED 1
#include "minilm_kernels.h"
#endif
