// libFuzzer target: the WAL reader must never crash or hang on any input; it returns records,
// reports a torn tail, or throws `.corruption`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWAL(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buffer = UnsafeRawBufferPointer(start: data, count: size)
    do {
        let result = try WALReader.read(buffer: buffer, name: "fuzz.log")
        precondition(result.validLength <= size)
    } catch let error as QuiverError {
        precondition(error.code == .corruption, "unexpected error \(error)")
    } catch {
        preconditionFailure("unexpected error \(error)")
    }
    return 0
}
