/// The syntax tree of a filter expression, before type checking.
struct FilterNode: Sendable {
    indirect enum Kind: Sendable {
        case literal(Value)
        /// `[a, b, c]`
        case list([FilterNode])
        /// `{name}`
        case template(String)
        /// A field name, a dynamic key, or `$meta`.
        case identifier(String)
        /// `base["key"]` or `base[0]`
        case `subscript`(FilterNode, PathKey)
        case unary(UnaryOp, FilterNode)
        case binary(BinaryOp, FilterNode, FilterNode)
        /// Flattened `a AND b AND c` / `a OR b OR c`.
        case and([FilterNode])
        case or([FilterNode])
        /// `lo < mid <= hi` (ops are `.lt`/`.le`) or `hi > mid >= lo` (`.gt`/`.ge`).
        case range(FilterNode, BinaryOp, FilterNode, BinaryOp, FilterNode)
        case inList(FilterNode, FilterNode, negated: Bool)
        case like(FilterNode, FilterNode)
        case isNull(FilterNode, negated: Bool)
        case exists(FilterNode)
        /// `name(args)`; the name as written.
        case call(String, [FilterNode])
    }

    enum PathKey: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    enum UnaryOp: Sendable { case plus, minus, not, bitNot }

    enum BinaryOp: Sendable {
        case eq, ne, lt, le, gt, ge
        case add, sub, mul, div, mod, pow
        case shl, shr, band, bor, bxor

        var spelling: String {
            switch self {
            case .eq: "=="
            case .ne: "!="
            case .lt: "<"
            case .le: "<="
            case .gt: ">"
            case .ge: ">="
            case .add: "+"
            case .sub: "-"
            case .mul: "*"
            case .div: "/"
            case .mod: "%"
            case .pow: "**"
            case .shl: "<<"
            case .shr: ">>"
            case .band: "&"
            case .bor: "|"
            case .bxor: "^"
            }
        }
    }

    var kind: Kind
    /// Byte offset of the node's first token in the expression.
    var offset: Int
    /// Height of the tree below this node (1 for a leaf); bounded by the parser.
    var height: Int
}

/// A precedence-climbing parser for Milvus's filter grammar.
///
/// Precedence, loosest first, as the alternatives of `expr` in milvus-io/milvus
/// `internal/parser/planparserv2/Plan.g4` order them (ANTLR gives earlier alternatives higher
/// precedence): `OR` < `AND` < `|` < `^` < `&` < `== !=` < `< <= > >=` (and the chained
/// ranges `a < x <= b`, `a > x >= b`) < `IN`/`NOT IN` < `<< >>` < `+ -` < `* / %` < prefix
/// `+ - ~ NOT` < `**` < `LIKE` < `EXISTS`. Binary operators are left-associative. Note that, as
/// in Milvus, `NOT` binds tighter than comparisons: write `NOT (a == 1)`.
///
/// Recursion is bounded by ``maxDepth``: deeper trees are an error, not a stack overflow.
struct FilterParser {
    static let maxDepth = 96

    private var tokens: [PositionedToken]
    private var p = 0
    private var depth = 0

    init(tokens: [PositionedToken]) { self.tokens = tokens }

    static func parse(_ text: String) throws(FilterDiagnostic) -> FilterNode {
        var parser = FilterParser(tokens: try FilterLexer.tokenize(text))
        let node = try parser.parseExpression(minPrecedence: 0)
        guard parser.current.token == .eof else {
            throw FilterDiagnostic("unexpected '\(parser.current.token.spelling)' after a complete expression", at: parser.current.offset)
        }
        return node
    }

    private var current: PositionedToken { tokens[p] }
    private mutating func advance() { if p < tokens.count - 1 { p += 1 } }

    private mutating func expect(_ t: FilterToken, _ what: String) throws(FilterDiagnostic) {
        guard current.token == t else {
            throw FilterDiagnostic("expected \(what), found '\(current.token.spelling)'", at: current.offset)
        }
        advance()
    }

    private func make(_ kind: FilterNode.Kind, at offset: Int, children: [FilterNode]) throws(FilterDiagnostic) -> FilterNode {
        let h = 1 + (children.map(\.height).max() ?? 0)
        guard h <= Self.maxDepth else {
            throw FilterDiagnostic("expression is nested too deeply (more than \(Self.maxDepth) levels)", at: offset)
        }
        return FilterNode(kind: kind, offset: offset, height: h)
    }

