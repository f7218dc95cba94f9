import Foundation
import Synchronization

// Building an HNSW graph on several workers, in the manner of hnswlib's `addPoint`
// (`hnswalg.h`): the first row is inserted alone, then workers take rows in turn. Each link
// block is read and written under its node's spin lock (`NodeLocks`); the global lock is held
// for a whole insertion only when the row's level is above the current top, so the entry point
// changes only once that row is fully linked. A row's lists on every level are chosen and written
// before any other row links to it (`link`), so no walk can reach a row whose lower lists are
// still empty (hnswlib gets the same by holding the new row's lock for its whole insertion). With one worker the rows go in row order and the graph depends
// only on the seed (the same graph as linking level by level).

extension HNSWIndex {
    static let defaultSeed: UInt64 = 0x5157_4E53

    /// Builds the graph over every row of `space` on `threads` workers (all cores by default);
    /// with `threads: 1` the graph is the same for the same seed. Once `cancel` is set, the
    /// workers stop after their current insertion and the graph returned is incomplete.
    ///
    /// - Complexity: O(n · efConstruction · M · log n) distance computations, roughly, shared
    ///   among the workers.
    static func build(space: VectorSpace, m: Int, efConstruction: Int, quantize: Bool,
                      threads: Int = ProcessInfo.processInfo.activeProcessorCount, seed: UInt64 = defaultSeed,
                      cancel: BuildCancellation? = nil) -> HNSWIndex {
        let n = space.count
        let m0 = 2 * m
        var rng = SplitMix64(seed: seed)
        let mL = 1 / log(Double(m))
        var levels = [UInt8](repeating: 0, count: n)
        var upperOffsets = [Int32](repeating: -1, count: n)
        var upperSize = 0
        for i in 0..<n {
            let u = max(Double(rng.next() >> 11) / Double(1 << 53), 1e-300)
            let l = min(Int(-log(u) * mL), 15)
            levels[i] = UInt8(l)
            if l > 0 {
                upperOffsets[i] = Int32(upperSize)
                upperSize += l * (m + 1)
            }
        }
        let level0 = PageArray<Int32>(count: n * (m0 + 1))
        var upper = [Int32](repeating: 0, count: upperSize)
        let workers = max(1, min(threads, n / 64))
        let (entry, top) = LinkLayout.withMutable(level0: level0, upper: &upper, upperOffsets: upperOffsets, m: m) { layout in
            levels.withUnsafeBufferPointer { lv in
                func run<D: RowDistance>(_ dist: D) -> (Int32, Int) {
                    GraphBuilder(layout: layout, levels: lv.baseAddress!, dist: dist, efConstruction: efConstruction, rows: n, cancel: cancel)
                        .run(workers: workers)
                }
                let v = space.vectors, d = space.dimension
                switch space.metric {
                case .l2: return run(L2Distance(vectors: v, dimension: d, query: v))
                case .ip: return run(IPDistance(vectors: v, dimension: d, query: v))
                default: return run(CosineDistance(vectors: v, norms: space.norms!, dimension: d, query: v, queryScale: 1))
                }
            }
        }
        var q: ScalarQuantizer? = nil
        var codes = PageArray<UInt8>(count: 0)
        if quantize && cancel?.isCancelled != true {
            let sq = ScalarQuantizer(training: space)
            codes = PageArray(count: n * space.dimension)
            for i in 0..<n { sq.encode(space.row(i), to: codes.pointer + i * space.dimension) }
            q = sq
        }
        return HNSWIndex(count: n, dimension: space.dimension, m: m, entryPoint: max(entry, 0), maxLevel: max(top, 0), levels: levels,
                         level0: level0, upperOffsets: upperOffsets, upper: upper, quantizer: q, codes: codes)
    }

