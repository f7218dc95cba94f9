/// The fields a read returns.
struct OutputFields: Sendable {
    var schemaFields: [FieldSchema]
    /// Dynamic keys to copy from `$meta`; `nil` means all of them.
    var dynamicKeys: [String]?
    var includeDynamic: Bool

    /// Resolves user output field names; `"*"` means every field (and every dynamic key).
    static func resolve(_ names: [String]?, schema: CollectionSchema, includePrimaryKey: Bool) throws -> OutputFields {
        var fields = [FieldSchema]()
        var dynamic = [String]()
        var allDynamic = false
        var seen = Set<String>()
        func add(_ f: FieldSchema) { if seen.insert(f.name).inserted { fields.append(f) } }
        if includePrimaryKey { add(schema.primaryField) }
        for name in names ?? [] {
            if name == "*" {
                schema.fields.forEach(add)
                allDynamic = schema.enableDynamicField
            } else if let f = schema.field(named: name) {
                add(f)
            } else if schema.enableDynamicField {
                if name == dynamicFieldName { allDynamic = true } else { dynamic.append(name) }
            } else {
                throw QuiverError.invalidArgument(
                    "unknown output field '\(name)'; the fields are \(schema.fields.map(\.name).joined(separator: ", "))")
            }
        }
        return OutputFields(
            schemaFields: fields, dynamicKeys: allDynamic ? nil : dynamic,
            includeDynamic: allDynamic || !dynamic.isEmpty)
    }
}

/// A segment of a snapshot, sealed or growing, seen the same way by readers.
enum SegmentRef: Sendable {
    case sealed(SealedSegment)
    case growing(GrowingSegment)

    var rowCount: Int {
        switch self {
        case .sealed(let s): s.rowCount
        case .growing(let g): g.rowCount
        }
    }

    func column(_ name: String) -> Column? {
        switch self {
        case .sealed(let s): s.column(named: name)
        case .growing(let g): g.column(named: name)
        }
    }

    /// The stored vector of `row` in `field` (floats, or bytes for binary vectors).
    ///
    /// - Throws: `.corruption` naming the file when the row's stored vector is damaged.
    func vectorValue(_ field: FieldSchema, row: Int) throws -> Value {
        switch self {
        case .sealed(let s): return try s.vectorValue(field.name, row: row)
        case .growing(let g): return g.vectorValue(field, row: row)
        }
    }

    /// The output `fields` of `row`.
    ///
    /// - Throws: `.corruption` naming the file when a vector asked for is damaged.
    func entity(row: Int, fields: OutputFields) throws -> Row {
        var out = Row(minimumCapacity: fields.schemaFields.count)
        for field in fields.schemaFields {
            if field.dataType.isVector {
                out[field.name] = try vectorValue(field, row: row)
            } else {
                out[field.name] = column(field.name)!.value(at: row)
            }
        }
        if fields.includeDynamic, case .object(let meta)? = column(dynamicFieldName)?.value(at: row) {
            if let keys = fields.dynamicKeys {
                for key in keys { if let v = meta[key] { out[key] = v } }
            } else {
                for (k, v) in meta where out[k] == nil { out[k] = v }
            }
        }
        return out
    }
}

/// A row of a snapshot: the index of its segment in the snapshot's list, and its row there.
struct RowRef: Sendable, Hashable {
    var segment: Int32
    var row: Int32
}

/// A segment as a search sees it: the rows it may return (`nil`: all of them) and how many.
struct SearchableSegment {
    var segment: SegmentRef
    var allowed: Bitset?
    var count: Int

    init(segment: SegmentRef, allowed: Bitset?, count: Int) {
        self.segment = segment
        self.allowed = allowed
        self.count = count
    }

    /// `rows` as the allowed set, or `nil` when it holds every row of the segment.
    init(_ segment: SegmentRef, _ rows: Bitset) {
        let count = rows.cardinality
        self.init(segment: segment, allowed: count == segment.rowCount ? nil : rows, count: count)
    }
}

extension Snapshot {
    /// Whether sealed segment `i` is in `scope` (`nil`: every partition).
    private func covers(_ i: Int, _ scope: Set<UInt64>?) -> Bool {
        scope.map { $0.contains(sealedPartitions[i]) } ?? true
    }

    /// The live rows of `segment` (deleted rows `deleted`) that match `filter`, within `only`
    /// when given (the growing segment's rows of a scope).
    private static func rows(of segment: SegmentRef, deleted: Bitset, matching filter: FilterExpression, only: Bitset? = nil) -> Bitset {
        var live = deleted
        live.invert()
        if let only { live.formIntersection(only) }
        guard !filter.matchesAll else { return live }
        var rows: Bitset
        switch segment {
        case .sealed(let s): rows = filter.evaluate(on: s)
        case .growing(let g): rows = filter.evaluate(on: g)
        }
        rows.formIntersection(live)
        return rows
    }

