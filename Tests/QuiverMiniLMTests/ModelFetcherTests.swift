import Foundation
import QuiverTestSupport
import Testing
@testable import QuiverMiniLM

@Suite struct ModelFetcherTests {
    @Test func sha256KnownVectors() {
        // FIPS 180-2 appendix B examples.
        var h = SHA256()
        h.update(Array("abc".utf8))
        #expect(h.finalize().hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256().finalize().hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        var m = SHA256()
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        m.update(million[..<333_333]); m.update(million[333_333...])
        #expect(m.finalize().hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test(.enabled(if: SharedData.isAvailable, SharedData.absent))
    func embeddedHashesMatchTheReferenceSHA256SUMS() throws {
        let sums = try String(contentsOf: TestSupport.embeddingsDirectory!.appendingPathComponent("model/SHA256SUMS"), encoding: .utf8)
        var table: [String: String] = [:]
        for line in sums.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count == 2 { table[String(parts[1])] = String(parts[0]) }
        }
        for file in ModelFetcher.expectedFiles { #expect(table[file.name] == file.sha256, "\(file.name)") }
        // The tokenizer files copied next to the reference data verify against the embedded hashes.
        let vocab = TestSupport.embeddingsDirectory!.appendingPathComponent("model/vocab.txt")
        #expect(try SHA256.hash(fileAt: vocab).hex == ModelFetcher.expectedFiles.first { $0.name == "vocab.txt" }?.sha256)
    }

    @Test func verifyReportsMissingAndDamagedFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-verify-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect { try ModelFetcher.verify(directory: dir) } throws: { ($0 as? MiniLMError)?.code == .modelNotFound }
        try Data("not a model".utf8).write(to: dir.appendingPathComponent("model.safetensors"))
        #expect { try ModelFetcher.verify(directory: dir) } throws: { ($0 as? MiniLMError)?.code == .checksumMismatch }
    }

    @Test(.enabled(if: TestSupport.modelAvailable, TestSupport.skipMessage))
    func installedModelVerifies() throws {
        try ModelFetcher.verify(directory: try TestSupport.loadModel().modelDirectory)
    }
}
