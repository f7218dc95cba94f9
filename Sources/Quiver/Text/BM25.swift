import Foundation

/// BM25 full-text scoring: the term frequencies a BM25 function writes, the collection-wide
/// statistics, and the score.
///
/// A row's BM25 output field holds, for each distinct term of its analyzed text, the term's id
/// (``termID(_:)``) and its frequency; the row's length is the sum of the frequencies (the
/// number of tokens the analyzer kept). A query's text is analyzed the same way, and a row's
/// score is Lucene's BM25 with Milvus's (k1 + 1) numerator:
///
///     score(q, d) = Σ_{t ∈ q} qtf(t) · idf(t) · tf(t, d) · (k1 + 1) / (tf(t, d) + k1 · (1 − b + b · |d| / avgdl))
///     idf(t)      = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))
///
/// where `qtf(t)` is how often the term occurs in the query, `N` the number of live rows with at
/// least one term, `df(t)` those of them that contain `t`, and `avgdl` their mean length: all over
/// the whole collection (every partition, sealed and growing segments, deleted rows excluded),
/// so a flush or a compaction, which do not change the live rows, do not change any score.
/// Scores are positive, higher is better (Milvus Lite returns them negated).
enum BM25 {
    /// Lucene's and Milvus's default term-frequency saturation.
    static let defaultK1 = 1.2
    /// Lucene's and Milvus's default length normalization.
    static let defaultB = 0.75

    /// `k1` and `b`, from the output field's index parameters (`bm25_k1`, `bm25_b`) or the defaults.
    struct Parameters: Sendable, Hashable {
        var k1 = BM25.defaultK1
        var b = BM25.defaultB

        /// Reads `bm25_k1` (Milvus's range 1.2…2.0 is advice; any value in 0…3 is taken) and
        /// `bm25_b` (0…1) from index parameters.
        ///
        /// - Throws: `.invalidArgument` for a value that is not a number in range.
        init(indexParams: [String: Value]) throws {
            if let v = indexParams["bm25_k1"] {
                guard let k1 = v.doubleValue, (0...3).contains(k1) else {
                    throw QuiverError.invalidArgument("bm25_k1 must be a number in 0...3, got \(v.jsonString)")
                }
                self.k1 = k1
            }
            if let v = indexParams["bm25_b"] {
                guard let b = v.doubleValue, (0...1).contains(b) else {
                    throw QuiverError.invalidArgument("bm25_b must be a number in 0...1, got \(v.jsonString)")
                }
                self.b = b
            }
        }

        init() {}
    }

    /// The id of a term: MurmurHash3 (x86, 32-bit, seed 0) of its UTF-8 bytes (`UInt32.max`, which
    /// Milvus reserves, becomes `UInt32.max − 1`). A stable hash
    /// rather than a dictionary: the id depends on the term alone, so nothing but the rows needs
    /// to be stored or recovered, and every segment, the WAL and a query agree on it. Two terms
    /// with the same hash count as one term (with n distinct terms, about n² / 2³³ such pairs:
    /// a few among a million terms).
    static func termID(_ term: String) -> UInt32 {
        var term = term
        // Native strings hash their UTF-8 in place; others (bridged) once copied.
        return term.withUTF8 { termID(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// ``termID(_:)`` of UTF-8 bytes.
    static func termID(utf8 raw: UnsafeRawBufferPointer) -> UInt32 {
        var h: UInt32 = 0
        let c1: UInt32 = 0xcc9e_2d51, c2: UInt32 = 0x1b87_3593
        let n = raw.count
        let blocks = n / 4
        for i in 0..<blocks {
            var k = UInt32(raw[4 * i]) | UInt32(raw[4 * i + 1]) << 8 | UInt32(raw[4 * i + 2]) << 16 | UInt32(raw[4 * i + 3]) << 24
            k = (k &* c1).rotatedLeft(15) &* c2
            h ^= k
            h = h.rotatedLeft(13) &* 5 &+ 0xe654_6b64
        }
        var k: UInt32 = 0
        let tail = 4 * blocks
        if n & 3 >= 3 { k ^= UInt32(raw[tail + 2]) << 16 }
        if n & 3 >= 2 { k ^= UInt32(raw[tail + 1]) << 8 }
        if n & 3 >= 1 {
            k ^= UInt32(raw[tail])
            h ^= (k &* c1).rotatedLeft(15) &* c2
        }
        h ^= UInt32(truncatingIfNeeded: n)
        h ^= h >> 16
        h = h &* 0x85eb_ca6b
        h ^= h >> 13
        h = h &* 0xc2b2_ae35
        h ^= h >> 16
        return min(h, SparseVector.maxIndex)  // Milvus reserves UInt32.max
    }

    /// A row's term frequencies, what its BM25 output field holds: distinct term ids, ascending,
    /// with their counts.
    static func documentVector(_ text: String, analyzer: Analyzer) -> SparseVector {
        var counts: [UInt32: Float] = [:]
        for token in analyzer.analyze(text) { counts[termID(token.text), default: 0] += 1 }
        let indices = counts.keys.sorted()
        return SparseVector(checkedIndices: indices, values: indices.map { counts[$0]! })
    }

    /// A query's terms: distinct ids in order of first occurrence, each with its count.
    static func queryTerms(_ text: String, analyzer: Analyzer) -> [(id: UInt32, weight: Double)] {
        var terms: [(id: UInt32, weight: Double)] = []
        // A query has few terms: a linear search finds a repeated one faster than hashing.
        for token in analyzer.analyze(text) {
            let id = termID(token.text)
            if let i = terms.firstIndex(where: { $0.id == id }) {
                terms[i].weight += 1
            } else {
                terms.append((id: id, weight: 1))
            }
        }
        return terms
    }

    /// Lucene's idf, always positive.
    static func idf(documents n: Int, containing df: Int) -> Double {
        log(1 + (Double(n) - Double(df) + 0.5) / (Double(df) + 0.5))
    }
}

extension UInt32 {
    @inline(__always) fileprivate func rotatedLeft(_ r: UInt32) -> UInt32 { (self << r) | (self >> (32 - r)) }
}

/// The statistics BM25 needs, over some set of live rows: how many have a term, their total
/// length, and per query term how many contain it.
struct BM25Statistics: Sendable {
    var documents = 0
    var totalLength = 0.0
    /// Document frequency of each query term, in the order of the terms asked for.
    var documentFrequency: [Int]

    init(documents: Int = 0, totalLength: Double = 0, terms: Int) {
        self.documents = documents
        self.totalLength = totalLength
        documentFrequency = Array(repeating: 0, count: terms)
    }

    /// Adds the statistics of other rows (for the same terms).
    mutating func add(_ other: BM25Statistics) {
        documents += other.documents
        totalLength += other.totalLength
        for i in documentFrequency.indices { documentFrequency[i] += other.documentFrequency[i] }
    }

    var averageLength: Double { documents > 0 ? totalLength / Double(documents) : 0 }
}
