import Testing
@testable import Quiver

/// Random filters over random data, checked against a row-at-a-time three-valued model,
/// on segments with and without block statistics.
@Suite struct FilterModelTests {
    static let schema = try! CollectionSchema(
        fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
            FieldSchema(name: "v", dataType: .floatVector(dimension: 1)),
            FieldSchema(name: "a", dataType: .int64, nullable: true),
            FieldSchema(name: "b", dataType: .double, nullable: true),
            FieldSchema(name: "c", dataType: .float),
            FieldSchema(name: "s", dataType: .varchar(maxLength: 8), nullable: true),
        ],
        enableDynamicField: true)

    static let strings = ["", "a", "ab", "abc", "b", "ba", "x%", "é"]

    /// A generated filter: its text and its meaning on a row (nil = unknown).
    indirect enum Model {
        case cmp(String, FilterCompareOp, Value)
        case range(Value, Bool, String, Bool, Value)  // lo <(=) f <(=) hi
        case inList(String, [Value], Bool)
        case isNull(String, Bool)
        case like(String, String)
        case not(Model)
        case and(Model, Model)
        case or(Model, Model)

        var text: String {
            switch self {
            case .cmp(let f, let op, let v): "\(f) \(Self.spell(op)) \(Self.lit(v))"
            case .range(let lo, let loStrict, let f, let hiStrict, let hi):
                "\(Self.lit(lo)) \(loStrict ? "<" : "<=") \(f) \(hiStrict ? "<" : "<=") \(Self.lit(hi))"
            case .inList(let f, let vs, let neg): "\(f) \(neg ? "not in" : "in") [\(vs.map(Self.lit).joined(separator: ", "))]"
            case .isNull(let f, let neg): "\(f) \(neg ? "is not null" : "is null")"
            case .like(let f, let p): "\(f) like \(Self.lit(.string(p)))"
            case .not(let m): "not (\(m.text))"
            case .and(let x, let y): "(\(x.text)) and (\(y.text))"
            case .or(let x, let y): "(\(x.text)) or (\(y.text))"
            }
        }

        static func spell(_ op: FilterCompareOp) -> String {
            switch op {
            case .eq: "=="
            case .ne: "!="
            case .lt: "<"
            case .le: "<="
            case .gt: ">"
            case .ge: ">="
            }
        }

        static func lit(_ v: Value) -> String {
            switch v {
            case .int(let i): "\(i)"
            case .double(let d): "\(d)"
            case .string(let s): "\"\(s)\""
            default: "?"
            }
        }

        func eval(_ row: Row) -> Bool? {
            func num(_ v: Value?) -> Double? { v?.doubleValue }
            switch self {
            case .cmp(let f, let op, let c):
                guard let v = row[f], !v.isNull else { return nil }
                if case .string(let s) = v, case .string(let t) = c {
                    let o = Array(s.utf8).lexicographicallyPrecedes(Array(t.utf8)) ? -1 : (s == t ? 0 : 1)
                    return op.holds(o)
                }
                var x = num(v)!, y = num(c)!
                if f == "c" { x = Double(Float(x)); y = Double(Float(y)) }
                return op.holds(x < y ? -1 : (x == y ? 0 : 1))
            case .range(let lo, let ls, let f, let hs, let hi):
                let l = Model.cmp(f, ls ? .gt : .ge, lo).eval(row)
                let h = Model.cmp(f, hs ? .lt : .le, hi).eval(row)
                return Model.and3(l, h)
            case .inList(let f, let vs, let neg):
                guard let v = row[f], !v.isNull else { return nil }
                let hit = vs.contains { w in
                    if case .string(let s) = v { return w.stringValue == s }
                    if f == "c" { return Float(w.doubleValue!) == Float(v.doubleValue!) }
                    return w.doubleValue == v.doubleValue
                }
                return hit != neg
            case .isNull(let f, let neg):
                return (row[f]?.isNull ?? true) != neg
            case .like(let f, let p):
                guard case .string(let s)? = row[f] else { return nil }
                // Patterns here are built from literal chars, '%' and '_' over ASCII data.
                return Model.likeModel(Array(p), Array(s))
            case .not(let m):
                return m.eval(row).map { !$0 }
            case .and(let x, let y): return Model.and3(x.eval(row), y.eval(row))
            case .or(let x, let y):
                let p = x.eval(row), q = y.eval(row)
                if p == true || q == true { return true }
                if p == nil || q == nil { return nil }
                return false
            }
        }

        static func and3(_ p: Bool?, _ q: Bool?) -> Bool? {
            if p == false || q == false { return false }
            if p == nil || q == nil { return nil }
            return true
        }

        static func likeModel(_ p: [Character], _ s: [Character]) -> Bool {
            guard let first = p.first else { return s.isEmpty }
            switch first {
            case "%": return (0...s.count).contains { likeModel(Array(p.dropFirst()), Array(s.dropFirst($0))) }
            case "_": return !s.isEmpty && likeModel(Array(p.dropFirst()), Array(s.dropFirst()))
            default: return s.first == first && likeModel(Array(p.dropFirst()), Array(s.dropFirst()))
            }
        }
    }

    static func randomConstant(_ field: String, _ g: inout SeededGenerator) -> Value {
        switch field {
        case "a": return Bool.random(using: &g) ? .int(Int64.random(in: -12...12, using: &g)) : .double(Double(Int.random(in: -24...24, using: &g)) / 2)
        case "s": return .string(strings.randomElement(using: &g)!)
        default: return .double(Double(Int.random(in: -20...20, using: &g)) / 4)
        }
    }

    static func randomModel(_ depth: Int, _ g: inout SeededGenerator) -> Model {
        let fields = ["a", "b", "c", "s"]
        if depth > 0 && Int.random(in: 0..<3, using: &g) == 0 {
            switch Int.random(in: 0..<3, using: &g) {
            case 0: return .not(randomModel(depth - 1, &g))
            case 1: return .and(randomModel(depth - 1, &g), randomModel(depth - 1, &g))
            default: return .or(randomModel(depth - 1, &g), randomModel(depth - 1, &g))
            }
        }
        let f = fields.randomElement(using: &g)!
        switch Int.random(in: 0..<10, using: &g) {
        case 0...4:
            let ops: [FilterCompareOp] = [.eq, .ne, .lt, .le, .gt, .ge]
            return .cmp(f, ops.randomElement(using: &g)!, randomConstant(f, &g))
        case 5:
            return .range(randomConstant(f, &g), Bool.random(using: &g), f, Bool.random(using: &g), randomConstant(f, &g))
        case 6:
            return .inList(f, (0..<Int.random(in: 0...3, using: &g)).map { _ in randomConstant(f, &g) }, Bool.random(using: &g))
        case 7:
            let parts = ["a", "b", "%", "_", ""]
            return .like("s", (0..<Int.random(in: 0...3, using: &g)).map { _ in parts.randomElement(using: &g)! }.joined())
        default:
            return .isNull(f, Bool.random(using: &g))
        }
    }

    @Test func randomFiltersMatchTheModel() throws {
        let seed: UInt64 = 0xF1_17E5
        var g = SeededGenerator(seed: seed)
        var rows = [Row]()
        for i in 0..<1_500 {
            // `a` and `b` drift with the row number so that block statistics can prune.
            let a: Value = Int.random(in: 0..<8, using: &g) == 0 ? nil : .int(Int64(i / 60 - 12 + Int.random(in: -1...1, using: &g)))
            let b: Value = Int.random(in: 0..<8, using: &g) == 0 ? nil : .double(Double(i) / 300 - 2.5)
            let c: Value = .double(Double(Float(Double(Int.random(in: -20...20, using: &g)) / 4)))
            let s: Value = Int.random(in: 0..<6, using: &g) == 0 ? nil : .string(Self.strings.randomElement(using: &g)!)
            rows.append(["id": .int(Int64(i)), "v": .vector([1]), "a": a, "b": b, "c": c, "s": s])
        }
        let plain = FilterTestData.segment(rows: rows, schema: Self.schema)
        let sealed = FilterTestData.segment(rows: rows, schema: Self.schema, blockSize: 100)
        for iteration in 0..<400 {
            let model = Self.randomModel(3, &g)
            let expected = rows.enumerated().filter { model.eval($0.element) == true }.map { Int64($0.offset) }
            let f = try FilterExpression.compile(model.text, params: [:], schema: Self.schema)
            #expect(FilterTestData.ids(f.evaluate(on: plain), in: plain) == expected, "seed \(seed) #\(iteration): \(model.text)")
            #expect(FilterTestData.ids(f.evaluate(on: sealed), in: sealed) == expected, "seed \(seed) #\(iteration) (stats): \(model.text)")
        }
    }
}
