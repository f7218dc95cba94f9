/// Tokens of Milvus's filter-expression language, as `Plan.g4` in milvus-io/milvus lexes them.
///
/// Keywords come in the two spellings the grammar lists (`and`/`AND`, `like`/`LIKE`, …);
/// booleans in three (`true`, `True`, `TRUE`). `is null` / `is not null` are single tokens
/// (any whitespace between the words, each word lower- or upper-case).
enum FilterToken: Sendable, Equatable {
    case int(Int64)
    case float(Double)
    case string(String)
    case bool(Bool)
    case identifier(String)          // includes `$meta`
    case lparen, rparen, lbracket, rbracket, lbrace, rbrace, comma
    case eq, ne, lt, le, gt, ge
    case add, sub, mul, div, mod, pow, shl, shr, band, bor, bxor, bnot
    case and, or, not, `in`, like, exists, isNull, isNotNull
    case eof

    var spelling: String {
        switch self {
        case .int(let v): "\(v)"
        case .float(let v): "\(v)"
        case .string(let s): "\"\(s)\""
        case .bool(let b): "\(b)"
        case .identifier(let s): s
        case .lparen: "("
        case .rparen: ")"
        case .lbracket: "["
        case .rbracket: "]"
        case .lbrace: "{"
        case .rbrace: "}"
        case .comma: ","
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
        case .bnot: "~"
        case .and: "AND"
        case .or: "OR"
        case .not: "NOT"
        case .in: "IN"
        case .like: "LIKE"
        case .exists: "EXISTS"
        case .isNull: "IS NULL"
        case .isNotNull: "IS NOT NULL"
        case .eof: "end of expression"
        }
    }
}

/// A token and the byte offset in the expression's UTF-8 where it starts.
struct PositionedToken: Sendable {
    var token: FilterToken
    var offset: Int
}

/// A failure located at a byte offset of the expression; `FilterExpression` turns it into a
/// `QuiverError` that quotes the expression and points at the column.
struct FilterDiagnostic: Error, Sendable {
    var code: QuiverError.Code
    var message: String
    var offset: Int

    init(_ message: String, at offset: Int, code: QuiverError.Code = .filterSyntax) {
        self.code = code
        self.message = message
        self.offset = offset
    }
}

struct FilterLexer {
    private let bytes: [UInt8]
    private var i = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    /// All tokens, ending with `.eof`.
    static func tokenize(_ text: String) throws(FilterDiagnostic) -> [PositionedToken] {
        var lexer = FilterLexer(text)
        var out = [PositionedToken]()
        while true {
            let t = try lexer.next()
            out.append(t)
            if t.token == .eof { return out }
        }
    }

    private func peek(_ k: Int = 0) -> UInt8? { i + k < bytes.count ? bytes[i + k] : nil }

    private static func isIdentStart(_ c: UInt8) -> Bool {
        (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95
    }
    private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    private static func isIdentChar(_ c: UInt8) -> Bool { isIdentStart(c) || isDigit(c) }
    private static func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 }

