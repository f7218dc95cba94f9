import Foundation
import Synchronization

// The pieces of HNSW graph traversal shared by the build and the search: raw-pointer views of
// the link arrays, distances specialised per metric, node filters, pointer-backed heaps and the
// per-worker scratch memory. Everything here is generic so that `searchLayer` is specialised
// for each (distance, filter, link source) and the distance kernel inlines into the hot loop;
// nothing in a traversal allocates once its scratch has grown to size (hnswlib's
// `searchBaseLayer`/`searchBaseLayerST` in `hnswalg.h`, written with Swift generics).

/// A node and its distance to the query (lower is closer).
struct GraphNode {
    var d: Float
    var id: Int32
}

// MARK: Distances

/// The distance (lower is closer) from one fixed query to row `i`.
protocol QueryDistance {
    func callAsFunction(_ i: Int) -> Float
    /// Asks the cache for all of row `i`'s data, so that its distance, computed a little later,
    /// does not wait for memory (a hint: it costs no retirement slot, see `prefetchLine(_:)`).
    func prefetch(_ i: Int)
    /// `out[j] = self(Int(ids[j]))` for `j < n`, each row prefetched a little before it is scored.
    func distances(_ ids: UnsafePointer<Int32>, _ n: Int, into out: UnsafeMutablePointer<Float>)
}

extension QueryDistance {
    /// One call per row, `GraphWalk.prefetchAhead` rows fetched ahead.
    @inline(__always) func distances(_ ids: UnsafePointer<Int32>, _ n: Int, into out: UnsafeMutablePointer<Float>) {
        let ahead = GraphWalk.prefetchAhead
        for j in 0..<min(ahead, n) { prefetch(Int(ids[j])) }
        for j in 0..<n {
            if j + ahead < n { prefetch(Int(ids[j + ahead])) }
            out[j] = self(Int(ids[j]))
        }
    }
}

/// A ``QueryDistance`` over the rows themselves, as the build needs: any row can be the query.
/// Sendable because the build's workers share one.
protocol RowDistance: QueryDistance, Sendable {
    /// The same metric with row `i` as the query.
    func from(row i: Int) -> Self
    /// The distance between rows `a` and `b`.
    func between(_ a: Int, _ b: Int) -> Float
}

// The float distances below are `@unchecked Sendable`: their pointers are into rows (and norms)
// that nothing writes and that the caller keeps alive while the distance is in use.

/// Squared L2 over float rows.
struct L2Distance: RowDistance, @unchecked Sendable {
    let vectors: UnsafePointer<Float>
    let dimension: Int
    let query: UnsafePointer<Float>

    @inline(__always) func callAsFunction(_ i: Int) -> Float { Kernels.l2SquaredWide(query, vectors + i * dimension, dimension) }
    @inline(__always) func prefetch(_ i: Int) { prefetchRow(vectors, i, dimension: dimension) }
    @inline(__always) func from(row i: Int) -> L2Distance { L2Distance(vectors: vectors, dimension: dimension, query: vectors + i * dimension) }
    @inline(__always) func between(_ a: Int, _ b: Int) -> Float { Kernels.l2SquaredWide(vectors + a * dimension, vectors + b * dimension, dimension) }
    @inline(__always) func distances(_ ids: UnsafePointer<Int32>, _ n: Int, into out: UnsafeMutablePointer<Float>) {
        Kernels.l2SquaredGather(query, vectors, dimension, ids, n, out)
    }
}

/// Negated inner product over float rows.
struct IPDistance: RowDistance, @unchecked Sendable {
    let vectors: UnsafePointer<Float>
    let dimension: Int
    let query: UnsafePointer<Float>

