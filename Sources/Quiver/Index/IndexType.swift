/// The kinds of vector index, with Milvus's names.
///
/// ```swift
/// try db.createIndex("docs", field: "vector", type: .hnsw, params: ["M": 16, "efConstruction": 200])
/// ```
///
/// Defaults (used when a parameter is not given) and ranges (Milvus's documented ranges):
///
/// | type        | build parameters (default, range)                     | search parameters (default)       |
/// |-------------|-------------------------------------------------------|-----------------------------------|
/// | `FLAT`      | none                                                  | none (exact)                      |
/// | `HNSW`      | `M` (16, 2…2048), `efConstruction` (200, 1…2³¹−1)    | `ef` (max(64, limit + offset))    |
/// | `HNSW_SQ`   | as `HNSW`                                             | `ef` as `HNSW`                    |
/// | `AUTOINDEX` | none (HNSW with `M` 16, `efConstruction` 200)         | `ef` as `HNSW`                    |
/// | `IVF_FLAT`  | `nlist` (128, 1…65536)                                | `nprobe` (8, 1…65536)             |
/// | `IVF_SQ8`   | `nlist` (128, 1…65536)                                | `nprobe` (8, 1…65536)             |
/// | `SPARSE_INVERTED_INDEX`, `SPARSE_WAND` | `drop_ratio_build` (0 only), `inverted_index_algo` | `drop_ratio_search` (0, 0…<1) |
///
/// `ef` must be at least `limit`; it is raised to `limit + offset` when smaller. A segment with
/// fewer than `39 × nlist` rows is clustered into `rows / 39` lists (at least 1), FAISS's minimum
/// of training points per centroid; `nprobe` is capped at the number of lists.
public enum IndexType: String, Sendable, Hashable, CaseIterable, Codable {
    /// No index structure: every search scans all vectors exactly (the behaviour without an index).
    case flat = "FLAT"
    /// A hierarchical navigable small-world graph (Malkov & Yashunin): approximate, fast, the
    /// vectors kept in full precision.
    case hnsw = "HNSW"
    /// `nlist` k-means clusters; a search scans the `nprobe` clusters nearest the query, exactly.
    case ivfFlat = "IVF_FLAT"
    /// As ``ivfFlat`` with each vector stored as 8-bit codes (a quarter of the memory); the best
    /// 4 × `limit` candidates are re-ranked with the full vectors.
    case ivfSQ8 = "IVF_SQ8"
    /// As ``hnsw`` with distances on 8-bit codes during the walk; the `ef` best are re-ranked
    /// with the full vectors.
    case hnswSQ = "HNSW_SQ"
    /// Milvus's "choose for me": here ``hnsw`` with `M` 16 and `efConstruction` 200 (on a sparse
    /// field, ``sparseInvertedIndex``).
    case autoIndex = "AUTOINDEX"
    /// Sparse float vectors: a posting list per index, searched with MaxScore dynamic pruning;
    /// exact (its results equal an exact scan's). `drop_ratio_build` must be 0 (Milvus's default;
    /// Quiver keeps every weight); `inverted_index_algo` (`DAAT_MAXSCORE`, `DAAT_WAND`,
    /// `TAAT_NAIVE`) is accepted and the search is MaxScore whichever is named.
    case sparseInvertedIndex = "SPARSE_INVERTED_INDEX"
    /// Milvus's WAND variant of the sparse index; here the same index as ``sparseInvertedIndex``
    /// (MaxScore prunes as WAND does, with the same exact results).
    case sparseWAND = "SPARSE_WAND"

