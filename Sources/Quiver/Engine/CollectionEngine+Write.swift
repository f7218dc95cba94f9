/// Inserts, upserts and deletes: validate everything, then log, then apply — all or nothing.
///
/// Each runs inside `serialized`: checks and key assignment under `state`'s lock, the WAL append
/// (and its fsync under `.always`) without it, then the apply under it again. A flush that a
/// write triggers runs after the write is applied; its failure does not fail the write (the
/// rows are logged and applied, so the call is acknowledged): it is recorded (`flushError`,
/// `CollectionStats/flushError`), logged, and retried on a later trigger after a backoff. Once
/// the growing segment holds `DatabaseOptions.growingSegmentByteLimit` bytes, inserts and
/// upserts are refused with `.resourceExhausted` until a flush succeeds.
extension CollectionEngine {
    /// Inserts (or, with `upsert`, replaces by primary key) `rows` into partition `partition`
    /// (`_default` for `nil`; with a partition key, the partitions of the rows' keys); returns
    /// their keys. A key is unique in the collection: an upsert replaces the live row of its key
    /// in whichever partition it is.
    func write(_ rows: [Row], upsert: Bool, partition: String? = nil) throws -> [Value] {
        guard !rows.isEmpty else { return [] }
        let generatesKeys = schema.primaryField.autoID && !upsert
        // Validation needs no lock: the schema is immutable.
        let stored = try rows.enumerated().map { i, row in
            try RowPreparer.prepare(row, index: i, schema: schema, generatesKeys: generatesKeys)
        }
        return try write(StoredBatch(storedRows: stored, schema: schema), upsert: upsert, partition: partition)
    }

    /// Inserts (or, with `upsert`, replaces by primary key) the rows of `columns` into partition
    /// `partition` (as the row write); returns their keys.
    func write(_ columns: ColumnBatch, upsert: Bool, partition: String? = nil) throws -> [Value] {
        let batch = try ColumnPreparer.prepare(columns, schema: schema, generatesKeys: schema.primaryField.autoID && !upsert)
        guard batch.rowCount > 0 else { return [] }
        return try write(batch, upsert: upsert, partition: partition)
    }

    /// The one write of rows: assigns generated keys, checks the keys, logs the batch, applies it.
    private func write(_ batch: StoredBatch, upsert: Bool, partition: String?) throws -> [Value] {
        let pkField = schema.primaryField
        let generatesKeys = pkField.autoID && !upsert
        var stored = batch
        let (keys, flushed) = try serialized { () throws -> ([PrimaryKey], Bool) in
            try ensurePrimaryKeyIndex()
            let partition = try partitionID(forWriting: partition)
            try refuseWhenGrowingIsFull()
            let sequence = try state.withLock { s -> UInt64 in
                if generatesKeys {
                    let first = s.manifest.nextAutoID
                    guard first <= Int64.max - Int64(stored.rowCount) else {
                        throw QuiverError.invalidArgument(
                            "auto_id field '\(pkField.name)' has run out of ids: \(stored.rowCount) rows need ids from \(first), past \(Int64.max - 1)")
                    }
                    stored.assignKeys(pkField, from: first)
                }
                return s.lastSequence + 1
            }
            let keys = try checkKeys(stored.keys(pkField), upsert: upsert)
            try log(upsert
                ? .upsertColumns(sequence: sequence, batch: stored, partition: partition)
                : .insertColumns(sequence: sequence, batch: stored, partition: partition))
            let appended = appendOutsideLock(stored, partition: partition)
            let replaced = try state.withLock { s -> GrowingSegment? in
                let replaced = appended == nil ? nil : s.growing  // freed after the lock: O(rows)
                try s.apply(stored, keys: keys, replacing: upsert, schema: schema, partition: partition, appended: appended)
                return replaced
            }
            withExtendedLifetime(replaced) {}
            return (keys, flushIfDue())
        }
        if flushed { compactInBackgroundIfDue() }
        return keys.map(\.value)
    }

    /// `keys` (inside `serialized`) once checked: rejects a key repeated in the call, one that
    /// would overflow the auto id, and for an insert one that is live.
    private func checkKeys(_ keys: [PrimaryKey], upsert: Bool) throws -> [PrimaryKey] {
        let pkField = schema.primaryField
        var seen = Set<PrimaryKey>(minimumCapacity: keys.count)
        for (i, key) in keys.enumerated() {
            guard seen.insert(key).inserted else {
                throw QuiverError(.invalidArgument, "row \(i): primary key \(key) appears more than once in this call")
            }
        }
        try state.withLock { s in
            _ = try State.nextAutoID(after: keys, current: s.manifest.nextAutoID, field: pkField)
            if !upsert, let i = keys.firstIndex(where: { s.pkIndex[$0] != nil }) {
                throw QuiverError(.alreadyExists, "row \(i): primary key \(keys[i]) already exists; use upsert to replace it")
            }
        }
        return keys
    }

