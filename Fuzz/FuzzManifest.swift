// libFuzzer target: manifest, catalog and delete-file decoding never crash; damage is `.corruption`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for decode in [
        { _ = try Manifest.decode(bytes, path: "MANIFEST") },
        { _ = try Catalog.decode(bytes, path: "CATALOG") },
        { _ = try DeleteFile.decode(bytes, path: "x.qdel", segmentID: 1, rowCount: 64) },
    ] as [() throws -> Void] {
        do { try decode() } catch let error as QuiverError {
            precondition(error.code == .corruption, "unexpected error \(error)")
        } catch {
            preconditionFailure("unexpected error \(error)")
        }
    }
    return 0
}
