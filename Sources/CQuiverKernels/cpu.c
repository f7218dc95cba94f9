// CPU feature detection for the kernels' dispatch (QuiverCPU.h).

#include "QuiverCPU.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>

static unsigned long long quiver_xgetbv(unsigned int index) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(index));
    return ((unsigned long long)edx << 32) | eax;
}

static int quiver_detect(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return QUIVER_ISA_BASELINE;
    const int fma = (ecx >> 12) & 1, popcnt = (ecx >> 23) & 1, osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1,
              f16c = (ecx >> 29) & 1;
    if (!(fma && popcnt && osxsave && avx && f16c)) return QUIVER_ISA_BASELINE;
    const unsigned long long xcr0 = quiver_xgetbv(0);
    if ((xcr0 & 0x6) != 0x6) return QUIVER_ISA_BASELINE;  // XMM and YMM state saved by the OS
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return QUIVER_ISA_BASELINE;
    const int avx2 = (ebx >> 5) & 1, avx512f = (ebx >> 16) & 1;
    if (!avx2) return QUIVER_ISA_BASELINE;
    if (avx512f && (xcr0 & 0xE6) == 0xE6) return QUIVER_ISA_AVX512;  // opmask and ZMM state saved
    return QUIVER_ISA_AVX2;
}
#else
static int quiver_detect(void) { return QUIVER_ISA_BASELINE; }
#endif

static int quiver_requested(void) {
    const char *value = getenv("QUIVER_CPU");
    if (value == NULL) return QUIVER_ISA_AVX512;
    if (strcmp(value, "baseline") == 0 || strcmp(value, "portable") == 0) return QUIVER_ISA_BASELINE;
    if (strcmp(value, "avx2") == 0) return QUIVER_ISA_AVX2;
    return QUIVER_ISA_AVX512;  // "avx512", "native" or anything else: no cap
}

int quiver_isa_supported(int isa) {
    static int detected = -1;
    int level = __atomic_load_n(&detected, __ATOMIC_RELAXED);
    if (level < 0) {
        level = quiver_detect();
        __atomic_store_n(&detected, level, __ATOMIC_RELAXED);
    }
    return isa >= QUIVER_ISA_BASELINE && isa <= level;
}

int quiver_isa_selected(void) {
    static int selected = -1;
    int level = __atomic_load_n(&selected, __ATOMIC_RELAXED);
    if (level < 0) {
        const int cap = quiver_requested();
        level = QUIVER_ISA_BASELINE;
        for (int isa = QUIVER_ISA_AVX512; isa > QUIVER_ISA_BASELINE; isa--) {
            if (isa <= cap && quiver_isa_supported(isa)) { level = isa; break; }
        }
        __atomic_store_n(&selected, level, __ATOMIC_RELAXED);
    }
    return level;
}

const char *quiver_isa_name(int isa) {
    switch (isa) {
    case QUIVER_ISA_AVX2: return "avx2";
    case QUIVER_ISA_AVX512: return "avx512";
    default: return "baseline";
    }
}
