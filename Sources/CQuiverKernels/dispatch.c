// The dispatch tables of the engine's kernels, one per instruction-set level (QuiverKernels.h).

#include "QuiverCPU.h"
#include "QuiverKernels.h"
#include "variants.h"

#if defined(__x86_64__) || defined(_M_X64)
static const quiver_kernels baseline = {
    .isa = QUIVER_ISA_BASELINE, QK_TABLE_ENTRIES(baseline),
    .dot_wide = quiver_dot_baseline, .l2_squared_wide = quiver_l2_squared_baseline,
    .dot_gather = quiver_dot_gather_baseline, .l2_squared_gather = quiver_l2_squared_gather_baseline,
};
static const quiver_kernels haswell = {
    .isa = QUIVER_ISA_AVX2, QK_TABLE_ENTRIES(haswell),
    .dot_wide = quiver_dot_haswell, .l2_squared_wide = quiver_l2_squared_haswell,
    .dot_gather = quiver_dot_gather_haswell, .l2_squared_gather = quiver_l2_squared_gather_haswell,
};
// AVX-512 pays only in the HNSW walk's distances (float32.c); everything else is Haswell's.
static const quiver_kernels skylake = {
    .isa = QUIVER_ISA_AVX512, QK_TABLE_ENTRIES(haswell),
    .dot_wide = quiver_dot_wide_skylake, .l2_squared_wide = quiver_l2_squared_wide_skylake,
    .dot_gather = quiver_dot_gather_wide_skylake, .l2_squared_gather = quiver_l2_squared_gather_wide_skylake,
};
static const quiver_kernels *const levels[] = {&baseline, &haswell, &skylake};
#else
static const quiver_kernels neon = {
    .isa = QUIVER_ISA_BASELINE, QK_TABLE_ENTRIES(neon),
    .dot_wide = quiver_dot_neon, .l2_squared_wide = quiver_l2_squared_neon,
    .dot_gather = quiver_dot_gather_neon, .l2_squared_gather = quiver_l2_squared_gather_neon,
};
static const quiver_kernels *const levels[] = {&neon};
#endif

const quiver_kernels *quiver_kernels_for(int isa) {
    const int count = (int)(sizeof levels / sizeof levels[0]);
    if (isa < 0 || isa >= count || !quiver_isa_supported(isa)) return NULL;
    return levels[isa];
}

const quiver_kernels *quiver_kernels_selected(void) {
    return quiver_kernels_for(quiver_isa_selected());
}
