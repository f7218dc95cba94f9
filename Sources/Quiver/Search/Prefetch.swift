internal import CQuiverSupport

// Software prefetch. Swift has no spelling for it; the hint comes from the package's small C
// target (`CQuiverSupport`, one inline function that the compiler inlines into these). A load
// used as a stand-in would hold up retirement until its data arrived; a prefetch does not.

/// Asks the cache for the line holding `address` (a hint: never faults, may be dropped).
@inline(__always) func prefetchLine(_ address: UnsafeRawPointer) {
    quiver_prefetch(address)
}

/// Prefetches the `bytes` bytes at `start`, one hint per 64-byte line.
@inline(__always) func prefetchLines(_ start: UnsafeRawPointer, bytes: Int) {
    var offset = 0
    while offset < bytes {
        quiver_prefetch(start + offset)
        offset += 64
    }
}

/// Prefetches every 64-byte line that the `bytes` bytes at `start` touch, wherever `start` falls
/// within its line (a span that starts near a line's end covers one line more than its length).
@inline(__always) func prefetchSpan(_ start: UnsafeRawPointer, bytes: Int) {
    let first = UInt(bitPattern: start) & ~63, end = UInt(bitPattern: start) + UInt(bytes)
    var line = first
    while line < end {
        quiver_prefetch(UnsafeRawPointer(bitPattern: line)!)
        line += 64
    }
}

/// Prefetches row `i` of a row-major float table with `dimension` columns.
@inline(__always) func prefetchRow(_ vectors: UnsafePointer<Float>, _ i: Int, dimension: Int) {
    prefetchLines(vectors + i * dimension, bytes: dimension * MemoryLayout<Float>.stride)
}
