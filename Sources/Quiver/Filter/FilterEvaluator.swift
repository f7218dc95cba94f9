/// Evaluates a ``FilterPredicate`` over the columns of one segment into bitsets.
///
/// Each predicate yields a three-valued result: `matches` (true rows) and `unknown` (rows where
/// a null took part); every other row is false. Leaves work column-at-a-time over the typed
/// arrays of `Column`, building result words 64 rows at a time; comparisons and `IN` of a
/// numeric field with constants consult the sealed segment's per-block min/max statistics and
/// skip blocks that cannot match. `AND` narrows later conjuncts to the rows still open
/// (``mask``). Recursion follows the tree, whose height the parser bounds.
struct FilterEvaluator<Segment: SegmentColumns> {
    let segment: Segment
    let rowCount: Int
    /// When set, only these rows need correct results; others may hold anything. `AND` sets it
    /// to the rows still true or unknown, so later conjuncts only look at those rows.
    var mask: Bitset? = nil

    init(segment: Segment) {
        self.segment = segment
        rowCount = segment.rowCount
    }

    struct Truth {
        var matches: Bitset
        /// `nil` when no row is unknown.
        var unknown: Bitset?

        /// Rows that are false (neither true nor unknown).
        var falses: Bitset {
            var f = matches
            if let unknown { f.formUnion(unknown) }
            f.invert()
            return f
        }
    }

    /// One value per row, in the cheapest form available.
    enum Vector {
        case bools([Bool], nulls: Bitset?)
        case ints([Int64], nulls: Bitset?)
        case floats([Float], nulls: Bitset?)
        case doubles([Double], nulls: Bitset?)
        case strings([String], nulls: Bitset?)
        /// JSON or array values, read at `path` (empty: the values themselves); `.null` for
        /// null or missing. Paths resolve on access, so no per-row array is built.
        case values([Value], path: [FilterNode.PathKey])
        case constant(Value)

        @inline(__always) func value(at row: Int) -> Value {
            switch self {
            case .bools(let a, let n): return n?[row] == true ? .null : .bool(a[row])
            case .ints(let a, let n): return n?[row] == true ? .null : .int(a[row])
            case .floats(let a, let n): return n?[row] == true ? .null : .double(Double(a[row]))
            case .doubles(let a, let n): return n?[row] == true ? .null : .double(a[row])
            case .strings(let a, let n): return n?[row] == true ? .null : .string(a[row])
            case .values(let a, let path): return path.isEmpty ? a[row] : FilterValues.resolve(a[row], path)
            case .constant(let v): return v
            }
        }

        var nulls: Bitset? {
            switch self {
            case .bools(_, let n), .ints(_, let n), .floats(_, let n), .doubles(_, let n), .strings(_, let n): n
            case .values, .constant: nil
            }
        }
    }

    // MARK: Predicates

