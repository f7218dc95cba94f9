/// The type-checked form of a filter expression that the evaluator runs.
///
/// Operands produce one value per row (or a constant); predicates produce a three-valued
/// result per row (true, false, unknown when a null took part), as in SQL and Milvus: a
/// comparison with null is unknown, `NOT unknown` is unknown, and only true rows match.
indirect enum FilterPredicate: Sendable {
    case constant(Bool)
    case compare(FilterCompareOp, FilterOperand, FilterOperand)
    /// `x IN [..]`; the values are normalized with `FilterValues.normalize`.
    case inSet(FilterOperand, [Value], negated: Bool)
    case like(FilterOperand, LikePattern)
    /// `IS NULL` (or `IS NOT NULL` when negated); never unknown. Missing JSON keys are null.
    case isNull(FilterOperand, negated: Bool)
    /// `EXISTS path`: the JSON path resolves to a non-null value.
    case exists(FilterOperand)
    case contains(FilterContainsMode, FilterOperand, [Value])
    /// `text_match` / `phrase_match` on an analyzed varchar field (see ``TextMatcher``); a null
    /// text is unknown, as for `LIKE`.
    case text(FilterOperand, TextMatcher)
    /// A bool-valued operand used as a condition (`is_active`, `meta["flag"]`).
    case truthy(FilterOperand)
    case not(FilterPredicate)
    case and([FilterPredicate])
    case or([FilterPredicate])
}

enum FilterCompareOp: Sendable, Hashable {
    case eq, ne, lt, le, gt, ge

    /// The operator with its operands swapped: `c < x` is `x > c`.
    var flipped: FilterCompareOp {
        switch self {
        case .eq: .eq
        case .ne: .ne
        case .lt: .gt
        case .le: .ge
        case .gt: .lt
        case .ge: .le
        }
    }

    var isEquality: Bool { self == .eq || self == .ne }

    /// Whether `order` (the ordering of left against right) satisfies the operator.
    @inline(__always) func holds(_ order: Int) -> Bool {
        switch self {
        case .eq: order == 0
        case .ne: order != 0
        case .lt: order < 0
        case .le: order <= 0
        case .gt: order > 0
        case .ge: order >= 0
        }
    }
}

enum FilterContainsMode: Sendable, Hashable { case one, all, any }

enum FilterArithOp: Sendable, Hashable { case add, sub, mul, div, mod, pow }

/// The stored kind of a typed scalar column.
enum FilterScalarKind: Sendable, Hashable {
    case bool, int, float, double, string
}

indirect enum FilterOperand: Sendable {
    /// A typed scalar field.
    case column(String, FilterScalarKind)
    /// The value at a path inside a JSON column (a JSON field or `$meta`); empty path = whole value.
    case path(String, [FilterNode.PathKey])
    /// A whole array field; elements are of `element` kind.
    case arrayColumn(String, element: FilterScalarKind)
    /// `tags[3]`: one element of an array field (null when out of range).
    case arrayElement(String, Int, element: FilterScalarKind)
    /// A literal or bound template parameter (a list is `.array`).
    case constant(Value)
    case arith(FilterArithOp, FilterOperand, FilterOperand)
    case negate(FilterOperand)
    case arrayLength(FilterOperand)
}

/// The static type of an operand, for type checking.
enum FilterType: Sendable, Hashable {
    case bool, int, float, double, string
    /// A JSON value: its type is known only per row.
    case json
    /// An array field (of the given element kind).
    case array(FilterScalarKind)
    /// A list literal or list parameter.
    case list

    var isNumeric: Bool { self == .int || self == .float || self == .double }

    init(_ kind: FilterScalarKind) {
        switch kind {
        case .bool: self = .bool
        case .int: self = .int
        case .float: self = .float
        case .double: self = .double
        case .string: self = .string
        }
    }
}

