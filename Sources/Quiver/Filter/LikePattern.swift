/// A compiled `LIKE` pattern: `%` matches any run of characters, `_` exactly one character
/// (one Unicode scalar), `\%`, `\_` and `\\` match themselves. Matching is on UTF-8 bytes.
///
/// Patterns of the common shapes — exact, `abc%`, `%abc`, `%abc%` — use byte comparisons and a
/// substring search; others use the greedy wildcard algorithm with one backtrack point, which is
/// O(text × pattern) in the worst case and never recursive.
struct LikePattern: Sendable, Hashable {
    enum Shape: Sendable, Hashable {
        case exact([UInt8])
        case prefix([UInt8])
        case suffix([UInt8])
        case infix([UInt8])
        case general([Element])
    }

    enum Element: Sendable, Hashable {
        case byte(UInt8)
        case anyChar
        case anyRun
    }

    let shape: Shape

    init(_ pattern: String) {
        var elements = [Element]()
        var bytes = Array(pattern.utf8)[...]
        while let c = bytes.popFirst() {
            switch c {
            case UInt8(ascii: "\\"):
                if let n = bytes.first, n == UInt8(ascii: "%") || n == UInt8(ascii: "_") || n == UInt8(ascii: "\\") {
                    elements.append(.byte(n))
                    bytes.removeFirst()
                } else {
                    elements.append(.byte(c))
                }
            case UInt8(ascii: "%"):
                if elements.last != .anyRun { elements.append(.anyRun) }
            case UInt8(ascii: "_"): elements.append(.anyChar)
            default: elements.append(.byte(c))
            }
        }
        let literal: (ArraySlice<Element>) -> [UInt8]? = { slice in
            var out = [UInt8]()
            for e in slice {
                guard case .byte(let b) = e else { return nil }
                out.append(b)
            }
            return out
        }
        let runs = elements.indices.filter { elements[$0] == .anyRun }
        if runs.isEmpty, let lit = literal(elements[...]) {
            shape = .exact(lit)
        } else if runs == [elements.count - 1], let lit = literal(elements.dropLast()) {
            shape = .prefix(lit)
        } else if runs == [0], let lit = literal(elements.dropFirst()) {
            shape = .suffix(lit)
        } else if runs.count == 2, runs[0] == 0, runs[1] == elements.count - 1, let lit = literal(elements.dropFirst().dropLast()) {
            shape = .infix(lit)
        } else {
            shape = .general(elements)
        }
    }

    func matches(_ s: String) -> Bool {
        if let r = s.utf8.withContiguousStorageIfAvailable({ matches(bytes: $0) }) { return r }
        var s = s
        return s.withUTF8 { matches(bytes: $0) }
    }

    func matches(bytes t: UnsafeBufferPointer<UInt8>) -> Bool {
        switch shape {
        case .exact(let p):
            return t.count == p.count && t.elementsEqual(p)
        case .prefix(let p):
            return t.count >= p.count && t.prefix(p.count).elementsEqual(p)
        case .suffix(let p):
            return t.count >= p.count && t.suffix(p.count).elementsEqual(p)
        case .infix(let p):
            return Self.find(p, in: t)
        case .general(let p):
            return Self.wildcard(p, t)
        }
    }

    private static func find(_ p: [UInt8], in t: UnsafeBufferPointer<UInt8>) -> Bool {
        if p.isEmpty { return true }
        guard t.count >= p.count else { return false }
        let first = p[0]
        var i = 0
        let last = t.count - p.count
        while i <= last {
            if t[i] == first {
                var j = 1
                while j < p.count && t[i + j] == p[j] { j += 1 }
                if j == p.count { return true }
            }
            i += 1
        }
        return false
    }

    /// Length of the UTF-8 sequence starting at `i` (at least 1, at most what remains).
    @inline(__always) private static func charLength(_ t: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        var j = i + 1
        while j < t.count, t[j] & 0xC0 == 0x80 { j += 1 }
        return j - i
    }

    private static func wildcard(_ p: [Element], _ t: UnsafeBufferPointer<UInt8>) -> Bool {
        var ti = 0, pi = 0
        var starP = -1, starT = 0
        while ti < t.count {
            if pi < p.count {
                switch p[pi] {
                case .byte(let b) where b == t[ti]:
                    ti += 1; pi += 1; continue
                case .anyChar:
                    ti += charLength(t, ti); pi += 1; continue
                case .anyRun:
                    starP = pi; starT = ti; pi += 1; continue
                default: break
                }
            }
            guard starP >= 0 else { return false }
            // Let the last % absorb one more character and retry after it.
            starT += charLength(t, starT)
            ti = starT
            pi = starP + 1
        }
        while pi < p.count, p[pi] == .anyRun { pi += 1 }
        return pi == p.count
    }
}
