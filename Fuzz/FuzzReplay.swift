// libFuzzer target: WAL replay never crashes on records whose checksums verify but whose content
// is hostile. Each input becomes a WAL of records framed with valid CRCs: raw payloads, or
// operations built from the input (rows of the wrong shape, wrong types, NaN, huge or negative
// numbers, duplicate keys, out-of-order or extreme sequences, deletes of any key). Replay applies
// them or throws `.corruption`; what it applied is consistent (every live key in one live row).
// Built per input: a lazily initialized global reads as a leak to LeakSanitizer.
func makeReplaySchema() -> CollectionSchema {
    try! CollectionSchema(fields: [
        FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
        FieldSchema(name: "small", dataType: .int8, nullable: true),
        FieldSchema(name: "vector", dataType: .floatVector(dimension: 4)),
        FieldSchema(name: "f", dataType: .float),
        FieldSchema(name: "t", dataType: .varchar(maxLength: 16), nullable: true),
        FieldSchema(name: "tags", dataType: .array(elementType: .int64, maxCapacity: 4)),
    ], enableDynamicField: true)
}

/// The fuzzer's bytes, read one decision at a time (zeros once they run out).
struct FuzzInput {
    let bytes: UnsafeRawBufferPointer
    var position = 0
    var isAtEnd: Bool { position >= bytes.count }
    mutating func next() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }
    mutating func next64() -> UInt64 {
        (0..<8).reduce(UInt64(0)) { v, _ in v << 8 | UInt64(next()) }
    }

    static let names = ["id", "small", "vector", "t", "f", "tags", "$meta", "zzz"]

    mutating func value(depth: Int = 0) -> Value {
        switch next() % 12 {
        case 0: return .null
        case 1: return .bool(next() & 1 == 1)
        case 2: return .int(Int64(bitPattern: next64()))
        case 3: return .int(Int64(Int8(bitPattern: next())))
        case 4: return .double(Double(bitPattern: next64()))
        case 5: return .string(String(repeating: "é", count: Int(next() % 24)))
        case 6: return .vector((0..<Int(next() % 7)).map { _ in next() == 0xFF ? .nan : Float(Int8(bitPattern: next())) })
        case 7: return .bytes((0..<Int(next() % 9)).map { _ in next() })
        case 8 where depth < 3: return .array((0..<Int(next() % 5)).map { _ in value(depth: depth + 1) })
        case 9 where depth < 3:
            var o = [String: Value]()
            for _ in 0..<Int(next() % 4) { o[Self.names[Int(next()) % Self.names.count]] = value(depth: depth + 1) }
            return .object(o)
        default: return .int(Int64(next() % 16))
        }
    }

    /// A valid stored row with a small key, then up to three fields replaced, removed or added.
    mutating func row() -> Row {
        var r: Row = [
            "id": .int(Int64(next() % 16)), "small": .int(-3), "vector": .vector([1, 2, 3, Float(next())]), "t": .string("a"), "f": .double(0.5),
            "tags": .array([.int(1)]), "$meta": .object(["k": .int(1)]),
        ]
        for _ in 0..<Int(next() % 4) {
            let name = Self.names[Int(next()) % Self.names.count]
            r[name] = next() & 1 == 0 ? value() : nil
        }
        return r
    }

    /// One framed WAL record.
    mutating func record(sequence: inout UInt64) -> [UInt8] {
        let kind = next() % 8
        let jump = next()
        sequence = jump == 0xFF ? next64() : jump == 0xFE ? sequence : sequence &+ 1
        switch kind {
        case 0, 1, 2:
            return WALOperation.insert(sequence: sequence, rows: (0..<Int(next() % 4)).map { _ in row() }).encode()
        case 3, 4:
            return WALOperation.upsert(sequence: sequence, rows: (0..<Int(next() % 4)).map { _ in row() }).encode()
        case 5, 6:
            let keys: [PrimaryKey] = (0..<Int(next() % 4)).map { _ in next() & 1 == 0 ? .int(Int64(next() % 16)) : .string("x") }
            return WALOperation.delete(sequence: sequence, keys: keys).encode()
        default:
            let type = WALFormat.RecordType(rawValue: 1 + next() % 3)!
            var payload = [UInt8]()
            withUnsafeBytes(of: sequence.littleEndian) { payload += $0 }
            payload += (0..<Int(next() % 64)).map { _ in next() }
            return WALFormat.frame(type: type, payload: payload)
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReplay(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(bytes: UnsafeRawBufferPointer(start: data, count: size))
    var wal = WALFormat.header()
    var sequence: UInt64 = 0
    while !input.isAtEnd && wal.count < 1 << 16 { wal += input.record(sequence: &sequence) }
    let schema = makeReplaySchema()
    var state = CollectionEngine.State(manifest: Manifest(), growing: GrowingSegment(schema: schema))
    do {
        let result = try wal.withUnsafeBytes { try WALReader.read(buffer: $0, name: "fuzz.log") }
        try CollectionEngine.replay(result.operations, into: &state, schema: schema, path: "fuzz.log")
        // What was applied is consistent: each live key names a live row holding that key.
        precondition(state.pkIndex.count == state.growing.liveCount, "live keys and live rows differ")
        for row in 0..<state.growing.rowCount where !state.growing.deleted[row] {
            let key = CollectionEngine.primaryKey(state.growing.column(named: "id")!, row)
            precondition(state.pkIndex[key] == RowLocation(segment: RowLocation.growing, row: Int32(row)), "key \(key) is lost")
            _ = state.growing.vectorValue(schema.field(named: "vector")!, row: row)
        }
    } catch let error as QuiverError {
        precondition(error.code == .corruption, "unexpected error \(error)")
        precondition(error.message.contains("fuzz.log"), "the error does not name the file: \(error)")
    } catch {
        preconditionFailure("unexpected error \(error)")
    }
    return 0
}