    mutating func next() throws(FilterDiagnostic) -> PositionedToken {
        while let c = peek(), Self.isSpace(c) { i += 1 }
        let start = i
        guard let c = peek() else { return PositionedToken(token: .eof, offset: start) }
        func tok(_ t: FilterToken, _ n: Int) -> PositionedToken {
            i += n
            return PositionedToken(token: t, offset: start)
        }
        switch c {
        case UInt8(ascii: "("): return tok(.lparen, 1)
        case UInt8(ascii: ")"): return tok(.rparen, 1)
        case UInt8(ascii: "["): return tok(.lbracket, 1)
        case UInt8(ascii: "]"): return tok(.rbracket, 1)
        case UInt8(ascii: "{"): return tok(.lbrace, 1)
        case UInt8(ascii: "}"): return tok(.rbrace, 1)
        case UInt8(ascii: ","): return tok(.comma, 1)
        case UInt8(ascii: "+"): return tok(.add, 1)
        case UInt8(ascii: "-"): return tok(.sub, 1)
        case UInt8(ascii: "/"): return tok(.div, 1)
        case UInt8(ascii: "%"): return tok(.mod, 1)
        case UInt8(ascii: "^"): return tok(.bxor, 1)
        case UInt8(ascii: "~"): return tok(.bnot, 1)
        case UInt8(ascii: "*"): return peek(1) == UInt8(ascii: "*") ? tok(.pow, 2) : tok(.mul, 1)
        case UInt8(ascii: "&"): return peek(1) == UInt8(ascii: "&") ? tok(.and, 2) : tok(.band, 1)
        case UInt8(ascii: "|"): return peek(1) == UInt8(ascii: "|") ? tok(.or, 2) : tok(.bor, 1)
        case UInt8(ascii: "="):
            if peek(1) == UInt8(ascii: "=") { return tok(.eq, 2) }
            if peek(1) == UInt8(ascii: "~") {
                throw FilterDiagnostic("regular-expression match '=~' is not supported", at: start, code: .unsupported)
            }
            throw FilterDiagnostic("unexpected '='; use '==' to compare", at: start)
        case UInt8(ascii: "!"):
            if peek(1) == UInt8(ascii: "=") { return tok(.ne, 2) }
            if peek(1) == UInt8(ascii: "~") {
                throw FilterDiagnostic("regular-expression match '!~' is not supported", at: start, code: .unsupported)
            }
            return tok(.not, 1)
        case UInt8(ascii: "<"):
            if peek(1) == UInt8(ascii: "=") { return tok(.le, 2) }
            if peek(1) == UInt8(ascii: "<") { return tok(.shl, 2) }
            return tok(.lt, 1)
        case UInt8(ascii: ">"):
            if peek(1) == UInt8(ascii: "=") { return tok(.ge, 2) }
            if peek(1) == UInt8(ascii: ">") { return tok(.shr, 2) }
            return tok(.gt, 1)
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            return PositionedToken(token: .string(try lexString(raw: false)), offset: start)
        case UInt8(ascii: "$"):
            if bytes[i...].starts(with: "$meta".utf8), !(peek(5).map(Self.isIdentChar) ?? false) {
                return tok(.identifier(dynamicFieldName), 5)
            }
            throw FilterDiagnostic("unexpected '$'; the only name starting with '$' is $meta", at: start)
        case UInt8(ascii: "."):
            if let d = peek(1), Self.isDigit(d) { return PositionedToken(token: try lexNumber(), offset: start) }
            throw FilterDiagnostic("unexpected '.'", at: start)
        default:
            if Self.isDigit(c) { return PositionedToken(token: try lexNumber(), offset: start) }
            if Self.isIdentStart(c) { return PositionedToken(token: try lexWord(), offset: start) }
            throw FilterDiagnostic("unexpected character '\(Self.describe(at: start, in: bytes))'", at: start)
        }
    }

    private static func describe(at offset: Int, in bytes: [UInt8]) -> String {
        var end = offset + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }

    // MARK: Words