    /// The growing segment's live rows in `scope` matching `filter`.
    private func growingRows(_ filter: FilterExpression, _ scope: Set<UInt64>?) -> Bitset {
        Self.rows(of: .growing(growing), deleted: growing.deleted, matching: filter, only: scope.map { growing.rows(in: $0) })
    }

    /// The rows a search may return, per segment (sealed in order, then growing): `nil` when that
    /// is every row, and found without touching a bitmap for a sealed segment without deletes
    /// searched without a filter (its delete count is kept by the engine) and for an empty
    /// growing segment, so such a search costs nothing proportional to the segment's rows
    /// before the scan or walk. A segment outside `scope` has no rows to search (count 0), and
    /// its filter is not evaluated.
    func searchable(_ filter: FilterExpression, scope: Set<UInt64>? = nil) -> [SearchableSegment] {
        var out = [SearchableSegment]()
        out.reserveCapacity(sealed.count + 1)
        for i in sealed.indices {
            let segment = SegmentRef.sealed(sealed[i])
            if !covers(i, scope) {
                out.append(SearchableSegment(segment: segment, allowed: Bitset(count: sealed[i].rowCount), count: 0))
            } else if filter.matchesAll && sealedDeleteCounts[i] == 0 {
                out.append(SearchableSegment(segment: segment, allowed: nil, count: sealed[i].rowCount))
            } else {
                out.append(SearchableSegment(segment, Self.rows(of: segment, deleted: sealedDeletes[i], matching: filter)))
            }
        }
        if growing.rowCount == 0 {
            out.append(SearchableSegment(segment: .growing(growing), allowed: nil, count: 0))
        } else {
            out.append(SearchableSegment(.growing(growing), growingRows(filter, scope)))
        }
        return out
    }

    /// The live rows matching `filter` in the partitions of `scope` (`nil`: all), per segment;
    /// the segments outside it are left out.
    func matching(_ filter: FilterExpression, scope: Set<UInt64>? = nil) -> [(segment: SegmentRef, rows: Bitset)] {
        var out = [(segment: SegmentRef, rows: Bitset)]()
        for i in sealed.indices where covers(i, scope) {
            out.append((.sealed(sealed[i]), Self.rows(of: .sealed(sealed[i]), deleted: sealedDeletes[i], matching: filter)))
        }
        out.append((.growing(growing), growingRows(filter, scope)))
        return out
    }
}

extension CollectionEngine {
    /// The live rows with `keys` (in the order of `keys`, missing ones and those outside `scope`
    /// skipped).
    func get(keys: [PrimaryKey], fields: OutputFields, filter: FilterExpression?, scope: Set<UInt64>? = nil) throws -> [Row] {
        try ensurePrimaryKeyIndexForReading()
        let (snap, locations): (Snapshot, [RowLocation]) = try state.withLock { s in
            guard !s.closed else { throw QuiverError(.closed, "the collection is closed or was dropped") }
            let snap = Snapshot(
                schema: schema, metric: metric, sealed: s.sealed, sealedDeletes: s.sealedDeletes,
                sealedDeleteCounts: s.sealedDeleteCounts, sealedPartitions: s.manifest.segments.map(\.partition), growing: s.growing)
            var seen = Set<PrimaryKey>()
            return (snap, keys.compactMap { key in
                guard seen.insert(key).inserted, let location = s.pkIndex[key] else { return nil }
                return scope.map { $0.contains(s.partition(of: location)) } ?? true ? location : nil
            })
        }
        var byID = [UInt64: SegmentRef]()
        for seg in snap.sealed { byID[seg.id] = .sealed(seg) }
        byID[RowLocation.growing] = .growing(snap.growing)
        var out = [Row]()
        var matches = [UInt64: Bitset]()
        for location in locations {
            let segment = byID[location.segment]!
            let row = Int(location.row)
            if let filter, !filter.matchesAll {
                if matches[location.segment] == nil {
                    switch segment {
                    case .sealed(let s): matches[location.segment] = filter.evaluate(on: s)
                    case .growing(let g): matches[location.segment] = filter.evaluate(on: g)
                    }
                }
                if !matches[location.segment]![row] { continue }
            }
            out.append(try segment.entity(row: row, fields: fields))
        }
        return out
    }

    /// Verifies what opening left to first use: every sealed segment's vectors, every HNSW
    /// index file's layer-0 links and codes, and that no primary key is live in two rows (by
    /// building the primary-key index) (`Database.verify`).
    func verify() throws {
        try ensurePrimaryKeyIndexForReading()
        let snap = try snapshot()
        for segment in snap.sealed {
            for field in schema.vectorFields { try segment.verifyVectors(field.name) }
            for index in (snap.indexes[segment.id] ?? [:]).values { try index.verifyAll() }
        }
    }

