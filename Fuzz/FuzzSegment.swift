// libFuzzer target: opening a segment must never crash; damage throws `.corruption`.
// Built per input: a lazily initialized global reads as a leak to LeakSanitizer.
func makeFuzzSchema() -> CollectionSchema {
    try! CollectionSchema(fields: [
    FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
    FieldSchema(name: "vector", dataType: .floatVector(dimension: 4)),
    FieldSchema(name: "t", dataType: .varchar(maxLength: 16), nullable: true),
    FieldSchema(name: "f", dataType: .float),
    FieldSchema(name: "tags", dataType: .array(elementType: .int64, maxCapacity: 4)),
], enableDynamicField: true)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSegment(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let file = MappedFile(copying: UnsafeRawBufferPointer(start: data, count: size), name: "fuzz.qseg")
    do {
        let segment = try SealedSegment(file: file, id: 1, schema: makeFuzzSchema())
        // Touch everything a reader would.
        for row in 0..<segment.rowCount {
            _ = try segment.vectorValue("vector", row: row)
            for (_, column) in segment.columns { _ = column.value(at: row) }
        }
    } catch let error as QuiverError {
        precondition(error.code == .corruption, "unexpected error \(error)")
    } catch {
        preconditionFailure("unexpected error \(error)")
    }
    return 0
}
