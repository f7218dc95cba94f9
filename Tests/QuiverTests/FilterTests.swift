import Testing
@testable import Quiver

@Suite struct FilterTests {
    let plain = FilterTestData.segment()
    let sealed = FilterTestData.segment(blockSize: 3)

    @Test func tableIsLargeEnough() {
        #expect(FilterTable.cases.count >= 150)
        #expect(FilterTable.errors.count >= 40)
    }

    @Test(arguments: FilterTable.cases)
    func tableOnColumns(_ c: FilterCase) throws {
        let filter = try FilterExpression.compile(c.expression, params: c.params, schema: FilterTestData.schema)
        #expect(FilterTestData.ids(filter.evaluate(on: plain), in: plain) == c.ids, "\(c.expression)")
        // The same with per-block min/max statistics, as on a sealed segment.
        #expect(FilterTestData.ids(filter.evaluate(on: sealed), in: sealed) == c.ids, "\(c.expression) (with block stats)")
    }

    @Test(arguments: FilterTable.errors)
    func tableErrors(_ c: FilterErrorCase) {
        let schema = c.strict ? FilterTestData.strictSchema : FilterTestData.schema
        do {
            _ = try FilterExpression.compile(c.expression, params: c.params, schema: schema)
            Issue.record("expected an error for \(c.expression)")
        } catch let error as QuiverError {
            #expect(error.code == c.code, "\(c.expression): \(error.message)")
            #expect(error.message.contains(c.message), "\(c.expression): \(error.message)")
            #expect(error.message.contains(c.expression.replacingOccurrences(of: "\n", with: " ")), "quotes the expression")
            if let column = c.column {
                #expect(error.message.contains("at column \(column) of filter:\n    \(c.expression)\n"), "\(c.expression): \(error.message)")
                let caretLine = error.message.split(separator: "\n", omittingEmptySubsequences: false).last ?? ""
                #expect(caretLine == "    " + String(repeating: " ", count: column - 1) + "^", "\(c.expression): caret")
            }
        } catch {
            Issue.record("unexpected error type \(error)")
        }
    }

    @Test func longExpressionsAreQuotedAroundTheColumn() {
        let ids = (1...500).map(String.init).joined(separator: ", ")
        let text = "id in [\(ids)] and colr == 1"
        do {
            _ = try FilterExpression.compile(text, params: [:], schema: FilterTestData.strictSchema)
            Issue.record("expected an error")
        } catch let error as QuiverError {
            let lines = error.message.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == 3)
            #expect(lines[0].hasSuffix("at column \(text.count - 8) of filter:"))
            #expect(lines[1].hasPrefix("    …") && lines[1].hasSuffix("and colr == 1"))
            #expect(lines[1].count < 140)
            // The caret sits under the 'c' of colr.
            let caret = lines[2].count - 1
            #expect(Array(lines[1])[caret] == "c")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    /// Many tasks compiling (through the shared cache) and evaluating at once.
    @Test func concurrentCompileAndEvaluate() async {
        let segment = sealed
        let failures = await withTaskGroup(of: Int.self) { group in
            for t in 0..<8 {
                group.addTask {
                    var failures = 0
                    for (i, c) in FilterTable.cases.enumerated() where i % 8 == t || i % 3 == 0 {
                        guard let f = try? FilterExpression.compile(c.expression, params: c.params, schema: FilterTestData.schema),
                            FilterTestData.ids(f.evaluate(on: segment), in: segment) == c.ids
                        else { failures += 1; continue }
                    }
                    return failures
                }
            }
            return await group.reduce(0, +)
        }
        #expect(failures == 0)
    }

    @Test func emptySegmentsAndMissingColumns() throws {
        let empty = FilterTestData.segment(rows: [])
        var missing = plain
        missing.columns = ["id": plain.columns["id"]!]  // e.g. fields added after the segment was written
        for c in FilterTable.cases {
            let f = try FilterExpression.compile(c.expression, params: c.params, schema: FilterTestData.schema)
            #expect(f.evaluate(on: empty).count == 0)
            // Missing columns read as null: only IS NULL, NOT EXISTS and constants can match.
            _ = f.evaluate(on: missing)
        }
        let f = try FilterExpression.compile("age is null and meta is null and not (exists city) and tags is null", params: [:], schema: FilterTestData.schema)
        #expect(f.evaluate(on: missing).cardinality == 10)
    }

    @Test func emptyExpressionMatchesAll() throws {
        for text in ["", "   ", "\n\t"] {
            let f = try FilterExpression.compile(text, params: [:], schema: FilterTestData.schema)
            #expect(f.matchesAll)
            #expect(f.evaluate(on: plain).cardinality == 10)
        }
        let f = try FilterExpression.compile("age > 1", params: [:], schema: FilterTestData.schema)
        #expect(!f.matchesAll)
    }

    @Test func templatesAreNeverSpliced() throws {
        // A parameter holding filter syntax is a plain string value.
        let f = try FilterExpression.compile("name == {n} or id == {i}", params: ["n": "x\" or id > 0 or name == \"", "i": 4],
                                             schema: FilterTestData.schema)
        #expect(FilterTestData.ids(f.evaluate(on: plain), in: plain) == [4])
    }

    @Test func cacheDistinguishesParamsAndSchemas() throws {
        let a = try FilterExpression.compile("age > {x}", params: ["x": 30], schema: FilterTestData.schema)
        let b = try FilterExpression.compile("age > {x}", params: ["x": 50], schema: FilterTestData.schema)
        #expect(FilterTestData.ids(a.evaluate(on: plain), in: plain) == [4, 6, 10])
        #expect(FilterTestData.ids(b.evaluate(on: plain), in: plain) == [6, 10])
        // Dynamic field under one schema, an error under the other.
        _ = try FilterExpression.compile("nickname == 'x'", params: [:], schema: FilterTestData.schema)
        #expect(throws: QuiverError.self) {
            try FilterExpression.compile("nickname == 'x'", params: [:], schema: FilterTestData.strictSchema)
        }
    }

