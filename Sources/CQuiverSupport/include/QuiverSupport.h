#pragma once

// Instructions Swift has no spelling for, as inline functions the Swift compiler inlines.

/// A hint to bring the cache line holding `address` into all cache levels (`prefetcht0` on
/// x86-64, `prfm pldl1keep` on arm64). Unlike a load it never faults and never holds up
/// retirement, so many can be in flight while the core computes on earlier data.
static inline __attribute__((always_inline)) void quiver_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}
