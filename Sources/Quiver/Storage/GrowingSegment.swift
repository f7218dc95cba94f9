/// The in-memory segment that receives new rows until a flush seals it (the memtable).
///
/// A value type: a read snapshot is a copy, which shares storage until the writer appends.
struct GrowingSegment: SegmentColumns {
    let schema: CollectionSchema
    /// Scalar columns by field name, including the primary key and `$meta` when dynamic fields are on.
    private(set) var columns: [String: Column]
    /// float32 vectors by field name, row-major.
    private(set) var vectors: [String: [Float]]
    /// float16 and bfloat16 vectors by field name, row-major bit patterns.
    private(set) var halfVectors: [String: [UInt16]] = [:]
    /// Binary vectors by field name, row-major bytes.
    private(set) var binaryVectors: [String: [UInt8]] = [:]
    /// Euclidean norms of the float32 and half vectors, by field name.
    private(set) var norms: [String: [Float]]
    private(set) var rowCount = 0
    /// Rows deleted or replaced since they were inserted.
    private(set) var deleted = Bitset(count: 0)
    /// The partition (`Manifest.Partition.id`) of each row; a flush writes one segment per partition.
    private(set) var partitions: [UInt64] = []
    /// A rough count of the bytes the rows take, for the flush threshold.
    private(set) var byteEstimate = 0
    /// Shared by the copies of this value (a reader's snapshot holds one): tells whether an
    /// append would copy the storage (see `isShared`).
    private var owner = Owner()
    private final class Owner: Sendable {}

    init(schema: CollectionSchema) {
        self.schema = schema
        var columns = [String: Column]()
        var vectors = [String: [Float]]()
        var norms = [String: [Float]]()
        for field in schema.fields {
            if field.dataType.isVector {
                switch field.dataType {
                case .floatVector: vectors[field.name] = []
                case .binaryVector: binaryVectors[field.name] = []
                default: halfVectors[field.name] = []
                }
                if !field.dataType.isBinaryVector { norms[field.name] = [] }
            } else {
                columns[field.name] = Column(emptyFor: field.dataType)
            }
        }
        if schema.enableDynamicField { columns[dynamicFieldName] = Column(emptyFor: .json) }
        self.columns = columns
        self.vectors = vectors
        self.norms = norms
    }

    var liveCount: Int { rowCount - deleted.cardinality }

    /// Whether another copy of this value exists (a reader's snapshot), so that appending would
    /// copy the columns first.
    mutating func isShared() -> Bool { !isKnownUniquelyReferenced(&owner) }

    /// Whether appending `rows` rows would outgrow the capacity of a vector array, so that the
    /// append reallocates and copies every row stored so far (the vectors are nearly all of
    /// the bytes; the scalar columns are left out).
    func appendWouldReallocate(rows: Int) -> Bool {
        func outgrows<T>(_ a: [T], _ perRow: Int) -> Bool { a.count + rows * perRow > a.capacity }
        for field in schema.vectorFields {
            let d = field.dataType.dimension!
            switch field.dataType {
            case .floatVector: if outgrows(vectors[field.name]!, d) { return true }
            case .binaryVector: if outgrows(binaryVectors[field.name]!, d / 8) { return true }
            default: if outgrows(halfVectors[field.name]!, d) { return true }
            }
            if !field.dataType.isBinaryVector, outgrows(norms[field.name]!, 1) { return true }
        }
        return false
    }

    /// Makes this copy the only owner of what it will append to (its columns are copied on the
    /// first append, as for any shared array).
    mutating func detach() { owner = Owner() }

    /// Appends one stored row (every schema field present, `$meta` holding dynamic fields).
    mutating func append(_ row: Row, partition: UInt64) {
        append(StoredBatch(storedRows: [row], schema: schema), partitions: [partition])
    }

    /// The rows of the partitions in `scope` (deleted ones included).
    func rows(in scope: Set<UInt64>) -> Bitset {
        var out = Bitset(count: rowCount)
        for (row, partition) in partitions.enumerated() where scope.contains(partition) { out[row] = true }
        return out
    }

    /// Appends validated rows (every schema field present, `$meta` holding dynamic fields).
    /// Row `i` goes to partition `partitions[i]`.
    mutating func append(_ batch: StoredBatch, partitions: [UInt64]) {
        let n = batch.rowCount
        precondition(partitions.count == n, "a partition per row")
        self.partitions.append(contentsOf: partitions)
        for field in schema.fields {
            let name = field.name
            guard field.dataType.isVector else {
                columns[name]!.append(contentsOf: batch.columns[name]!)
                continue
            }
            let d = field.dataType.dimension!
            switch batch.vectors[name]! {
            case .float(let a):
                vectors[name]!.append(contentsOf: a)
                a.withUnsafeBufferPointer { p in
                    norms[name]!.append(contentsOf: (0..<n).lazy.map { Kernels.norm(p.baseAddress! + $0 * d, d) })
                }
            case .half(let a):
                halfVectors[name]!.append(contentsOf: a)
                // The norm of the rounded vector, as the half components read back.
                let format = VectorStorage.halfFormat(field.dataType)
                var row = [Float](repeating: 0, count: d)
                a.withUnsafeBufferPointer { p in
                    for i in 0..<n {
                        Kernels.widen(p.baseAddress! + i * d, count: d, format, into: &row)
                        norms[name]!.append(Kernels.norm(row, d))
                    }
                }
            case .binary(let a):
                binaryVectors[name]!.append(contentsOf: a)
            }
        }
        if schema.enableDynamicField { columns[dynamicFieldName]!.append(contentsOf: batch.columns[dynamicFieldName]!) }
        for _ in 0..<n { deleted.append(false) }
        rowCount += n
        byteEstimate += batch.byteEstimate
    }


    mutating func markDeleted(_ row: Int) {
        deleted[row] = true
    }

    /// The stored vector of `row` in `field`.
    func vectorValue(_ field: FieldSchema, row: Int) -> Value {
        let d = field.dataType.dimension!
        switch field.dataType {
        case .floatVector: return .vector(Array(vectors[field.name]![(row * d)..<((row + 1) * d)]))
        case .binaryVector: return .bytes(Array(binaryVectors[field.name]![(row * d / 8)..<((row + 1) * d / 8)]))
        default:
            let format = VectorStorage.halfFormat(field.dataType)
            return .vector(halfVectors[field.name]![(row * d)..<((row + 1) * d)].map { Kernels.widen($0, format) })
        }
    }

    // MARK: SegmentColumns

    func column(named name: String) -> Column? { columns[name] }
    func blockStats(named name: String) -> [BlockStats]? { nil }
}