    /// The paper's Algorithm 4 as hnswlib's `getNeighborsByHeuristic2`: fewer than `limit`
    /// candidates are all kept; otherwise walk them closest first and keep one only when it is
    /// closer to the base than to every neighbour kept so far. `sorted` is ascending by distance
    /// to the base; returns how many were written to `kept`.
    @inline(__always)
    static func selectNeighbors<D: RowDistance>(_ sorted: UnsafePointer<GraphNode>, count: Int, limit: Int, dist: D,
                                                into kept: UnsafeMutablePointer<GraphNode>) -> Int {
        if count < limit {
            kept.update(from: sorted, count: count)
            return count
        }
        var n = 0
        for i in 0..<count where n < limit {
            let c = sorted[i]
            var good = true
            for j in 0..<n where dist.between(Int(kept[j].id), Int(c.id)) < c.d {
                good = false
                break
            }
            if good {
                kept[n] = c
                n += 1
            }
        }
        return n
    }
}

extension LinkLayout {
    /// Calls `body` with a writable view of the arrays; `upper` may be empty.
    static func withMutable<R>(level0: PageArray<Int32>, upper: inout [Int32], upperOffsets: [Int32], m: Int, _ body: (LinkLayout) -> R) -> R {
        upper.withUnsafeMutableBufferPointer { up in
            upperOffsets.withUnsafeBufferPointer { offsets in
                var spare: Int32 = 0
                return withUnsafeMutablePointer(to: &spare) { dummy in
                    body(LinkLayout(level0: level0.pointer, upper: up.baseAddress ?? dummy,
                                    upperOffsets: offsets.baseAddress ?? UnsafePointer(dummy), m: m, m0: 2 * m))
                }
            }
        }
    }
}

/// The entry point and top level while building, under `lock`, and the next row to insert.
private final class EntryState: @unchecked Sendable {
    // @unchecked: `entry` and `top` are only touched while `lock` is held.
    let lock = NSLock()
    var entry: Int32 = -1
    var top = -1
    let next = Atomic<Int>(1)
}

/// Runs `body(worker)` for workers `0..<count`, worker 0 on the calling thread and each other
/// on a thread of its own, and returns when all have finished. Not `concurrentPerform`: on a
/// busy machine Dispatch may run its iterations one after another, and a build wants its
/// workers. The wait is on an `NSCondition` so the workers' writes happen-before the return
/// (ThreadSanitizer sees pthread mutexes).
private func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let done = NSCondition()
    nonisolated(unsafe) var running = count - 1
    for worker in 1..<max(count, 1) {
        let thread = Thread {
            body(worker)
            done.lock()
            running -= 1
            done.signal()
            done.unlock()
        }
        thread.start()
    }
    body(0)
    done.lock()
    while running > 0 { done.wait() }
    done.unlock()
}

/// Buffers for choosing neighbours, one set per worker.
private final class SelectionScratch {
    /// The neighbours chosen on each level (at most 16 levels, `m0 + 1` slots each).
    private let chosenByLevel: UnsafeMutablePointer<GraphNode>
    /// How many of each level's slots are chosen.
    var counts = [Int](repeating: 0, count: 16)
    let candidates: UnsafeMutablePointer<GraphNode>
    let kept: UnsafeMutablePointer<GraphNode>
    private let slots: Int

    init(m0: Int) {
        slots = m0 + 1
        chosenByLevel = .allocate(capacity: 16 * slots)
        candidates = .allocate(capacity: m0 + 1)
        kept = .allocate(capacity: m0 + 1)
    }

    func chosen(level: Int) -> UnsafeMutablePointer<GraphNode> { chosenByLevel + level * slots }

    deinit {
        chosenByLevel.deallocate()
        candidates.deallocate()
        kept.deallocate()
    }
}

/// One build: the graph being linked and what every worker shares.
private struct GraphBuilder<D: RowDistance>: @unchecked Sendable {
    // @unchecked: workers write link blocks only under the node's lock in `locks`, the entry
    // point only under `state.lock`; `levels` and the vectors behind `dist` are read-only.
    let layout: LinkLayout
    let levels: UnsafePointer<UInt8>
    let dist: D
    let efConstruction: Int
    let rows: Int
    let locks: NodeLocks
    let state = EntryState()
    /// Polled before each insertion; once set, the workers stop.
    let cancel: BuildCancellation?

    init(layout: LinkLayout, levels: UnsafePointer<UInt8>, dist: D, efConstruction: Int, rows: Int, cancel: BuildCancellation?) {
        self.layout = layout
        self.levels = levels
        self.dist = dist
        self.efConstruction = efConstruction
        self.rows = rows
        self.cancel = cancel
        locks = NodeLocks(count: rows)
    }

