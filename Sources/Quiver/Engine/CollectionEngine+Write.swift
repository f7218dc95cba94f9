/// Inserts, upserts and deletes: validate everything, then log, then apply — all or nothing.
extension CollectionEngine {
    /// Inserts (or, with `upsert`, replaces by primary key) `rows`; returns their keys.
    func write(_ rows: [Row], upsert: Bool) throws -> [Value] {
        guard !rows.isEmpty else { return [] }
        let pkField = schema.primaryField
        let generatesKeys = pkField.autoID && !upsert
        // Validation needs no lock: the schema is immutable.
        var stored = try rows.enumerated().map { i, row in
            try RowPreparer.prepare(row, index: i, schema: schema, generatesKeys: generatesKeys)
        }
        let (keys, flushed) = try withWritableState { s in
            if generatesKeys {
                for i in stored.indices {
                    stored[i][pkField.name] = .int(s.manifest.nextAutoID + Int64(i))
                }
            }
            var keys = [PrimaryKey]()
            keys.reserveCapacity(stored.count)
            var seen = Set<PrimaryKey>(minimumCapacity: stored.count)
            for (i, row) in stored.enumerated() {
                let key = try PrimaryKey.from(row[pkField.name]!, field: pkField)
                guard seen.insert(key).inserted else {
                    throw QuiverError(.invalidArgument, "row \(i): primary key \(key) appears more than once in this call")
                }
                if !upsert, s.pkIndex[key] != nil {
                    throw QuiverError(.alreadyExists, "row \(i): primary key \(key) already exists; use upsert to replace it")
                }
                keys.append(key)
            }
            let sequence = s.lastSequence + 1
            let op: WALOperation = upsert ? .upsert(sequence: sequence, rows: stored) : .insert(sequence: sequence, rows: stored)
            try log(op, &s)
            try s.apply(rows: stored, replacing: upsert, schema: schema)
            return (keys.map(\.value), try flushIfNeeded(&s))
        }
        if flushed { compactInBackgroundIfDue() }
        return keys
    }

    /// Deletes the rows with `keys`; returns how many live rows were deleted.
    func delete(keys: [PrimaryKey]) throws -> Int {
        try withWritableState { s in
            let live = keys.filter { s.pkIndex[$0] != nil }
            guard !live.isEmpty else { return 0 }
            let unique = Array(Set(live))
            try log(.delete(sequence: s.lastSequence + 1, keys: unique), &s)
            return s.applyDelete(unique)
        }
    }

    /// Appends `op` to the WAL (fsyncing under `.always`) and advances the sequence.
    private func log(_ op: WALOperation, _ s: inout State) throws {
        let record = op.encode()
        guard record.count <= WALFormat.maxRecordLength else {
            throw QuiverError.invalidArgument("one call may write at most 1 GiB; split the rows into smaller calls")
        }
        try s.wal!.append(record)
        if options.durability == .always {
            do { try s.wal!.sync() } catch let error as QuiverError {
                // The record may be on disk: memory and disk may disagree until reopen.
                s.failure = error
                throw error
            }
        }
        s.lastSequence = op.sequence
    }

    /// Flushes when the growing segment passed a threshold; returns whether it did.
    private func flushIfNeeded(_ s: inout State) throws -> Bool {
        guard s.growing.rowCount >= options.flushRowThreshold || s.growing.byteEstimate >= options.flushByteThreshold else {
            return false
        }
        try s.flush(directory: directory, schema: schema, load: !options.memoryMapSegments, log: options.logHandler)
        return true
    }

    /// Seals the growing segment and records the deletes (see `Flush.swift`).
    func flush() throws {
        try withWritableState { s in
            try s.flush(directory: directory, schema: schema, load: !options.memoryMapSegments, log: options.logHandler)
        }
        compactInBackgroundIfDue()
    }
}
