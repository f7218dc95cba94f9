@testable @_spi(Benchmarks) import Quiver

/// SplitMix64: a small seeded generator so failures can be replayed from the printed seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func floats(_ n: Int, in range: ClosedRange<Float> = -1...1) -> [Float] {
        (0..<n).map { _ in Float.random(in: range, using: &self) }
    }
    /// Small integers as floats: every dot product and L2 distance is exact in float32, so
    /// scores can be compared exactly and ties are common.
    mutating func smallInts(_ n: Int, _ range: ClosedRange<Int> = -3...3) -> [Float] {
        (0..<n).map { _ in Float(Int.random(in: range, using: &self)) }
    }
}

enum Reference {
    static func dot(_ a: [Float], _ b: [Float]) -> Double {
        zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    static func l2(_ a: [Float], _ b: [Float]) -> Double {
        zip(a, b).reduce(0.0) { let d = Double($1.0) - Double($1.1); return $0 + d * d }
    }
    static func absDot(_ a: [Float], _ b: [Float]) -> Double {
        zip(a, b).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
    }
    static func norm(_ a: [Float]) -> Double { dot(a, a).squareRoot() }
}

let kernelTestDimensions = [1, 3, 7, 8, 15, 17, 31, 100, 128, 384, 768, 1000]
