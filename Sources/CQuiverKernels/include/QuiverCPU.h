#pragma once

// Run-time CPU dispatch for Quiver's kernels (see Documentation/Architecture.md, "Kernels and
// CPU dispatch").
//
// Every kernel family is compiled once per instruction-set level through function target
// attributes (`__attribute__((target("avx2,fma,f16c")))`), never through build flags, so one
// binary runs on any CPU of its architecture. The level is chosen once per process:
//   1. the best level the CPU and the OS support (CPUID, and XGETBV for the saved register state);
//   2. capped by the environment variable QUIVER_CPU, read at run time, for testing a path:
//      `baseline` (or `portable`), `avx2`, `avx512`. A level the CPU cannot run is never chosen.

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set levels, in increasing order. On arm64 only the baseline (NEON) exists.
typedef enum {
    /// x86-64: SSE2 (no FMA); arm64: NEON with fused multiply-add.
    QUIVER_ISA_BASELINE = 0,
    /// x86-64: AVX2, FMA and F16C (x86-64-v3).
    QUIVER_ISA_AVX2 = 1,
    /// x86-64: AVX-512 F, with AVX2, FMA and F16C.
    QUIVER_ISA_AVX512 = 2,
} quiver_isa;

/// Whether this CPU and OS can run kernels of level `isa`.
int quiver_isa_supported(int isa);

/// The level the kernels use in this process: the best supported one, capped by `QUIVER_CPU`.
/// Computed on the first call (thread-safe), constant afterwards.
int quiver_isa_selected(void);

/// A short name for `isa`: "baseline", "avx2" or "avx512".
const char *quiver_isa_name(int isa);

#ifdef __cplusplus
}
#endif