    func evaluate(_ p: FilterPredicate) -> Truth {
        switch p {
        case .constant(let b):
            return Truth(matches: Bitset(count: rowCount, allSet: b), unknown: nil)
        case .not(let inner):
            let t = evaluate(inner)
            return Truth(matches: t.falses, unknown: t.unknown)
        case .and(let items):
            var acc = evaluate(items[0])
            for item in items.dropFirst() {
                // Rows false so far stay false: evaluate the rest only where the result is open.
                var open = acc.matches
                if let u = acc.unknown { open.formUnion(u) }
                if let mask { open.formIntersection(mask) }
                let openCount = open.cardinality
                if openCount == 0 { break }
                var sub = self
                sub.mask = openCount * 8 <= rowCount ? open : mask
                let t = sub.evaluate(item)
                // unknown = (uA | uB) minus rows false on either side.
                var unknown: Bitset? = nil
                if acc.unknown != nil || t.unknown != nil {
                    var u = acc.unknown ?? Bitset(count: rowCount)
                    if let tu = t.unknown { u.formUnion(tu) }
                    var trueOrUnknownA = acc.matches
                    if let au = acc.unknown { trueOrUnknownA.formUnion(au) }
                    var trueOrUnknownB = t.matches
                    if let tu = t.unknown { trueOrUnknownB.formUnion(tu) }
                    u.formIntersection(trueOrUnknownA)
                    u.formIntersection(trueOrUnknownB)
                    unknown = u.isEmpty ? nil : u
                }
                acc.matches.formIntersection(t.matches)
                acc.unknown = unknown
            }
            return acc
        case .or(let items):
            var acc = evaluate(items[0])
            for item in items.dropFirst() {
                if acc.matches.cardinality == rowCount { break }
                let t = evaluate(item)
                acc.matches.formUnion(t.matches)
                if acc.unknown != nil || t.unknown != nil {
                    var u = acc.unknown ?? Bitset(count: rowCount)
                    if let tu = t.unknown { u.formUnion(tu) }
                    u.subtract(acc.matches)
                    acc.unknown = u.isEmpty ? nil : u
                }
            }
            return acc
        case .compare(let op, let a, let b):
            return compare(op, a, b)
        case .inSet(let a, let values, let negated):
            let t = inSet(a, values)
            return negated ? Truth(matches: t.falses, unknown: t.unknown) : t
        case .like(let a, let pattern):
            return like(a, pattern)
        case .isNull(let a, let negated):
            var nulls = nullRows(of: vector(a))
            if negated { nulls.invert() }
            return Truth(matches: nulls, unknown: nil)
        case .exists(let a):
            var nulls = nullRows(of: vector(a))
            nulls.invert()
            return Truth(matches: nulls, unknown: nil)
        case .contains(let mode, let a, let values):
            return contains(mode, a, values)
        case .text(let a, let matcher):
            return like(a) { matcher.matches($0) }
        case .truthy(let a):
            switch vector(a) {
            case .bools(let v, let nulls):
                var m = fill(nil) { v[$0] }
                if let nulls { m.subtract(nulls) }
                return Truth(matches: m, unknown: nulls)
            case let vec:
                return rowwise(vec) { v in
                    if case .bool(let b) = v { return b }
                    return v.isNull ? nil : false
                }
            }
        }
    }

    // MARK: Operands

    func vector(_ o: FilterOperand) -> Vector {
        switch o {
        case .constant(let v):
            return .constant(v)
        case .column(let name, _):
            guard let column = segment.column(named: name) else { return allNull }
            switch column.storage {
            case .bool(let a): return .bools(a, nulls: column.nulls)
            case .int(let a): return .ints(a, nulls: column.nulls)
            case .float(let a): return .floats(a, nulls: column.nulls)
            case .double(let a): return .doubles(a, nulls: column.nulls)
            case .string(let a): return .strings(a, nulls: column.nulls)
            case .value(let a): return .values(a, path: [])
            case .sparse: return allNull  // refused by the checker: no filter reads a sparse field
            }
        case .path(let name, let path):
            return .values(rawValues(name), path: path)
        case .arrayColumn(let name, _):
            return .values(rawValues(name), path: [])
        case .arrayElement(let name, let index, _):
            return .values(rawValues(name), path: [.index(index)])
        case .arrayLength(let inner):
            let values = vector(inner)
            var lengths = [Int64](repeating: 0, count: rowCount)
            let nulls = fill(nil) { i in
                if case .array(let a) = values.value(at: i) { lengths[i] = Int64(a.count); return false }
                return true
            }
            return .ints(lengths, nulls: nulls.isEmpty ? nil : nulls)
        case .negate(let inner):
            return arith(.sub, .constant(.int(0)), vector(inner))
        case .arith(let op, let a, let b):
            return arith(op, vector(a), vector(b))
        }
    }

