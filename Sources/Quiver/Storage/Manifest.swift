/// The list of a collection's live files, replaced atomically at every flush
/// (write temp → fsync → rename → fsync directory). See `Documentation/FileFormats.md` § MANIFEST.
struct Manifest: Sendable, Equatable {
    struct SegmentEntry: Sendable, Equatable {
        var id: UInt64
        var rowCount: Int
        /// The delete file of this segment, if any row of it is deleted.
        var deleteFile: String?
        var deletedCount: Int
        /// Index files of this segment, by vector field name (see `IndexFile`).
        var indexFiles: [String: String] = [:]
        /// The partition every row of this segment belongs to (`Partition.id`); a compaction
        /// merges only segments of one partition. Absent from manifests written before
        /// partitions: `_default`'s id, 0.
        var partition: UInt64 = 0
    }

    /// A partition of the collection: a name and the id its segments and WAL records carry (ids
    /// are never reused, so a WAL record of a dropped partition cannot reach a new one of the
    /// same name).
    struct Partition: Sendable, Equatable {
        var id: UInt64
        var name: String
    }

    /// Increases by one at each switch.
    var version: UInt64 = 0
    /// Every WAL operation with a sequence number up to this one is in the segments.
    var checkpointSequence: UInt64 = 0
    /// The first WAL file that recovery replays.
    var walStart: UInt64 = 1
    var nextSegmentID: UInt64 = 1
    /// The next id handed out to rows of an `autoID` collection.
    var nextAutoID: Int64 = 1
    var segments: [SegmentEntry] = []
    /// The indexes defined on vector fields; each sealed segment gets one file per index.
    var indexes: [IndexDefinition] = []
    /// The next number for an index file name and index generation.
    var nextIndexNumber: UInt64 = 1
    /// The partitions, in creation order. Absent from manifests written before partitions: the
    /// partitions of `initial(for:)`.
    var partitions: [Partition] = [Partition(id: 0, name: Manifest.defaultPartition)]
    var nextPartitionID: UInt64 = 1

    /// The partition every collection without a partition key has, and that cannot be dropped.
    static let defaultPartition = "_default"

    /// The manifest of a new collection: `_default` (id 0), or for a schema with a partition key
    /// its `numPartitions` partitions `_default_0`, `_default_1`, … with ids 0, 1, … (Milvus's
    /// names), which the key's hash picks by id (`PartitionRouting`).
    static func initial(for schema: CollectionSchema) -> Manifest {
        var m = Manifest()
        if schema.partitionKeyField != nil {
            m.partitions = (0..<schema.numPartitions).map { Partition(id: UInt64($0), name: "\(defaultPartition)_\($0)") }
            m.nextPartitionID = UInt64(schema.numPartitions)
        }
        return m
    }

    /// The partition named `name`, if any.
    func partition(named name: String) -> Partition? { partitions.first { $0.name == name } }

    static let magic = "QVMANIF"
    static let formatVersion: UInt32 = 1

    func encode() -> [UInt8] {
        let payload: Value = .object([
            "version": .int(Int64(bitPattern: version)),
            "checkpoint_sequence": .int(Int64(bitPattern: checkpointSequence)),
            "wal_start": .int(Int64(bitPattern: walStart)),
            "next_segment_id": .int(Int64(bitPattern: nextSegmentID)),
            "next_auto_id": .int(nextAutoID),
            "segments": .array(segments.map { s in
                var o: [String: Value] = [
                    "id": .int(Int64(bitPattern: s.id)), "rows": .int(Int64(s.rowCount)),
                    "deleted": .int(Int64(s.deletedCount)),
                ]
                if let f = s.deleteFile { o["delete_file"] = .string(f) }
                if !s.indexFiles.isEmpty { o["index_files"] = .object(s.indexFiles.mapValues { .string($0) }) }
                if s.partition != 0 { o["partition"] = .int(Int64(bitPattern: s.partition)) }
                return .object(o)
            }),
            "next_index_number": .int(Int64(bitPattern: nextIndexNumber)),
            "partitions": .array(partitions.map { .object(["id": .int(Int64(bitPattern: $0.id)), "name": .string($0.name)]) }),
            "next_partition_id": .int(Int64(bitPattern: nextPartitionID)),
            "indexes": .array(indexes.map { d in
                .object([
                    "field": .string(d.field), "name": .string(d.name), "type": .string(d.type.rawValue),
                    "metric": .string(d.metric.rawValue), "params": .object(d.params.stored(for: d.type)),
                    "generation": .int(Int64(bitPattern: d.generation)),
                ])
            }),
        ])
        return Envelope.wrap(magic: Manifest.magic, version: Manifest.formatVersion, payload: payload)
    }

