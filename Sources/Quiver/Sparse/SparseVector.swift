/// A sparse float vector (Milvus's `SPARSE_FLOAT_VECTOR` value): the weights of the dimensions
/// that are present, by dimension index. Every other dimension is zero.
///
/// The pairs are kept sorted by index, each index once, so two vectors with the same weights are
/// equal whatever order they were given in. Indices are `0 ..< 2³² − 1` (Milvus reserves
/// `UInt32.max`); weights are finite and not negative (Milvus's rule for sparse embeddings, which
/// lets a search bound a row's score by its terms' largest weights). An empty vector is allowed
/// (it scores 0 against every query; a BM25 function makes one from an empty text).
///
/// ```swift
/// let a = try SparseVector([3: 0.5, 17: 1.25])                         // a dictionary
/// let b = try SparseVector(indices: [17, 3], values: [1.25, 0.5])      // (indices, values) pairs
/// a == b                                                               // true
/// try db.insert("docs", rows: [["id": 1, "sparse": .sparse(a)]])
/// ```
public struct SparseVector: Sendable, Hashable {
    /// The indices present, ascending, each once.
    public let indices: [UInt32]
    /// The weight of each index in ``indices``, in the same order.
    public let values: [Float]

    /// The largest index a sparse vector may hold: `UInt32.max − 1` (Milvus reserves `UInt32.max`).
    public static let maxIndex = UInt32.max - 1

    /// The empty vector (every dimension zero).
    public init() {
        indices = []
        values = []
    }

    /// A vector of the pairs `(indices[i], values[i])`, in any order.
    ///
    /// - Throws: `.invalidArgument` when the arrays differ in length, an index repeats or is
    ///   `UInt32.max`, or a weight is negative, NaN or infinite.
    /// - Complexity: O(n log n) unless the indices are already ascending (O(n)).
    public init(indices: [UInt32], values: [Float]) throws {
        guard indices.count == values.count else {
            throw QuiverError.invalidArgument("a sparse vector needs as many values as indices, got \(indices.count) indices and \(values.count) values")
        }
        var ascending = true
        for i in indices.indices.dropFirst() where indices[i] <= indices[i - 1] { ascending = false; break }
        if ascending {
            self.indices = indices
            self.values = values
        } else {
            let order = indices.indices.sorted { indices[$0] < indices[$1] }
            self.indices = order.map { indices[$0] }
            self.values = order.map { values[$0] }
        }
        try check()
    }

    /// A vector of the weights of a dictionary, by index.
    ///
    /// - Throws: `.invalidArgument` when an index is `UInt32.max` or a weight is negative, NaN or infinite.
    public init(_ weights: [UInt32: Float]) throws {
        let sorted = weights.sorted { $0.key < $1.key }
        indices = sorted.map(\.key)
        values = sorted.map(\.value)
        try check()
    }

    /// Pairs already checked: ascending unique indices, valid weights (stored data, decoded and verified).
    init(checkedIndices indices: [UInt32], values: [Float]) {
        self.indices = indices
        self.values = values
    }

    private func check() throws {
        for i in indices.indices {
            if i > 0, indices[i] == indices[i - 1] {
                throw QuiverError.invalidArgument("sparse vector index \(indices[i]) appears twice")
            }
            if let problem = Self.problem(index: indices[i], weight: values[i]) { throw QuiverError.invalidArgument(problem) }
        }
    }

    /// What is wrong with one pair, or `nil`.
    static func problem(index: UInt32, weight: Float) -> String? {
        if index > maxIndex { return "sparse vector index \(index) is reserved; indices are 0...\(maxIndex)" }
        if !weight.isFinite { return "sparse vector weight of index \(index) is \(weight.isNaN ? "NaN" : "infinite"); weights must be finite" }
        if weight < 0 { return "sparse vector weight of index \(index) is \(weight); weights must not be negative" }
        return nil
    }

    /// The number of indices present.
    public var count: Int { indices.count }

    /// `true` when no index is present.
    public var isEmpty: Bool { indices.isEmpty }

