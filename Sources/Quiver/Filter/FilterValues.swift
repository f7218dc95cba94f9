#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Value-level semantics of the filter language: ordering, equality, arithmetic and JSON paths.
enum FilterValues {
    /// Numbers compare by value (an integer equals the double with the same value), strings by
    /// their UTF-8 bytes (as Milvus does; equality is Swift's, which also equates canonically
    /// equivalent spellings), bools and lists by equality only.
    ///
    /// - Returns: the ordering (-1, 0, 1) of `a` against `b`; `nil` when either is null or the
    ///   two cannot be ordered (different kinds, or kinds without order under `op`).
    static func order(_ a: Value, _ b: Value, equalityOnly: Bool) -> Int? {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.int, .double), (.double, .int), (.double, .double):
            let x = a.doubleValue!, y = b.doubleValue!
            if x < y { return -1 }
            if x == y { return 0 }
            if x > y { return 1 }
            return nil
        case (.string(let x), .string(let y)): return x == y ? 0 : compareUTF8(x, y)
        case (.bool(let x), .bool(let y)): return equalityOnly ? (x == y ? 0 : 1) : nil
        case (.array, .array), (.object, .object):
            return equalityOnly ? (equal(a, b) ? 0 : 1) : nil
        default: return nil
        }
    }

    /// Evaluates `a op b` on two values: `nil` (unknown) when either is null; `false` for
    /// kinds that cannot be compared, except that `!=` is `true` for them.
    static func compare(_ a: Value, _ op: FilterCompareOp, _ b: Value) -> Bool? {
        if a.isNull || b.isNull { return nil }
        guard let o = order(a, b, equalityOnly: op.isEquality) else { return op == .ne }
        return op.holds(o)
    }

    /// Structural equality where numbers compare by value.
    static func equal(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            for (k, v) in x {
                guard let w = y[k], equal(v, w) else { return false }
            }
            return true
        default:
            if a.isNull || b.isNull { return a.isNull && b.isNull }
            return order(a, b, equalityOnly: true) == 0
        }
    }

    /// A canonical form for hashing: integral doubles become integers, recursively, so that a
    /// `Set<Value>` lookup agrees with ``equal(_:_:)``.
    static func normalize(_ v: Value) -> Value {
        switch v {
        case .double(let d):
            if d.rounded() == d, abs(d) < 9.2e18 { return .int(Int64(d)) }
            return v
        case .array(let items): return .array(items.map(normalize))
        case .object(let o): return .object(o.mapValues(normalize))
        case .vector(let f): return .array(f.map { normalize(.double(Double($0))) })
        default: return v
        }
    }

    /// Byte-wise comparison of the UTF-8 of a string with bytes.
    @inline(__always) static func compareUTF8(_ a: String, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        if let r = a.utf8.withContiguousStorageIfAvailable({ compareBytes($0, b) }) { return r }
        var a = a
        return a.withUTF8 { compareBytes($0, b) }
    }

    @inline(__always) static func compareBytes(_ pa: UnsafeBufferPointer<UInt8>, _ pb: UnsafeBufferPointer<UInt8>) -> Int {
        let n = min(pa.count, pb.count)
        if n > 0, let ba = pa.baseAddress, let bb = pb.baseAddress {
            let r = memcmp(ba, bb, n)
            if r != 0 { return r < 0 ? -1 : 1 }
        }
        return pa.count < pb.count ? -1 : (pa.count == pb.count ? 0 : 1)
    }

    /// Byte-wise comparison of the UTF-8 of two strings.
    @inline(__always) static func compareUTF8(_ a: String, _ b: String) -> Int {
        var a = a, b = b
        return a.withUTF8 { pa in
            b.withUTF8 { pb in
                let n = min(pa.count, pb.count)
                if n > 0, let ba = pa.baseAddress, let bb = pb.baseAddress {
                    let r = memcmp(ba, bb, n)
                    if r != 0 { return r < 0 ? -1 : 1 }
                }
                return pa.count < pb.count ? -1 : (pa.count == pb.count ? 0 : 1)
            }
        }
    }

    /// The value at `path` inside `root`; `.null` when a key or index is missing.
    @inline(__always) static func resolve(_ root: Value, _ path: [FilterNode.PathKey]) -> Value {
        if path.count == 1 {
            // The common `meta["key"]` / `tags[0]`, without the loop's copies.
            switch path[0] {
            case .key(let k):
                if case .object(let o) = root { return o[k] ?? .null }
                return .null
            case .index(let i):
                if case .array(let a) = root, i < a.count { return a[i] }
                return .null
            }
        }
        var v = root
        for key in path {
            switch (key, v) {
            case (.key(let k), .object(let o)): v = o[k] ?? .null
            case (.index(let i), .array(let a)): v = i < a.count ? a[i] : .null
            default: return .null
            }
        }
        return v
    }

    /// `a op b` on values; `.null` when an operand is null or not a number, on integer
    /// overflow and on division by zero.
    static func arith(_ op: FilterArithOp, _ a: Value, _ b: Value) -> Value {
        if case .int(let x) = a, case .int(let y) = b, op != .pow {
            if let r = intArith(op, x, y) { return .int(r) }
            return .null
        }
        guard let x = a.doubleValue, let y = b.doubleValue else { return .null }
        let r = doubleArith(op, x, y)
        return r.isFinite ? .double(r) : .null
    }

    /// Integer arithmetic; `nil` on overflow or division by zero. Division truncates.
    @inline(__always) static func intArith(_ op: FilterArithOp, _ x: Int64, _ y: Int64) -> Int64? {
        switch op {
        case .add: let (r, o) = x.addingReportingOverflow(y); return o ? nil : r
        case .sub: let (r, o) = x.subtractingReportingOverflow(y); return o ? nil : r
        case .mul: let (r, o) = x.multipliedReportingOverflow(by: y); return o ? nil : r
        case .div:
            if y == 0 { return nil }
            let (r, o) = x.dividedReportingOverflow(by: y); return o ? nil : r
        case .mod:
            if y == 0 { return nil }
            let (r, o) = x.remainderReportingOverflow(dividingBy: y); return o ? nil : r
        case .pow: return nil
        }
    }

    @inline(__always) static func doubleArith(_ op: FilterArithOp, _ x: Double, _ y: Double) -> Double {
        switch op {
        case .add: x + y
        case .sub: x - y
        case .mul: x * y
        case .div: y == 0 ? .nan : x / y
        case .mod: y == 0 ? .nan : fmod(x, y)
        case .pow: pow(x, y)
        }
    }
}
