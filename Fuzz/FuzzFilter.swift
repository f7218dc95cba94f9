// libFuzzer target: the filter parser and type checker never crash or hang on any text; bad
// input throws `.filterSyntax`, `.invalidArgument` (or `.unsupported`).
// Built per input: a lazily initialized global reads as a leak to LeakSanitizer.
func makeFilterSchema() -> CollectionSchema {
    try! CollectionSchema(fields: [
    FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
    FieldSchema(name: "vector", dataType: .floatVector(dimension: 2)),
    FieldSchema(name: "age", dataType: .int32, nullable: true),
    FieldSchema(name: "price", dataType: .double),
    FieldSchema(name: "name", dataType: .varchar(maxLength: 32)),
    FieldSchema(name: "meta", dataType: .json),
    FieldSchema(name: "tags", dataType: .array(elementType: .varchar(maxLength: 8), maxCapacity: 4)),
], enableDynamicField: true)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFilter(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        // Uncached: the shared compile cache is a global that LeakSanitizer would report at exit.
        _ = try FilterExpression.compileUncached(text, params: ["x": 3, "names": ["a", "b"]], schema: makeFilterSchema())
    } catch let error as QuiverError {
        precondition([.filterSyntax, .invalidArgument, .unsupported].contains(error.code), "unexpected error \(error)")
    } catch {
        preconditionFailure("unexpected error \(error)")
    }
    return 0
}
