import Foundation
import Quiver
import Testing

/// One small scenario of every call of ``VectorDatabase``, run through `any VectorDatabase`, so
/// the same body checks the embedded `Database` and a remote backend (`RemoteDatabase` against
/// `quiver serve` or `milvus-lite server`).
///
/// Expected results come from a model kept here (a dictionary of the rows and brute-force
/// distances in `Double`), never from the code under test. Comparisons of hits are tie-robust:
/// the returned distances must equal the model's best distances in order, and each returned id
/// must have that distance in the model, so two rows at the same distance may come in either order.
///
/// The steps follow what a Milvus server needs as well: every collection gets an index (FLAT,
/// exact, so results are the model's) and is loaded before rows are written; an index is dropped
/// only after a release; `count(*)` rather than statistics is checked after deletes and upserts
/// (Milvus counts replaced rows in its statistics until compaction).
///
/// Where a backend lacks a feature or differs, ``Backend`` names it, and the step checks what
/// that backend does instead (never a silent skip); everything else is checked the same way on
/// every backend. ``Backend/milvusLite`` lists the differences of `milvus-lite server` 3.2.2.
public enum ConformanceScenario {
    /// What a backend does differently; each flag says which step it changes and how.
    public struct Backend: Sendable {
        /// The backend's name, in failure messages.
        public var name: String
        /// Filter templates: `{name}` placeholders with `filterParams`. Without them, a templated
        /// filter must fail with `.filterSyntax`, and the template steps run with each value
        /// written into the filter as a literal (``template(_:_:_:)``).
        public var filterTemplates: Bool
        /// Whether `listIndexes`/`describeIndex` see only indexes made with `createIndex`. When
        /// false (one index per field, named after the field, whatever name the client gives), the
        /// exact FLAT index `RemoteDatabase` makes at creation is listed and described from the
        /// start, an index of another type cannot be created over it (`.alreadyExists`), and
        /// `dropIndex` puts it back, so the field stays listed.
        public var indexesOnlyFromCreateIndex: Bool
        /// Binary vector fields (HAMMING). Without them, creating such a collection must fail
        /// with `.unsupported` and leave nothing behind.
        public var binaryVectors: Bool
        /// `renameCollection` keeps a loaded collection loaded. When false, the renamed
        /// collection answers `loadState` with `.notLoad` and is loaded again before its search.
        public var renameKeepsLoaded: Bool
        /// BM25 scores are Milvus's: positive, from Lucene's BM25 over the collection's live
        /// rows. When false, the full-text step checks only that each hit holds a query word,
        /// that the hits are best first and that there are as many as the model's.
        public var exactBM25Scores: Bool

        /// A backend description; the defaults are the embedded engine's.
        public init(
            name: String, filterTemplates: Bool = true, indexesOnlyFromCreateIndex: Bool = true,
            binaryVectors: Bool = true, renameKeepsLoaded: Bool = true, exactBM25Scores: Bool = true
        ) {
            self.exactBM25Scores = exactBM25Scores
            self.name = name
            self.filterTemplates = filterTemplates
            self.indexesOnlyFromCreateIndex = indexesOnlyFromCreateIndex
            self.binaryVectors = binaryVectors
            self.renameKeepsLoaded = renameKeepsLoaded
        }

        /// The embedded `Database`.
        public static let embedded = Backend(name: "embedded")

        /// `quiver serve` through `RemoteDatabase`: the embedded engine's behaviour.
        public static let quiverServe = Backend(name: "quiver serve")