    @Test func largeInputsBypassTheCache() {
        #expect(FilterCache.weight(of: ["a": 1, "b": [1, 2, [3]]]) == 6)
        #expect(FilterCache.weight(of: ["ids": .array((0..<2000).map { .int($0) })]) > FilterCache.maxParamValues)
    }

    @Test func lruCacheEvictsLeastRecentlyUsed() throws {
        var cache = FilterCache(capacity: 2)
        let schema = FilterTestData.schema
        let e = try FilterExpression.compileUncached("age > 1", params: [:], schema: schema)
        let k1 = FilterCache.Key(text: "a", schema: schema, params: [:])
        let k2 = FilterCache.Key(text: "b", schema: schema, params: [:])
        let k3 = FilterCache.Key(text: "c", schema: schema, params: [:])
        cache.put(k1, e)
        cache.put(k2, e)
        _ = cache.get(k1)
        cache.put(k3, e)
        #expect(cache.count == 2)
        #expect(cache.get(k1) != nil)
        #expect(cache.get(k2) == nil)
        #expect(cache.get(k3) != nil)
    }

    /// Block statistics are consulted: statistics that (falsely) rule a block out hide its rows.
    @Test func blockStatisticsSkipBlocks() throws {
        var lying = sealed
        // Claim that rows 0..<3 (ids 1-3) have age in 0...1.
        lying.stats["age"]![0] = BlockStats(firstRow: 0, rowCount: 3, min: .int(0), max: .int(1), nullCount: 1)
        let f = try FilterExpression.compile("age >= 25", params: [:], schema: FilterTestData.schema)
        #expect(FilterTestData.ids(f.evaluate(on: sealed), in: sealed) == [1, 2, 4, 6, 7, 10])
        #expect(FilterTestData.ids(f.evaluate(on: lying), in: lying) == [4, 6, 7, 10])
        // IN consults the statistics too.
        let h = try FilterExpression.compile("age in [25, 30, 40]", params: [:], schema: FilterTestData.schema)
        #expect(FilterTestData.ids(h.evaluate(on: sealed), in: sealed) == [1, 2, 4, 7])
        #expect(FilterTestData.ids(h.evaluate(on: lying), in: lying) == [4, 7])
        // An all-null block is skipped, and its rows stay unknown under NOT.
        let g = try FilterExpression.compile("not (age > 0)", params: [:], schema: FilterTestData.schema)
        #expect(FilterTestData.ids(g.evaluate(on: sealed), in: sealed) == [])
    }

    @Test func longOrChainsAreFlat() throws {
        let text = (1...20_000).map { "id == \($0)" }.joined(separator: " or ")
        let f = try FilterExpression.compile(text, params: [:], schema: FilterTestData.schema)
        #expect(f.evaluate(on: plain).cardinality == 10)
        let text2 = (1...3000).map { _ in "age > 0" }.joined(separator: " AND ")
        let g = try FilterExpression.compile(text2, params: [:], schema: FilterTestData.schema)
        #expect(FilterTestData.ids(g.evaluate(on: plain), in: plain) == [1, 2, 4, 5, 6, 7, 9, 10])
    }