extension FilterOperand {
    var type: FilterType {
        switch self {
        case .column(_, let k): FilterType(k)
        case .path: .json
        case .arrayColumn(_, let e): .array(e)
        case .arrayElement(_, _, let e): FilterType(e)
        case .constant(let v):
            switch v {
            case .bool: .bool
            case .int: .int
            case .double: .double
            case .string: .string
            case .array: .list
            default: .json
            }
        case .arith(let op, let a, let b):
            if a.type == .json || b.type == .json { .json } else if op != .pow, a.type == .int, b.type == .int { .int } else { .double }
        case .negate(let a): a.type
        case .arrayLength: .int
        }
    }

    var isConstant: Bool { if case .constant = self { true } else { false } }

    /// `true` for references to stored data (fields, paths, array elements).
    var isFieldReference: Bool {
        switch self {
        case .column, .path, .arrayColumn, .arrayElement: true
        default: false
        }
    }
}

extension FilterPredicate {
    /// A rough relative cost per row, used to evaluate cheap conjuncts first: typed columns
    /// are cheap, JSON and array values (dictionary lookups per row) are dear.
    var cost: Int {
        switch self {
        case .constant: 0
        case .isNull(let o, _): o.isTypedColumn ? 0 : 8
        case .compare(_, let a, let b): a.cost + b.cost
        case .inSet(let o, let values, _): o.cost + (values.count > 8 ? 2 : 1)
        case .like(let o, _): o.cost + 2
        case .exists(let o), .truthy(let o): o.cost
        case .contains(_, let o, _): o.cost + 4
        case .text(let o, _): o.cost + 40
        case .not(let p): p.cost
        case .and(let items), .or(let items): items.reduce(0) { $0 + $1.cost }
        }
    }
}

extension FilterOperand {
    var isTypedColumn: Bool { if case .column = self { true } else { false } }

    /// Identifies a scalar reference (a field, a JSON path, an array element) for fusing
    /// membership tests; `nil` for other operands.
    var referenceKey: String? {
        switch self {
        case .column(let name, _): "c:\(name)"
        case .path(let column, let path): "p:\(column):\(path)"
        case .arrayElement(let name, let index, _): "e:\(name):\(index)"
        default: nil
        }
    }

    var cost: Int {
        switch self {
        case .constant: 0
        case .column(_, let k): k == .string ? 3 : 1
        case .path, .arrayColumn, .arrayElement: 20
        case .arith(_, let a, let b): a.cost + b.cost + 2
        case .negate(let a): a.cost + 1
        case .arrayLength(let a): a.cost + 1
        }
    }
}

extension FilterPredicate {
    /// The values a row's `field` must have for the predicate to hold, when the predicate says
    /// (`field == v`, `v == field`, `field in [...]`, an `and` with such a conjunct, an `or` all
    /// of whose branches are such); `nil` when it does not restrict the field. Only values of the
    /// field's own type count (`.int` for int64, `.string` for varchar), so a comparison the
    /// planner cannot hash restricts nothing. The one place a partition key's filter is turned
    /// into the partitions a read covers (`CollectionEngine.scope`).
    func values(restricting field: FieldSchema) -> [Value]? {
        func typed(_ values: [Value]) -> [Value]? {
            let ok = values.allSatisfy { v in
                switch (field.dataType, v) {
                case (.int64, .int), (.varchar, .string): true
                default: false
                }
            }
            return ok ? values : nil
        }
        func isField(_ operand: FilterOperand) -> Bool {
            if case .column(let name, _) = operand { return name == field.name }
            return false
        }
        switch self {
        case .constant(false): return []
        case .compare(.eq, let a, .constant(let v)) where isField(a): return typed([v])
        case .compare(.eq, .constant(let v), let b) where isField(b): return typed([v])
        case .inSet(let a, let values, negated: false) where isField(a): return typed(values)
        case .and(let items):
            var result: Set<Value>? = nil
            for item in items {
                guard let values = item.values(restricting: field) else { continue }
                result = result.map { $0.intersection(values) } ?? Set(values)
            }
            return result.map { Array($0) }
        case .or(let items):
            var result = Set<Value>()
            for item in items {
                guard let values = item.values(restricting: field) else { return nil }
                result.formUnion(values)
            }
            return Array(result)
        default: return nil
        }
    }
}