        /// `milvus-lite server` 3.2.2 (PyPI) through `RemoteDatabase`. Each difference measured
        /// against it on 2026-12-02 (pymilvus 3.0.2 and this scenario):
        /// - No filter templates: `n >= {low}` fails with "unexpected character '{' at column 6"
        ///   (its code 6, `.filterSyntax`).
        /// - One index per field, under the field's name: the exact index made at creation is
        ///   listed as the field's FLAT index; `CreateIndex` of another type answers "index
        ///   already exists for field 'vector'; call drop_index first" (code 35).
        /// - No binary vectors: "field 'bits' uses Milvus type BinaryVector which MilvusLite does
        ///   not support" (code 6, `.unsupported`).
        /// - `RenameCollection` releases the collection: `GetLoadState` answers NotLoad, and a
        ///   search "Collection 'q2' is in state 'released'; call load() before search" (code 101).
        /// - BM25 scores come back negated (the best hit of a text search has distance −0.65 for a
        ///   score of 0.65), and their magnitudes are not Lucene's BM25 over the live rows even
        ///   for 24 rows inserted at once and never flushed (0.709 where the formula gives 0.739;
        ///   2026-12-03): its BM25 statistics are per segment index.
        public static let milvusLite = Backend(
            name: "milvus-lite server", filterTemplates: false, indexesOnlyFromCreateIndex: false,
            binaryVectors: false, renameKeepsLoaded: false, exactBM25Scores: false)
    }

    /// Runs the scenario on `db`, in collections whose names start with `prefix` (created and
    /// dropped by the scenario; none of them may exist before).
    public static func run(_ db: any VectorDatabase, backend: Backend, prefix: String = "conformance") async throws {
        try await quickCollection(db, backend: backend, name: prefix + "_quick", renamed: prefix + "_renamed")
        try await schemaCollection(db, backend: backend, name: prefix + "_docs")
        try await binaryCollection(db, backend: backend, name: prefix + "_bits")
        try await fullTextCollection(db, backend: backend, name: prefix + "_text")
        let left = try await db.listCollections().filter { $0.hasPrefix(prefix + "_") }
        #expect(left.isEmpty, "\(backend.name): collections left after the drops: \(left)")
    }

    // MARK: - Quick setup, IP, dynamic fields

    static func quickCollection(_ db: any VectorDatabase, backend: Backend, name: String, renamed: String) async throws {
        let d = 8
        var g = Generator(seed: 100)
        try await db.createCollection(name, dimension: d, metric: .ip)
        #expect(try await db.hasCollection(name))
        #expect(try await db.listCollections().contains(name))
        let description = try await db.describeCollection(name)
        #expect(description.name == name)
        #expect(description.metric == .ip)
        #expect(description.schema.primaryField.name == "id")
        #expect(description.schema.primaryField.dataType == .int64)
        #expect(description.schema.field(named: "vector")?.dataType == .floatVector(dimension: d))
        #expect(description.schema.enableDynamicField)

        // Where the exact index made at creation shows, it is this very index: FLAT with the
        // collection's metric, so the createIndex below is the no-op of creating it again.
        #expect(try await db.listIndexes(name) == (backend.indexesOnlyFromCreateIndex ? [] : ["vector"]))
        try await db.createIndex(name, field: "vector", type: .flat, metric: .ip)
        #expect(try await db.listIndexes(name) == ["vector"])
        try await db.loadCollection(name)
        #expect(try await db.loadState(name) == .loaded)

        // Insert 40 rows with dynamic fields `tag` and `n`.
        let tags = ["red", "green", "blue"]
        var model = [Int64: Stored]()
        var rows = [Row]()
        for i in 0..<40 {
            let stored = Stored(vector: g.vector(d), tag: tags[i % 3], n: Int64(i))
            model[Int64(i)] = stored
            rows.append(["id": .int(Int64(i)), "vector": .vector(stored.vector), "tag": .string(stored.tag), "n": .int(stored.n)])
        }
        let inserted = try await db.insert(name, rows: rows)
        #expect(inserted.insertCount == 40)
        #expect(inserted.ids == (0..<40).map { Value.int(Int64($0)) })
        try await db.flush(name)
        #expect(try await db.collectionStats(name).rowCount == 40)

        // Upsert rows 0..<5 with new vectors and tag "gold"; delete by ids and by filter.
        var upserts = [Row]()
        for i in 0..<5 {
            let stored = Stored(vector: g.vector(d), tag: "gold", n: Int64(i))
            model[Int64(i)] = stored
            upserts.append(["id": .int(Int64(i)), "vector": .vector(stored.vector), "tag": .string(stored.tag), "n": .int(stored.n)])
        }
        #expect(try await db.upsert(name, rows: upserts).upsertCount == 5)
        #expect(try await db.delete(name, ids: [5, 6]).deleteCount == 2)
        let low = try await template(db, name, "n >= {low}", ["low": 36], backend)
        #expect(try await db.delete(name, filter: low.filter, filterParams: low.params).deleteCount == 4)
        for id in [5, 6, 36, 37, 38, 39] as [Int64] { model[id] = nil }
        await expectError(.invalidArgument, backend, "a delete with neither ids nor a filter") {
            _ = try await db.delete(name)
        }

        // get: the live ones of the keys, with their fields (order compared by key).
        let got = try await db.get(name, ids: [3, 1, 99, 5], outputFields: ["tag", "n"]).sorted(by: byIntID)
        #expect(got.map { $0["id"] } == [.int(1), .int(3)])
        #expect(got.map { $0["tag"]?.stringValue } == ["gold", "gold"])
        #expect(got.map { $0["n"]?.intValue } == [1, 3])

        // query: a filter, paging, count(*).
        let red = try await db.query(name, filter: "tag == \"red\"", limit: 100, outputFields: ["n"])
        #expect(Set(red.compactMap { $0["id"]?.intValue }) == Set(model.filter { $0.value.tag == "red" }.keys))
        #expect(red.allSatisfy { row in row["n"]?.intValue == row["id"]?.intValue })
        var paged = [Int64]()
        for page in 0..<6 {
            let rows = try await db.query(name, filter: "n >= 0", limit: 7, offset: page * 7)
            #expect(rows.count == min(7, max(0, model.count - page * 7)), "\(backend.name): page \(page)")
            paged += rows.compactMap { $0["id"]?.intValue }
        }
        #expect(paged.count == model.count && Set(paged) == Set(model.keys), "\(backend.name): pages overlap or miss rows")
        #expect(try await db.query(name, outputFields: ["count(*)"]) == [["count(*)": .int(Int64(model.count))]])
        let gold = try await template(db, name, "tag == {t}", ["t": "gold"], backend)
        #expect(try await db.query(name, filter: gold.filter, filterParams: gold.params, outputFields: ["count(*)"])
            == [["count(*)": .int(5)]])

