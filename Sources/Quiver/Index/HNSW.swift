import Foundation

/// A hierarchical navigable small-world graph over the rows of one sealed segment
/// (Malkov & Yashunin, "Efficient and robust approximate nearest neighbor search using
/// Hierarchical Navigable Small World graphs", 2016/2018).
///
/// - Levels are drawn as ⌊−ln(U)·mL⌋ with mL = 1/ln M (the paper's §4.1 recommendation).
/// - Neighbours are chosen with the paper's heuristic (Algorithm 4) so the graph keeps links
///   across clusters; layer 0 keeps up to 2·M links, upper layers M.
/// - Links are flat `Int32` arrays: layer 0 has `m0 + 1` slots per node (count, then ids); upper
///   layers of node `i` start at `upperOffsets[i]`, `m + 1` slots per layer.
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
    let level0: [Int32]
    let upperOffsets: [Int32]
    let upper: [Int32]
    let quantizer: ScalarQuantizer?
    let codes: [UInt8]
    private let visitedPool = Locked<[VisitedSet]>([])

    init(count: Int, dimension: Int, m: Int, entryPoint: Int32, maxLevel: Int, levels: [UInt8], level0: [Int32],
         upperOffsets: [Int32], upper: [Int32], quantizer: ScalarQuantizer?, codes: [UInt8]) {
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
    }

    // MARK: Build

    /// Builds the graph over every row of `space` (single-threaded; deterministic for a seed).
    ///
    /// - Complexity: O(n · efConstruction · M · log n) distance computations, roughly.
    static func build(space: VectorSpace, m: Int, efConstruction: Int, quantize: Bool, seed: UInt64 = 0x5157_4E53) -> HNSWIndex {
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
        var graph = Graph(m: m, m0: m0, level0: [Int32](repeating: 0, count: n * (m0 + 1)), upperOffsets: upperOffsets,
                          upper: [Int32](repeating: 0, count: upperSize))
        var visited = VisitedSet(count: n)
        var entry: Int32 = 0
        var top = -1
        for node in 0..<n {
            let level = Int(levels[node])
            if top < 0 {
                entry = Int32(node)
                top = level
                continue
            }
            let dist = { (j: Int) -> Float in space.distance(row: node, j) }
            var current = entry
            var currentD = dist(Int(current))
            if top > level {
                for lev in stride(from: top, to: level, by: -1) {
                    (current, currentD) = graph.greedy(from: current, d: currentD, level: lev, dist: dist)
                }
            }
            for lev in stride(from: min(level, top), through: 0, by: -1) {
                let found = graph.searchLayer(entry: current, entryD: currentD, ef: efConstruction, level: lev,
                                              visited: &visited, allowed: nil, dist: dist)
                let chosen = selectNeighbors(found, max: m, space: space)
                graph.setLinks(node, level: lev, chosen.map(\.id))
                let cap = lev == 0 ? m0 : m
                for e in chosen {
                    let links = graph.links(Int(e.id), level: lev)
                    if links.count < cap {
                        graph.setLinks(Int(e.id), level: lev, links + [Int32(node)])
                    } else {
                        let eid = Int(e.id)
                        var cands = links.map { (d: space.distance(row: eid, Int($0)), id: $0) }
                        cands.append((d: e.d, id: Int32(node)))
                        cands.sort { $0.d < $1.d || ($0.d == $1.d && $0.id < $1.id) }
                        graph.setLinks(eid, level: lev, selectNeighbors(cands, max: cap, space: space).map(\.id))
                    }
                }
                current = found[0].id
                currentD = found[0].d
            }
            if level > top {
                top = level
                entry = Int32(node)
            }
        }
        var q: ScalarQuantizer? = nil
        var codes = [UInt8]()
        if quantize {
            let sq = ScalarQuantizer(training: space)
            codes.reserveCapacity(n * space.dimension)
            for i in 0..<n { sq.encode(space.row(i), into: &codes) }
            q = sq
        }
        return HNSWIndex(count: n, dimension: space.dimension, m: m, entryPoint: entry, maxLevel: max(top, 0), levels: levels,
                         level0: graph.level0, upperOffsets: upperOffsets, upper: graph.upper, quantizer: q, codes: codes)
    }

    /// The paper's Algorithm 4: walk candidates closest first, keep one only when it is closer to
    /// the base than to every neighbour kept so far. `sorted` is ascending by distance to the base.
    static func selectNeighbors(_ sorted: [(d: Float, id: Int32)], max limit: Int, space: VectorSpace) -> [(d: Float, id: Int32)] {
        if sorted.count <= limit { return sorted }
        var kept = [(d: Float, id: Int32)]()
        kept.reserveCapacity(limit)
        for c in sorted {
            if kept.count >= limit { break }
            var good = true
            for r in kept where space.distance(row: Int(c.id), Int(r.id)) < c.d {
                good = false
                break
            }
            if good { kept.append(c) }
        }
        return kept
    }

    /// The mutable link arrays while building, and the traversal shared with search.
    struct Graph {
        let m: Int
        let m0: Int
        var level0: [Int32]
        let upperOffsets: [Int32]
        var upper: [Int32]

        func base(_ node: Int, level: Int) -> Int {
            level == 0 ? node * (m0 + 1) : Int(upperOffsets[node]) + (level - 1) * (m + 1)
        }

        func links(_ node: Int, level: Int) -> [Int32] {
            let b = base(node, level: level)
            if level == 0 { return Array(level0[(b + 1)..<(b + 1 + Int(level0[b]))]) }
            return Array(upper[(b + 1)..<(b + 1 + Int(upper[b]))])
        }

        mutating func setLinks(_ node: Int, level: Int, _ ids: [Int32]) {
            let b = base(node, level: level)
            if level == 0 {
                level0[b] = Int32(ids.count)
                for (i, id) in ids.enumerated() { level0[b + 1 + i] = id }
            } else {
                upper[b] = Int32(ids.count)
                for (i, id) in ids.enumerated() { upper[b + 1 + i] = id }
            }
        }

        func greedy(from start: Int32, d startD: Float, level: Int, dist: (Int) -> Float) -> (Int32, Float) {
            HNSWIndex.greedy(level0: level0, upper: upper, base: base, from: start, d: startD, level: level, dist: dist)
        }

        func searchLayer(entry: Int32, entryD: Float, ef: Int, level: Int, visited: inout VisitedSet,
                         allowed: Bitset?, dist: (Int) -> Float) -> [(d: Float, id: Int32)] {
            HNSWIndex.searchLayer(level0: level0, upper: upper, base: base, entry: entry, entryD: entryD, ef: ef, level: level,
                                  visited: &visited, allowed: allowed, dist: dist)
        }
    }

    // MARK: Traversal

    static func greedy(level0: [Int32], upper: [Int32], base: (Int, Int) -> Int, from start: Int32, d startD: Float,
                       level: Int, dist: (Int) -> Float) -> (Int32, Float) {
        var current = start, currentD = startD
        var changed = true
        let links = level == 0 ? level0 : upper
        while changed {
            changed = false
            let b = base(Int(current), level)
            let n = Int(links[b])
            for i in 0..<n {
                let c = links[b + 1 + i]
                let d = dist(Int(c))
                if d < currentD {
                    currentD = d
                    current = c
                    changed = true
                }
            }
        }
        return (current, currentD)
    }

    /// The paper's Algorithm 2, with a filter: every reached node is expanded, but only allowed
    /// nodes enter the result set; when fewer than `ef` allowed nodes were found the walk goes on
    /// until no candidate is left. Returns the results ascending by distance.
    static func searchLayer(level0: [Int32], upper: [Int32], base: (Int, Int) -> Int, entry: Int32, entryD: Float, ef: Int,
                            level: Int, visited: inout VisitedSet, allowed: Bitset?,
                            dist: (Int) -> Float) -> [(d: Float, id: Int32)] {
        visited.reset()
        var candidates = DistanceHeap(maxFirst: false, capacity: ef * 2)
        var results = DistanceHeap(maxFirst: true, capacity: ef + 1)
        _ = visited.insert(Int(entry))
        candidates.push(entryD, entry)
        if allowed?[Int(entry)] ?? true { results.push(entryD, entry) }
        let links = level == 0 ? level0 : upper
        while !candidates.isEmpty {
            let c = candidates.pop()
            if results.count >= ef && c.d > results.top.d { break }
            let b = base(Int(c.id), level)
            let n = Int(links[b])
            for i in 0..<n {
                let e = links[b + 1 + i]
                guard visited.insert(Int(e)) else { continue }
                let d = dist(Int(e))
                if results.count < ef || d < results.top.d {
                    candidates.push(d, e)
                    if allowed?[Int(e)] ?? true {
                        results.push(d, e)
                        if results.count > ef { results.pop() }
                    }
                }
            }
        }
        return results.items.sorted { $0.d < $1.d || ($0.d == $1.d && $0.id < $1.id) }
    }

    // MARK: Search

    private func base(_ node: Int, _ level: Int) -> Int {
        level == 0 ? node * (m0 + 1) : Int(upperOffsets[node]) + (level - 1) * (m + 1)
    }

    /// The best `k` allowed rows for `query` (scores as users see them), best first.
    func search(_ query: [Float], space: VectorSpace, k: Int, ef: Int, allowed: Bitset?) -> [ScoredRow] {
        guard count > 0, k > 0 else { return [] }
        precondition(space.count == count && space.dimension == dimension)
        var visited = visitedPool.withLock { $0.popLast() } ?? VisitedSet(count: count)
        defer { visitedPool.withLock { if $0.count < 8 { $0.append(visited) } } }
        let q = space.prepare(query)
        let found: [(d: Float, id: Int32)] = q.withUnsafeBufferPointer { qp in
            let qb = qp.baseAddress!
            if let quantizer {
                let prepared = quantizer.prepare(q, metric: space.metric)
                return prepared.a.withUnsafeBufferPointer { a in
                    quantizer.scale.withUnsafeBufferPointer { s in
                        codes.withUnsafeBufferPointer { c in
                            let metric = space.metric, d = dimension, bias = prepared.bias
                            return walk(ef: ef, visited: &visited, allowed: allowed) { i in
                                quantizer.distance(a.baseAddress!, bias: bias, scale: s.baseAddress!, codes: c.baseAddress! + i * d,
                                                   metric: metric, rowNorm: space.norms?[i] ?? 1)
                            }
                        }
                    }
                }
            }
            return walk(ef: ef, visited: &visited, allowed: allowed) { i in space.distance(qb, i) }
        }
        var ranked = found
        if quantizer != nil {
            ranked = q.withUnsafeBufferPointer { qp in found.map { (d: space.distance(qp.baseAddress!, Int($0.id)), id: $0.id) } }
            ranked.sort { $0.d < $1.d || ($0.d == $1.d && $0.id < $1.id) }
        }
        return ranked.prefix(k).map { ScoredRow(row: Int($0.id), distance: space.score($0.d)) }
    }

    private func walk(ef: Int, visited: inout VisitedSet, allowed: Bitset?, dist: (Int) -> Float) -> [(d: Float, id: Int32)] {
        var current = entryPoint
        var currentD = dist(Int(current))
        for lev in stride(from: maxLevel, to: 0, by: -1) {
            (current, currentD) = Self.greedy(level0: level0, upper: upper, base: base, from: current, d: currentD, level: lev, dist: dist)
        }
        return Self.searchLayer(level0: level0, upper: upper, base: base, entry: current, entryD: currentD, ef: ef, level: 0,
                                visited: &visited, allowed: allowed, dist: dist)
    }
}
