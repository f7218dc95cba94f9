import Foundation

/// A hierarchical navigable small-world graph over the rows of one sealed segment
/// (Malkov & Yashunin, "Efficient and robust approximate nearest neighbor search using
/// Hierarchical Navigable Small World graphs", 2016/2018).
///
/// - Levels are drawn as ⌊−ln(U)·mL⌋ with mL = 1/ln M (the paper's §4.1 recommendation).
/// - Neighbours are chosen with the paper's heuristic (Algorithm 4) so the graph keeps links
///   across clusters; layer 0 keeps up to 2·M links, upper layers M.
/// - Links are flat `Int32` arrays: layer 0 has `m0 + 1` slots per node (count, then ids); upper
///   layers of node `i` start at `upperOffsets[i]`, `m + 1` slots per layer (see ``LinkLayout``).
/// - The build inserts rows on several workers (see `HNSW+Build.swift`).
/// - With a quantizer (HNSW_SQ), traversal uses 8-bit codes and the `ef` best are re-ranked
///   with the float vectors.
///
/// Search with a filter keeps traversing through rows that are not allowed but only lets allowed
/// rows into the results (the graph stays connected whatever the filter).
final class HNSWIndex: Sendable {
    let count: Int
    let dimension: Int
    let m: Int
    let m0: Int
    let entryPoint: Int32
    let maxLevel: Int
    let levels: [UInt8]
    /// In ``PageArray`` memory: read at random by every walk, so it gets huge pages.
    let level0: PageArray<Int32>
    let upperOffsets: [Int32]
    let upper: [Int32]
    let quantizer: ScalarQuantizer?
    /// HNSW_SQ's codes, `dimension` per row, in ``PageArray`` memory like `level0` (empty for HNSW).
    let codes: PageArray<UInt8>
    /// Verifies the layer-0 links and codes a group of nodes at a time when a walk first reads
    /// them (loaded from an index file of version 3); nil when they were verified on load or built here.
    let linkVerifier: VectorVerifier?
    /// Scratch memory for searches, reused so a search allocates nothing but its answer.
    private let scratchPool = Locked<[TraversalScratch]>([])

    init(count: Int, dimension: Int, m: Int, entryPoint: Int32, maxLevel: Int, levels: [UInt8], level0: PageArray<Int32>,
         upperOffsets: [Int32], upper: [Int32], quantizer: ScalarQuantizer?, codes: PageArray<UInt8>, linkVerifier: VectorVerifier? = nil) {
        self.count = count
        self.dimension = dimension
        self.m = m
        m0 = 2 * m
        self.entryPoint = entryPoint
        self.maxLevel = maxLevel
        self.levels = levels
        self.level0 = level0
        self.upperOffsets = upperOffsets
        self.upper = upper
        self.quantizer = quantizer
        self.codes = codes
        self.linkVerifier = linkVerifier
    }

    /// `.corruption` naming the file when a walk found damaged links or codes, else nil.
    var damage: QuiverError? { linkVerifier?.damage }

    // MARK: Search