        // search: several queries with output fields, a filter template, offset, range.
        let ranking = { (q: [Float], keep: (Stored) -> Bool) -> [(id: Value, distance: Double)] in
            model.filter { keep($0.value) }
                .map { (id: Value.int($0.key), distance: dot(q, $0.value.vector)) }
                .sorted { $0.distance > $1.distance }
        }
        let queries = (0..<3).map { _ in g.vector(d) }
        let several = try await db.search(name, vectors: queries, limit: 5, outputFields: ["tag"])
        #expect(several.count == 3)
        for (i, hits) in several.enumerated() {
            expectHits(hits, ranking(queries[i]) { _ in true }, count: 5, higherIsBetter: true, backend, "query \(i)")
            for hit in hits { #expect(hit.entity["tag"]?.stringValue == hit.id.intValue.flatMap { model[$0]?.tag }) }
        }
        let isBlue = try await template(db, name, "tag == {t}", ["t": "blue"], backend)
        let blue = try await db.search(name, vectors: [queries[0]], limit: 4, filter: isBlue.filter, filterParams: isBlue.params)
        expectHits(blue[0], ranking(queries[0]) { $0.tag == "blue" }, count: 4, higherIsBetter: true, backend, "filter template")
        let paging = try await db.search(name, vectors: [queries[1]], limit: 3, offset: 2)
        expectHits(paging[0], ranking(queries[1]) { _ in true }, from: 2, count: 3, higherIsBetter: true, backend, "offset")
        // Range search (IP keeps radius < d <= rangeFilter): ranks 2...6, bounds half-way between ranks.
        let all = ranking(queries[2]) { _ in true }
        var range = SearchOptions()
        range.rangeFilter = Float((all[1].distance + all[2].distance) / 2)
        range.radius = Float((all[6].distance + all[7].distance) / 2)
        let ranged = try await db.search(name, vectors: [queries[2]], limit: 10, options: range)
        expectHits(ranged[0], all, from: 2, count: 5, higherIsBetter: true, backend, "range")

        // Errors.
        await expectError(.dimensionMismatch, backend, "a query of the wrong dimension") {
            _ = try await db.search(name, vectors: [[1, 2, 3]], limit: 1)
        }
        await expectError(.filterSyntax, backend, "a bad filter") {
            _ = try await db.query(name, filter: "tag ==", limit: 1)
        }
        await expectError(.notFound, backend, "a search of a missing collection") {
            _ = try await db.search(name + "_missing", vectors: [queries[0]], limit: 1)
        }

        // Rename, then drop.
        try await db.renameCollection(name, to: renamed)
        #expect(try await db.hasCollection(name) == false)
        #expect(try await db.hasCollection(renamed))
        #expect(try await db.query(renamed, outputFields: ["count(*)"]) == [["count(*)": .int(Int64(model.count))]])
        #expect(try await db.loadState(renamed) == (backend.renameKeepsLoaded ? .loaded : .notLoad), "\(backend.name): after the rename")
        if !backend.renameKeepsLoaded { try await db.loadCollection(renamed) }
        let afterRename = try await db.search(renamed, vectors: [queries[1]], limit: 3)
        expectHits(afterRename[0], ranking(queries[1]) { _ in true }, count: 3, higherIsBetter: true, backend, "after the rename")
        try await db.dropCollection(renamed)
        #expect(try await db.hasCollection(renamed) == false)
        #expect(try await db.loadState(renamed) == .notExist)
    }

