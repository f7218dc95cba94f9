/// Resolves names against the schema, binds template parameters, checks types and folds
/// constants, turning a ``FilterNode`` tree into a ``FilterPredicate``.
struct FilterChecker {
    let schema: CollectionSchema
    let params: [String: Value]

    typealias Failure = FilterDiagnostic

    private func fail(_ message: String, _ node: FilterNode, code: QuiverError.Code = .filterSyntax) -> Failure {
        FilterDiagnostic(message, at: node.offset, code: code)
    }

    // MARK: Predicates

    func predicate(_ node: FilterNode) throws(Failure) -> FilterPredicate {
        switch node.kind {
        case .literal(.bool(let b)):
            return .constant(b)
        case .and(let items):
            var out = [FilterPredicate]()
            for item in items {
                switch try predicate(item) {
                case .constant(true): continue
                case .constant(false): return .constant(false)
                case .and(let inner): out.append(contentsOf: inner)
                case let p: out.append(p)
                }
            }
            out = Self.fuseMemberships(out, negated: true)
            // AND is commutative (also in three-valued logic): run cheap conjuncts first, so
            // that dear ones only see the rows still open (see FilterEvaluator's mask).
            out = out.enumerated().sorted { ($0.element.cost, $0.offset) < ($1.element.cost, $1.offset) }.map(\.element)
            return out.isEmpty ? .constant(true) : (out.count == 1 ? out[0] : .and(out))
        case .or(let items):
            var out = [FilterPredicate]()
            for item in items {
                switch try predicate(item) {
                case .constant(false): continue
                case .constant(true): return .constant(true)
                case .or(let inner): out.append(contentsOf: inner)
                case let p: out.append(p)
                }
            }
            out = Self.fuseMemberships(out, negated: false)
            return out.isEmpty ? .constant(false) : (out.count == 1 ? out[0] : .or(out))
        case .unary(.not, let inner):
            let p: FilterPredicate
            do {
                p = try predicate(inner)
            } catch let error where error.offset == inner.offset && error.message.hasPrefix("not a condition") {
                throw fail("NOT needs a condition, and it binds tighter than comparisons: write NOT (a == b); \(error.message)", node)
            }
            if case .constant(let b) = p { return .constant(!b) }
            return .not(p)
        case .binary(let op, let l, let r):
            guard let cmp = Self.compareOp(op) else {
                if [.band, .bor, .bxor, .shl, .shr].contains(op) {
                    throw fail("bitwise operator '\(op.spelling)' is not supported in filters", node, code: .filterSyntax)
                }
                throw fail("not a condition: arithmetic '\(op.spelling)' gives a number; compare it, e.g. (a \(op.spelling) b) > 0", node)
            }
            return try compare(cmp, l, r, at: node)
        case .range(let lo, let op1, let mid, let op2, let hi):
            let midOperand = try operand(mid)
            guard midOperand.isFieldReference else {
                throw fail("the middle of a chained comparison must be a field, as in 1 < x <= 5", mid)
            }
            let a = try compare(Self.compareOp(op1)!, lo, mid, at: node)
            let b = try compare(Self.compareOp(op2)!, mid, hi, at: node)
            return Self.conjoin(a, b)
        case .inList(let l, let r, let negated):
            return try inList(l, r, negated: negated, at: node)
        case .like(let l, let r):
            let subject = try operand(l)
            switch subject.type {
            case .string, .json: break
            default:
                throw fail("LIKE needs a varchar or JSON operand, but \(describe(subject)) is \(typeName(subject.type))", l)
            }
            guard case .constant(.string(let pattern)) = try operand(r) else {
                throw fail("LIKE needs a string pattern, as in name LIKE \"ab%\"", r)
            }
            let like = LikePattern(pattern)
            if case .constant(let v) = subject {
                guard case .string(let s) = v else { return .constant(false) }
                return .constant(like.matches(s))
            }
            return .like(subject, like)
        case .isNull(let inner, let negated):
            let subject = try operand(inner)
            guard subject.isFieldReference else {
                throw fail("IS NULL applies to a field or a JSON path", inner)
            }
            return .isNull(subject, negated: negated)
        case .exists(let inner):
            let subject = try operand(inner)
            guard case .path = subject else {
                throw fail("EXISTS applies to a JSON path or a dynamic field, as in EXISTS meta[\"key\"]", inner)
            }
            return .exists(subject)
        case .call(let name, let args):
            return try call(name, args, at: node)
        case .unary(.bitNot, _):
            throw fail("bitwise operator '~' is not supported in filters", node)
        default:
            let value = try operand(node)
            switch value.type {
            case .bool, .json:
                if case .constant(.bool(let b)) = value { return .constant(b) }
                return .truthy(value)
            default:
                throw fail("not a condition: \(describe(value)) is \(typeName(value.type)); compare it with something", node)
            }
        }
    }

