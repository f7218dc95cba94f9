/// The Snowball English stemmer ("Porter2", Martin Porter's revision of his 1980 algorithm),
/// as published at snowballstem.org (`algorithms/english.sbl`) in the version the Rust
/// `rust-stemmers` crate carries, which tantivy (and so Milvus's `stemmer` filter) uses:
/// the R1 prefixes `gener`, `commun` and `arsen`, and plain undoubling in step 1b
/// (`added` → `ad`). Checked against the published vocabulary in `EnglishStemmerTests`.
///
/// Works on lower-case words; letters outside a–z are consonants to it, as in the reference.
enum EnglishStemmer {
    private static let a = UInt32(UInt8(ascii: "a")), e = UInt32(UInt8(ascii: "e")), i = UInt32(UInt8(ascii: "i"))
    private static let o = UInt32(UInt8(ascii: "o")), u = UInt32(UInt8(ascii: "u")), y = UInt32(UInt8(ascii: "y"))
    private static let capitalY = UInt32(UInt8(ascii: "Y")), apostrophe = UInt32(UInt8(ascii: "'"))

    private static let exceptions1: [String: String] = [
        "skis": "ski", "skies": "sky", "dying": "die", "lying": "lie", "tying": "tie",
        "idly": "idl", "gently": "gentl", "ugly": "ugli", "early": "earli", "only": "onli", "singly": "singl",
        "sky": "sky", "news": "news", "howe": "howe", "atlas": "atlas", "cosmos": "cosmos", "bias": "bias", "andes": "andes",
    ]
    private static let exceptions2: Set<String> = ["inning", "outing", "canning", "herring", "earring", "proceed", "exceed", "succeed"]

    /// The stem of a lower-case word.
    static func stem(_ word: String) -> String {
        if let special = exceptions1[word] { return special }
        var w = Word(word)
        guard w.chars.count >= 3 else { return word }
        w.prelude()
        w.markRegions()
        w.step1a()
        if !exceptions2.contains(w.string) {
            w.step1b()
            w.step1c()
            w.step2()
            w.step3()
            w.step4()
            w.step5()
        }
        return w.postlude()
    }

    private struct Word {
        var chars: [UInt32]
        var p1 = 0
        var p2 = 0

        init(_ s: String) { chars = s.unicodeScalars.map(\.value) }

        var string: String {
            String(String.UnicodeScalarView(chars.compactMap(Unicode.Scalar.init)))
        }

        static func isVowel(_ c: UInt32) -> Bool { c == a || c == e || c == i || c == o || c == u || c == y }

        func ends(_ suffix: [UInt32]) -> Bool {
            suffix.count <= chars.count && chars[(chars.count - suffix.count)...].elementsEqual(suffix)
        }

        /// The longest of `suffixes` the word ends with.
        func longest(_ suffixes: [[UInt32]]) -> [UInt32]? {
            var best: [UInt32]?
            for s in suffixes where ends(s) && s.count > (best?.count ?? 0) { best = s }
            return best
        }

        mutating func replace(_ suffix: [UInt32], with replacement: [UInt32]) {
            chars.removeLast(suffix.count)
            chars.append(contentsOf: replacement)
        }

        /// A vowel somewhere in `chars[..<end]`.
        func hasVowel(before end: Int) -> Bool { chars[..<end].contains(where: Word.isVowel) }

        /// A short syllable ends at `end` (exclusive): non-vowel, vowel, non-vowel other than
        /// w, x or Y; or vowel, non-vowel at the start of the word.
        func shortSyllable(endingAt end: Int) -> Bool {
            if end >= 3 {
                let c1 = chars[end - 3], c2 = chars[end - 2], c3 = chars[end - 1]
                if !Word.isVowel(c1) && Word.isVowel(c2) && !Word.isVowel(c3)
                    && c3 != UInt32(UInt8(ascii: "w")) && c3 != UInt32(UInt8(ascii: "x")) && c3 != capitalY
                {
                    return true
                }
            }
            return end == 2 && Word.isVowel(chars[0]) && !Word.isVowel(chars[1])
        }

        mutating func prelude() {
            if chars.first == apostrophe { chars.removeFirst() }
            for k in chars.indices where chars[k] == y && (k == 0 || Word.isVowel(chars[k - 1])) { chars[k] = capitalY }
        }

        /// R1 starts after the first non-vowel that follows a vowel (or after `gener`, `commun`,
        /// `arsen`); R2 the same way inside R1.
        mutating func markRegions() {
            func regionStart(from start: Int) -> Int {
                var k = start
                while k < chars.count && !Word.isVowel(chars[k]) { k += 1 }
                while k < chars.count && Word.isVowel(chars[k]) { k += 1 }
                return min(k + 1, chars.count)
            }
            let prefix = ["gener", "commun", "arsen"].first { chars.starts(with: u32($0)) }
            p1 = prefix.map(\.count) ?? regionStart(from: 0)
            p2 = regionStart(from: p1)
        }