    // MARK: - Explicit schema, varchar keys, L2, group by, index lifecycle

    static func schemaCollection(_ db: any VectorDatabase, backend: Backend, name: String) async throws {
        let d = 8
        var g = Generator(seed: 2000)
        let schema = try CollectionSchema(fields: [
            FieldSchema(name: "pk", dataType: .varchar(maxLength: 32), isPrimaryKey: true),
            FieldSchema(name: "emb", dataType: .floatVector(dimension: d)),
            FieldSchema(name: "cat", dataType: .int64),
            FieldSchema(name: "title", dataType: .varchar(maxLength: 64)),
        ])
        try await db.createCollection(name, schema: schema, metric: .l2)
        let description = try await db.describeCollection(name)
        #expect(description.metric == .l2)
        #expect(description.schema.fields.map(\.name) == ["pk", "emb", "cat", "title"])
        #expect(description.schema.primaryField.dataType == .varchar(maxLength: 32))

        try await db.createIndex(name, field: "emb", type: .flat, metric: .l2)
        #expect(try await db.listIndexes(name) == ["emb"])
        let index = try await db.describeIndex(name, field: "emb")
        #expect(index.field == "emb" && index.type == .flat && index.metric == .l2)
        try await db.loadCollection(name)
        #expect(try await db.loadState(name) == .loaded)

        var model = [String: (vector: [Float], cat: Int64)]()
        var rows = [Row]()
        for i in 0..<30 {
            let key = "doc-\(i)", vector = g.vector(d), cat = Int64(i % 5)
            model[key] = (vector, cat)
            rows.append(["pk": .string(key), "emb": .vector(vector), "cat": .int(cat), "title": .string("title \(i)")])
        }
        #expect(try await db.insert(name, rows: rows).ids == (0..<30).map { Value.string("doc-\($0)") })
        try await db.flush(name)

        let got = try await db.get(name, ids: ["doc-7", "doc-2"], outputFields: ["title"])
            .sorted { ($0["pk"]?.stringValue ?? "") < ($1["pk"]?.stringValue ?? "") }
        #expect(got.map { $0["pk"] } == ["doc-2", "doc-7"])
        #expect(got.map { $0["title"] } == ["title 2", "title 7"])

        let ranking = { (q: [Float]) -> [(id: Value, distance: Double)] in
            model.map { (id: Value.string($0.key), distance: squaredL2(q, $0.value.vector)) }.sorted { $0.distance < $1.distance }
        }
        let queries = [g.vector(d), g.vector(d)]
        let hits = try await db.search(name, vectors: queries, limit: 4, outputFields: ["cat", "title"])
        #expect(hits.count == 2)
        for (i, list) in hits.enumerated() {
            expectHits(list, ranking(queries[i]), count: 4, higherIsBetter: false, backend, "L2 query \(i)")
            for hit in list { #expect(hit.entity["cat"]?.intValue == hit.id.stringValue.flatMap { model[$0]?.cat }) }
        }

        // Group by `cat`: the best row of each of the 3 best groups.
        var grouping = SearchOptions()
        grouping.groupBy = "cat"
        let grouped = try await db.search(name, vectors: [queries[0]], limit: 3, outputFields: ["cat"], options: grouping)
        var bestPerGroup = [Int64: (id: Value, distance: Double)]()
        for hit in ranking(queries[0]) {
            let cat = model[hit.id.stringValue!]!.cat
            if bestPerGroup[cat] == nil { bestPerGroup[cat] = hit }
        }
        expectHits(grouped[0], bestPerGroup.values.sorted { $0.distance < $1.distance }, count: 3, higherIsBetter: false, backend, "group by")
        let cats = grouped[0].compactMap { $0.entity["cat"]?.intValue }
        #expect(cats.count == 3 && Set(cats).count == 3, "\(backend.name): group by returned cats \(cats)")

        // Hybrid search: two requests (a filter on the second) fused by RRF, the model's fusion
        // here (Σ 1/(60 + rank) in Float, in request order; ties by the smaller key's bytes).
        let second = "cat != 2"
        let hybrid = try await db.hybridSearch(name, HybridSearchRequest(
            requests: [
                SearchRequest(queries: .vectors(queries), limit: 6),
                SearchRequest(queries: .vectors([queries[1], queries[0]]), limit: 6, filter: second),
            ],
            ranker: .rrf(), limit: 5, outputFields: ["cat"]))
        #expect(hybrid.count == 2)
        for q in 0..<2 {
            let lists = [
                ranking(queries[q]).prefix(6).map(\.id),
                ranking(queries[1 - q]).filter { model[$0.id.stringValue!]!.cat != 2 }.prefix(6).map(\.id),
            ]
            var fused = [Value: Float]()
            for list in lists {
                for (r, id) in list.enumerated() { fused[id, default: 0] += 1 / (60 + Float(r + 1)) }
            }
            // Tie-robust (servers may order equal scores differently): the scores in order are
            // the model's, and each hit's score is the model's score of its id.
            let expected = fused.values.sorted(by: >).prefix(5)
            #expect(hybrid[q].count == expected.count, "\(backend.name): hybrid query \(q)")
            for (hit, want) in zip(hybrid[q], expected) {
                #expect(abs(hit.distance - want) < 1e-6, "\(backend.name): hybrid query \(q): \(hit.distance) vs \(want)")
                #expect(fused[hit.id].map { abs($0 - hit.distance) < 1e-6 } == true, "\(backend.name): \(hit.id) not fused so")
            }
            for hit in hybrid[q] { #expect(hit.entity["cat"]?.intValue == hit.id.stringValue.flatMap { model[$0]?.cat }) }
        }
        await expectError(.invalidArgument, backend, "a weight count other than the request count") {
            _ = try await db.hybridSearch(name, HybridSearchRequest(
                requests: [SearchRequest(queries: .vectors([queries[0]]))], ranker: .weighted([0.5, 0.5])))
        }

        // Release (every backend, as Milvus: reads refused until a load), drop the index, drop the collection.
        try await db.releaseCollection(name)
        #expect(try await db.loadState(name) == .notLoad)
        await expectError(.notLoaded, backend, "a search after the release") {
            _ = try await db.search(name, vectors: [queries[0]], limit: 1)
        }
        await expectError(.notLoaded, backend, "a get after the release") {
            _ = try await db.get(name, ids: ["doc-2"])
        }
        try await db.dropIndex(name, field: "emb")
        if backend.indexesOnlyFromCreateIndex {
            #expect(try await db.listIndexes(name).isEmpty)
        } else {
            // The exact index put back, under the field's name.
            #expect(try await db.listIndexes(name) == ["emb"])
            let exact = try await db.describeIndex(name, field: "emb")
            #expect(exact.type == .flat && exact.metric == .l2, "\(backend.name): \(exact)")
        }
        try await db.dropCollection(name)
        #expect(try await db.hasCollection(name) == false)
    }

    // MARK: - Binary vectors, HAMMING

    // MARK: - Full-text search (a BM25 function)

    static func fullTextCollection(_ db: any VectorDatabase, backend: Backend, name: String) async throws {
        let bm25 = FunctionSchema(name: "text_bm25", type: .bm25, inputFieldNames: ["text"], outputFieldNames: ["sparse"])
        let schema = try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
            FieldSchema(name: "dense", dataType: .floatVector(dimension: 2)),
            FieldSchema(name: "text", dataType: .varchar(maxLength: 256), enableAnalyzer: true),
            FieldSchema(name: "sparse", dataType: .sparseFloatVector),
        ], functions: [bm25])
        try await db.createCollection(name, schema: schema, metric: .l2)
        let description = try await db.describeCollection(name)
        #expect(description.schema.functions == [bm25], "\(backend.name): functions \(description.schema.functions)")
        #expect(description.schema.field(named: "text")?.enableAnalyzer == true, "\(backend.name)")
        #expect(description.schema.field(named: "sparse")?.dataType == .sparseFloatVector, "\(backend.name)")
        try await db.createIndex(name, field: "dense", type: .flat, metric: .l2)
        try await db.loadCollection(name)

        // Lower-case ASCII words, which the standard analyzer keeps as they are; rows carry no "sparse".
        let words = ["red", "green", "blue", "fox", "dog", "river", "stone"]
        var g = Generator(seed: 3000)
        var texts = [Int64: [String]]()
        var rows = [Row]()
        for i in 0..<24 {
            let text = (0..<(2 + Int(g.unit() * 7))).map { _ in words[min(Int(g.unit() * g.unit() * 7), 6)] }
            texts[Int64(i)] = text
            rows.append(["id": .int(Int64(i)), "dense": .vector([Float(i), 0]), "text": .string(text.joined(separator: " "))])
        }
        #expect(try await db.insert(name, rows: rows).insertCount == 24)

        // The model: Lucene's BM25 (k1 1.2, b 0.75) over every row.
        let avg = Double(texts.values.reduce(0) { $0 + $1.count }) / Double(texts.count)
        func ranking(_ query: [String], keep: (Int64) -> Bool = { _ in true }) -> [(id: Value, distance: Double)] {
            var out = [(id: Value, distance: Double)]()
            for (id, doc) in texts where keep(id) {
                var score = 0.0
                for term in Set(query) where doc.contains(term) {
                    let tf = Double(doc.filter { $0 == term }.count)
                    let df = Double(texts.values.filter { $0.contains(term) }.count)
                    let idf = log(1 + (Double(texts.count) - df + 0.5) / (df + 0.5))
                    score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * Double(doc.count) / avg))
                }
                if score > 0 { out.append((.int(id), score)) }
            }
            return out.sorted { $0.distance > $1.distance }
        }
        func expectBM25(_ hits: [Hit], _ ranking: [(id: Value, distance: Double)], _ what: String) {
            if backend.exactBM25Scores {
                expectHits(hits, ranking, count: 5, higherIsBetter: true, backend, what)
                return
            }
            let matching = Set(ranking.map(\.id))
            #expect(hits.count == min(5, ranking.count), "\(backend.name), \(what): \(hits.count) hits")
            #expect(hits.allSatisfy { matching.contains($0.id) }, "\(backend.name), \(what): a hit without a query word")
            #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.distance <= $1.distance } || zip(hits, hits.dropFirst()).allSatisfy { $0.distance >= $1.distance },
                    "\(backend.name), \(what): hits not in score order")
        }
        let hits = try await db.search(name, texts: ["fox", "river stone"], limit: 5, outputFields: ["text"])
        #expect(hits.count == 2)
        expectBM25(hits[0], ranking(["fox"]), "BM25 fox")
        expectBM25(hits[1], ranking(["river", "stone"]), "BM25 river stone")
        for hit in hits.flatMap({ $0 }) {
            #expect(hit.entity["text"]?.stringValue == texts[hit.id.intValue ?? -1]?.joined(separator: " "), "\(backend.name)")
        }
        let filtered = try await db.search(name, texts: ["fox"], limit: 5, filter: "id >= 12", annsField: "sparse")
        expectBM25(filtered[0], ranking(["fox"]) { $0 >= 12 }, "BM25 filtered")

        // A hybrid search of the dense field and the BM25 field, fused by RRF (ranks only).
        let dense = SearchRequest(queries: .vectors([[0, 0]]), limit: 5, annsField: "dense")
        let text = SearchRequest(queries: .texts(["fox"]), limit: 5, annsField: "sparse")
        let fused = try await db.hybridSearch(name, HybridSearchRequest(requests: [dense, text], ranker: .rrf(k: 60), limit: 3))
        var rrf = [Value: Double]()
        for (r, id) in (0..<5).map({ Value.int(Int64($0)) }).enumerated() { rrf[id, default: 0] += 1 / Double(61 + r) }
        for (r, hit) in hits[0].enumerated() { rrf[hit.id, default: 0] += 1 / Double(61 + r) }
        let best = rrf.values.sorted(by: >).prefix(3)
        #expect(fused.first?.count == 3, "\(backend.name): hybrid")
        for (hit, want) in zip(fused.first ?? [], best) {
            #expect(close(hit.distance, want), "\(backend.name): hybrid \(hit.id) at \(hit.distance), expected \(want)")
        }

        // Texts on the dense field and vectors on the BM25 field are refused.
        await expectError(.invalidArgument, backend, "texts on a dense field") { _ = try await db.search(name, texts: ["fox"], annsField: "dense") }
        await expectError(.invalidArgument, backend, "vectors on the BM25 field") {
            _ = try await db.search(name, sparseVectors: [try SparseVector([1: 1])], annsField: "sparse")
        }
        try await db.dropCollection(name)
    }

    static func binaryCollection(_ db: any VectorDatabase, backend: Backend, name: String) async throws {
        var g = Generator(seed: 30000)
        let schema = try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
            FieldSchema(name: "bits", dataType: .binaryVector(dimension: 64)),
        ])
        guard backend.binaryVectors else {
            await expectError(.unsupported, backend, "a binary vector field") {
                try await db.createCollection(name, schema: schema, metric: .hamming)
            }
            #expect(try await db.hasCollection(name) == false)
            return
        }
        try await db.createCollection(name, schema: schema, metric: .hamming)
        try await db.createIndex(name, field: "bits", type: .flat, metric: .hamming)
        try await db.loadCollection(name)
        var model = [Int64: [UInt8]]()
        for i in 0..<24 { model[Int64(i)] = g.bytes(8) }
        _ = try await db.insert(name, rows: model.keys.sorted().map { ["id": .int($0), "bits": .bytes(model[$0]!)] })
        try await db.flush(name)
        let queries = [g.bytes(8), g.bytes(8)]
        let hits = try await db.search(name, binaryVectors: queries, limit: 5)
        #expect(hits.count == 2)
        for (i, list) in hits.enumerated() {
            let ranking = model.map { (id: Value.int($0.key), distance: Double(hamming(queries[i], $0.value))) }
                .sorted { $0.distance < $1.distance }
            expectHits(list, ranking, count: 5, higherIsBetter: false, backend, "binary query \(i)")
        }
        try await db.dropCollection(name)
    }

    // MARK: - The model's arithmetic and checks

    struct Stored {
        var vector: [Float]
        var tag: String
        var n: Int64
    }

    /// Deterministic pseudo-random numbers: the fractional part of `sin(n) × 43758.5453` for
    /// n = seed + 1, seed + 2, …, so every backend and every run gets the same data.
    struct Generator {
        var n: Double
        init(seed: Double) { n = seed }
        /// A number in [0, 1).
        mutating func unit() -> Double {
            n += 1
            let x = sin(n) * 43758.5453
            return x - x.rounded(.down)
        }
        mutating func vector(_ d: Int) -> [Float] { (0..<d).map { _ in Float(unit() * 2 - 1) } }
        mutating func bytes(_ k: Int) -> [UInt8] { (0..<k).map { _ in UInt8(unit() * 256) } }
    }

    static func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }
    static func squaredL2(_ a: [Float], _ b: [Float]) -> Double {
        zip(a, b).reduce(0) { let t = Double($1.0) - Double($1.1); return $0 + t * t }
    }
    static func hamming(_ a: [UInt8], _ b: [UInt8]) -> Int { zip(a, b).reduce(0) { $0 + ($1.0 ^ $1.1).nonzeroBitCount } }

    static func byIntID(_ a: Row, _ b: Row) -> Bool { (a["id"]?.intValue ?? 0) < (b["id"]?.intValue ?? 0) }

    static func close(_ a: Float, _ b: Double) -> Bool { abs(Double(a) - b) <= 1e-5 * max(1, abs(b)) }

    /// `hits` are the model's `ranking[start..<start+count]`, tie-robustly (see the type's comment).
    static func expectHits(
        _ hits: [Hit], _ ranking: [(id: Value, distance: Double)], from start: Int = 0, count: Int, higherIsBetter: Bool,
        _ backend: Backend, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let expected = Array(ranking.dropFirst(start).prefix(count))
        let distances = Dictionary(uniqueKeysWithValues: ranking.map { ($0.id, $0.distance) })
        #expect(hits.count == expected.count, "\(backend.name), \(what): \(hits.count) hits, expected \(expected.count)",
                sourceLocation: sourceLocation)
        for (hit, want) in zip(hits, expected) {
            #expect(close(hit.distance, want.distance),
                    "\(backend.name), \(what): distance \(hit.distance), expected \(want.distance) (\(want.id))",
                    sourceLocation: sourceLocation)
            let own = distances[hit.id]
            #expect(own.map { close(hit.distance, $0) } == true,
                    "\(backend.name), \(what): \(hit.id) at \(hit.distance), the model has \(String(describing: own))",
                    sourceLocation: sourceLocation)
        }
        #expect(Set(hits.map(\.id)).count == hits.count, "\(backend.name), \(what): an id twice", sourceLocation: sourceLocation)
    }

    /// The filter and template values of a template step: as given where the backend has filter
    /// templates; otherwise the templated filter must fail with `.filterSyntax` (checked here with
    /// a `count(*)` query of `collection`) and each `{name}` is replaced by its value as a literal.
    static func template(
        _ db: any VectorDatabase, _ collection: String, _ filter: String, _ params: [String: Value], _ backend: Backend,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (filter: String, params: [String: Value]) {
        guard !backend.filterTemplates else { return (filter, params) }
        await expectError(.filterSyntax, backend, "a filter template", sourceLocation: sourceLocation) {
            _ = try await db.query(collection, filter: filter, filterParams: params, outputFields: ["count(*)"])
        }
        var inlined = filter
        for (key, value) in params {
            let literal: String
            switch value {
            case .int(let i): literal = String(i)
            case .string(let text): literal = "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            default: throw QuiverError(.invalidArgument, "the scenario writes only integers and strings into a filter, not \(value)")
            }
            inlined = inlined.replacingOccurrences(of: "{\(key)}", with: literal)
        }
        return (inlined, [:])
    }

    /// `body` throws a `QuiverError` with `code`.
    static func expectError(
        _ code: QuiverError.Code, _ backend: Backend, _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> Void
    ) async {
        do {
            try await body()
            Issue.record("\(backend.name): \(what) did not throw", sourceLocation: sourceLocation)
        } catch let error as QuiverError {
            #expect(error.code == code, "\(backend.name): \(what): \(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(backend.name): \(what) threw \(error), not a QuiverError", sourceLocation: sourceLocation)
        }
    }
}