    @inline(__always) func callAsFunction(_ i: Int) -> Float { -Kernels.dotWide(query, vectors + i * dimension, dimension) }
    @inline(__always) func prefetch(_ i: Int) { prefetchRow(vectors, i, dimension: dimension) }
    @inline(__always) func from(row i: Int) -> IPDistance { IPDistance(vectors: vectors, dimension: dimension, query: vectors + i * dimension) }
    @inline(__always) func between(_ a: Int, _ b: Int) -> Float { -Kernels.dotWide(vectors + a * dimension, vectors + b * dimension, dimension) }
    @inline(__always) func distances(_ ids: UnsafePointer<Int32>, _ n: Int, into out: UnsafeMutablePointer<Float>) {
        Kernels.dotGather(query, vectors, dimension, ids, n, out)
        for j in 0..<n { out[j] = -out[j] }
    }
}

/// Negated cosine over float rows with their stored norms: one dot product and one division,
/// so the rows need no normalized copy. `queryScale` is 1 for a normalized query and 1/‖row‖
/// when a row is the query. Clamped to [−1, 1] and 0 against a zero vector, as `VectorSpace`.
struct CosineDistance: RowDistance, @unchecked Sendable {
    let vectors: UnsafePointer<Float>
    let norms: UnsafePointer<Float>
    let dimension: Int
    let query: UnsafePointer<Float>
    let queryScale: Float

    @inline(__always) private func cosine(_ dot: Float, _ norm: Float) -> Float {
        norm > 0 ? -min(1, max(-1, dot / norm)) : 0
    }

    @inline(__always) func prefetch(_ i: Int) {
        prefetchRow(vectors, i, dimension: dimension)
        prefetchLine(norms + i)
    }

    @inline(__always) func callAsFunction(_ i: Int) -> Float {
        cosine(Kernels.dotWide(query, vectors + i * dimension, dimension) * queryScale, norms[i])
    }

    @inline(__always) func from(row i: Int) -> CosineDistance {
        let n = norms[i]
        return CosineDistance(vectors: vectors, norms: norms, dimension: dimension, query: vectors + i * dimension, queryScale: n > 0 ? 1 / n : 0)
    }

    @inline(__always) func between(_ a: Int, _ b: Int) -> Float {
        cosine(Kernels.dotWide(vectors + a * dimension, vectors + b * dimension, dimension), norms[a] * norms[b])
    }

    @inline(__always) func distances(_ ids: UnsafePointer<Int32>, _ n: Int, into out: UnsafeMutablePointer<Float>) {
        for j in 0..<n { prefetchLine(norms + Int(ids[j])) }
        Kernels.dotGather(query, vectors, dimension, ids, n, out)
        for j in 0..<n { out[j] = cosine(out[j] * queryScale, norms[Int(ids[j])]) }
    }
}

/// A distance that first verifies what it reads (``VectorVerifier``): the segment's rows and,
/// for HNSW_SQ, the index's codes, while they are not all verified. Once they are, searches use
/// the bare distance. A damaged row is still scored (its bytes are in range); the search throws
/// the damage before returning.
struct VerifiedDistance<D: QueryDistance>: QueryDistance {
    let inner: D
    let rows: VectorVerifier?
    let codes: VectorVerifier?

    @inline(__always) func prefetch(_ i: Int) { inner.prefetch(i) }

    @inline(__always) func callAsFunction(_ i: Int) -> Float {
        rows?.ensure(row: i)
        codes?.ensure(row: i)
        return inner(i)
    }

    @inline(__always) func distances(_ ids: UnsafePointer<Int32>, _ n: Int, into out: UnsafeMutablePointer<Float>) {
        rows?.ensure(ids, n)
        codes?.ensure(ids, n)
        inner.distances(ids, n, into: out)
    }
}

/// Approximate distances from a float query to the 8-bit codes of HNSW_SQ.
struct QuantizedDistance: QueryDistance {
    let quantizer: ScalarQuantizer
    let query: UnsafePointer<Float>
    let bias: Float
    let scale: UnsafePointer<Float>
    let codes: UnsafePointer<UInt8>
    let norms: UnsafePointer<Float>?
    let metric: MetricType