    /// Inserts every row, then frees the locks; returns the entry point and the top level.
    func run(workers: Int) -> (Int32, Int) {
        defer { locks.deallocate() }
        guard rows > 0 else { return (-1, -1) }
        state.entry = 0
        state.top = Int(levels[0])
        if workers == 1 {
            let scratch = TraversalScratch(rows: rows, maxLinks: layout.m0, ef: efConstruction)
            let selection = SelectionScratch(m0: layout.m0)
            let direct = FrozenLinks(layout: layout)
            for node in 1..<rows {
                if cancel?.isCancelled == true { break }
                insert(node, source: direct, scratch: scratch, selection: selection)
            }
        } else {
            let locked = LockedLinks(layout: layout, locks: locks)
            let builder = self
            onThreads(workers) { _ in
                let scratch = TraversalScratch(rows: builder.rows, maxLinks: builder.layout.m0, ef: builder.efConstruction)
                let selection = SelectionScratch(m0: builder.layout.m0)
                while true {
                    let node = builder.state.next.wrappingAdd(1, ordering: .relaxed).oldValue
                    if node >= builder.rows || builder.cancel?.isCancelled == true { break }
                    builder.insert(node, source: locked, scratch: scratch, selection: selection)
                }
            }
        }
        let (entry, top) = state.lock.withLock { (state.entry, state.top) }
        if cancel?.isCancelled != true { relinkUnreachable(entry: entry, top: top) }
        return (entry, top)
    }

    /// Links again, one at a time, the rows that no walk from the entry point reaches on layer 0,
    /// so every row can be found. A worker descheduled between choosing a row's neighbours and
    /// linking it (on a loaded machine) links it to what the graph was back then: a row whose
    /// only choice was row 0 joined row 0's list after it had filled, the heuristic pruned it at
    /// once, and nothing else pointed to it (2 of 3,000 builds of 200 rows on 4 workers beside
    /// two other builds; none on one worker). The fresh choice includes the row's nearest
    /// reachable neighbour, whose pruning keeps the row unless a closer one exists; a few passes
    /// also catch a row that this pruning cut off in turn.
    private func relinkUnreachable(entry: Int32, top: Int) {
        guard entry >= 0 else { return }
        let scratch = TraversalScratch(rows: rows, maxLinks: layout.m0, ef: efConstruction)
        let selection = SelectionScratch(m0: layout.m0)
        let source = FrozenLinks(layout: layout)
        for _ in 0..<4 {
            let lost = unreachableOnLayer0(from: Int(entry))
            if lost.isEmpty { return }
            for row in lost {
                link(row, level: 0, from: entry, top: top, query: dist.from(row: row), source: source, scratch: scratch,
                     selection: selection, filter: AllExcept(row: row))
            }
        }
    }

    /// The rows a walk of layer 0 from `entry` does not reach, in row order.
    private func unreachableOnLayer0(from entry: Int) -> [Int] {
        var seen = [Bool](repeating: false, count: rows)
        var stack = [entry]
        seen[entry] = true
        while let node = stack.popLast() {
            let block = layout.block(node, level: 0)
            for i in 0..<Int(block[0]) {
                let e = Int(block[1 + i])
                if !seen[e] {
                    seen[e] = true
                    stack.append(e)
                }
            }
        }
        return (0..<rows).filter { !seen[$0] }
    }

    /// hnswlib's `addPoint` for row `node`.
    private func insert<S: LinkSource>(_ node: Int, source: S, scratch: TraversalScratch, selection: SelectionScratch) {
        let level = Int(levels[node])
        let query = dist.from(row: node)
        state.lock.lock()
        let entry = state.entry, top = state.top
        let raisesTop = level > top
        if raisesTop {
            // Keep the lock: nobody may start from a new entry point before it is linked.
            defer {
                state.entry = Int32(node)
                state.top = level
                state.lock.unlock()
            }
            link(node, level: level, from: entry, top: top, query: query, source: source, scratch: scratch, selection: selection)
        } else {
            state.lock.unlock()
            link(node, level: level, from: entry, top: top, query: query, source: source, scratch: scratch, selection: selection)
        }
    }

