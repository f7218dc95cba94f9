import ArgumentParser
import Foundation
import Quiver

extension QuiverCommand {
    /// `quiver hybrid`: several searches fused by a ranker (Milvus's `hybrid_search`).
    struct Hybrid: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hybrid search: several searches (each with its own field, queries, filter and limit) fused by a ranker.",
            discussion: """
                Each --req is a JSON object: "field" (the vector field), "vector" (one query) or \
                "vectors" (several; every request needs the same number), and optionally "filter", \
                "filter_params", "limit" (hits it contributes, default 10) and "params" (e.g. {"ef": 64}). \
                Example:
                  quiver hybrid ./db docs --req '{"field": "title", "vector": [0.1, 0.2]}' \\
                    --req '{"field": "body", "vector": [0.3, 0.1], "filter": "lang == \\"en\\"", "limit": 20}' \\
                    --ranker weighted:0.7,0.3 --limit 5 --output-fields title
                Output: one JSON list of hits per query, "distance" being the fused score (larger first).
                """)
        @OptionGroup var target: CollectionArguments
        @Option(name: .customLong("req"), help: ArgumentHelp("A search request as a JSON object (repeatable).", valueName: "json"))
        var requests: [String] = []
        @Option(help: ArgumentHelp(
            "rrf, rrf:K (reciprocal rank fusion, K = 60 unless given) or weighted:W1,W2,… (one weight in 0…1 per --req).",
            valueName: "ranker"))
        var ranker: String = "rrf"
        @Flag(help: "With weighted: sum the raw scores instead of scores normalized into 0…1 (Milvus's norm_score=False).")
        var rawScores = false
        @Option(help: "Fused results per query (groups with --group-by).") var limit: Int = 10
        @Option(help: "Skip this many fused results (or groups) first.") var offset: Int = 0
        @Option(help: "Comma-separated output fields.") var outputFields: String?
        @Option(help: "Group the fused hits by this scalar field.") var groupBy: String?
        @Option(help: "Hits per group with --group-by.") var groupSize: Int?
        @Option(help: "Round the fused scores to this many decimals (0…6).") var roundDecimal: Int = -1
        @OptionGroup var partition: PartitionOptions

        func validate() throws {
            guard !requests.isEmpty else { throw ValidationError("give at least one --req") }
            _ = try parsedRanker()
            _ = try searchRequests()
            if groupSize != nil && groupBy == nil { throw ValidationError("--group-size needs --group-by") }
        }

        /// The ranker `--ranker` names.
        func parsedRanker() throws -> Ranker {
            let parts = ranker.split(separator: ":", maxSplits: 1).map(String.init)
            switch parts[0].lowercased() {
            case "rrf":
                guard parts.count == 2 else { return .rrf() }
                guard let k = Double(parts[1]) else { throw ValidationError("--ranker rrf:K needs a number K, got '\(parts[1])'") }
                return .rrf(k: k)
            case "weighted":
                guard parts.count == 2 else { throw ValidationError("--ranker weighted needs its weights: weighted:W1,W2,…") }
                let weights = try parseList(parts[1]).map { text -> Float in
                    guard let w = Float(text) else { throw ValidationError("--ranker: weight '\(text)' is not a number") }
                    return w
                }
                return .weighted(weights, normalizeScores: !rawScores)
            default:
                throw ValidationError("--ranker must be rrf, rrf:K or weighted:W1,W2,…, got '\(ranker)'")
            }
        }

        /// The `--req` objects as search requests.
        func searchRequests() throws -> [SearchRequest] {
            let known: Set<String> = ["field", "vector", "vectors", "filter", "filter_params", "limit", "params"]
            return try requests.enumerated().map { i, text in
                guard case .object(let o)? = try? Value(json: text) else { throw ValidationError("--req \(i + 1) is not a JSON object") }
                if let unknown = o.keys.first(where: { !known.contains($0) }) {
                    throw ValidationError("--req \(i + 1): unknown key '\(unknown)'; the keys are \(known.sorted().joined(separator: ", "))")
                }
                let vectors: [[Float]]
                switch (o["vector"], o["vectors"]) {
                case (let v?, nil):
                    guard let f = v.floatVector else { throw ValidationError("--req \(i + 1): vector is not an array of numbers") }
                    vectors = [f]
                case (nil, .array(let list)?):
                    vectors = try list.map {
                        guard let f = $0.floatVector else { throw ValidationError("--req \(i + 1): vectors must be arrays of numbers") }
                        return f
                    }
                default:
                    throw ValidationError("--req \(i + 1) needs exactly one of \"vector\" and \"vectors\"")
                }
                func object(_ key: String) throws -> [String: Value] {
                    switch o[key] {
                    case nil: return [:]
                    case .object(let x)?: return x
                    default: throw ValidationError("--req \(i + 1): \(key) must be a JSON object")
                    }
                }
                var options = SearchOptions()
                options.params = try object("params")
                var limit = 10
                if let l = o["limit"] {
                    guard let n = l.intValue else { throw ValidationError("--req \(i + 1): limit must be an integer") }
                    limit = Int(n)
                }
                var filter = ""
                if let f = o["filter"] {
                    guard let s = f.stringValue else { throw ValidationError("--req \(i + 1): filter must be a string") }
                    filter = s
                }
                return SearchRequest(
                    queries: .vectors(vectors), limit: limit, filter: filter, filterParams: try object("filter_params"),
                    annsField: o["field"]?.stringValue, options: options)
            }
        }

        func run() async throws {
            let request = HybridSearchRequest(
                requests: try searchRequests(), ranker: try parsedRanker(), limit: limit, offset: offset,
                outputFields: outputFields.map(parseList), groupBy: groupBy, groupSize: groupSize ?? 1,
                roundDecimal: roundDecimal, partitions: partition.partitions)
            try await withDatabase(target.database) { db in
                print(hitsJSON(try await db.hybridSearch(target.collection, request)))
            }
        }
    }
}