    @inline(__always) func prefetch(_ i: Int) {
        prefetchLines(codes + i * quantizer.dimension, bytes: quantizer.dimension)
        if let norms { prefetchLine(norms + i) }
    }

    @inline(__always) func callAsFunction(_ i: Int) -> Float {
        quantizer.distance(query, bias: bias, scale: scale, codes: codes + i * quantizer.dimension, metric: metric, rowNorm: norms?[i] ?? 1)
    }
}

// MARK: Filters

/// Which reached nodes may enter the results (all of them are traversed).
protocol NodeFilter {
    func allows(_ i: Int) -> Bool
}

struct AllowAll: NodeFilter {
    @inline(__always) func allows(_ i: Int) -> Bool { true }
}

/// Every row but one.
struct AllExcept: NodeFilter {
    let row: Int
    @inline(__always) func allows(_ i: Int) -> Bool { i != row }
}

/// The rows set in a ``Bitset``'s words.
struct AllowedRows: NodeFilter {
    let words: UnsafePointer<UInt64>
    @inline(__always) func allows(_ i: Int) -> Bool { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }
}

// MARK: Links

/// Raw-pointer view of the flat link arrays: layer 0 has `m0 + 1` slots per node (count, then
/// ids); the upper layers of node `i` start at `upperOffsets[i]`, `m + 1` slots per layer.
struct LinkLayout: @unchecked Sendable {
    // @unchecked: the pointers are into arrays the owner keeps alive for the view's lifetime;
    // during a build every write to a block happens under that node's lock (`NodeLocks`).
    let level0: UnsafeMutablePointer<Int32>
    let upper: UnsafeMutablePointer<Int32>
    let upperOffsets: UnsafePointer<Int32>
    let m: Int
    let m0: Int

    /// The count-prefixed link block of `node` on `level` (the node must be on that level).
    @inline(__always) func block(_ node: Int, level: Int) -> UnsafeMutablePointer<Int32> {
        level == 0 ? level0 + node * (m0 + 1) : upper + Int(upperOffsets[node]) + (level - 1) * (m + 1)
    }

    /// Asks the cache for the whole link block of `node` on `level`: a layer-0 block of M 16 is
    /// 132 bytes, over three lines when it does not start on one, and the walk reads every link.
    @inline(__always) func prefetch(_ node: Int, level: Int) {
        prefetchSpan(block(node, level: level), bytes: (level == 0 ? m0 + 1 : m + 1) * MemoryLayout<Int32>.stride)
    }

    /// Calls `body` with a view of the arrays; `upper` may be empty.
    static func with<R>(level0: PageArray<Int32>, upper: [Int32], upperOffsets: [Int32], m: Int, _ body: (LinkLayout) -> R) -> R {
        upper.withUnsafeBufferPointer { up in
            upperOffsets.withUnsafeBufferPointer { offsets in
                var spare: Int32 = 0
                return withUnsafeMutablePointer(to: &spare) { dummy in
                    body(LinkLayout(
                        level0: level0.pointer,
                        upper: UnsafeMutablePointer(mutating: up.baseAddress) ?? dummy,
                        upperOffsets: offsets.baseAddress.map { UnsafePointer($0) } ?? UnsafePointer(dummy),
                        m: m, m0: 2 * m))
                }
            }
        }
    }
}

/// Where a traversal reads a node's links from.
protocol LinkSource {
    /// Asks the cache for `node`'s block on `level`, which will be read soon.
    func prefetch(_ node: Int, level: Int)
    /// The count-prefixed links of `node` on `level`, valid until the next call; `spare` has room
    /// for a whole block and may be used to return a copy.
    func links(_ node: Int, level: Int, spare: UnsafeMutablePointer<Int32>) -> UnsafePointer<Int32>
}

