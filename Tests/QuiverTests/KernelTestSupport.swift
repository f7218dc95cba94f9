@testable @_spi(Benchmarks) import Quiver

/// The kernel tests' name for the suite's seeded generator (`TestSupport.swift`).
typealias SeededRandom = SeededGenerator

extension SeededGenerator {
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