        mutating func step1a() {
            if let s = longest([u32("'"), u32("'s"), u32("'s'")]) { chars.removeLast(s.count) }
            guard let s = longest([u32("sses"), u32("ied"), u32("ies"), u32("s"), u32("us"), u32("ss")]) else { return }
            switch s {
            case u32("sses"): replace(s, with: u32("ss"))
            case u32("ied"), u32("ies"): replace(s, with: chars.count - s.count > 1 ? u32("i") : u32("ie"))
            case u32("s"):
                if chars.count >= 3 && hasVowel(before: chars.count - 2) { chars.removeLast() }
            default: break
            }
        }

        mutating func step1b() {
            guard let s = longest([u32("eed"), u32("eedly"), u32("ed"), u32("edly"), u32("ing"), u32("ingly")]) else { return }
            let start = chars.count - s.count
            if s == u32("eed") || s == u32("eedly") {
                if start >= p1 { replace(s, with: u32("ee")) }
                return
            }
            guard hasVowel(before: start) else { return }
            chars.removeLast(s.count)
            if ends(u32("at")) || ends(u32("bl")) || ends(u32("iz")) {
                chars.append(e)
            } else if let last = chars.last, chars.count >= 2, chars[chars.count - 2] == last,
                "bdfgmnprt".unicodeScalars.contains(where: { $0.value == last })
            {
                chars.removeLast()
            } else if p1 == chars.count && shortSyllable(endingAt: chars.count) {
                chars.append(e)
            }
        }

        mutating func step1c() {
            guard let last = chars.last, last == y || last == capitalY, chars.count >= 3, !Word.isVowel(chars[chars.count - 2]) else { return }
            chars[chars.count - 1] = i
        }

        private static let step2Rules: [([UInt32], [UInt32])] = [
            ("tional", "tion"), ("enci", "ence"), ("anci", "ance"), ("abli", "able"), ("entli", "ent"),
            ("izer", "ize"), ("ization", "ize"), ("ational", "ate"), ("ation", "ate"), ("ator", "ate"),
            ("alism", "al"), ("aliti", "al"), ("alli", "al"), ("fulness", "ful"), ("ousli", "ous"), ("ousness", "ous"),
            ("iveness", "ive"), ("iviti", "ive"), ("biliti", "ble"), ("bli", "ble"), ("ogi", "og"), ("fulli", "ful"),
            ("lessli", "less"), ("li", ""),
        ].map { (u32($0.0), u32($0.1)) }

        mutating func step2() {
            guard let (s, r) = Word.longestRule(Word.step2Rules, in: self), chars.count - s.count >= p1 else { return }
            let before = chars.count - s.count - 1
            if s == u32("ogi") {
                guard before >= 0, chars[before] == UInt32(UInt8(ascii: "l")) else { return }
            } else if s == u32("li") {
                guard before >= 0, "cdeghkmnrt".unicodeScalars.contains(where: { $0.value == chars[before] }) else { return }
            }
            replace(s, with: r)
        }

        private static let step3Rules: [([UInt32], [UInt32])] = [
            ("tional", "tion"), ("ational", "ate"), ("alize", "al"), ("icate", "ic"), ("iciti", "ic"), ("ical", "ic"),
            ("ful", ""), ("ness", ""), ("ative", ""),
        ].map { (u32($0.0), u32($0.1)) }

        mutating func step3() {
            guard let (s, r) = Word.longestRule(Word.step3Rules, in: self), chars.count - s.count >= p1 else { return }
            if s == u32("ative") && chars.count - s.count < p2 { return }
            replace(s, with: r)
        }

        private static let step4Suffixes: [[UInt32]] = [
            "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ism", "ate", "iti", "ous",
            "ive", "ize", "ion",
        ].map(u32)

        mutating func step4() {
            guard let s = longest(Word.step4Suffixes), chars.count - s.count >= p2 else { return }
            if s == u32("ion") {
                let before = chars.count - 4
                guard before >= 0, chars[before] == UInt32(UInt8(ascii: "s")) || chars[before] == UInt32(UInt8(ascii: "t")) else { return }
            }
            chars.removeLast(s.count)
        }

        mutating func step5() {
            guard let last = chars.last else { return }
            let start = chars.count - 1
            if last == e {
                if start >= p2 || (start >= p1 && !shortSyllable(endingAt: start)) { chars.removeLast() }
            } else if last == UInt32(UInt8(ascii: "l")) {
                if start >= p2 && start >= 1 && chars[start - 1] == UInt32(UInt8(ascii: "l")) { chars.removeLast() }
            }
        }

        func postlude() -> String {
            var w = self
            for k in w.chars.indices where w.chars[k] == capitalY { w.chars[k] = y }
            return w.string
        }

        static func longestRule(_ rules: [([UInt32], [UInt32])], in word: Word) -> ([UInt32], [UInt32])? {
            var best: ([UInt32], [UInt32])?
            for rule in rules where word.ends(rule.0) && rule.0.count > (best?.0.count ?? 0) { best = rule }
            return best
        }
    }
}

private func u32(_ s: String) -> [UInt32] { s.unicodeScalars.map(\.value) }