/// Links read in place, each layer-0 block verified before it is read (``VectorVerifier``, index
/// files of version 3). A damaged block reads as empty, so that no link out of range is
/// followed; the search throws the damage before returning.
struct VerifiedLinks: LinkSource {
    let inner: FrozenLinks
    let verifier: VectorVerifier
    @inline(__always) func prefetch(_ node: Int, level: Int) { inner.prefetch(node, level: level) }
    @inline(__always) func links(_ node: Int, level: Int, spare: UnsafeMutablePointer<Int32>) -> UnsafePointer<Int32> {
        if level == 0 && !verifier.ensure(row: node) {
            spare[0] = 0
            return UnsafePointer(spare)
        }
        return inner.links(node, level: level, spare: spare)
    }
}

/// Links read in place, without locks: a finished graph, or one that a single worker is building.
struct FrozenLinks: LinkSource {
    let layout: LinkLayout
    @inline(__always) func prefetch(_ node: Int, level: Int) { layout.prefetch(node, level: level) }
    @inline(__always) func links(_ node: Int, level: Int, spare: UnsafeMutablePointer<Int32>) -> UnsafePointer<Int32> {
        UnsafePointer(layout.block(node, level: level))
    }
}

/// A graph being built by several workers: each block is copied out under its node's lock.
struct LockedLinks: LinkSource {
    let layout: LinkLayout
    let locks: NodeLocks
    /// Without the lock: a prefetch is a hint, not a read, so it cannot race with a writer.
    @inline(__always) func prefetch(_ node: Int, level: Int) { layout.prefetch(node, level: level) }
    @inline(__always) func links(_ node: Int, level: Int, spare: UnsafeMutablePointer<Int32>) -> UnsafePointer<Int32> {
        let block = layout.block(node, level: level)
        locks.lock(node)
        spare.update(from: block, count: Int(block[0]) + 1)
        locks.unlock(node)
        return UnsafePointer(spare)
    }
}

/// One spin lock per node, one byte each (hnswlib's `link_list_locks_`). Held only to copy or
/// rewrite one link block, so a waiter spins briefly and then yields the core.
/// Built on `Atomic` rather than `Mutex` so ThreadSanitizer on Linux sees the ordering.
struct NodeLocks: @unchecked Sendable {
    // @unchecked: the atomics are the synchronisation; the memory lives until `deallocate()`,
    // which the owner calls after every worker has finished.
    let base: UnsafeMutablePointer<Atomic<UInt8>>
    let count: Int

    init(count: Int) {
        self.count = count
        base = .allocate(capacity: max(count, 1))
        for i in 0..<count { (base + i).initialize(to: Atomic<UInt8>(0)) }
    }

    @inline(__always) func lock(_ i: Int) {
        var spins = 0
        while !base[i].compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged {
            spins += 1
            if spins >= 64 {
                spins = 0
                sched_yield()
            }
        }
    }

    @inline(__always) func unlock(_ i: Int) {
        base[i].store(0, ordering: .releasing)
    }

    func deallocate() {
        base.deinitialize(count: count)
        base.deallocate()
    }
}

// MARK: Heaps

/// The order of a ``NodeHeap``: the top is the first node in this order.
protocol NodeOrder {
    static func before(_ a: GraphNode, _ b: GraphNode) -> Bool
}

/// Nearest first (ties: lower row first).
enum NearestFirst: NodeOrder {
    @inline(__always) static func before(_ a: GraphNode, _ b: GraphNode) -> Bool { a.d < b.d || (a.d == b.d && a.id < b.id) }
}

/// Farthest first (ties: higher row first), so popping everything gives descending (d, id).
enum FarthestFirst: NodeOrder {
    @inline(__always) static func before(_ a: GraphNode, _ b: GraphNode) -> Bool { a.d > b.d || (a.d == b.d && a.id > b.id) }
}

