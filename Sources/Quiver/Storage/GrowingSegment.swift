/// The in-memory segment that receives new rows until a flush seals it (the memtable).
///
/// A value type: a read snapshot is a copy, which shares storage until the writer appends.
struct GrowingSegment: SegmentColumns {
    let schema: CollectionSchema
    /// Scalar columns by field name, including the primary key and `$meta` when dynamic fields are on.
    private(set) var columns: [String: Column]
    /// Vectors by field name, row-major.
    private(set) var vectors: [String: [Float]]
    /// Euclidean norms of the vectors, by field name.
    private(set) var norms: [String: [Float]]
    private(set) var rowCount = 0
    /// Rows deleted or replaced since they were inserted.
    private(set) var deleted = Bitset(count: 0)
    /// A rough count of the bytes the rows take, for the flush threshold.
    private(set) var byteEstimate = 0

    init(schema: CollectionSchema) {
        self.schema = schema
        var columns = [String: Column]()
        var vectors = [String: [Float]]()
        for field in schema.fields {
            if field.dataType.isVector {
                vectors[field.name] = []
            } else {
                columns[field.name] = Column(emptyFor: field.dataType)
            }
        }
        if schema.enableDynamicField { columns[dynamicFieldName] = Column(emptyFor: .json) }
        self.columns = columns
        self.vectors = vectors
        norms = vectors.mapValues { _ in [] }
    }

    var liveCount: Int { rowCount - deleted.cardinality }

    /// Appends a stored row (every schema field present, `$meta` holding dynamic fields).
    mutating func append(_ row: Row) {
        for field in schema.fields {
            let value = row[field.name] ?? .null
            if field.dataType.isVector {
                guard case .vector(let v) = value else { preconditionFailure("unvalidated row") }
                vectors[field.name]!.append(contentsOf: v)
                norms[field.name]!.append(v.withUnsafeBufferPointer { Kernels.norm($0.baseAddress!, v.count) })
                byteEstimate += v.count * 4 + 4
            } else {
                columns[field.name]!.append(value)
                byteEstimate += Self.estimate(value)
            }
        }
        if schema.enableDynamicField {
            let meta = row[dynamicFieldName] ?? .object([:])
            columns[dynamicFieldName]!.append(meta)
            byteEstimate += Self.estimate(meta)
        }
        deleted.append(false)
        rowCount += 1
    }

    mutating func markDeleted(_ row: Int) {
        deleted[row] = true
    }

    private static func estimate(_ value: Value) -> Int {
        switch value {
        case .null, .bool: 1
        case .int, .double: 8
        case .string(let s): s.utf8.count + 16
        case .vector(let v): v.count * 4
        case .bytes(let b): b.count
        case .array(let a): a.reduce(16) { $0 + estimate($1) }
        case .object(let o): o.reduce(16) { $0 + $1.key.utf8.count + estimate($1.value) }
        }
    }

    // MARK: SegmentColumns

    func column(named name: String) -> Column? { columns[name] }
    func blockStats(named name: String) -> [BlockStats]? { nil }
}