    /// Rewrites `x == a OR x == b OR x IN [c]` as `x IN [a, b, c]`, and (with `negated`, for
    /// AND) `x != a AND x NOT IN [b]` as `x NOT IN [a, b]`: one pass over the column instead of
    /// one per term, which matters for generated filters with hundreds of ids. Equivalent also
    /// for null `x` (every term unknown, and so is the membership test).
    static func fuseMemberships(_ items: [FilterPredicate], negated: Bool) -> [FilterPredicate] {
        // Members of one group after the first are dropped; the first becomes the fused test.
        var groups = [String: (operand: FilterOperand, values: [Value], position: Int, count: Int)]()
        var out = [FilterPredicate]()
        for item in items {
            var member: (FilterOperand, [Value])? = nil
            switch item {
            case .compare(let op, let x, .constant(let v)) where op == (negated ? .ne : .eq):
                member = (x, [FilterValues.normalize(v)])
            case .inSet(let x, let values, let n) where n == negated:
                member = (x, values)
            default: break
            }
            guard let (x, values) = member, let key = x.referenceKey else {
                out.append(item)
                continue
            }
            if groups[key] != nil {
                // In place: a copy of the group here would make long OR chains quadratic.
                groups[key]!.values += values
                groups[key]!.count += 1
            } else {
                groups[key] = (x, values, out.count, 1)
                out.append(item)
            }
        }
        for g in groups.values where g.count > 1 {
            var seen = Set<Value>()
            out[g.position] = .inSet(g.operand, g.values.filter { seen.insert($0).inserted }, negated: negated)
        }
        return out
    }

    private static func conjoin(_ a: FilterPredicate, _ b: FilterPredicate) -> FilterPredicate {
        switch (a, b) {
        case (.constant(false), _), (_, .constant(false)): .constant(false)
        case (.constant(true), _): b
        case (_, .constant(true)): a
        default: .and([a, b])
        }
    }

    private static func compareOp(_ op: FilterNode.BinaryOp) -> FilterCompareOp? {
        switch op {
        case .eq: .eq
        case .ne: .ne
        case .lt: .lt
        case .le: .le
        case .gt: .gt
        case .ge: .ge
        default: nil
        }
    }

    private func compare(_ op: FilterCompareOp, _ l: FilterNode, _ r: FilterNode, at node: FilterNode) throws(Failure) -> FilterPredicate {
        let a = try operand(l)
        let b = try operand(r)
        let ta = a.type, tb = b.type
        let ok: Bool
        switch (ta, tb) {
        case (.json, .list), (.list, .json), (.array, .list), (.list, .array), (.array, .array), (.list, .list):
            ok = op.isEquality
        case (.json, _), (_, .json): ok = true
        case _ where ta.isNumeric && tb.isNumeric: ok = true
        case (.string, .string): ok = true
        case (.bool, .bool): ok = op.isEquality
        default: ok = false
        }
        guard ok else {
            let how = (ta == tb || (ta == .bool && tb == .bool)) ? "cannot order" : "cannot compare"
            throw fail("\(how) \(describe(a)) (\(typeName(ta))) with \(describe(b)) (\(typeName(tb))) using '\(Self.spelling(op))'", node)
        }
        if case .constant(let x) = a, case .constant(let y) = b {
            return .constant(FilterValues.compare(x, op, y) ?? false)
        }
        if a.isConstant { return .compare(op.flipped, b, a) }
        return .compare(op, a, b)
    }

    private static func spelling(_ op: FilterCompareOp) -> String {
        switch op {
        case .eq: "=="
        case .ne: "!="
        case .lt: "<"
        case .le: "<="
        case .gt: ">"
        case .ge: ">="
        }
    }

    private func inList(_ l: FilterNode, _ r: FilterNode, negated: Bool, at node: FilterNode) throws(Failure) -> FilterPredicate {
        let subject = try operand(l)
        guard case .constant(.array(let items)) = try operand(r) else {
            throw fail("IN needs a list, as in x IN [1, 2, 3] or x IN {param}", r)
        }
        for item in items {
            try checkElement(item, against: subject.type, what: describe(subject), at: r)
        }
        if subject.type == .list || subject.type == .bool && subject.isConstant {
            throw fail("the left side of IN must be a field or an expression over fields", l)
        }
        if case .array = subject.type {
            throw fail("IN compares a scalar; to test an array field use array_contains_any(\(describe(subject)), [...])", l)
        }
        let set = Array(Set(items.map(FilterValues.normalize)))
        if case .constant(let v) = subject {
            let hit = set.contains { FilterValues.equal($0, v) }
            return .constant(hit != negated)
        }
        return .inSet(subject, set, negated: negated)
    }