    /// The index type named `name` (case-insensitive, Milvus spelling).
    ///
    /// - Throws: `.invalidArgument` for an unknown name.
    public init(validating name: String) throws {
        guard let t = IndexType(rawValue: name.uppercased()) else {
            throw QuiverError.invalidArgument(
                "unknown index type '\(name)'; use one of \(IndexType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = t
    }

    var isHNSW: Bool { self == .hnsw || self == .hnswSQ || self == .autoIndex }
    var isIVF: Bool { self == .ivfFlat || self == .ivfSQ8 }
    var quantized: Bool { self == .ivfSQ8 || self == .hnswSQ }
    /// The index types of sparse vector fields.
    var isSparse: Bool { self == .sparseInvertedIndex || self == .sparseWAND }
}

/// Validated build parameters of an index.
struct IndexBuildParams: Sendable, Hashable {
    var m = 16
    var efConstruction = 200
    var nlist = 128
    /// Sparse indexes of a BM25 function's output field: `bm25_k1` and `bm25_b`.
    var bm25 = BM25.Parameters()

    static let defaultNprobe = 8
    static let minimumEf = 64

    /// Checks `params` against Milvus's documented ranges for `type`.
    init(type: IndexType, params: [String: Value]) throws {
        func int(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let v = params[key] else { return nil }
            let n: Int?
            switch v {
            case .int(let i): n = Int(i)
            case .string(let s): n = Int(s)
            case .double(let d) where d == d.rounded() && abs(d) < 1e15: n = Int(d)
            default: n = nil
            }
            guard let n else { throw QuiverError.invalidArgument("index parameter \(key) must be an integer") }
            guard range.contains(n) else {
                throw QuiverError.invalidArgument("index parameter \(key) must be in \(range.lowerBound)…\(range.upperBound) for \(type.rawValue), got \(n)")
            }
            return n
        }
        let allowed: Set<String>
        switch type {
        case .flat, .autoIndex: allowed = []
        case .hnsw, .hnswSQ: allowed = ["M", "efConstruction"]
        case .ivfFlat, .ivfSQ8: allowed = ["nlist"]
        case .sparseInvertedIndex, .sparseWAND: allowed = ["drop_ratio_build", "inverted_index_algo", "bm25_k1", "bm25_b"]
        }
        for key in params.keys where !allowed.contains(key) {
            throw QuiverError.invalidArgument(
                "\(type.rawValue) has no build parameter '\(key)'" + (allowed.isEmpty ? "" : "; it takes \(allowed.sorted().joined(separator: ", "))"))
        }
        if let m = try int("M", 2...2048) { self.m = m }
        if let e = try int("efConstruction", 1...Int(Int32.max)) { efConstruction = e }
        if let n = try int("nlist", 1...65536) { nlist = n }
        bm25 = try BM25.Parameters(indexParams: params)
        if let ratio = params["drop_ratio_build"] {
            guard ratio.doubleValue ?? ratio.stringValue.flatMap(Double.init) == 0 else {
                throw QuiverError(.unsupported, "drop_ratio_build must be 0 (every weight is indexed, so results are exact); got \(ratio)")
            }
        }
        if let algorithm = params["inverted_index_algo"] {
            guard let name = algorithm.stringValue, ["DAAT_MAXSCORE", "DAAT_WAND", "TAAT_NAIVE"].contains(name.uppercased()) else {
                throw QuiverError.invalidArgument("inverted_index_algo must be DAAT_MAXSCORE, DAAT_WAND or TAAT_NAIVE; got \(algorithm)")
            }
        }
    }

    /// The parameters as stored (only those that apply to `type`).
    func stored(for type: IndexType) -> [String: Value] {
        switch type {
        case .flat, .autoIndex: [:]
        case .sparseInvertedIndex, .sparseWAND: bm25 == BM25.Parameters() ? [:] : ["bm25_k1": .double(bm25.k1), "bm25_b": .double(bm25.b)]
        case .hnsw, .hnswSQ: ["M": .int(Int64(m)), "efConstruction": .int(Int64(efConstruction))]
        case .ivfFlat, .ivfSQ8: ["nlist": .int(Int64(nlist))]
        }
    }
}

/// Validated search parameters.
struct IndexSearchParams: Sendable, Hashable {
    var ef: Int?
    var nprobe: Int?
    /// Sparse searches: the share of each query's smallest weights to ignore (Milvus's `drop_ratio_search`).
    var dropRatioSearch = 0.0

    /// Reads `ef` and `nprobe` from Milvus-style search params; other keys are ignored (as Milvus does).
    init(_ params: [String: Value], limit: Int) throws {
        func int(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let v = params[key] else { return nil }
            let n: Int?
            switch v {
            case .int(let i): n = Int(exactly: i)
            case .string(let s): n = Int(s)
            default: n = nil
            }
            guard let n, range.contains(n) else {
                throw QuiverError.invalidArgument("search parameter \(key) must be an integer in \(range.lowerBound)…\(range.upperBound), got \(v)")
            }
            return n
        }
        ef = try int("ef", 1...Int(Int32.max))
        nprobe = try int("nprobe", 1...65536)
        if let ratio = params["drop_ratio_search"] {
            guard let r = ratio.doubleValue ?? ratio.stringValue.flatMap(Double.init), r >= 0, r < 1 else {
                throw QuiverError.invalidArgument("search parameter drop_ratio_search must be a number in [0, 1), got \(ratio)")
            }
            dropRatioSearch = r
        }
        if let ef, ef < limit {
            throw QuiverError.invalidArgument("search parameter ef (\(ef)) must be at least limit (\(limit))")
        }
    }

    init() {}

    func ef(k: Int) -> Int { max(ef ?? IndexBuildParams.minimumEf, k) }
}

/// An index on one vector field of a collection, as the manifest records it.
struct IndexDefinition: Sendable, Hashable {
    var field: String
    /// The index's name (Milvus's `index_name`): the field's name unless given at creation;
    /// unique within the collection. Metadata only: the engine finds an index by its field.
    var name: String
    var type: IndexType
    var metric: MetricType
    var params: IndexBuildParams
    /// Distinguishes this definition from an earlier one on the same field (dropped and re-created).
    var generation: UInt64
}

/// What ``Database/describeIndex(_:field:)-5rare`` reports.
public struct IndexDescription: Sendable, Hashable {
    /// Whether every sealed segment has its index yet; the raw value is Milvus's spelling.
    public enum State: String, Sendable, Hashable {
        /// Every sealed segment has its index.
        case finished = "Finished"
        /// Some sealed segments are still being indexed (they are searched exactly meanwhile).
        case inProgress = "InProgress"
    }
    /// The indexed vector field.
    public var field: String
    /// The index's name: the one given at creation (Milvus's `index_name`), or the field's.
    public var name: String
    /// The index type.
    public var type: IndexType
    /// The metric the index was built for, the collection's.
    public var metric: MetricType
    /// The build parameters in effect, defaults filled in.
    public var params: [String: Value]
    /// ``State/finished`` when every sealed segment is indexed, else ``State/inProgress``.
    public var state: State
    /// Rows in sealed segments whose index is ready.
    public var indexedRows: Int
    /// Rows searched exactly until their index is ready: unindexed sealed segments and the growing segment.
    public var pendingRows: Int
    /// ``indexedRows`` + ``pendingRows``.
    public var totalRows: Int

    /// A description (for backends other than the embedded engine); ``totalRows`` is
    /// `indexedRows + pendingRows`, ``name`` the field's name when nil.
    public init(
        field: String, name: String? = nil, type: IndexType, metric: MetricType, params: [String: Value], state: State,
        indexedRows: Int, pendingRows: Int
    ) {
        self.field = field
        self.name = name ?? field
        self.type = type
        self.metric = metric
        self.params = params
        self.state = state
        self.indexedRows = indexedRows
        self.pendingRows = pendingRows
        self.totalRows = indexedRows + pendingRows
    }
}
