/// Word segmentation by the word-boundary rules of Unicode Standard Annex #29 ("Unicode Text
/// Segmentation", §4.1), the rules Lucene's and tantivy's standard tokenizers follow.
///
/// Foundation's `enumerateSubstrings(options: .byWords)` is unavailable in swift-corelibs-foundation
/// (Linux), so the rules are written here, over the `Word_Break` property as Swift's
/// `Unicode.Scalar.Properties` lets it be derived (the toolchain has no `Word_Break` table):
///
/// - `ALetter`: `Alphabetic` and not ideographic, Hiragana or Katakana (Hebrew letters count as
///   `ALetter`, so the Hebrew-only rules WB7a–c are not needed for tokens);
/// - `Numeric`: general category `Nd`; `Katakana`: the Katakana blocks and U+3031–3035, U+309B–309C;
/// - `MidLetter`, `MidNum`, `MidNumLet`, `Single_Quote`: the code points UAX #29 lists;
/// - `ExtendNumLet`: general category `Pc` (the underscore) and U+202F;
/// - `Extend`, `Format`, `ZWJ` (`Grapheme_Extend`, spacing marks, emoji modifiers, `Cf`): attached
///   to the character before them (WB4) and kept in its token.
///
/// Rules applied: WB4, WB5 (`ALetter × ALetter`), WB6/WB7 (letters across `MidLetter`,
/// `MidNumLet` or `'`: "can't", "e.g", "U.S.A"), WB8–WB10 (letters and digits), WB11/WB12 (digits
/// across `MidNum`, `MidNumLet` or `'`: "3.14", "1,000"), WB13 (Katakana runs), WB13a/b
/// (`ExtendNumLet`: "foo_bar"). Everything else is a boundary (WB999). As in Lucene's
/// `StandardTokenizer`, only segments with a letter, digit or Katakana become tokens, and each
/// ideograph and each Hiragana character is a token of its own; punctuation, spaces, symbols and
/// emoji are dropped.
enum WordBreak {
    /// A scalar's `Word_Break` class, reduced to what the rules above need.
    enum Class: Equatable {
        case aLetter, numeric, katakana, extendNumLet
        case midLetter, midNum, midNumLet, singleQuote
        /// Extend, Format, ZWJ: attached to the previous character (WB4).
        case extend
        /// An ideograph or Hiragana character: a token by itself.
        case single
        case other
    }

    static func classify(_ s: Unicode.Scalar) -> Class {
        let v = s.value
        if v < 0x80 {
            switch v {
            case 0x30...0x39: return .numeric
            case 0x41...0x5A, 0x61...0x7A: return .aLetter
            case 0x5F: return .extendNumLet
            case 0x27: return .singleQuote
            case 0x2E: return .midNumLet
            case 0x3A: return .midLetter
            case 0x2C, 0x3B: return .midNum
            default: return .other
            }
        }
        switch v {
        case 0x2018, 0x2019, 0x2024, 0xFE52, 0xFF07, 0xFF0E: return .midNumLet
        case 0xB7, 0x387, 0x55F, 0x5F4, 0x2027, 0xFE13, 0xFE55, 0xFF1A: return .midLetter
        case 0x37E, 0x589, 0x60C, 0x60D, 0x66C, 0x7F8, 0x2044, 0xFE10, 0xFE14, 0xFE50, 0xFE54, 0xFF0C, 0xFF1B: return .midNum
        case 0x202F: return .extendNumLet
        case 0x200B: return .other  // ZERO WIDTH SPACE is not Format for WB4
        case 0x3031...0x3035, 0x309B, 0x309C, 0x30A0...0x30FF, 0x31F0...0x31FF, 0x32D0...0x32FE, 0x3300...0x3357,
            0xFF66...0xFF9F, 0x1B000:
            return .katakana
        default: break
        }
        let p = s.properties
        switch p.generalCategory {
        case .nonspacingMark, .enclosingMark, .spacingMark, .format: return .extend
        case .decimalNumber: return .numeric
        case .connectorPunctuation: return .extendNumLet
        default: break
        }
        if p.isGraphemeExtend || p.isEmojiModifier { return .extend }
        if (0x3040...0x309F).contains(v) || p.isIdeographic { return .single }
        if p.isAlphabetic { return .aLetter }
        return .other
    }

    /// The byte ranges (in `utf8`) of the word tokens of `text`, in order.
    ///
    /// - Complexity: O(n) in the text's scalars.
    static func words(_ text: String) -> [Range<Int>] {
        // Scalars with their classes and UTF-8 offsets; Extend scalars are folded into the
        // previous one by widening its end (WB4).
        var classes: [Class] = []
        var starts: [Int] = []
        var ends: [Int] = []
        var offset = 0
        for s in text.unicodeScalars {
            let n = UTF8.width(s)
            let c = classify(s)
            if c == .extend, !classes.isEmpty {
                ends[ends.count - 1] = offset + n
            } else {
                classes.append(c == .extend ? .other : c)
                starts.append(offset)
                ends.append(offset + n)
            }
            offset += n
        }
        var out: [Range<Int>] = []
        var i = 0
        let count = classes.count
        while i < count {
            let c = classes[i]
            if c == .single { out.append(starts[i]..<ends[i]); i += 1; continue }
            guard c == .aLetter || c == .numeric || c == .katakana || c == .extendNumLet else { i += 1; continue }
            var last = c
            var j = i + 1
            var hasWordCharacter = c != .extendNumLet
            while j < count {
                let next = classes[j]
                if joins(last, next) {
                    last = next
                    if next != .extendNumLet { hasWordCharacter = true }
                    j += 1
                    continue
                }
                // WB6/7 and WB11/12: a middle character between two letters or two digits.
                if j + 1 < count {
                    let after = classes[j + 1]
                    if last == .aLetter, after == .aLetter, next == .midLetter || next == .midNumLet || next == .singleQuote {
                        j += 2
                        continue
                    }
                    if last == .numeric, after == .numeric, next == .midNum || next == .midNumLet || next == .singleQuote {
                        j += 2
                        continue
                    }
                }
                break
            }
            if hasWordCharacter { out.append(starts[i]..<ends[j - 1]) }
            i = j
        }
        return out
    }

    /// WB5, WB8–WB10, WB13, WB13a, WB13b: no boundary between `a` and `b`.
    private static func joins(_ a: Class, _ b: Class) -> Bool {
        switch (a, b) {
        case (.aLetter, .aLetter), (.aLetter, .numeric), (.numeric, .aLetter), (.numeric, .numeric), (.katakana, .katakana):
            return true
        case (.aLetter, .extendNumLet), (.numeric, .extendNumLet), (.katakana, .extendNumLet), (.extendNumLet, .extendNumLet):
            return true
        case (.extendNumLet, .aLetter), (.extendNumLet, .numeric), (.extendNumLet, .katakana):
            return true
        default:
            return false
        }
    }
}