    /// The values of a JSON or array column (missing column: all null).
    private func rawValues(_ name: String) -> [Value] {
        guard let column = segment.column(named: name) else { return Array(repeating: .null, count: rowCount) }
        if case .value(let a) = column.storage {
            guard let nulls = column.nulls else { return a }
            var copy = a
            nulls.forEachSet { copy[$0] = .null }
            return copy
        }
        // Typed storage (never for JSON and array fields, but be total).
        return (0..<rowCount).map { column.value(at: $0) }
    }

    private func arith(_ op: FilterArithOp, _ a: Vector, _ b: Vector) -> Vector {
        func unionNulls(_ x: Bitset?, _ y: Bitset?) -> Bitset {
            var n = x ?? Bitset(count: rowCount)
            if let y { n.formUnion(y) }
            return n
        }
        // Integer fast path.
        if op != .pow, let (x, xn) = intView(a), let (y, yn) = intView(b) {
            var nulls = unionNulls(xn, yn)
            var out = [Int64](repeating: 0, count: rowCount)
            for i in 0..<rowCount {
                if let r = FilterValues.intArith(op, x(i), y(i)) { out[i] = r } else { nulls[i] = true }
            }
            return .ints(out, nulls: nulls.isEmpty ? nil : nulls)
        }
        // Floating-point fast path (no JSON involved).
        if let (x, xn) = doubleView(a), let (y, yn) = doubleView(b) {
            var nulls = unionNulls(xn, yn)
            var out = [Double](repeating: 0, count: rowCount)
            for i in 0..<rowCount {
                let r = FilterValues.doubleArith(op, x(i), y(i))
                if r.isFinite { out[i] = r } else { nulls[i] = true }
            }
            return .doubles(out, nulls: nulls.isEmpty ? nil : nulls)
        }
        return .values((0..<rowCount).map { FilterValues.arith(op, a.value(at: $0), b.value(at: $0)) }, path: [])
    }

    private func intView(_ v: Vector) -> ((Int) -> Int64, Bitset?)? {
        switch v {
        case .ints(let a, let n): return ({ a[$0] }, n)
        case .constant(.int(let c)): return ({ _ in c }, nil)
        default: return nil
        }
    }

    private func doubleView(_ v: Vector) -> ((Int) -> Double, Bitset?)? {
        switch v {
        case .ints(let a, let n): return ({ Double(a[$0]) }, n)
        case .floats(let a, let n): return ({ Double(a[$0]) }, n)
        case .doubles(let a, let n): return ({ a[$0] }, n)
        case .constant(.int(let c)): let d = Double(c); return ({ _ in d }, nil)
        case .constant(.double(let d)): return ({ _ in d }, nil)
        default: return nil
        }
    }

    private func nullRows(of v: Vector) -> Bitset {
        switch v {
        case .values:
            return fill(nil) { v.value(at: $0).isNull }
        case .constant(let c):
            return Bitset(count: rowCount, allSet: c.isNull)
        default:
            return v.nulls ?? Bitset(count: rowCount)
        }
    }

    // MARK: Kernels

    /// A bitset with bit `i` set where `test(i)`, for the rows in `ranges` (all rows when nil).
    @inline(__always) private func fill(_ ranges: [Range<Int>]?, _ test: (Int) -> Bool) -> Bitset {
        var out = Bitset(count: rowCount)
        if let mask {
            out.words.withUnsafeMutableBufferPointer { words in
                mask.forEachSet { i in if test(i) { words[i >> 6] |= 1 << UInt64(i & 63) } }
            }
            return out
        }
        out.words.withUnsafeMutableBufferPointer { words in
            for range in ranges ?? [0..<rowCount] {
                var i = range.lowerBound
                while i < range.upperBound {
                    let w = i >> 6
                    let end = Swift.min(range.upperBound, (w + 1) << 6)
                    var word: UInt64 = 0
                    while i < end {
                        if test(i) { word |= 1 << UInt64(i & 63) }
                        i += 1
                    }
                    words[w] |= word
                }
            }
        }
        return out
    }

