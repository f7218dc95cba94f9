// quiver-consumer: an app that links Quiver and QuiverMiniLM as a user's app does.
//
//   quiver-consumer smoke [--reference DIR]   search checked against brute force computed here;
//                                             MiniLM embeddings (against DIR's reference vectors)
//   quiver-consumer bench [--rows N]          the table of issue 16: insert N × 128 rows, 100 single
//                                             queries, one batch of 200, 128 sentences embedded
//
// DIR is ../shared/data/embeddings when it is there. Exits non-zero on any mismatch.
import Foundation

let arguments = CommandLine.arguments
func option(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}

do {
    switch arguments.dropFirst().first {
    case "smoke":
        try Smoke.run(referenceDirectory: option("--reference"))
    case "bench":
        try Bench.run(rows: Int(option("--rows") ?? "") ?? 1_000_000)
    default:
        FileHandle.standardError.write(Data("usage: quiver-consumer smoke [--reference DIR] | bench [--rows N]\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("quiver-consumer: \(error)\n".utf8))
    exit(1)
}
