// MiniLM kernels for x86-64 with AVX-512F (Skylake-SP and later, Zen 4): 6 x 32 GEMM tile of
// 16-float vectors, fused multiply-add. Entered only through the dispatch table (minilm_dispatch.c).

#if defined(__x86_64__) || defined(_M_X64)
#define MINILM_SUFFIX skylake
#define MINILM_TARGET __attribute__((target("avx512f,avx2,fma,f16c")))
#define MINILM_LANES 16
#define MINILM_FUSED 1
#include "minilm_kernels.h"
#endif