    private mutating func readWord() -> String {
        let start = i
        while let c = peek(), Self.isIdentChar(c) { i += 1 }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    private static let keywords: [String: FilterToken] = [
        "and": .and, "AND": .and, "or": .or, "OR": .or, "not": .not, "NOT": .not,
        "in": .in, "IN": .in, "like": .like, "LIKE": .like, "exists": .exists, "EXISTS": .exists,
        "true": .bool(true), "True": .bool(true), "TRUE": .bool(true),
        "false": .bool(false), "False": .bool(false), "FALSE": .bool(false),
    ]

    private mutating func lexWord() throws(FilterDiagnostic) -> FilterToken {
        let start = i
        let word = readWord()
        // String literal prefixes: raw strings r"..." / R'...', encoding prefixes u8, u, U, L.
        if let q = peek(), q == UInt8(ascii: "\"") || q == UInt8(ascii: "'") {
            if word == "r" || word == "R" { return .string(try lexString(raw: true)) }
            if word == "u8" || word == "u" || word == "U" || word == "L" { return .string(try lexString(raw: false)) }
        }
        if word == "is" || word == "IS" {
            // `is null`, `is not null` (the grammar's ISNULL / ISNOTNULL tokens).
            let save = i
            if let second = nextWordAfterSpace() {
                if second == "null" || second == "NULL" { return .isNull }
                if second == "not" || second == "NOT", let third = nextWordAfterSpace(), third == "null" || third == "NULL" {
                    return .isNotNull
                }
            }
            i = save
            throw FilterDiagnostic("expected 'IS NULL' or 'IS NOT NULL'", at: start)
        }
        if let k = Self.keywords[word] { return k }
        return .identifier(word)
    }

    private mutating func nextWordAfterSpace() -> String? {
        var j = i
        while j < bytes.count, Self.isSpace(bytes[j]) { j += 1 }
        guard j > i, j < bytes.count, Self.isIdentStart(bytes[j]) else { return nil }
        i = j
        return readWord()
    }

    // MARK: Numbers

    private mutating func lexNumber() throws(FilterDiagnostic) -> FilterToken {
        let start = i
        if peek() == UInt8(ascii: "0"), let x = peek(1), x == UInt8(ascii: "x") || x == UInt8(ascii: "X") {
            i += 2
            let digitsStart = i
            while let c = peek(), Self.isHex(c) || c == UInt8(ascii: ".") { i += 1 }
            if let p = peek(), p == UInt8(ascii: "p") || p == UInt8(ascii: "P") {
                // Hexadecimal float 0x1.8p3.
                i += 1
                if let s = peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { i += 1 }
                while let c = peek(), Self.isDigit(c) { i += 1 }
                try checkNumberEnd(start)
                let text = String(decoding: bytes[start..<i], as: UTF8.self)
                guard let d = Double(text), d.isFinite else { throw FilterDiagnostic("invalid number '\(text)'", at: start) }
                return .float(d)
            }
            let digits = String(decoding: bytes[digitsStart..<i], as: UTF8.self)
            try checkNumberEnd(start)
            guard !digits.isEmpty, !digits.contains("."), let v = Int64(digits, radix: 16) else {
                throw FilterDiagnostic("invalid or out-of-range hexadecimal integer '0x\(digits)'", at: start)
            }
            return .int(v)
        }
        if peek() == UInt8(ascii: "0"), let b = peek(1), b == UInt8(ascii: "b") || b == UInt8(ascii: "B") {
            i += 2
            let digitsStart = i
            while let c = peek(), Self.isDigit(c) { i += 1 }
            let digits = String(decoding: bytes[digitsStart..<i], as: UTF8.self)
            try checkNumberEnd(start)
            guard !digits.isEmpty, let v = Int64(digits, radix: 2) else {
                throw FilterDiagnostic("invalid or out-of-range binary integer '0b\(digits)'", at: start)
            }
            return .int(v)
        }
        var isFloat = false
        while let c = peek(), Self.isDigit(c) { i += 1 }
        if peek() == UInt8(ascii: ".") {
            isFloat = true
            i += 1
            while let c = peek(), Self.isDigit(c) { i += 1 }
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            var j = i + 1
            if j < bytes.count, bytes[j] == UInt8(ascii: "+") || bytes[j] == UInt8(ascii: "-") { j += 1 }
            if j < bytes.count, Self.isDigit(bytes[j]) {
                isFloat = true
                i = j
                while let c = peek(), Self.isDigit(c) { i += 1 }
            }
        }
        try checkNumberEnd(start)
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if isFloat {
            guard let d = Double(text), d.isFinite else { throw FilterDiagnostic("invalid number '\(text)'", at: start) }
            return .float(d)
        }
        if text.count > 1, text.first == "0" {
            // Octal, as in C: 017 == 15.
            guard let v = Int64(text.dropFirst(), radix: 8) else {
                throw FilterDiagnostic("invalid or out-of-range octal integer '\(text)'", at: start)
            }
            return .int(v)
        }
        guard let v = Int64(text) else {
            throw FilterDiagnostic("integer '\(text)' is out of the 64-bit range", at: start)
        }
        return .int(v)
    }

    private func checkNumberEnd(_ start: Int) throws(FilterDiagnostic) {
        if let c = peek(), Self.isIdentChar(c) || c == UInt8(ascii: ".") {
            throw FilterDiagnostic("malformed number", at: start)
        }
    }

    private static func isHex(_ c: UInt8) -> Bool {
        isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)
    }