    // Binding powers (higher binds tighter).
    private enum Prec {
        static let or = 1, and = 2, bor = 3, bxor = 4, band = 5, equality = 6, relational = 7
        static let term = 8, shift = 9, additive = 10, multiplicative = 11, unary = 12, power = 13, like = 14
    }

    private static func infix(_ t: FilterToken) -> (Int, FilterNode.BinaryOp?)? {
        switch t {
        case .or: (Prec.or, nil)
        case .and: (Prec.and, nil)
        case .bor: (Prec.bor, .bor)
        case .bxor: (Prec.bxor, .bxor)
        case .band: (Prec.band, .band)
        case .eq: (Prec.equality, .eq)
        case .ne: (Prec.equality, .ne)
        case .lt: (Prec.relational, .lt)
        case .le: (Prec.relational, .le)
        case .gt: (Prec.relational, .gt)
        case .ge: (Prec.relational, .ge)
        case .in: (Prec.term, nil)
        case .not: (Prec.term, nil)  // NOT IN
        case .shl: (Prec.shift, .shl)
        case .shr: (Prec.shift, .shr)
        case .add: (Prec.additive, .add)
        case .sub: (Prec.additive, .sub)
        case .mul: (Prec.multiplicative, .mul)
        case .div: (Prec.multiplicative, .div)
        case .mod: (Prec.multiplicative, .mod)
        case .pow: (Prec.power, .pow)
        case .like: (Prec.like, nil)
        default: nil
        }
    }

    private mutating func enter() throws(FilterDiagnostic) {
        depth += 1
        guard depth <= Self.maxDepth else {
            throw FilterDiagnostic("expression is nested too deeply (more than \(Self.maxDepth) levels)", at: current.offset)
        }
    }

    mutating func parseExpression(minPrecedence: Int) throws(FilterDiagnostic) -> FilterNode {
        try enter()
        defer { depth -= 1 }
        var left = try parsePrefix()
        while let (prec, op) = Self.infix(current.token), prec > minPrecedence {
            let opToken = current
            switch opToken.token {
            case .and, .or:
                let isAnd = opToken.token == .and
                var items = [left]
                while current.token == opToken.token {
                    advance()
                    items.append(try parseExpression(minPrecedence: prec))
                }
                left = try make(isAnd ? .and(items) : .or(items), at: left.offset, children: items)
            case .in, .not:
                var negated = false
                if opToken.token == .not {
                    advance()
                    guard current.token == .in else {
                        throw FilterDiagnostic("expected 'IN' after 'NOT' here; to negate a condition write NOT (condition)", at: opToken.offset)
                    }
                    negated = true
                }
                advance()
                let right = try parseExpression(minPrecedence: prec)
                left = try make(.inList(left, right, negated: negated), at: left.offset, children: [left, right])
            case .like:
                advance()
                let right = try parseExpression(minPrecedence: prec)
                left = try make(.like(left, right), at: left.offset, children: [left, right])
            case .lt, .le, .gt, .ge:
                advance()
                let middle = try parseExpression(minPrecedence: prec)
                let next = current.token
                let ascending = opToken.token == .lt || opToken.token == .le
                let chains = ascending ? (next == .lt || next == .le) : (next == .gt || next == .ge)
                if chains {
                    let op2 = Self.infix(next)!.1!
                    advance()
                    let right = try parseExpression(minPrecedence: prec)
                    left = try make(.range(left, op!, middle, op2, right), at: left.offset, children: [left, middle, right])
                    if let (p2, _) = Self.infix(current.token), p2 == Prec.relational {
                        throw FilterDiagnostic("a chained comparison may have at most two operators", at: current.offset)
                    }
                } else if next == .lt || next == .le || next == .gt || next == .ge {
                    throw FilterDiagnostic("a chained comparison must go one way: a < x <= b or a > x >= b", at: current.offset)
                } else {
                    left = try make(.binary(op!, left, middle), at: left.offset, children: [left, middle])
                }
            default:
                advance()
                let right = try parseExpression(minPrecedence: prec)
                left = try make(.binary(op!, left, right), at: left.offset, children: [left, right])
            }
        }
        return left
    }