/// A binary heap of nodes in memory it owns and grows by doubling; `deallocate()` frees it.
/// A copy shares the memory, so after a `push` that may grow, the copy that pushed is the one to keep.
struct NodeHeap<Order: NodeOrder> {
    private(set) var base: UnsafeMutablePointer<GraphNode>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 4)
        base = .allocate(capacity: self.capacity)
    }

    func deallocate() { base.deallocate() }

    var isEmpty: Bool { count == 0 }
    @inline(__always) var top: GraphNode { base[0] }
    @inline(__always) mutating func removeAll() { count = 0 }

    @inline(__always) mutating func push(_ x: GraphNode) {
        if count == capacity { grow() }
        var i = count
        count += 1
        while i > 0 {
            let p = (i - 1) >> 1
            guard Order.before(x, base[p]) else { break }
            base[i] = base[p]
            i = p
        }
        base[i] = x
    }

    @discardableResult @inline(__always) mutating func pop() -> GraphNode {
        assert(count > 0)
        let first = base[0]
        count -= 1
        if count > 0 {
            let x = base[count]
            var i = 0
            while true {
                let l = 2 * i + 1
                if l >= count { break }
                var c = l
                if l + 1 < count && Order.before(base[l + 1], base[l]) { c = l + 1 }
                guard Order.before(base[c], x) else { break }
                base[i] = base[c]
                i = c
            }
            base[i] = x
        }
        return first
    }

    private mutating func grow() {
        let bigger = UnsafeMutablePointer<GraphNode>.allocate(capacity: capacity * 2)
        bigger.moveInitialize(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity *= 2
    }
}

// MARK: Scratch

/// The memory one traversal at a time works in: a visited set that clears in O(1) (a node is
/// visited when its stamp equals the generation, hnswlib's `VisitedList`), the two heaps, and
/// buffers for a copied link block, a batch of unvisited neighbours and the sorted results.
/// One per build worker; searches borrow one from the index's pool.
final class TraversalScratch {
    let rows: Int
    /// 16-bit stamps as hnswlib's: half the cache footprint of 32-bit ones; cleared every 65 535 walks.
    /// In ``PageArray`` memory (huge pages from 1M rows up: stamps are read at random too).
    let visited: UnsafeMutablePointer<UInt16>
    private let visitedMemory: PageArray<UInt16>
    private(set) var generation: UInt16 = 0
    var candidates: NodeHeap<NearestFirst>
    var results: NodeHeap<FarthestFirst>
    /// Room for one link block (`maxLinks + 1` slots).
    let links: UnsafeMutablePointer<Int32>
    let batch: UnsafeMutablePointer<Int32>
    let batchD: UnsafeMutablePointer<Float>
    /// The last ``HNSWIndex/searchLayer`` results, ascending by (distance, row).
    private(set) var found: UnsafeMutablePointer<GraphNode>
    private var foundCapacity: Int

    init(rows: Int, maxLinks: Int, ef: Int) {
        self.rows = rows
        visitedMemory = PageArray(count: max(rows, 1))
        visited = visitedMemory.pointer
        candidates = NodeHeap(capacity: 2 * ef)
        results = NodeHeap(capacity: ef + 1)
        links = .allocate(capacity: maxLinks + 1)
        batch = .allocate(capacity: maxLinks)
        batchD = .allocate(capacity: maxLinks)
        foundCapacity = ef + 1
        found = .allocate(capacity: foundCapacity)
    }

    deinit {
        candidates.deallocate()
        results.deallocate()
        links.deallocate()
        batch.deallocate()
        batchD.deallocate()
        found.deallocate()
    }

    /// Starts a new traversal: every node unvisited.
    func nextGeneration() -> UInt16 {
        generation &+= 1
        if generation == 0 {
            visited.update(repeating: 0, count: max(rows, 1))
            generation = 1
        }
        return generation
    }

    func reserveFound(_ n: Int) {
        guard n > foundCapacity else { return }
        found.deallocate()
        foundCapacity = max(n, 2 * foundCapacity)
        found = .allocate(capacity: foundCapacity)
    }
}

// MARK: Traversal