    /// Three-valued result of `test` on each row's value (`nil` = unknown).
    private func rowwise(_ v: Vector, _ test: (Value) -> Bool?) -> Truth {
        rowwise { test(v.value(at: $0)) }
    }

    /// Three-valued result of `test` on each row (`nil` = unknown), built a word at a time.
    @inline(__always) private func rowwise(_ test: (Int) -> Bool?) -> Truth {
        var matches = Bitset(count: rowCount)
        var unknown = Bitset(count: rowCount)
        var anyUnknown = false
        if let mask {
            mask.forEachSet { i in
                switch test(i) {
                case .some(true): matches[i] = true
                case .some(false): break
                case .none: unknown[i] = true; anyUnknown = true
                }
            }
            return Truth(matches: matches, unknown: anyUnknown ? unknown : nil)
        }
        var i = 0
        while i < rowCount {
            let w = i >> 6
            let end = Swift.min(rowCount, (w + 1) << 6)
            var t: UInt64 = 0, u: UInt64 = 0
            while i < end {
                switch test(i) {
                case .some(true): t |= 1 << UInt64(i & 63)
                case .some(false): break
                case .none: u |= 1 << UInt64(i & 63)
                }
                i += 1
            }
            matches.words[w] = t
            unknown.words[w] = u
            if u != 0 { anyUnknown = true }
        }
        return Truth(matches: matches, unknown: anyUnknown ? unknown : nil)
    }

    private var allNull: Vector { .values(Array(repeating: .null, count: rowCount), path: []) }

    @inline(__always) private func compareKernel<T: Comparable>(
        _ a: UnsafeBufferPointer<T>, _ op: FilterCompareOp, _ c: T, _ ranges: [Range<Int>]?
    ) -> Bitset {
        switch op {
        case .eq: fill(ranges) { a[$0] == c }
        case .ne: fill(ranges) { a[$0] != c }
        case .lt: fill(ranges) { a[$0] < c }
        case .le: fill(ranges) { a[$0] <= c }
        case .gt: fill(ranges) { a[$0] > c }
        case .ge: fill(ranges) { a[$0] >= c }
        }
    }

    /// The row ranges of blocks whose min/max admit `x op c`; `nil` when there are no statistics.
    private func candidateBlocks(_ name: String, _ op: FilterCompareOp, _ c: Double) -> [Range<Int>]? {
        // Non-strict tests: Double rounding of 64-bit integers is monotonic but not exact.
        candidateBlocks(name) { lo, hi in
            switch op {
            case .eq: lo <= c && c <= hi
            case .ne: true
            case .lt, .le: lo <= c
            case .gt, .ge: hi >= c
            }
        }
    }

    /// The row ranges of blocks whose min/max admit one of `sorted` (ascending).
    private func candidateBlocks(_ name: String, anyOf sorted: [Double]) -> [Range<Int>]? {
        candidateBlocks(name) { lo, hi in
            // The first value >= lo, by binary search; the block can match if it is <= hi.
            var l = 0, h = sorted.count
            while l < h {
                let m = (l + h) / 2
                if sorted[m] < lo { l = m + 1 } else { h = m }
            }
            return l < sorted.count && sorted[l] <= hi
        }
    }

    /// The row ranges of blocks for which `possible(min, max)`; `nil` when there are no
    /// statistics or every block qualifies.
    private func candidateBlocks(_ name: String, _ possible: (Double, Double) -> Bool) -> [Range<Int>]? {
        guard let stats = segment.blockStats(named: name), !stats.isEmpty else { return nil }
        var ranges = [Range<Int>]()
        for block in stats where block.firstRow >= 0 && block.firstRow < rowCount && block.rowCount > 0 {
            let range = block.firstRow..<Swift.min(block.firstRow + block.rowCount, rowCount)
            guard !range.isEmpty else { continue }
            guard let lo = block.min?.doubleValue, let hi = block.max?.doubleValue else {
                // Every row null (or no order): nothing can match. Keep the block if unsure.
                if block.nullCount >= block.rowCount { continue }
                ranges.append(range)
                continue
            }
            if possible(lo, hi) {
                if let last = ranges.last, last.upperBound == range.lowerBound {
                    ranges[ranges.count - 1] = last.lowerBound..<range.upperBound
                } else {
                    ranges.append(range)
                }
            }
        }
        if ranges.count == 1, ranges[0] == 0..<rowCount { return nil }
        return ranges
    }