    @Test func equalitiesOnOneFieldAreFused() throws {
        let f = try FilterExpression.compile("id == 1 or id == 2 or age > 3 or id == 1", params: [:], schema: FilterTestData.schema)
        guard case .or(let items)? = f.predicate, items.count == 2, case .inSet(_, let values, false) = items[0] else {
            Issue.record("not fused: \(String(describing: f.predicate))")
            return
        }
        #expect(Set(values) == [1, 2])
        let g = try FilterExpression.compile("id != 1 and age > 3 and id != 2", params: [:], schema: FilterTestData.schema)
        guard case .and(let conj)? = g.predicate, conj.count == 2, conj.contains(where: { if case .inSet(_, _, true) = $0 { true } else { false } }) else {
            Issue.record("not fused: \(String(describing: g.predicate))")
            return
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = [
            String(repeating: "(", count: 100_000) + "age > 1" + String(repeating: ")", count: 100_000),
            String(repeating: "not ", count: 100_000) + "active",
            String(repeating: "-", count: 100_000) + "age > 1",
            "age > " + String(repeating: "[", count: 100_000),
            String(repeating: "exists ", count: 100_000) + "meta",
            "age " + String(repeating: "+ 1 ", count: 100_000) + "> 1",
            "age " + String(repeating: "** 2 ", count: 5_000) + "> 1",
            "meta" + String(repeating: "[0]", count: 100_000) + " == 1",
        ]
        for text in deep {
            #expect(throws: QuiverError.self) {
                try FilterExpression.compileUncached(text, params: [:], schema: FilterTestData.schema)
            }
        }
        // Moderate nesting is fine.
        let ok = String(repeating: "(", count: 40) + "age > 1" + String(repeating: ")", count: 40)
        #expect((try? FilterExpression.compileUncached(ok, params: [:], schema: FilterTestData.schema)) != nil)
    }

    @Test func likePatterns() {
        let cases: [(String, String, Bool)] = [
            ("abc", "abc", true), ("abc", "abd", false), ("a%", "abc", true), ("a%", "", false),
            ("%c", "abc", true), ("%b%", "abc", true), ("%x%", "abc", false), ("a_c", "abc", true),
            ("a_c", "ac", false), ("%", "", true), ("%%", "x", true), ("a%b%c", "aXbYc", true),
            ("a%b%c", "aXcYb", false), ("%a%a%a%b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaa", false),
            ("_é_", "aéb", true), ("__", "é", false), ("_", "é", true), (#"100\%"#, "100%", true),
            (#"100\%"#, "1000", false), (#"a\_b"#, "a_b", true), (#"a\_b"#, "axb", false),
            (#"a\\b"#, #"a\b"#, true), ("%_", "", false), ("%_", "x", true), ("_%_", "xy", true),
        ]
        for (pattern, text, expected) in cases {
            #expect(LikePattern(pattern).matches(text) == expected, "\(text) LIKE \(pattern)")
        }
    }

    @Test func lexerLiterals() throws {
        func lit(_ s: String) throws -> FilterToken { try FilterLexer.tokenize(s)[0].token }
        #expect(try lit("0x1F") == .int(31))
        #expect(try lit("0b1010") == .int(10))
        #expect(try lit("017") == .int(15))
        #expect(try lit("0") == .int(0))
        #expect(try lit("1.5e3") == .float(1500))
        #expect(try lit("1.") == .float(1))
        #expect(try lit("0x1p4") == .float(16))
        #expect(try lit(#""a\tb\n""#) == .string("a\tb\n"))
        #expect(try lit(#"'\x41\101\u0041\U00000041'"#) == .string("AAAA"))
        #expect(try lit(#"r"a\nb""#) == .string(#"a\nb"#))
        #expect(try lit(#"R'a\'b'"#) == .string(#"a\'b"#))
        #expect(try lit(#"u8"x""#) == .string("x"))
        #expect(try lit("True") == .bool(true))
        #expect(try lit("FALSE") == .bool(false))
        #expect(try lit("tRUE") == .identifier("tRUE"))
        #expect(try lit("is  NOT\tnull") == .isNotNull)
        #expect(try lit("$meta") == .identifier("$meta"))
    }
}