    /// The number of live rows matching `filter` in `scope`.
    func count(filter: FilterExpression, scope: Set<UInt64>? = nil) throws -> Int {
        if filter.matchesAll && scope == nil { return try state.withLock { s in
            guard !s.closed else { throw QuiverError(.closed, "the collection is closed or was dropped") }
            return s.liveRowCount
        } }
        return try snapshot().matching(filter, scope: scope).reduce(0) { $0 + $1.rows.cardinality }
    }

    /// Rows matching `filter` in `scope` in storage order, after skipping `offset`, at most `limit`.
    func query(filter: FilterExpression, limit: Int?, offset: Int, fields: OutputFields, scope: Set<UInt64>? = nil) throws -> [Row] {
        var out = [Row]()
        var skipped = 0
        for (segment, rows) in try snapshot().matching(filter, scope: scope) {
            var done = false
            var picked = [Int]()
            rows.forEachSet { row in
                guard !done else { return }
                if skipped < offset { skipped += 1; return }
                picked.append(row)
                if let limit, out.count + picked.count >= limit { done = true }
            }
            for row in picked { out.append(try segment.entity(row: row, fields: fields)) }
            if done { break }
        }
        return out
    }

    /// Where the live rows of `snap` matching `filter` are, in primary-key order: the walk of a
    /// query iterator; only the first `limit` of them when given.
    ///
    /// - Complexity: O(rows × log rows) for the sort, or O(rows × log `limit`) with a limit
    ///   smaller than the matching rows (a page of `quiver serve`'s query iterator, which pymilvus
    ///   asks for once per batch); 8 bytes per row kept.
    static func keyOrder(
        _ snap: Snapshot, filter: FilterExpression, scope: Set<UInt64>? = nil, limit: Int? = nil
    ) -> (segments: [SegmentRef], rows: [RowRef]) {
        let pk = snap.schema.primaryField.name
        let matching = snap.matching(filter, scope: scope)
        let count = matching.reduce(0) { $0 + $1.rows.cardinality }
        var keyed = [(key: PrimaryKey, at: RowRef)]()
        if let limit, limit < count {
            // The `limit` smallest keys: a max-heap of them (the largest at the root), then sorted.
            keyed.reserveCapacity(limit)
            for (i, (segment, rows)) in matching.enumerated() {
                let column = segment.column(pk)!
                rows.forEachSet { row in
                    let item = (key: CollectionEngine.primaryKey(column, row), at: RowRef(segment: Int32(i), row: Int32(row)))
                    if keyed.count < limit {
                        keyed.append(item)
                        siftUp(&keyed, from: keyed.count - 1)
                    } else if limit > 0 && item.key < keyed[0].key {
                        keyed[0] = item
                        siftDown(&keyed, from: 0)
                    }
                }
            }
        } else {
            keyed.reserveCapacity(count)
            for (i, (segment, rows)) in matching.enumerated() {
                let column = segment.column(pk)!
                rows.forEachSet { keyed.append((CollectionEngine.primaryKey(column, $0), RowRef(segment: Int32(i), row: Int32($0)))) }
            }
        }
        keyed.sort { $0.key < $1.key }
        return (matching.map(\.segment), keyed.map(\.at))
    }

    /// Restores the max-heap order (by key) of `heap` after the element at `i` grew.
    private static func siftUp(_ heap: inout [(key: PrimaryKey, at: RowRef)], from i: Int) {
        var child = i
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[parent].key < heap[child].key else { return }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    /// Restores the max-heap order (by key) of `heap` after the element at `i` shrank.
    private static func siftDown(_ heap: inout [(key: PrimaryKey, at: RowRef)], from i: Int) {
        var parent = i
        while true {
            let left = 2 * parent + 1, right = left + 1
            var largest = parent
            if left < heap.count && heap[largest].key < heap[left].key { largest = left }
            if right < heap.count && heap[largest].key < heap[right].key { largest = right }
            if largest == parent { return }
            heap.swapAt(parent, largest)
            parent = largest
        }
    }

    /// The primary keys of the live rows matching `filter` in `scope`.
    func keys(matching filter: FilterExpression, scope: Set<UInt64>? = nil) throws -> [PrimaryKey] {
        let pk = schema.primaryField.name
        var out = [PrimaryKey]()
        for (segment, rows) in try snapshot().matching(filter, scope: scope) {
            let column = segment.column(pk)!
            rows.forEachSet { out.append(CollectionEngine.primaryKey(column, $0)) }
        }
        return out
    }

    func stats() throws -> CollectionStats {
        try state.withLock { s in
            guard !s.closed else { throw QuiverError(.closed, "the collection is closed or was dropped") }
            return CollectionStats(
                rowCount: s.liveRowCount, segmentCount: s.sealed.count, growingRowCount: s.growing.rowCount, flushError: s.flushError)
        }
    }
}