enum GraphWalk {
    /// How many rows ahead ``QueryDistance/distances(_:_:into:)``'s default prefetches: the
    /// distances without a gather kernel of their own (HNSW_SQ's codes). Two was measured when the
    /// float walk used it too, on 384-float rows (all at once no faster, one slower); not measured
    /// again for codes. The float distances use the C gather kernels, which prefetch themselves.
    static let prefetchAhead = 2
    /// Greedy descent on one upper level: moves to the closest neighbour (the first of equals)
    /// while one is closer. A block's distances are computed in one run, as `searchLayer`'s.
    @inline(__always)
    static func greedy<D: QueryDistance, S: LinkSource>(_ source: S, level: Int, from start: GraphNode, dist: D,
                                                         scratch: TraversalScratch) -> GraphNode {
        let spare = scratch.links, batchD = scratch.batchD
        var current = start
        var changed = true
        while changed {
            changed = false
            let block = source.links(Int(current.id), level: level, spare: spare)
            let n = Int(block[0])
            dist.distances(block + 1, n, into: batchD)
            for j in 0..<n where batchD[j] < current.d {
                current = GraphNode(d: batchD[j], id: block[1 + j])
                changed = true
            }
            if changed { source.prefetch(Int(current.id), level: level) }
        }
        return current
    }

    /// The paper's Algorithm 2 (hnswlib's `searchBaseLayer`), with a filter: every reached node
    /// is expanded, but only allowed nodes enter the results; when fewer than `ef` allowed nodes
    /// were found the walk goes on until no candidate is left. Leaves the results in
    /// `scratch.found`, ascending by (distance, row), and returns how many there are.
    ///
    /// The unvisited neighbours of a node are gathered first and their distances computed in one
    /// run, so the vector loads of several neighbours are in flight together.
    static func searchLayer<D: QueryDistance, F: NodeFilter, S: LinkSource>(
        _ source: S, level: Int, entry: GraphNode, ef: Int, dist: D, filter: F, scratch: TraversalScratch
    ) -> Int {
        let generation = scratch.nextGeneration()
        let visited = scratch.visited, batch = scratch.batch, batchD = scratch.batchD, spare = scratch.links
        var candidates = scratch.candidates
        var results = scratch.results
        candidates.removeAll()
        results.removeAll()
        visited[Int(entry.id)] = generation
        candidates.push(entry)
        if filter.allows(Int(entry.id)) { results.push(entry) }
        var bound = results.isEmpty ? Float.infinity : results.top.d
        while !candidates.isEmpty {
            let c = candidates.top
            if results.count >= ef && c.d > bound { break }
            candidates.pop()
            if !candidates.isEmpty { source.prefetch(Int(candidates.top.id), level: level) }
            let block = source.links(Int(c.id), level: level, spare: spare)
            let n = Int(block[0])
            var fresh = 0
            var j = 1
            while j <= n {
                let e = block[j]
                if visited[Int(e)] != generation {
                    visited[Int(e)] = generation
                    batch[fresh] = e
                    fresh += 1
                }
                j += 1
            }
            dist.distances(batch, fresh, into: batchD)
            // A neighbour closer than every candidate will be expanded next: fetch its links now.
            var nextD = candidates.isEmpty ? Float.infinity : candidates.top.d
            for i in 0..<fresh {
                let d = batchD[i]
                if d < nextD {
                    nextD = d
                    source.prefetch(Int(batch[i]), level: level)
                }
            }
            for i in 0..<fresh {
                let d = batchD[i]
                guard results.count < ef || d < bound else { continue }
                let node = GraphNode(d: d, id: batch[i])
                candidates.push(node)
                if filter.allows(Int(node.id)) {
                    results.push(node)
                    if results.count > ef { results.pop() }
                    bound = results.top.d
                }
            }
        }
        let count = results.count
        scratch.reserveFound(count)
        let found = scratch.found
        var i = count
        while !results.isEmpty {
            i -= 1
            found[i] = results.pop()
        }
        scratch.candidates = candidates
        scratch.results = results
        return count
    }
}
