// MiniLM kernels for every CPU of the architecture, compiled for the compiler's baseline:
// x86-64 SSE2 (`baseline`: 6 x 8 GEMM tile of 4-float vectors, separate multiply and add) and
// arm64 NEON (`neon`: the same tile with fused multiply-add, which every arm64 CPU has).

#if defined(__aarch64__) || defined(_M_ARM64)
#define MINILM_SUFFIX neon
#define MINILM_FUSED 1
#else
#define MINILM_SUFFIX baseline
#define MINILM_FUSED 0
#endif
#define MINILM_TARGET
#define MINILM_LANES 4
#include "minilm_kernels.h"
