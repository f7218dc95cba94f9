import ArgumentParser
import Quiver

@main
struct QuiverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quiver",
        abstract: "Quiver: an embeddable vector database.",
        subcommands: [EmbedCommand.self, ModelCommand.self]
    )
}