    // MARK: Strings

    /// A quoted string at `i`. Escapes follow C (as the grammar's `EscapeSequence`): `\n \t \r
    /// \a \b \f \v \\ \' \" \?`, octal `\ooo`, `\xhh`, `\uXXXX`, `\UXXXXXXXX`; any other `\c`
    /// is kept as the two characters, so `LIKE` sees `\%` and `\_`. Raw strings keep every
    /// backslash.
    private mutating func lexString(raw: Bool) throws(FilterDiagnostic) -> String {
        let start = i
        let quote = bytes[i]
        i += 1
        var out = [UInt8]()
        while true {
            guard let c = peek() else { throw FilterDiagnostic("unterminated string literal", at: start) }
            if c == quote { i += 1; break }
            if c == 10 || c == 13 { throw FilterDiagnostic("line break in string literal", at: start) }
            if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
            guard let e = peek(1) else { throw FilterDiagnostic("unterminated string literal", at: start) }
            if raw {
                out.append(c)
                out.append(e)
                i += 2
                continue
            }
            i += 2
            switch e {
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "a"): out.append(7)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "v"): out.append(11)
            case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "?"): out.append(e)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var v = UInt32(e - 48)
                var n = 1
                while n < 3, let d = peek(), d >= 48 && d <= 55 { v = v * 8 + UInt32(d - 48); i += 1; n += 1 }
                try appendScalar(v, to: &out, at: start)
            case UInt8(ascii: "x"):
                var v: UInt32 = 0
                var n = 0
                while let d = peek(), Self.isHex(d) {
                    guard n < 8 else { throw FilterDiagnostic("\\x escape is too long", at: start) }
                    v = v * 16 + UInt32(Self.hexValue(d)); i += 1; n += 1
                }
                guard n > 0 else { throw FilterDiagnostic("\\x escape needs hexadecimal digits", at: start) }
                try appendScalar(v, to: &out, at: start)
            case UInt8(ascii: "u"), UInt8(ascii: "U"):
                let count = e == UInt8(ascii: "u") ? 4 : 8
                var v: UInt32 = 0
                for _ in 0..<count {
                    guard let d = peek(), Self.isHex(d) else {
                        throw FilterDiagnostic("\\\(Character(UnicodeScalar(e))) escape needs \(count) hexadecimal digits", at: start)
                    }
                    v = v &* 16 &+ UInt32(Self.hexValue(d)); i += 1
                }
                try appendScalar(v, to: &out, at: start)
            case 10, 13:
                // Line continuation: backslash-newline is dropped.
                if e == 13, peek() == 10 { i += 1 }
            default:
                out.append(c)
                out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8 {
        if c <= 57 { return c - 48 }
        if c >= 97 { return c - 87 }
        return c - 55
    }

    private func appendScalar(_ v: UInt32, to out: inout [UInt8], at start: Int) throws(FilterDiagnostic) {
        guard let scalar = Unicode.Scalar(v) else {
            throw FilterDiagnostic("escape names an invalid Unicode scalar \(v)", at: start)
        }
        out.append(contentsOf: Array(String(Character(scalar)).utf8))
    }
}
