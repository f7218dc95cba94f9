import Foundation
import Testing
@testable import QuiverMiniLM

@Suite struct SafeTensorsTests {
    func write(_ header: String, data: [UInt8], lengthOverride: UInt64? = nil) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID().uuidString).safetensors")
        let h = Array(header.utf8)
        var bytes = withUnsafeBytes(of: (lengthOverride ?? UInt64(h.count)).littleEndian) { Array($0) }
        bytes += h + data
        try Data(bytes).write(to: url)
        return url
    }

    func expectCorruption(_ url: URL) {
        #expect {
            _ = try SafeTensorsFile(url: url)
        } throws: { ($0 as? MiniLMError)?.code == .corruption }
    }

    @Test func readsAValidFile() throws {
        let floats: [Float] = [1, 2, 3, 4, 5, 6]
        let data = floats.withUnsafeBytes { Array($0) }
        let url = try write(#"{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}"#, data: data)
        defer { try? FileManager.default.removeItem(at: url) }
        let file = try SafeTensorsFile(url: url)
        #expect(file.tensors["w"]?.shape == [2, 3])
        #expect(try file.floats("w", shape: [2, 3]) == floats)
        #expect(throws: MiniLMError.self) { try file.floats("w", shape: [3, 2]) }
        #expect(throws: MiniLMError.self) { try file.floats("missing", shape: [1]) }
    }

    @Test func rejectsHeaderLongerThanFile() throws {
        let url = try write("{}", data: [], lengthOverride: 1000)
        defer { try? FileManager.default.removeItem(at: url) }
        expectCorruption(url)
    }

    @Test func rejectsMalformedJSON() throws {
        let url = try write("{not json", data: [])
        defer { try? FileManager.default.removeItem(at: url) }
        expectCorruption(url)
    }

    @Test func rejectsOffsetsPastTheEnd() throws {
        let url = try write(#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: [0, 0, 0, 0])
        defer { try? FileManager.default.removeItem(at: url) }
        expectCorruption(url)
    }

    @Test func rejectsSizeShapeMismatch() throws {
        let url = try write(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8))
        defer { try? FileManager.default.removeItem(at: url) }
        expectCorruption(url)
    }

    @Test func rejectsUnknownDtype() throws {
        let url = try write(#"{"w":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        defer { try? FileManager.default.removeItem(at: url) }
        expectCorruption(url)
    }

    @Test func rejectsTooShortFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID().uuidString)")
        try Data([1, 2, 3]).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        expectCorruption(url)
    }

    @Test func missingFileNamesTheFetchCommand() {
        let url = URL(fileURLWithPath: "/nonexistent/model.safetensors")
        #expect {
            _ = try SafeTensorsFile(url: url)
        } throws: { error in
            guard let e = error as? MiniLMError else { return false }
            return e.code == .modelNotFound && e.message.contains("quiver model fetch")
        }
    }

    @Test func missingModelDirectoryNamesTheFetchCommand() {
        #expect {
            _ = try MiniLM(modelDirectory: URL(fileURLWithPath: "/nonexistent-quiver-model"))
        } throws: { error in
            (error as? MiniLMError)?.code == .modelNotFound && "\(error)".contains("quiver model fetch")
        }
    }
}
