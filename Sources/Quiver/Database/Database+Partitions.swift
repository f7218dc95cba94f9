/// Partitions: named parts of a collection, with Milvus's semantics (see <doc:Partitions>).
///
/// Every collection has the partition `_default`, which cannot be dropped; rows go there unless
/// an insert names another. Reads and deletes cover every partition unless they name some
/// (`partitions:` of ``SearchRequest``, ``QueryRequest``, ``DeleteRequest`` and the labelled
/// calls); a name that does not exist is `.notFound`. Primary keys stay unique across the
/// whole collection.
///
/// ```swift
/// try db.createPartition("docs", partition: "2024")
/// try db.insert("docs", rows: rows, partition: "2024")
/// let hits = try db.search("docs", vectors: [q], limit: 5, partitions: ["2024"])
/// try db.dropPartition("docs", partition: "2024")      // its rows are gone, durably
/// ```
///
/// A collection whose schema has a partition key (``FieldSchema/isPartitionKey``) has the
/// partitions `_default_0` … `_default_{n-1}` (``CollectionSchema/numPartitions``) instead; each
/// row goes to the one its key hashes to, and a filter on the key reads only the partitions of
/// its values. Its partitions cannot be created or dropped, and calls take no partition names
/// (`.invalidArgument`).
///
/// Partitions have no load state of their own (a collection is loaded or released whole), so
/// unlike Milvus a partition need not be released before it is dropped.
extension Database {
    /// Creates an empty partition of `collection` (a collection's name or an alias).
    ///
    /// - Throws: `.alreadyExists` when the partition exists; `.invalidArgument` for a bad name
    ///   (Milvus's rule: a letter or `_` first, then letters, digits and `_`), a collection with a
    ///   partition key, or past 4,096 partitions; `.notFound` when there is no such collection;
    ///   `.io` when the manifest cannot be written; `.unsupported` on a read-only database.
    public func createPartition(_ collection: String, partition: String) throws {
        try withEngine(collection, .manage) { try $0.createPartition(partition) }
    }

    /// Drops a partition and every row in it. Durable when it returns: the rows do not come
    /// back after a crash or a power cut (the drop is one manifest switch whose checkpoint
    /// covers every insert logged before it). Reads that started before see the partition to
    /// their end.
    ///
    /// - Throws: `.notFound` when there is no such collection or partition; `.invalidArgument`
    ///   for `_default` or a collection with a partition key; `.io` when the files cannot be
    ///   written (the partition then stays); `.unsupported` on a read-only database.
    public func dropPartition(_ collection: String, partition: String) throws {
        try withEngine(collection, .manage) { try $0.dropPartition(partition) }
    }

    /// Whether `collection` has a partition named `partition`.
    ///
    /// - Throws: `.notFound` when there is no such collection; `.closed` after ``close()-1qu38``.
    public func hasPartition(_ collection: String, partition: String) throws -> Bool {
        try withEngine(collection, .manage) { try $0.hasPartition(partition) }
    }

    /// The names of `collection`'s partitions, in creation order (`_default` first).
    ///
    /// - Throws: `.notFound` when there is no such collection; `.closed` after ``close()-1qu38``.
    public func listPartitions(_ collection: String) throws -> [String] {
        try withEngine(collection, .manage) { try $0.listPartitions() }
    }
}
