@testable import Quiver

/// The fixed data set of the filter tests: ten rows covering every filterable column type,
/// nulls, JSON (objects, an array, explicit null, missing keys), arrays and dynamic fields.
///
/// ```
/// id age  price  score name      color   active small meta (JSON field)                                   tags          nums       $meta (dynamic)
///  1  25  10.5    0.5  alice     red     true     1   {lang:en, price:100, tags:[a,b], nested:{x:1}}       [a,b]         [1,2,3]    {city:paris, rank:1}
///  2  30  20.0    1.5  bob       blue    false   -1   {lang:fr, price:250.5, tags:[b]}                     [b]           [4]        {city:berlin, rank:2, vip:true}
///  3  ∅   99.99   ∅    carol     green   ∅        0   {lang:en, price:"cheap"}                             []            []         {city:paris}
///  4  40  5.0     2.5  ∅         red     true     5   ∅                                                    ∅             [10,20]    {}
///  5  18  100.0  -1.0  Dave      yellow  false  127   {lang:de, price:50, nested:{x:2, y:[1,2]}}           [c,a,d]       [5,5]      {city:tokyo, rank:5, vip:false}
///  6  65  0.25    3.0  eve%      blue    true  -128   {lang:null, price:0}                                 [x]           [0]        {rank:3.5}
///  7  30  50.0    ∅    frank_1   Red     ∅        2   {tags:[a], price:75}                                 ∅             [7,8,9,10] {city:Paris, rank:"high"}
///  8  ∅   12.0    0.0  ""        green   false    3   [1,2,3]                                              [a,a]         []         {city:berlin, vip:true}
///  9  22  75.5   10.0  Émile     purple  true     9   {lang:en, price:100.0, tags:[b,c], nested:{x:1}}     [b,c]         [2,3]      {rank:10, lang:en}
/// 10  55  1000.0  7.25 zoe       red     false  100   {lang:EN, price:1000.0}                              [a]           [100]      {city:rome, rank:-1}
/// ```
enum FilterTestData {
    static let schema = try! CollectionSchema(
        fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
            FieldSchema(name: "vec", dataType: .floatVector(dimension: 2)),
            FieldSchema(name: "age", dataType: .int32, nullable: true),
            FieldSchema(name: "price", dataType: .float),
            FieldSchema(name: "score", dataType: .double, nullable: true),
            FieldSchema(name: "name", dataType: .varchar(maxLength: 64), nullable: true),
            FieldSchema(name: "color", dataType: .varchar(maxLength: 16)),
            FieldSchema(name: "active", dataType: .bool, nullable: true),
            FieldSchema(name: "small", dataType: .int8),
            FieldSchema(name: "meta", dataType: .json, nullable: true),
            FieldSchema(name: "tags", dataType: .array(elementType: .varchar(maxLength: 8), maxCapacity: 8), nullable: true),
            FieldSchema(name: "nums", dataType: .array(elementType: .int64, maxCapacity: 8)),
        ],
        enableDynamicField: true)

    /// The same fields without dynamic fields (for unknown-field errors).
    static let strictSchema = try! CollectionSchema(fields: schema.fields, enableDynamicField: false)

    /// Rows as a user would insert them: schema fields plus dynamic keys at the top level.
    static let rows: [Row] = [
        ["id": 1, "vec": .vector([0, 1]), "age": 25, "price": 10.5, "score": 0.5, "name": "alice", "color": "red",
         "active": true, "small": 1,
         "meta": ["lang": "en", "price": 100, "tags": ["a", "b"], "nested": ["x": 1]],
         "tags": ["a", "b"], "nums": [1, 2, 3], "city": "paris", "rank": 1],
        ["id": 2, "vec": .vector([1, 0]), "age": 30, "price": 20.0, "score": 1.5, "name": "bob", "color": "blue",
         "active": false, "small": -1,
         "meta": ["lang": "fr", "price": 250.5, "tags": ["b"]],
         "tags": ["b"], "nums": [4], "city": "berlin", "rank": 2, "vip": true],
        ["id": 3, "vec": .vector([1, 1]), "age": nil, "price": 99.99, "score": nil, "name": "carol", "color": "green",
         "active": nil, "small": 0,
         "meta": ["lang": "en", "price": "cheap"],
         "tags": [], "nums": [], "city": "paris"],
        ["id": 4, "vec": .vector([2, 0]), "age": 40, "price": 5.0, "score": 2.5, "name": nil, "color": "red",
         "active": true, "small": 5,
         "meta": nil,
         "tags": nil, "nums": [10, 20]],
        ["id": 5, "vec": .vector([0, 2]), "age": 18, "price": 100.0, "score": -1.0, "name": "Dave", "color": "yellow",
         "active": false, "small": 127,
         "meta": ["lang": "de", "price": 50, "nested": ["x": 2, "y": [1, 2]]],
         "tags": ["c", "a", "d"], "nums": [5, 5], "city": "tokyo", "rank": 5, "vip": false],
        ["id": 6, "vec": .vector([3, 0]), "age": 65, "price": 0.25, "score": 3.0, "name": "eve%", "color": "blue",
         "active": true, "small": -128,
         "meta": ["lang": nil, "price": 0],
         "tags": ["x"], "nums": [0], "rank": 3.5],
        ["id": 7, "vec": .vector([0, 3]), "age": 30, "price": 50.0, "score": nil, "name": "frank_1", "color": "Red",
         "active": nil, "small": 2,
         "meta": ["tags": ["a"], "price": 75],
         "tags": nil, "nums": [7, 8, 9, 10], "city": "Paris", "rank": "high"],
        ["id": 8, "vec": .vector([4, 0]), "age": nil, "price": 12.0, "score": 0.0, "name": "", "color": "green",
         "active": false, "small": 3,
         "meta": [1, 2, 3],
         "tags": ["a", "a"], "nums": [], "city": "berlin", "vip": true],
        ["id": 9, "vec": .vector([0, 4]), "age": 22, "price": 75.5, "score": 10.0, "name": "Émile", "color": "purple",
         "active": true, "small": 9,
         "meta": ["lang": "en", "price": 100.0, "tags": ["b", "c"], "nested": ["x": 1]],
         "tags": ["b", "c"], "nums": [2, 3], "rank": 10, "lang": "en"],
        ["id": 10, "vec": .vector([5, 5]), "age": 55, "price": 1000.0, "score": 7.25, "name": "zoe", "color": "red",
         "active": false, "small": 100,
         "meta": ["lang": "EN", "price": 1000.0],
         "tags": ["a"], "nums": [100], "city": "rome", "rank": -1],
    ]

    /// An in-memory segment built from `rows` the way the engine stores them.
    ///
    /// With `blockSize`, numeric columns carry per-block min/max statistics like a sealed segment.
    struct Segment: SegmentColumns {
        var rowCount: Int
        var columns: [String: Column]
        var stats: [String: [BlockStats]] = [:]

        func column(named name: String) -> Column? { columns[name] }
        func blockStats(named name: String) -> [BlockStats]? { stats[name] }
    }

    static func segment(rows: [Row] = rows, schema: CollectionSchema = schema, blockSize: Int? = nil) -> Segment {
        var columns = [String: Column]()
        let scalarFields = schema.fields.filter { !$0.dataType.isVector }
        for field in scalarFields {
            var column = Column(emptyFor: field.dataType)
            for row in rows {
                let value = try! FieldValidator.coerce(row[field.name] ?? .null, to: field, row: nil)
                column.append(value)
            }
            columns[field.name] = column
        }
        if schema.enableDynamicField {
            var meta = Column(emptyFor: .json)
            for row in rows {
                let extra = row.filter { schema.field(named: $0.key) == nil }
                meta.append(.object(extra))
            }
            columns[dynamicFieldName] = meta
        }
        var segment = Segment(rowCount: rows.count, columns: columns)
        if let blockSize {
            for (name, column) in columns {
                switch column.storage {
                case .int, .float, .double:
                    segment.stats[name] = stats(of: column, blockSize: blockSize)
                default: break
                }
            }
        }
        return segment
    }

    /// Exact per-block min/max of a numeric column.
    static func stats(of column: Column, blockSize: Int) -> [BlockStats] {
        var out = [BlockStats]()
        var first = 0
        while first < column.count {
            let n = min(blockSize, column.count - first)
            var lo: Value? = nil, hi: Value? = nil
            var nulls = 0
            for row in first..<(first + n) {
                let v = column.value(at: row)
                if v.isNull { nulls += 1; continue }
                if lo == nil || v.doubleValue! < lo!.doubleValue! { lo = v }
                if hi == nil || v.doubleValue! > hi!.doubleValue! { hi = v }
            }
            out.append(BlockStats(firstRow: first, rowCount: n, min: lo, max: hi, nullCount: nulls))
            first += n
        }
        return out
    }

    /// The primary keys of the set rows of `bits`.
    static func ids(_ bits: Bitset, in segment: Segment) -> [Int64] {
        guard case .int(let ids) = segment.columns["id"]!.storage else { return [] }
        return bits.setRows.map { ids[$0] }
    }
}