    /// Rejects a list element that can never match an operand of type `type`.
    private func checkElement(_ item: Value, against type: FilterType, what: String, at node: FilterNode) throws(Failure) {
        let ok: Bool
        switch type {
        case .int, .float, .double: ok = item.doubleValue != nil
        case .string: ok = item.stringValue != nil
        case .bool: ok = item.boolValue != nil
        case .array(let e): ok = FilterType(e).isNumeric ? item.doubleValue != nil : (e == .string ? item.stringValue != nil : item.boolValue != nil)
        case .json, .list: ok = true
        }
        guard ok else {
            let json = item.jsonString
            throw fail("list element \(json.count > 60 ? json.prefix(57) + "…" : json) (\(item.kindName)) does not match \(what) (\(typeName(type)))", node)
        }
    }

    private static let containsFunctions: [String: FilterContainsMode] = [
        "json_contains": .one, "JSON_CONTAINS": .one, "array_contains": .one, "ARRAY_CONTAINS": .one,
        "json_contains_all": .all, "JSON_CONTAINS_ALL": .all, "array_contains_all": .all, "ARRAY_CONTAINS_ALL": .all,
        "json_contains_any": .any, "JSON_CONTAINS_ANY": .any, "array_contains_any": .any, "ARRAY_CONTAINS_ANY": .any,
    ]

    /// Functions of Milvus's grammar that Quiver parses but does not evaluate.
    private static let unsupportedMilvusFunctions: Set<String> = [
        "random_sample", "element_filter", "match_all", "match_any", "match_least",
        "match_most", "match_exact", "st_equals", "st_touches", "st_overlaps", "st_crosses", "st_contains",
        "st_intersects", "st_within", "st_dwithin", "st_isvalid",
    ]

    private func call(_ name: String, _ args: [FilterNode], at node: FilterNode) throws(Failure) -> FilterPredicate {
        if name == "array_length" || name == "ARRAY_LENGTH" {
            throw fail("not a condition: array_length(...) is a number; compare it, e.g. array_length(tags) > 2", node)
        }
        if ["text_match", "phrase_match"].contains(name.lowercased()) { return try textMatch(name, args, at: node) }
        guard let mode = Self.containsFunctions[name] else {
            if Self.unsupportedMilvusFunctions.contains(name.lowercased()) {
                throw fail("Milvus function '\(name)' is not supported by Quiver", node, code: .unsupported)
            }
            throw fail("unknown function '\(name)'; filters support text_match, phrase_match, json_contains, json_contains_all, json_contains_any, array_contains, array_contains_all, array_contains_any and array_length", node)
        }
        guard args.count == 2 else {
            throw fail("\(name) takes 2 arguments (a field and a value), got \(args.count)", node)
        }
        let subject = try operand(args[0])
        switch subject {
        case .arrayColumn, .path: break
        default:
            throw fail("\(name) needs an array field or a JSON path as its first argument, got \(describe(subject))", args[0])
        }
        guard case .constant(let value) = try operand(args[1]) else {
            throw fail("the second argument of \(name) must be a constant or a template parameter", args[1])
        }
        let values: [Value]
        if mode == .one {
            values = [value]
        } else {
            guard case .array(let items) = value else {
                throw fail("the second argument of \(name) must be a list, as in \(name)(tags, [\"a\", \"b\"])", args[1])
            }
            values = items
        }
        if case .arrayColumn(_, let e) = subject {
            for v in values { try checkElement(v, against: FilterType(e), what: describe(subject) + " elements", at: args[1]) }
        }
        return .contains(mode, subject, values.map(FilterValues.normalize))
    }