    /// `growing` with `rows` appended, made without `state`'s lock when appending would copy the
    /// rows stored so far — a reader's snapshot shares the growing segment's storage, or a vector
    /// array must grow — so that readers do not wait for that copy; `nil` otherwise, and the
    /// apply appends in place. Inside `serialized`.
    private func appendOutsideLock(_ batch: StoredBatch, partition: UInt64) -> GrowingSegment? {
        guard var growing = state.withLock({ s in
            s.growing.isShared() || s.growing.appendWouldReallocate(rows: batch.rowCount) ? s.growing : nil
        }) else { return nil }
        FaultInjector.shared.stall(.append, path: directory + "/")
        growing.detach()
        growing.append(batch, partitions: Self.partitions(of: batch, explicit: partition, schema: schema))
        return growing
    }

    /// Deletes the rows with `keys` and, when a filter is given, only those of them matching it
    /// (all live rows matching it when `keys` is `nil`), of the partitions `partitions` (all when
    /// empty); returns how many live rows were deleted.
    ///
    /// The filter and the partitions are resolved inside `serialized`, on the state the delete
    /// applies to: an upsert that lands before the delete and makes a row stop matching keeps that row.
    ///
    /// - Throws: `.notFound` for an unknown partition; `.invalidArgument` for partition names given
    ///   to a collection with a partition key.
    func delete(keys: [PrimaryKey]?, filter: FilterExpression?, partitions: [String] = []) throws -> Int {
        try serialized {
            try ensurePrimaryKeyIndex()
            let scope = try scope(partitions, filter: filter)
            var keys = keys
            if let filter {
                let matching = try self.keys(matching: filter, scope: scope)
                keys = keys.map { $0.filter(Set(matching).contains) } ?? matching
            }
            let unique = state.withLock { s in
                Array(Set((keys ?? []).filter { key in
                    guard let location = s.pkIndex[key] else { return false }
                    return scope.map { $0.contains(s.partition(of: location)) } ?? true
                }))
            }
            guard !unique.isEmpty else { return 0 }
            try log(.delete(sequence: state.withLock { $0.lastSequence } + 1, keys: unique))
            return state.withLock { $0.applyDelete(unique) }
        }
    }

    /// Appends `op` to the WAL (fsyncing under `.always`) and advances the sequence; inside
    /// `serialized`, without `state`'s lock.
    private func log(_ op: WALOperation) throws {
        let record = op.encode()
        guard record.count <= WALFormat.maxRecordLength else {
            throw QuiverError.invalidArgument("one call may write at most 1 GiB; split the rows into smaller calls")
        }
        let wal = state.withLock { $0.wal! }
        do { try wal.append(record) } catch {
            // A partial record that could not be cut back: no record may follow it until reopen.
            if let damaged = wal.damaged { _ = markFailed(damaged) }
            throw error
        }
        if options.durability == .always {
            do { try wal.sync() } catch let error as QuiverError {
                // The record may be on disk: memory and disk may disagree until reopen.
                throw markFailed(error)
            }
        }
        state.withLock { $0.lastSequence = op.sequence }
    }

    /// Flushes when the growing segment passed a threshold (or, with `full`, whatever its size)
    /// and no failed flush is backing off; returns whether it flushed. A failure is recorded and
    /// logged, not thrown: the write that triggered it is logged and applied.
    private func flushIfDue(full: Bool = false) -> Bool {
        let due = state.withLock { s in
            (full || s.growing.rowCount >= options.flushRowThreshold || s.growing.byteEstimate >= options.flushByteThreshold)
                && s.flushRetryAt.map { ContinuousClock.now >= $0 } ?? true
        }
        guard due else { return false }
        do {
            try flushSerialized()
            return true
        } catch {
            options.logHandler(.error, "flushing '\(directory)' failed; the rows stay in the WAL and the flush is retried: \(error)")
            return false
        }
    }

    /// Throws `.resourceExhausted` when the growing segment holds `growingSegmentByteLimit` bytes
    /// and a flush (tried when its backoff allows) does not empty it.
    private func refuseWhenGrowingIsFull() throws {
        let limit = options.resolvedGrowingSegmentByteLimit
        guard state.withLock({ $0.growing.byteEstimate >= limit }) else { return }
        _ = flushIfDue(full: true)
        let (bytes, flushError) = state.withLock { s in (s.growing.byteEstimate, s.flushError) }
        guard bytes >= limit else { return }
        throw QuiverError(
            .resourceExhausted,
            "the growing segment of '\(directory)' holds \(bytes) bytes, the limit (growingSegmentByteLimit) is \(limit), "
                + "and flushing it fails\(flushError.map { ": \($0.message)" } ?? ""); free disk space and call flush",
            cause: flushError)
    }

    /// Seals the growing segment and records the deletes (see `Flush.swift`).
    ///
    /// - Throws: the flush's I/O error (also kept as the collection's `flushError` until a flush succeeds).
    func flush() throws {
        try serialized { try flushSerialized() }
        requestPacking()
    }
}