    /// Reads a manifest; `schema` gives the partitions of a manifest written before partitions
    /// (`initial(for:)`; `_default` alone without a schema).
    static func decode(_ bytes: [UInt8], path: String, schema: CollectionSchema? = nil) throws -> Manifest {
        let value = try Envelope.unwrap(bytes, magic: magic, version: formatVersion, path: path)
        func bad(_ what: String) -> QuiverError { QuiverError.corruption("manifest '\(path)': \(what)") }
        guard case .object(let o) = value else { throw bad("not an object") }
        func u64(_ key: String, in o: [String: Value]) throws -> UInt64 {
            guard case .int(let v)? = o[key] else { throw bad("missing \(key)") }
            return UInt64(bitPattern: v)
        }
        /// A counter or id the engine adds to: below 2^62, so no increment can overflow.
        func counter(_ key: String, in o: [String: Value]) throws -> UInt64 {
            guard case .int(let v)? = o[key], v >= 0, v < 1 << 62 else { throw bad("\(key) is missing or out of range") }
            return UInt64(v)
        }
        /// A row count: at most `Int32.max`, the largest segment (`SegmentFormat.Footer`).
        func rows(_ key: String, in o: [String: Value]) throws -> Int {
            guard case .int(let v)? = o[key], v >= 0, v <= Int64(Int32.max) else { throw bad("\(key) is missing or out of range") }
            return Int(v)
        }
        var m = schema.map(Manifest.initial(for:)) ?? Manifest()
        m.version = try counter("version", in: o)
        // "partitions" and "next_partition_id" are absent from manifests written before partitions.
        if o["partitions"] != nil || o["next_partition_id"] != nil {
            m.nextPartitionID = try counter("next_partition_id", in: o)
            guard case .array(let items)? = o["partitions"] else { throw bad("partitions is not an array") }
            m.partitions = []
            for item in items {
                guard case .object(let po) = item, let name = po["name"]?.stringValue, (try? Names.validatePartition(name)) != nil
                else { throw bad("bad partition entry") }
                let id = try counter("id", in: po)
                guard id < m.nextPartitionID, !m.partitions.contains(where: { $0.id == id || $0.name == name }) else {
                    throw bad("partition '\(name)' has a repeated or out-of-range id or name")
                }
                m.partitions.append(Partition(id: id, name: name))
            }
        }
        let partitionIDs = Set(m.partitions.map(\.id))
        m.checkpointSequence = try counter("checkpoint_sequence", in: o)
        m.walStart = try counter("wal_start", in: o)
        m.nextSegmentID = try counter("next_segment_id", in: o)
        m.nextAutoID = Int64(bitPattern: try u64("next_auto_id", in: o))
        guard case .array(let segs)? = o["segments"] else { throw bad("missing segments") }
        var ids = Set<UInt64>()
        for s in segs {
            guard case .object(let so) = s else { throw bad("segment entry is not an object") }
            let entry = SegmentEntry(
                id: try u64("id", in: so), rowCount: try rows("rows", in: so),
                deleteFile: so["delete_file"]?.stringValue, deletedCount: try rows("deleted", in: so))
            guard entry.rowCount > 0, entry.deletedCount <= entry.rowCount, entry.id < m.nextSegmentID,
                ids.insert(entry.id).inserted, entry.deletedCount == 0 || entry.deleteFile != nil
            else {
                throw bad("segment entry \(entry.id) is inconsistent")
            }
            if let name = entry.deleteFile, !FileNames.isDeleteFile(name, segment: entry.id) {
                throw bad("segment entry \(entry.id) has a bad delete file name")
            }
            var withIndexes = entry
            if so["partition"] != nil {
                withIndexes.partition = try counter("partition", in: so)
            }
            guard partitionIDs.contains(withIndexes.partition) else {
                throw bad("segment entry \(entry.id) names partition \(withIndexes.partition), which the manifest does not list")
            }
            if case .object(let files)? = so["index_files"] {
                for (field, name) in files {
                    guard let name = name.stringValue, FileNames.isIndexFile(name, segment: entry.id) else {
                        throw bad("segment entry \(entry.id) has a bad index file name")
                    }
                    withIndexes.indexFiles[field] = name
                }
            }
            m.segments.append(withIndexes)
        }
        if o["next_index_number"] != nil { m.nextIndexNumber = try counter("next_index_number", in: o) }
        if case .array(let defs)? = o["indexes"] {
            for d in defs {
                guard case .object(let od) = d, let field = od["field"]?.stringValue,
                    let type = od["type"]?.stringValue.flatMap(IndexType.init(rawValue:)),
                    let metric = od["metric"]?.stringValue.flatMap(MetricType.init(rawValue:)),
                    case .object(let params)? = od["params"], case .int(let generation)? = od["generation"], generation >= 0,
                    let built = try? IndexBuildParams(type: type, params: params)
                else { throw bad("bad index definition") }
                // "name" is absent from manifests written before index names were stored: the field's name.
                let name: String
                switch od["name"] {
                case nil: name = field
                case .string(let given)? where (try? Names.validateIndex(given)) != nil: name = given
                default: throw bad("bad index name of field '\(field)'")
                }
                guard !m.indexes.contains(where: { $0.field == field || $0.name == name }) else {
                    throw bad("two index definitions for field '\(field)' or name '\(name)'")
                }
                m.indexes.append(IndexDefinition(
                    field: field, name: name, type: type, metric: metric, params: built, generation: UInt64(bitPattern: generation)))
            }
        }
        return m
    }
}