    private func withNulls(_ m: Bitset, _ nulls: Bitset?) -> Truth {
        guard let nulls, !nulls.isEmpty else { return Truth(matches: m, unknown: nil) }
        var m = m
        m.subtract(nulls)
        return Truth(matches: m, unknown: nulls)
    }

    private func compare(_ op: FilterCompareOp, _ ao: FilterOperand, _ bo: FilterOperand) -> Truth {
        let a = vector(ao), b = vector(bo)
        let columnName: String? = if case .column(let n, _) = ao { n } else { nil }
        switch (a, b) {
        case (.ints(let x, let n), .constant(let c)):
            if case .int(let ci) = c {
                let blocks = columnName.flatMap { candidateBlocks($0, op, Double(ci)) }
                return withNulls(x.withUnsafeBufferPointer { compareKernel($0, op, ci, blocks) }, n)
            }
            if case .double(let cd) = c {
                let blocks = columnName.flatMap { candidateBlocks($0, op, cd) }
                let m = x.withUnsafeBufferPointer { p in fill(blocks) { i in op.holds(Self.order(Double(p[i]), cd)) } }
                return withNulls(m, n)
            }
        case (.floats(let x, let n), .constant(let c)):
            if let cd = c.doubleValue {
                let cf = Float(cd)
                let blocks = columnName.flatMap { candidateBlocks($0, op, Double(cf)) }
                return withNulls(x.withUnsafeBufferPointer { compareKernel($0, op, cf, blocks) }, n)
            }
        case (.doubles(let x, let n), .constant(let c)):
            if let cd = c.doubleValue {
                let blocks = columnName.flatMap { candidateBlocks($0, op, cd) }
                return withNulls(x.withUnsafeBufferPointer { compareKernel($0, op, cd, blocks) }, n)
            }
        case (.strings(let x, let n), .constant(.string(let c))):
            let bytes = Array(c.utf8)
            let m = bytes.withUnsafeBufferPointer { cb in
                if op.isEquality {
                    // String equality is Swift's (Unicode canonical equivalence), as for IN.
                    let want = op == .eq
                    return fill(nil) { (x[$0] == c) == want }
                }
                return fill(nil) { op.holds(FilterValues.compareUTF8(x[$0], cb)) }
            }
            return withNulls(m, n)
        case (.bools(let x, let n), .constant(.bool(let c))):
            return withNulls(fill(nil) { op == .eq ? x[$0] == c : x[$0] != c }, n)
        case (.ints(let x, let xn), .ints(let y, let yn)):
            var nulls = xn ?? Bitset(count: rowCount)
            if let yn { nulls.formUnion(yn) }
            return withNulls(fill(nil) { op.holds(x[$0] < y[$0] ? -1 : (x[$0] == y[$0] ? 0 : 1)) }, nulls)
        default:
            break
        }
        if case .values(let values, let path) = a, case .constant(let c) = b {
            // JSON path against a constant: one loop, no per-row dispatch on the vector kind.
            return values.withUnsafeBufferPointer { p in
                rowwise { i in FilterValues.compare(path.isEmpty ? p[i] : FilterValues.resolve(p[i], path), op, c) }
            }
        }
        if let (x, xn) = doubleView(a), let (y, yn) = doubleView(b) {
            var nulls = xn ?? Bitset(count: rowCount)
            if let yn { nulls.formUnion(yn) }
            return withNulls(fill(nil) { op.holds(Self.order(x($0), y($0))) }, nulls)
        }
        return compareRowwise(op, a, b)
    }