    /// The weight of `index` (0 when absent).
    ///
    /// - Complexity: O(log n).
    public subscript(index: UInt32) -> Float {
        var lo = 0, hi = indices.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if indices[mid] < index { lo = mid + 1 } else { hi = mid }
        }
        return lo < indices.count && indices[lo] == index ? values[lo] : 0
    }

    /// The weights by index.
    public var dictionary: [UInt32: Float] {
        Dictionary(uniqueKeysWithValues: zip(indices, values))
    }

    /// The inner product with `other`: the sum of `self[i] × other[i]` over the indices both
    /// hold, added in ascending index order in `Float` (the order every search of Quiver uses,
    /// so an index and an exact scan give a row the same score to the bit).
    ///
    /// - Complexity: O(n + m).
    public func dot(_ other: SparseVector) -> Float {
        indices.withUnsafeBufferPointer { ai in
            values.withUnsafeBufferPointer { av in
                other.indices.withUnsafeBufferPointer { bi in
                    other.values.withUnsafeBufferPointer { bv in
                        SparseVector.dot(ai, av, bi, bv)
                    }
                }
            }
        }
    }

    /// The inner product of two sorted index/value runs (see ``dot(_:)``).
    @inline(__always)
    static func dot(
        _ ai: UnsafeBufferPointer<UInt32>, _ av: UnsafeBufferPointer<Float>,
        _ bi: UnsafeBufferPointer<UInt32>, _ bv: UnsafeBufferPointer<Float>
    ) -> Float {
        var i = 0, j = 0
        var sum: Float = 0
        while i < ai.count && j < bi.count {
            let a = ai[i], b = bi[j]
            if a == b {
                sum += av[i] * bv[j]
                i += 1
                j += 1
            } else if a < b {
                i += 1
            } else {
                j += 1
            }
        }
        return sum
    }

    /// The vector without its smallest weights: Milvus's `drop_ratio_search`, which ignores the
    /// `⌊count × ratio⌋` smallest weights of a query (ties dropped from the highest index down,
    /// so the result is deterministic).
    func droppingSmallest(ratio: Double) -> SparseVector {
        let drop = Int((Double(count) * ratio).rounded(.down))
        guard drop > 0 else { return self }
        let order = indices.indices.sorted { values[$0] != values[$1] ? values[$0] < values[$1] : indices[$0] > indices[$1] }
        var keep = [Bool](repeating: true, count: count)
        for i in order.prefix(drop) { keep[i] = false }
        let kept = indices.indices.filter { keep[$0] }
        return SparseVector(checkedIndices: kept.map { indices[$0] }, values: kept.map { values[$0] })
    }
}

extension SparseVector {
    /// The vector a user value gives: `.sparse`, an object of index → weight (JSON keys are
    /// strings: `{"3": 0.5}`), or an array of `[index, weight]` pairs (pymilvus's iterable of tuples).
    ///
    /// - Returns: `nil` when the value has none of these shapes.
    /// - Throws: `.invalidArgument` when it has one of them with a bad index or weight.
    public init?(value: Value) throws {
        switch value {
        case .sparse(let v):
            self = v
        case .object(let o):
            var indices = [UInt32](), values = [Float]()
            indices.reserveCapacity(o.count)
            values.reserveCapacity(o.count)
            for (key, weight) in o {
                guard let index = UInt32(key) else {
                    throw QuiverError.invalidArgument("sparse vector key \"\(key.prefix(32))\" is not an index in 0...\(Self.maxIndex)")
                }
                indices.append(index)
                values.append(try Self.weight(weight, index: index))
            }
            try self.init(indices: indices, values: values)
        case .array(let pairs):
            var indices = [UInt32](), values = [Float]()
            for pair in pairs {
                guard case .array(let p) = pair, p.count == 2, let raw = p[0].intValue else {
                    throw QuiverError.invalidArgument("a sparse vector given as an array must hold [index, weight] pairs")
                }
                guard let index = UInt32(exactly: raw) else {
                    throw QuiverError.invalidArgument("sparse vector index \(raw) is out of range; indices are 0...\(Self.maxIndex)")
                }
                indices.append(index)
                values.append(try Self.weight(p[1], index: index))
            }
            try self.init(indices: indices, values: values)
        default:
            return nil
        }
    }

    private static func weight(_ value: Value, index: UInt32) throws -> Float {
        guard let d = value.doubleValue else {
            throw QuiverError.invalidArgument("sparse vector weight of index \(index) is a \(value.kindName), not a number")
        }
        let f = Float(d)
        guard d.isFinite, f.isFinite else {
            throw QuiverError.invalidArgument("sparse vector weight of index \(index) is \(d); weights must be finite 32-bit floats")
        }
        return f
    }

    /// The vector as a JSON-shaped object of index (a decimal string) → weight, as pymilvus
    /// prints one and as JSON rows give one.
    var jsonObject: Value {
        .object(Dictionary(uniqueKeysWithValues: zip(indices, values).map { (String($0), Value.double(Double($1))) }))
    }
}
