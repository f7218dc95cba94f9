import Testing
@testable import Quiver

@Suite struct ValueTests {
    @Test func parsesJSONWithExactIntegers() throws {
        let v = try Value(json: #"{"a": 9007199254740993, "b": [1.5, true, null], "c": "x\u00e9\n"}"#)
        #expect(v == .object(["a": .int(9_007_199_254_740_993), "b": [1.5, true, nil], "c": "xé\n"]))
        #expect(v.jsonString == #"{"a":9007199254740993,"b":[1.5,true,null],"c":"xé\n"}"#)
    }

    @Test func rejectsMalformedJSON() {
        for text in ["{", "[1,]", "tru", "\"abc", "{\"a\" 1}", "01x", "[1] 2"] {
            #expect(throws: QuiverError.self) { try Value(json: text) }
        }
    }

    @Test func crc32cMatchesKnownVector() {
        // RFC 3720 B.4: 32 bytes of zeros → 0x8A9136AA; "123456789" → 0xE3069283.
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func bitsetAppendAndIterate() {
        var b = Bitset(count: 0)
        for i in 0..<200 { b.append(i % 3 == 0) }
        #expect(b.count == 200)
        #expect(b.setRows == Array(stride(from: 0, to: 200, by: 3)))
        var all = Bitset(count: 70, allSet: true)
        #expect(all.cardinality == 70)
        all.invert()
        #expect(all.isEmpty)
    }
}
