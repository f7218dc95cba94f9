import Testing
@testable import Quiver

@Suite struct FilterFuzzTests {
    static let fragments: [String] = [
        "age", "price", "score", "name", "color", "active", "small", "meta", "tags", "nums", "$meta", "city", "rank",
        "id", "vec", "(", ")", "[", "]", "{", "}", "{age}", "{age}", "{nope}", ",", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%",
        "**", "<<", ">>", "&", "|", "^", "~", "!", "&&", "||", "and", "OR", "not", "NOT", "in", "not in", "like", "LIKE",
        "exists", "is null", "IS NOT NULL", "true", "False", "0", "1", "-1", "0x1F", "0b11", "017", "1.5", ".5", "1e309",
        "9223372036854775807", "\"red\"", "'a%'", "r\"x\\\"", "\"\\u00e9\"", "\"\\x\"", "\"unterminated", "[\"a\"]", "[0]",
        "json_contains(", "array_contains_all(", "array_length(", "foo(", " ", "\n", "\"", "'", "\\", "é", "名", "=",
        "=~", "\u{0}", "..", "$", "_",
    ]

    /// Compiles (uncached) and, when that succeeds, evaluates; any outcome but a crash or hang is fine.
    /// Template values of every kind, bound to the names the fragments use.
    static let paramSets: [[String: Value]] = [
        ["age": 30], ["age": 2.5], ["age": "x"], ["age": true], ["age": [1, "a", 2.5]], ["age": []],
        ["age": .bytes([1])], ["age": nil], ["age": ["k": 1]], ["age": .vector([1, 2])], [:],
    ]

    static let plain = FilterTestData.segment()

    /// Compiles and evaluates `text`; for what compiles, also checks two properties: block
    /// statistics never change the result, and `NOT (text)` never matches a row `text` matches.
    @discardableResult
    static func exercise(_ text: String, on segment: FilterTestData.Segment, params: [String: Value] = ["age": 30]) -> Bool {
        do {
            let f = try FilterExpression.compileUncached(text, params: params, schema: FilterTestData.schema)
            let rows = f.evaluate(on: segment)
            if f.matchesAll { return true }
            if rows != f.evaluate(on: plain) {
                Issue.record("block statistics changed the result of \(text.debugDescription)")
            }
            if let negated = try? FilterExpression.compileUncached("not (\(text))", params: params, schema: FilterTestData.schema) {
                var both = negated.evaluate(on: segment)
                both.formIntersection(rows)
                if !both.isEmpty { Issue.record("\(text.debugDescription) and its negation both match rows \(both.setRows)") }
            }
            return true
        } catch let error as QuiverError {
            if error.message.isEmpty { Issue.record("empty error message for \(text.debugDescription)") }
        } catch {
            Issue.record("non-Quiver error \(error) for \(text.debugDescription)")
        }
        return false
    }

    @Test func randomInputNeverCrashes() {
        let seed: UInt64 = 0x5EED_F117
        var rng = SeededGenerator(seed: seed)
        let segment = FilterTestData.segment(blockSize: 4)
        let valid = FilterTable.cases.map(\.expression)
        var compiled = 0
        let total = 100_000
        for i in 0..<total {
            let text: String
            switch i % 4 {
            case 0:
                // Random bytes (invalid UTF-8 is repaired by String(decoding:)).
                let n = Int.random(in: 0...24, using: &rng)
                let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
                text = String(decoding: bytes, as: UTF8.self)
            case 1:
                // Random printable ASCII.
                let n = Int.random(in: 0...32, using: &rng)
                text = String((0..<n).map { _ in Character(UnicodeScalar(UInt8.random(in: 32...126, using: &rng))) })
            case 2:
                // Random token soup.
                let n = Int.random(in: 1...12, using: &rng)
                text = (0..<n).map { _ in Self.fragments.randomElement(using: &rng)! }.joined(separator: Bool.random(using: &rng) ? " " : "")
            default:
                // Mutations of valid expressions: delete, insert, replace, splice.
                var chars = Array(valid.randomElement(using: &rng)!)
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    let pos = chars.isEmpty ? 0 : Int.random(in: 0..<chars.count, using: &rng)
                    switch Int.random(in: 0..<4, using: &rng) {
                    case 0: if !chars.isEmpty { chars.remove(at: pos) }
                    case 1: chars.insert(contentsOf: Self.fragments.randomElement(using: &rng)!, at: pos)
                    case 2: if !chars.isEmpty { chars[pos] = Character(UnicodeScalar(UInt8.random(in: 32...126, using: &rng))) }
                    default:
                        let other = Array(valid.randomElement(using: &rng)!)
                        let cut = Int.random(in: 0...other.count, using: &rng)
                        chars = Array(chars[..<pos]) + Array(other[cut...])
                    }
                }
                text = String(chars)
            }
            let params = i % 7 == 0 ? Self.paramSets.randomElement(using: &rng)! : ["age": 30]
            if Self.exercise(text, on: segment, params: params) { compiled += 1 }
        }
        // Seed \(seed): the mutations must reach the evaluator, not only the parser.
        #expect(compiled > total / 20, "seed \(seed): only \(compiled) inputs compiled")
    }
}