/// The database's list of collections with their schemas, and its aliases, replaced atomically
/// on every change.
struct Catalog: Sendable, Equatable {
    struct Entry: Sendable, Equatable {
        var id: UInt64
        var name: String
        var schema: CollectionSchema
        var metric: MetricType
    }

    var nextCollectionID: UInt64 = 1
    var collections: [Entry] = []
    /// Alias name → the id of the collection it names. By id, so renaming a collection keeps its
    /// aliases. An alias never equals a collection's name and always names a listed collection.
    var aliases: [String: UInt64] = [:]

    /// The aliases of collection `id`, sorted.
    func aliases(of id: UInt64) -> [String] {
        aliases.filter { $0.value == id }.keys.sorted()
    }

    static let magic = "QVCATLG"
    static let formatVersion: UInt32 = 1

    func encode() -> [UInt8] {
        let payload: Value = .object([
            "next_collection_id": .int(Int64(bitPattern: nextCollectionID)),
            "collections": .array(collections.map { c in
                .object([
                    "id": .int(Int64(bitPattern: c.id)), "name": .string(c.name),
                    "metric": .string(c.metric.rawValue), "schema": c.schema.jsonValue,
                ])
            }),
            "aliases": .object(aliases.mapValues { .int(Int64(bitPattern: $0)) }),
        ])
        return Envelope.wrap(magic: Catalog.magic, version: Catalog.formatVersion, payload: payload)
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> Catalog {
        let value = try Envelope.unwrap(bytes, magic: magic, version: formatVersion, path: path)
        func bad(_ what: String) -> QuiverError { QuiverError.corruption("catalog '\(path)': \(what)") }
        guard case .object(let o) = value, case .int(let next)? = o["next_collection_id"],
            case .array(let items)? = o["collections"]
        else { throw bad("missing keys") }
        guard next >= 1, next < 1 << 62 else { throw bad("next_collection_id \(next) is out of range") }
        var c = Catalog(nextCollectionID: UInt64(next))
        for item in items {
            guard case .object(let e) = item, case .int(let id)? = e["id"], let name = e["name"]?.stringValue,
                let metricName = e["metric"]?.stringValue, let metric = MetricType(rawValue: metricName),
                let schemaValue = e["schema"]
            else { throw bad("bad collection entry") }
            let schema: CollectionSchema
            do { schema = try CollectionSchema(json: schemaValue) } catch {
                throw bad("schema of '\(name)' is invalid: \(error)")
            }
            c.collections.append(Entry(id: UInt64(bitPattern: id), name: name, schema: schema, metric: metric))
        }
        // "aliases" is absent from catalogs written before aliases existed: none.
        switch o["aliases"] {
        case nil: break
        case .object(let aliases)?:
            let names = Set(c.collections.map(\.name))
            for (alias, target) in aliases {
                guard (try? Names.validateCollection(alias)) != nil, !names.contains(alias) else {
                    throw bad("alias '\(alias.prefix(64))' is not a valid name or is a collection's name")
                }
                guard case .int(let id) = target, c.collections.contains(where: { $0.id == UInt64(bitPattern: id) }) else {
                    throw bad("alias '\(alias)' names no collection of the catalog")
                }
                c.aliases[alias] = UInt64(bitPattern: id)
            }
        default: throw bad("aliases is not an object")
        }
        return c
    }
}