    /// Links `node` on levels `level` down to 0; `filter` keeps rows out of its lists (the
    /// row itself, when linking it again).
    private func link<S: LinkSource, F: NodeFilter>(_ node: Int, level: Int, from entry: Int32, top: Int, query: D, source: S,
                                                    scratch: TraversalScratch, selection: SelectionScratch,
                                                    filter: F = AllowAll()) {
        let m = layout.m
        var current = GraphNode(d: query(Int(entry)), id: entry)
        var lev = top
        while lev > level {
            current = GraphWalk.greedy(source, level: lev, from: current, dist: query, scratch: scratch)
            lev -= 1
        }
        // 1. Choose the row's neighbours on every level it shares with the graph, top down
        //    (each search starts from the closest row the level above found).
        let shared = min(level, top)
        for lev in stride(from: shared, through: 0, by: -1) {
            let found = GraphWalk.searchLayer(source, level: lev, entry: current, ef: efConstruction, dist: query,
                                              filter: filter, scratch: scratch)
            guard found > 0 else {
                selection.counts[lev] = 0
                continue
            }
            let chosen = selection.chosen(level: lev)
            selection.counts[lev] = HNSWIndex.selectNeighbors(scratch.found, count: found, limit: m, dist: dist, into: chosen)
            current = scratch.found[0]
        }
        // 2. Write the row's own lists. Nobody can reach the row yet: it is in no other row's list
        //    and not the entry point, so these lists are complete before anyone walks them. (A row
        //    linked again after the build is reachable on no layer-0 list, and nothing else runs.)
        locks.lock(node)
        for lev in 0...shared {
            let own = layout.block(node, level: lev), chosen = selection.chosen(level: lev)
            own[0] = Int32(selection.counts[lev])
            for i in 0..<selection.counts[lev] { own[1 + i] = chosen[i].id }
        }
        locks.unlock(node)
        // 3. Only now make it reachable, by adding it to its neighbours' lists. (Linking level by
        //    level, with the row's lock released between levels, let another worker's walk reach
        //    the row on an upper level, descend onto its still-empty lower lists, take it as its
        //    only neighbour there, and then lose that one in-link when the row wrote its own list
        //    over it.)
        for lev in stride(from: shared, through: 0, by: -1) {
            let chosen = selection.chosen(level: lev)
            for i in 0..<selection.counts[lev] { connect(chosen[i], to: node, level: lev, selection: selection) }
        }
    }

    /// Adds `node` to the links of `neighbour` (at distance `neighbour.d` from it); a full list
    /// is re-chosen with the heuristic over its links and `node` (hnswlib keeps the heuristic
    /// when pruning, rather than keeping the closest).
    private func connect(_ neighbour: GraphNode, to node: Int, level: Int, selection: SelectionScratch) {
        let s = Int(neighbour.id)
        let cap = level == 0 ? layout.m0 : layout.m
        let block = layout.block(s, level: level)
        locks.lock(s)
        defer { locks.unlock(s) }
        let n = Int(block[0])
        // Already there: a row linked again after the build may have been linked from another
        // row that was cut off with it.
        for j in 0..<n where block[1 + j] == Int32(node) { return }
        if n < cap {
            block[1 + n] = Int32(node)
            block[0] = Int32(n + 1)
            return
        }
        let from = dist.from(row: s)
        let candidates = selection.candidates
        candidates[0] = GraphNode(d: neighbour.d, id: Int32(node))
        for j in 0..<n {
            let e = block[1 + j]
            candidates[1 + j] = GraphNode(d: from(Int(e)), id: e)
        }
        // Insertion sort: at most 2·M + 1 nodes.
        for i in 1..<(n + 1) {
            let x = candidates[i]
            var j = i
            while j > 0 && NearestFirst.before(x, candidates[j - 1]) {
                candidates[j] = candidates[j - 1]
                j -= 1
            }
            candidates[j] = x
        }
        let kept = HNSWIndex.selectNeighbors(candidates, count: n + 1, limit: cap, dist: dist, into: selection.kept)
        for j in 0..<kept { block[1 + j] = selection.kept[j].id }
        block[0] = Int32(kept)
    }
}