    /// `text_match(field, "terms")` and `phrase_match(field, "phrase"[, slop])` on a varchar
    /// field with `enable_match`; the query is analyzed here, once.
    private func textMatch(_ name: String, _ args: [FilterNode], at node: FilterNode) throws(Failure) -> FilterPredicate {
        let phrase = name.lowercased() == "phrase_match"
        guard args.count == 2 || (phrase && args.count == 3) else {
            throw fail(phrase ? "phrase_match takes a field, a phrase and an optional slop, got \(args.count) arguments"
                : "text_match takes 2 arguments (a field and a text), got \(args.count)", node)
        }
        guard case .identifier(let fieldName) = args[0].kind, let field = schema.field(named: fieldName) else {
            throw fail("the first argument of \(name) must be a varchar field with enable_match", args[0])
        }
        guard field.enableMatch, let analyzer = schema.analyzer(for: field.name) else {
            throw fail("\(name) needs a field with enable_match; '\(fieldName)' has none (set enable_analyzer and enable_match when creating the field)", args[0], code: .invalidArgument)
        }
        guard case .constant(.string(let query)) = try operand(args[1]) else {
            throw fail("the second argument of \(name) must be a string or a template parameter holding one", args[1])
        }
        let subject = FilterOperand.column(field.name, .string)
        guard phrase else { return .text(subject, TextMatcher(anyOf: query, analyzer: analyzer)) }
        var slop = 0
        if args.count == 3 {
            guard case .constant(let v) = try operand(args[2]), let s = v.intValue, s >= 0, let n = Int(exactly: s) else {
                throw fail("the slop of phrase_match must be a non-negative integer", args[2])
            }
            slop = n
        }
        return .text(subject, TextMatcher(phrase: query, slop: slop, analyzer: analyzer))
    }

    // MARK: Operands

    func operand(_ node: FilterNode) throws(Failure) -> FilterOperand {
        switch node.kind {
        case .literal(let v):
            return .constant(v)
        case .list(let items):
            var values = [Value]()
            for item in items {
                guard case .constant(let v) = try operand(item) else {
                    throw fail("list elements must be constants", item)
                }
                values.append(v)
            }
            return .constant(.array(values))
        case .template(let name):
            guard let value = params[name] else {
                throw fail("template parameter {\(name)} is not bound; pass a value for '\(name)' in filterParams", node, code: .invalidArgument)
            }
            return .constant(try paramValue(value, name: name, at: node))
        case .identifier(let name):
            return try field(name, at: node)
        case .subscript(let base, let key):
            let b = try operand(base)
            switch (b, key) {
            case (.path(let col, let path), _):
                return .path(col, path + [key])
            case (.arrayColumn(let name, let e), .index(let i)):
                return .arrayElement(name, i, element: e)
            case (.arrayColumn, .key):
                throw fail("array field \(describe(b)) takes an integer index, not a key", node)
            default:
                throw fail("\(describe(b)) (\(typeName(b.type))) cannot be subscripted; only JSON and array fields can", node)
            }
        case .unary(.minus, let inner):
            let a = try operand(inner)
            guard a.type.isNumeric || a.type == .json else {
                throw fail("arithmetic needs numbers, but \(describe(a)) is \(typeName(a.type))", inner)
            }
            if case .constant(let v) = a {
                let r = FilterValues.arith(.sub, .int(0), v)
                guard !r.isNull else { throw fail("integer overflow in constant expression", node) }
                return .constant(r)
            }
            return .negate(a)
        case .unary(.plus, let inner):
            let a = try operand(inner)
            guard a.type.isNumeric || a.type == .json else {
                throw fail("arithmetic needs numbers, but \(describe(a)) is \(typeName(a.type))", inner)
            }
            return a
        case .binary(let op, let l, let r):
            guard let arith = Self.arithOp(op) else {
                if Self.compareOp(op) != nil {
                    throw fail("not a value: a comparison cannot be used as an operand here", node)
                }
                throw fail("bitwise operator '\(op.spelling)' is not supported in filters", node)
            }
            let a = try operand(l)
            let b = try operand(r)
            for (x, n) in [(a, l), (b, r)] where !(x.type.isNumeric || x.type == .json) {
                throw fail("arithmetic '\(op.spelling)' needs numbers, but \(describe(x)) is \(typeName(x.type))", n)
            }
            if case .constant(let x) = a, case .constant(let y) = b {
                let v = FilterValues.arith(arith, x, y)
                guard !v.isNull else {
                    throw fail("constant expression has no value (division by zero or overflow)", node)
                }
                return .constant(v)
            }
            if case .constant(let y) = b, (arith == .div || arith == .mod), y.doubleValue == 0 {
                throw fail("division by zero", r)
            }
            return .arith(arith, a, b)
        case .call(let name, let args) where name == "array_length" || name == "ARRAY_LENGTH":
            guard args.count == 1 else { throw fail("array_length takes one argument, got \(args.count)", node) }
            let a = try operand(args[0])
            switch a {
            case .arrayColumn, .path: return .arrayLength(a)
            default: throw fail("array_length needs an array field or a JSON path, got \(describe(a))", args[0])
            }
        case .unary(.not, _):
            throw fail("NOT needs a condition, and it binds tighter than comparisons: write NOT (a == b), not NOT a == b", node)
        case .call(let name, _) where Self.containsFunctions[name] == nil:
            throw fail("unknown function '\(name)'", node)
        default:
            throw fail("not a value: a condition cannot be used as an operand here", node)
        }
    }

