/// Partitions: named parts of a collection, each sealed segment in exactly one of them.
///
/// The set of partitions is in the manifest (`Manifest.partitions`); creating or dropping one is
/// one atomic manifest replacement (*Durability*, rule 20). Rows carry their partition: a sealed
/// segment's manifest entry names it, the growing segment keeps one id per row, and a WAL insert
/// or upsert record names it (types 6 and 7; types 1, 2, 4 and 5 are `_default`). A flush writes one
/// segment per partition present in the growing segment; a compaction merges segments of one
/// partition only.
///
/// Reads take a *scope* (`scope(_:filter:)`): the partition ids they cover, or `nil` for all.
/// It is found once per call, from the partition names given and, with a partition key, from
/// the filter (`FilterPredicate.values(restricting:)`), and the snapshot skips the segments (and
/// growing rows) outside it (`Snapshot.searchable`, `Snapshot.matching`).
extension CollectionEngine {
    /// The partitions, in creation order.
    func listPartitions() throws -> [String] {
        try state.withLock { s in
            guard !s.closed else { throw QuiverError(.closed, "the collection is closed or was dropped") }
            return s.manifest.partitions.map(\.name)
        }
    }

    /// Whether a partition named `name` exists.
    func hasPartition(_ name: String) throws -> Bool {
        try state.withLock { s in
            guard !s.closed else { throw QuiverError(.closed, "the collection is closed or was dropped") }
            return s.manifest.partition(named: name) != nil
        }
    }

    /// Creates an empty partition: one manifest switch.
    ///
    /// - Throws: `.invalidArgument` for a bad name, a collection with a partition key, or more
    ///   than `maxPartitions`; `.alreadyExists` when the name is taken; `.io` when the manifest
    ///   cannot be written (nothing changes; the collection then refuses writes until reopened).
    func createPartition(_ name: String) throws {
        try Names.validatePartition(name)
        try refuseManualPartitions("create partitions")
        try serialized {
            var next = state.withLock { $0.manifest }
            guard next.partition(named: name) == nil else {
                throw QuiverError(.alreadyExists, "partition '\(name)' already exists")
            }
            guard next.partitions.count < Self.maxPartitions else {
                throw QuiverError.invalidArgument("a collection has at most \(Self.maxPartitions) partitions")
            }
            next.version += 1
            next.partitions.append(Manifest.Partition(id: next.nextPartitionID, name: name))
            next.nextPartitionID += 1
            do {
                try FileSystem.replaceAtomically(directory + "/" + FileNames.manifest, next.encode())
            } catch let error as QuiverError {
                throw markFailed(error)  // the rename may or may not have happened
            }
            state.withLock { $0.manifest = next }
        }
    }

    /// Drops a partition and every row in it: one flush whose manifest also leaves out the
    /// partition and its segments (`flushSerialized(dropping:)`), so that after it no WAL record
    /// is replayed into the partition and its rows are gone durably; the files are deleted after.
    ///
    /// - Throws: `.notFound` for an unknown partition; `.invalidArgument` for `_default` or a
    ///   collection with a partition key; `.io` as a flush.
    func dropPartition(_ name: String) throws {
        try refuseManualPartitions("drop partitions")
        guard name != Manifest.defaultPartition else {
            throw QuiverError.invalidArgument("the default partition '\(name)' cannot be dropped")
        }
        try serialized {
            guard let partition = state.withLock({ $0.manifest.partition(named: name) }) else {
                throw QuiverError.notFound("partition '\(name)' does not exist")
            }
            try flushSerialized(dropping: partition.id)
        }
        compactInBackgroundIfDue()
    }

    /// The most partitions a collection may have (Milvus's `rootCoord.maxPartitionNum` default, 4,096).
    static let maxPartitions = 4096

    private func refuseManualPartitions(_ what: String) throws {
        if let key = schema.partitionKeyField {
            throw QuiverError.invalidArgument(
                "cannot \(what) of a collection with a partition key ('\(key.name)'): its partitions follow the key")
        }
    }