    /// -1/0/1, or 2 (no relation holds except `!=`) for NaN.
    @inline(__always) private static func order(_ x: Double, _ y: Double) -> Int {
        x < y ? -1 : (x == y ? 0 : (x > y ? 1 : 2))
    }

    private func compareRowwise(_ op: FilterCompareOp, _ a: Vector, _ b: Vector) -> Truth {
        if case .constant(let c) = b {
            return rowwise { FilterValues.compare(a.value(at: $0), op, c) }
        }
        return rowwise { FilterValues.compare(a.value(at: $0), op, b.value(at: $0)) }
    }

    private func inSet(_ ao: FilterOperand, _ values: [Value]) -> Truth {
        let a = vector(ao)
        let columnName: String? = if case .column(let n, _) = ao { n } else { nil }
        switch a {
        case .ints(let x, let n):
            let wanted = values.compactMap { v -> Int64? in if case .int(let i) = v { i } else { nil } }
            let blocks = columnName.flatMap { candidateBlocks($0, anyOf: wanted.map(Double.init).sorted()) }
            if wanted.count <= 8 {
                // A short list: a linear scan beats hashing.
                return withNulls(fill(blocks) { row in let v = x[row]; return wanted.contains { $0 == v } }, n)
            }
            let set = Set(wanted)
            return withNulls(fill(blocks) { set.contains(x[$0]) }, n)
        case .floats(let x, let n):
            let set = Set(values.compactMap { $0.doubleValue.map { Float($0) } })
            let blocks = columnName.flatMap { candidateBlocks($0, anyOf: set.map(Double.init).sorted()) }
            return withNulls(fill(blocks) { set.contains(x[$0]) }, n)
        case .doubles(let x, let n):
            let set = Set(values.compactMap(\.doubleValue))
            let blocks = columnName.flatMap { candidateBlocks($0, anyOf: set.sorted()) }
            return withNulls(fill(blocks) { set.contains(x[$0]) }, n)
        case .strings(let x, let n):
            let wanted = values.compactMap(\.stringValue)
            if wanted.count <= 8 {
                return withNulls(fill(nil) { row in let v = x[row]; return wanted.contains { $0 == v } }, n)
            }
            let set = Set(wanted)
            return withNulls(fill(nil) { set.contains(x[$0]) }, n)
        default:
            let set = Set(values)
            return rowwise(a) { v in v.isNull ? nil : set.contains(FilterValues.normalize(v)) }
        }
    }

    private func like(_ ao: FilterOperand, _ pattern: LikePattern) -> Truth {
        like(ao) { pattern.matches($0) }
    }

    /// A test of each row's string: `LIKE`, `text_match`, `phrase_match` (null is unknown).
    private func like(_ ao: FilterOperand, _ test: (String) -> Bool) -> Truth {
        switch vector(ao) {
        case .strings(let x, let n):
            return withNulls(fill(nil) { test(x[$0]) }, n)
        case let v:
            return rowwise(v) { value in
                if case .string(let s) = value { return test(s) }
                return value.isNull ? nil : false
            }
        }
    }

    private func contains(_ mode: FilterContainsMode, _ ao: FilterOperand, _ values: [Value]) -> Truth {
        rowwise(vector(ao)) { v in
            guard case .array(let items) = v else { return v.isNull ? nil : false }
            let has: (Value) -> Bool = { needle in
                switch needle {
                case .string(let n): return items.contains { if case .string(let x) = $0 { x == n } else { false } }
                case .int(let n): return items.contains { if case .int(let x) = $0 { x == n } else { FilterValues.equal($0, needle) } }
                default: return items.contains { FilterValues.equal($0, needle) }
                }
            }
            switch mode {
            case .one: return has(values[0])
            case .all: return values.allSatisfy(has)
            case .any: return values.contains(where: has)
            }
        }
    }
}