    /// The best `k` allowed rows for `query` (scores as users see them), best first.
    func search(_ query: [Float], space: VectorSpace, k: Int, ef: Int, allowed: Bitset?) -> [ScoredRow] {
        guard count > 0, k > 0 else { return [] }
        precondition(space.count == count && space.dimension == dimension)
        let scratch = scratchPool.withLock { $0.popLast() } ?? TraversalScratch(rows: count, maxLinks: m0, ef: ef)
        defer { scratchPool.withLock { if $0.count < 8 { $0.append(scratch) } } }
        let q = space.prepare(query)
        /// Walks with `dist`, verifying each row, link block and code it reads while they are not all verified.
        let links = linkVerifier?.pending
        func run<D: QueryDistance>(_ dist: D) -> Int {
            let codes = quantizer == nil ? nil : links
            if space.verifier != nil || codes != nil {
                return walk(VerifiedDistance(inner: dist, rows: space.verifier, codes: codes), ef: ef, allowed: allowed, links: links, scratch: scratch)
            }
            return walk(dist, ef: ef, allowed: allowed, links: links, scratch: scratch)
        }
        let found = q.withUnsafeBufferPointer { qp -> Int in
            let query = qp.baseAddress!
            if let quantizer {
                let prepared = quantizer.prepare(q, metric: space.metric)
                return prepared.a.withUnsafeBufferPointer { a in
                    quantizer.scale.withUnsafeBufferPointer { s in
                        run(QuantizedDistance(quantizer: quantizer, query: a.baseAddress!, bias: prepared.bias, scale: s.baseAddress!,
                                              codes: codes.pointer, norms: space.norms, metric: space.metric))
                    }
                }
            }
            switch space.metric {
            case .l2: return run(L2Distance(vectors: space.vectors, dimension: dimension, query: query))
            case .ip: return run(IPDistance(vectors: space.vectors, dimension: dimension, query: query))
            default: return run(CosineDistance(vectors: space.vectors, norms: space.norms!, dimension: dimension, query: query, queryScale: 1))
            }
        }
        var ranked = UnsafeMutableBufferPointer(start: scratch.found, count: found)
        if quantizer != nil {
            q.withUnsafeBufferPointer { qp in
                for i in ranked.indices { ranked[i].d = space.distance(qp.baseAddress!, Int(ranked[i].id)) }
            }
            ranked.sort(by: NearestFirst.before)
        }
        return ranked.prefix(k).map { ScoredRow(row: Int($0.id), distance: space.score($0.d)) }
    }

    /// Descends greedily from the entry point, then searches layer 0 with `ef`; the results are
    /// left in `scratch.found` and their number returned. With `links`, each layer-0 block is
    /// verified before it is read.
    private func walk<D: QueryDistance>(_ dist: D, ef: Int, allowed: Bitset?, links verifier: VectorVerifier?, scratch: TraversalScratch) -> Int {
        LinkLayout.with(level0: level0, upper: upper, upperOffsets: upperOffsets, m: m) { layout in
            let links = FrozenLinks(layout: layout)
            if let verifier { return walk(VerifiedLinks(inner: links, verifier: verifier), dist, ef: ef, allowed: allowed, scratch: scratch) }
            return walk(links, dist, ef: ef, allowed: allowed, scratch: scratch)
        }
    }

    private func walk<S: LinkSource, D: QueryDistance>(_ links: S, _ dist: D, ef: Int, allowed: Bitset?, scratch: TraversalScratch) -> Int {
        var current = GraphNode(d: dist(Int(entryPoint)), id: entryPoint)
        for level in stride(from: maxLevel, to: 0, by: -1) {
            current = GraphWalk.greedy(links, level: level, from: current, dist: dist, scratch: scratch)
        }
        guard let allowed else {
            return GraphWalk.searchLayer(links, level: 0, entry: current, ef: ef, dist: dist, filter: AllowAll(), scratch: scratch)
        }
        return allowed.words.withUnsafeBufferPointer { words in
            GraphWalk.searchLayer(links, level: 0, entry: current, ef: ef, dist: dist,
                                  filter: AllowedRows(words: words.baseAddress!), scratch: scratch)
        }
    }

    // MARK: Invariants

    /// What is wrong with the graph's structure, empty when nothing: every link count within
    /// its level's cap, no self links, no duplicate links, every neighbour a row on that level,
    /// the entry point on the top level. Tests call it after builds.
    func invariantViolations() -> [String] {
        var problems = [String]()
        if count > 0 && Int(levels[Int(entryPoint)]) != maxLevel { problems.append("entry point \(entryPoint) is not on the top level") }
        LinkLayout.with(level0: level0, upper: upper, upperOffsets: upperOffsets, m: m) { layout in
            for node in 0..<count {
                for level in 0...Int(levels[node]) {
                    let block = layout.block(node, level: level)
                    let n = Int(block[0]), cap = level == 0 ? m0 : m
                    if n < 0 || n > cap {
                        problems.append("node \(node) level \(level): \(n) links, cap \(cap)")
                        continue
                    }
                    let ids = (0..<n).map { Int(block[1 + $0]) }
                    if ids.contains(node) { problems.append("node \(node) level \(level) links to itself") }
                    if Set(ids).count != n { problems.append("node \(node) level \(level) has duplicate links") }
                    for e in ids where e < 0 || e >= count || Int(levels[e]) < level {
                        problems.append("node \(node) level \(level) links to \(e), not a row on that level")
                    }
                }
            }
        }
        return problems
    }
}