    /// The id of the partition an insert or upsert names (inside `serialized`, so that no drop
    /// comes between): `_default`'s for `nil`.
    ///
    /// - Throws: `.notFound` for an unknown partition; `.invalidArgument` for a name given to a
    ///   collection with a partition key.
    func partitionID(forWriting name: String?) throws -> UInt64 {
        guard let name else { return 0 }
        if let key = schema.partitionKeyField {
            throw QuiverError.invalidArgument(
                "rows of a collection with a partition key ('\(key.name)') go to the partition of their key; give no partition name")
        }
        guard let partition = state.withLock({ $0.manifest.partition(named: name) }) else {
            throw QuiverError.notFound("partition '\(name)' does not exist")
        }
        return partition.id
    }

    /// The partition ids a read covers (`nil`: every partition): the partitions `names` (every
    /// one when empty) and, with a partition key, only those the values a `filter` restricts the
    /// key to hash to (`key == v`, `key in [...]`, within an `and`, or every branch of an `or`).
    ///
    /// - Throws: `.notFound` naming a partition that does not exist; `.invalidArgument` for
    ///   partition names given to a collection with a partition key.
    func scope(_ names: [String], filter: FilterExpression?) throws -> Set<UInt64>? {
        if let key = schema.partitionKeyField {
            guard names.isEmpty else {
                throw QuiverError.invalidArgument(
                    "a collection with a partition key ('\(key.name)') takes no partition names; filter on the key instead")
            }
            guard let values = filter?.predicate?.values(restricting: key) else { return nil }
            return Set(values.map { UInt64(PartitionRouting.bucket(of: $0, count: schema.numPartitions)) })
        }
        guard !names.isEmpty else { return nil }
        return try state.withLock { s in
            guard !s.closed else { throw QuiverError(.closed, "the collection is closed or was dropped") }
            return Set(try names.map { name in
                guard let p = s.manifest.partition(named: name) else {
                    throw QuiverError.notFound("partition '\(name)' does not exist")
                }
                return p.id
            })
        }
    }

    /// The partition of each row of `batch` for an insert or upsert into partition `explicit`: the
    /// bucket of its key with a partition key (bucket `i` is partition id `i`, see
    /// `Manifest.initial(for:)`), else `explicit`.
    static func partitions(of batch: StoredBatch, explicit: UInt64, schema: CollectionSchema) -> [UInt64] {
        guard let key = schema.partitionKeyField, let column = batch.columns[key.name] else {
            return Array(repeating: explicit, count: batch.rowCount)
        }
        return (0..<batch.rowCount).map { UInt64(PartitionRouting.bucket(of: column.value(at: $0), count: schema.numPartitions)) }
    }
}

extension CollectionEngine.State {
    /// The partition of the live row at `location`.
    func partition(of location: RowLocation) -> UInt64 {
        location.segment == RowLocation.growing
            ? growing.partitions[Int(location.row)]
            : manifest.segments[segmentIndex[location.segment]!].partition
    }
}

/// Where a partition key's value sends a row: a stable hash (it is persisted through the segments'
/// partitions, so it never changes), modulo the number of partitions.
enum PartitionRouting {
    /// The bucket of `value` among `count`: an `int64` by the SplitMix64 finalizer of its bits, a
    /// string by the CRC-32C of its UTF-8 bytes; anything else (validated rows have neither
    /// null nor another type in a key field) goes to bucket 0.
    static func bucket(of value: Value, count: Int) -> Int {
        let hash: UInt64
        switch value {
        case .int(let v):
            var z = UInt64(bitPattern: v)
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            hash = z ^ (z >> 31)
        case .string(let s): hash = UInt64(CRC32C.checksum(Array(s.utf8)))
        default: hash = 0
        }
        return Int(hash % UInt64(count))
    }
}
