import Foundation
import Quiver

/// A check that failed: what was expected and what Quiver returned.
struct Mismatch: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// SplitMix64: the same vectors on every run and every machine.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func vector(_ dimension: Int) -> [Float] {
        (0..<dimension).map { _ in Float.random(in: -1..<1, using: &self) }
    }
}

/// Seconds since `start` on the monotonic clock.
func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// CPU seconds used by the process so far, all threads (on a shared machine, wall time over CPU
/// time shows how much of the machine a measurement got).
func cpuSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// Wall and CPU seconds of `body`.
func measure<R>(_ body: () throws -> R) rethrows -> (result: R, wall: Double, cpu: Double) {
    let c0 = cpuSeconds(), t0 = ContinuousClock.now
    let result = try body()
    return (result, seconds(since: t0), cpuSeconds() - c0)
}

/// The brute-force model the search results are checked against: every row's score, in Double.
enum BruteForce {
    static func score(_ a: [Float], _ b: [Float], _ metric: MetricType) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for i in a.indices {
            dot += Double(a[i]) * Double(b[i])
            na += Double(a[i]) * Double(a[i])
            nb += Double(b[i]) * Double(b[i])
        }
        switch metric {
        case .ip: return dot
        case .cosine: return dot / (na.squareRoot() * nb.squareRoot())
        default: fatalError("the consumer checks IP and COSINE only")
        }
    }

    /// Checks that `hits` are the `limit` best rows for `query`: each hit's distance is the score
    /// computed here for its id, and the k-th hit's score is the k-th best score (so ties between
    /// rows may come in either order, but no better row is missing).
    static func check(_ hits: [Hit], query: [Float], rows: [[Float]], metric: MetricType, limit: Int, context: String) throws {
        let scores = rows.map { score(query, $0, metric) }
        let best = scores.sorted(by: >).prefix(limit)
        guard hits.count == min(limit, rows.count) else {
            throw Mismatch("\(context): \(hits.count) hits, expected \(min(limit, rows.count))")
        }
        var seen = Set<Int64>()
        for (rank, (hit, expected)) in zip(hits, best).enumerated() {
            guard let id = hit.id.intValue, id >= 0, Int(id) < rows.count, seen.insert(id).inserted else {
                throw Mismatch("\(context): hit \(rank) has id \(hit.id), not a distinct row id")
            }
            let own = scores[Int(id)]
            guard abs(Double(hit.distance) - own) < 1e-4, abs(Double(hit.distance) - expected) < 1e-4 else {
                throw Mismatch("\(context): hit \(rank) is id \(id) at \(hit.distance); its score is \(own), the rank's best score \(expected)")
            }
        }
    }
}