    private static func arithOp(_ op: FilterNode.BinaryOp) -> FilterArithOp? {
        switch op {
        case .add: .add
        case .sub: .sub
        case .mul: .mul
        case .div: .div
        case .mod: .mod
        case .pow: .pow
        default: nil
        }
    }

    private func paramValue(_ value: Value, name: String, at node: FilterNode) throws(Failure) -> Value {
        switch value {
        case .bool, .int, .string: return value
        case .double(let d):
            guard d.isFinite else { throw fail("template parameter {\(name)} is not a finite number", node, code: .invalidArgument) }
            return value
        case .array(let items):
            return .array(try items.map { (v: Value) throws(Failure) -> Value in try paramValue(v, name: name, at: node) })
        case .vector(let f):
            return .array(f.map { .double(Double($0)) })
        case .object:
            return value
        case .null, .bytes, .sparse:
            throw fail("template parameter {\(name)} is \(value.kindName); use a bool, number, string or list", node, code: .invalidArgument)
        }
    }

    private func field(_ name: String, at node: FilterNode) throws(Failure) -> FilterOperand {
        if name == dynamicFieldName {
            guard schema.enableDynamicField else {
                throw fail("$meta is not available: the collection does not enable dynamic fields", node)
            }
            return .path(dynamicFieldName, [])
        }
        guard let f = schema.field(named: name) else {
            if name.lowercased() == "null" {
                throw fail("there is no null literal: a comparison with null is never true; write 'x IS NULL' or 'x IS NOT NULL'", node)
            }
            if schema.enableDynamicField { return .path(dynamicFieldName, [.key(name)]) }
            let candidates = schema.fields.filter { !$0.dataType.isSearchable }.map(\.name)
            if let near = candidates.min(by: { Self.editDistance($0, name) < Self.editDistance($1, name) }),
                Self.editDistance(near, name) <= 2
            {
                throw fail("unknown field '\(name)' (did you mean '\(near)'?); the collection does not enable dynamic fields", node)
            }
            throw fail("unknown field '\(name)'; the collection has \(schema.fields.filter { !$0.dataType.isSearchable }.map(\.name).joined(separator: ", ")) and does not enable dynamic fields", node)
        }
        switch f.dataType {
        case .floatVector, .sparseFloatVector:
            throw fail("vector field '\(name)' cannot be used in a filter", node)
        case .json: return .path(name, [])
        case .array(let e, _): return .arrayColumn(name, element: Self.kind(e))
        default: return .column(name, Self.kind(f.dataType))
        }
    }

    /// Levenshtein distance, for "did you mean" hints (names are short).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a.lowercased().utf8), y = Array(b.lowercased().utf8)
        if x.isEmpty || y.isEmpty { return max(x.count, y.count) }
        var previous = Array(0...y.count)
        var current = previous
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[y.count]
    }

    private static func kind(_ t: DataType) -> FilterScalarKind {
        switch t {
        case .bool: .bool
        case .float: .float
        case .double: .double
        case .varchar: .string
        default: .int
        }
    }

    // MARK: Descriptions for messages

    func describe(_ o: FilterOperand) -> String {
        switch o {
        case .column(let n, _): return "field '\(n)'"
        case .path(let c, let p):
            if c == dynamicFieldName, p.count == 1, case .key(let k) = p[0], schema.field(named: k) == nil {
                return "dynamic field '\(k)'"
            }
            return "'\(c)\(p.map { k in if case .key(let s) = k { "[\"\(s)\"]" } else if case .index(let i) = k { "[\(i)]" } else { "" } }.joined())'"
        case .arrayColumn(let n, _): return "array field '\(n)'"
        case .arrayElement(let n, let i, _): return "'\(n)[\(i)]'"
        case .constant(let v):
            let json = v.jsonString
            return "\(v.kindName) \(json.count > 60 ? json.prefix(57) + "…" : json)"
        case .arith: return "the arithmetic expression"
        case .negate: return "the negation"
        case .arrayLength: return "array_length(...)"
        }
    }

    func typeName(_ t: FilterType) -> String {
        switch t {
        case .bool: "bool"
        case .int: "integer"
        case .float: "float"
        case .double: "double"
        case .string: "varchar"
        case .json: "JSON"
        case .array(let e): "array of \(typeName(FilterType(e)))"
        case .list: "a list"
        }
    }
}