    private mutating func parsePrefix() throws(FilterDiagnostic) -> FilterNode {
        let start = current
        let op: FilterNode.UnaryOp
        switch start.token {
        case .add: op = .plus
        case .sub: op = .minus
        case .not: op = .not
        case .bnot: op = .bitNot
        case .exists:
            advance()
            try enter()
            defer { depth -= 1 }
            let operand = try parsePostfix()
            return try make(.exists(operand), at: start.offset, children: [operand])
        default:
            return try parsePostfix()
        }
        advance()
        let operand = try parseExpression(minPrecedence: Prec.unary)
        // Fold a minus into a number literal so that `-9223372036854775807` stays an integer.
        if op == .minus, case .literal(let v) = operand.kind {
            switch v {
            case .int(let x): return FilterNode(kind: .literal(.int(-x)), offset: start.offset, height: 1)
            case .double(let x): return FilterNode(kind: .literal(.double(-x)), offset: start.offset, height: 1)
            default: break
            }
        }
        return try make(.unary(op, operand), at: start.offset, children: [operand])
    }

    /// A primary followed by `[key]` subscripts and `IS [NOT] NULL`.
    private mutating func parsePostfix() throws(FilterDiagnostic) -> FilterNode {
        var node = try parsePrimary()
        while true {
            switch current.token {
            case .lbracket:
                advance()
                let key: FilterNode.PathKey
                switch current.token {
                case .string(let s): key = .key(s)
                case .int(let v) where v >= 0 && v <= Int64(Int32.max): key = .index(Int(v))
                default:
                    throw FilterDiagnostic("a subscript must be a string key or a non-negative integer index", at: current.offset)
                }
                advance()
                try expect(.rbracket, "']'")
                node = try make(.subscript(node, key), at: node.offset, children: [node])
            case .isNull, .isNotNull:
                let negated = current.token == .isNotNull
                advance()
                node = try make(.isNull(node, negated: negated), at: node.offset, children: [node])
            default:
                return node
            }
        }
    }

    private mutating func parsePrimary() throws(FilterDiagnostic) -> FilterNode {
        let start = current
        switch start.token {
        case .int(let v):
            advance()
            return FilterNode(kind: .literal(.int(v)), offset: start.offset, height: 1)
        case .float(let v):
            advance()
            return FilterNode(kind: .literal(.double(v)), offset: start.offset, height: 1)
        case .string(let s):
            advance()
            return FilterNode(kind: .literal(.string(s)), offset: start.offset, height: 1)
        case .bool(let b):
            advance()
            return FilterNode(kind: .literal(.bool(b)), offset: start.offset, height: 1)
        case .identifier(let name):
            advance()
            if current.token == .lparen {
                advance()
                var args = [FilterNode]()
                if current.token != .rparen {
                    while true {
                        args.append(try parseExpression(minPrecedence: 0))
                        if current.token == .comma {
                            advance()
                            if current.token == .rparen { break }
                            continue
                        }
                        break
                    }
                }
                try expect(.rparen, "')' to close the call of \(name)")
                return try make(.call(name, args), at: start.offset, children: args)
            }
            return FilterNode(kind: .identifier(name), offset: start.offset, height: 1)
        case .lbrace:
            advance()
            guard case .identifier(let name) = current.token else {
                throw FilterDiagnostic("expected a parameter name after '{'", at: current.offset)
            }
            advance()
            try expect(.rbrace, "'}' to close the template parameter")
            return FilterNode(kind: .template(name), offset: start.offset, height: 1)
        case .lparen:
            advance()
            let inner = try parseExpression(minPrecedence: 0)
            try expect(.rparen, "')'")
            return inner
        case .lbracket:
            advance()
            var items = [FilterNode]()
            while current.token != .rbracket {
                items.append(try parseExpression(minPrecedence: 0))
                if current.token == .comma { advance(); continue }
                guard current.token == .rbracket else {
                    throw FilterDiagnostic("expected ',' or ']' in a list, found '\(current.token.spelling)'", at: current.offset)
                }
            }
            advance()
            return try make(.list(items), at: start.offset, children: items)
        case .eof:
            throw FilterDiagnostic("unexpected end of expression", at: start.offset)
        default:
            throw FilterDiagnostic("unexpected '\(start.token.spelling)'", at: start.offset)
        }
    }
}
