import Testing
@testable @_spi(Benchmarks) import Quiver

@Suite struct TopKTests {
    /// The model: sort everything by (score, row) and take the first k.
    static func model(_ items: [ScoredRow], k: Int, higher: Bool) -> [ScoredRow] {
        Array(items.sorted { TopK.ranksBefore($0, $1, higherIsBetter: higher) }.prefix(k))
    }

    @Test(arguments: [0, 1, 2, 3, 10, 64, 1000])
    func matchesFullSortWithTies(k: Int) {
        for seed: UInt64 in 1...20 {
            var rng = SeededRandom(seed: seed &* 31 &+ UInt64(k))
            let n = Int.random(in: 0...300, using: &rng)
            // Few distinct values → many ties; offered in random row order.
            var items = (0..<n).map { ScoredRow(row: $0, distance: Float(Int.random(in: 0...7, using: &rng))) }
            items.shuffle(using: &rng)
            for higher in [false, true] {
                var top = TopK(k: k, higherIsBetter: higher)
                for item in items {
                    top.push(item)
                    top._checkInvariants()
                }
                #expect(top.sorted() == Self.model(items, k: k, higher: higher), "seed \(seed) k \(k)")
            }
        }
    }

    @Test func mergeEqualsSinglePass() {
        var rng = SeededRandom(seed: 42)
        let items = (0..<500).map { ScoredRow(row: $0, distance: Float(Int.random(in: 0...20, using: &rng))) }
        var a = TopK(k: 17, higherIsBetter: true), b = TopK(k: 17, higherIsBetter: true)
        for item in items { if item.row % 3 == 0 { a.push(item) } else { b.push(item) } }
        a.merge(b)
        a._checkInvariants()
        #expect(a.sorted() == Self.model(items, k: 17, higher: true))
    }

    @Test func thresholdAndNaN() {
        var top = TopK(k: 2, higherIsBetter: false)
        #expect(top.threshold == .infinity)
        top.push(row: 0, distance: .nan)
        #expect(top.count == 0)
        top.push(row: 1, distance: 5)
        top.push(row: 2, distance: 3)
        #expect(top.threshold == 5)
        top.push(row: 3, distance: 4)
        #expect(top.threshold == 4)
        #expect(top.sorted() == [ScoredRow(row: 2, distance: 3), ScoredRow(row: 3, distance: 4)])
    }
}
