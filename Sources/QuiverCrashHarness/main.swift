// quiver-crash: the writer side of the crash tests. It performs writes with durability
// `.always` and records each call in a log file: "B <seq> <op> <keys>" before the call and
// "A <seq>" after it returns, so a parent that SIGKILLs it at any moment knows which calls were
// acknowledged and which one (at most) was in flight.
//
//   quiver-crash inserts DB ACKFILE [START]        insert rows START, START+1, … one call each
//   quiver-crash random DB LOGFILE SEED START_SEQ  random inserts, upserts, deletes, flushes and
//                                                  compactions on keys 0..<400; rows carry
//                                                  "gen" = the sequence number of their call
import Foundation
import Quiver

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("quiver-crash: \(message)\n".utf8))
    exit(1)
}

struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let args = CommandLine.arguments
var options = DatabaseOptions()
options.durability = .always

func openLog(_ path: String) -> FileHandle {
    if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
    guard let h = FileHandle(forWritingAtPath: path) else { fail("cannot open \(path)") }
    h.seekToEndOfFile()
    return h
}

do {
    switch args.count >= 4 ? args[1] : "" {
    case "inserts":
        let db = try Database.open(at: args[2], options: options)
        if !db.hasCollection("crash") { try db.createCollection("crash", dimension: 4, metric: .l2) }
        let ack = openLog(args[3])
        var i = Int64(args.count > 4 ? args[4] : "0") ?? 0
        while true {
            let v: [Float] = [Float(i), 1, 2, 3]
            _ = try db.insert("crash", rows: [["id": .int(i), "vector": .vector(v), "n": .int(i)]])
            ack.write(Data("\(i)\n".utf8))
            i += 1
        }
    case "random":
        guard args.count >= 6, let seed = UInt64(args[4]), var seq = Int64(args[5]) else {
            fail("usage: quiver-crash random DB LOGFILE SEED START_SEQ")
        }
        options.flushRowThreshold = 60
        let db = try Database.open(at: args[2], options: options)
        if !db.hasCollection("crash") { try db.createCollection("crash", dimension: 4, metric: .l2) }
        let log = openLog(args[3])
        var live = Set(try db.query("crash", limit: 16_384).compactMap { $0["id"]?.intValue })
        var g = SplitMix(state: seed)
        while true {
            seq += 1
            let roll = Int.random(in: 0..<100, using: &g)
            let n = Int.random(in: 1...5, using: &g)
            func row(_ k: Int64) -> Row {
                ["id": .int(k), "vector": .vector([Float(k), Float(seq), 0, 1]), "gen": .int(seq)]
            }
            switch roll {
            case 0..<40:
                let free = (0..<400).map(Int64.init).filter { !live.contains($0) }.shuffled(using: &g).prefix(n)
                guard !free.isEmpty else { continue }
                log.write(Data("B \(seq) I \(free.map(String.init).joined(separator: ","))\n".utf8))
                _ = try db.insert("crash", rows: free.map(row))
                live.formUnion(free)
            case 40..<65:
                let keys = Set((0..<n).map { _ in Int64.random(in: 0..<400, using: &g) })
                log.write(Data("B \(seq) U \(keys.map(String.init).joined(separator: ","))\n".utf8))
                _ = try db.upsert("crash", rows: keys.map(row))
                live.formUnion(keys)
            case 65..<90:
                let keys = Array(live.shuffled(using: &g).prefix(n))
                guard !keys.isEmpty else { continue }
                log.write(Data("B \(seq) D \(keys.map(String.init).joined(separator: ","))\n".utf8))
                _ = try db.delete("crash", ids: keys.map { .int($0) })
                live.subtract(keys)
            case 90..<96:
                log.write(Data("B \(seq) F -\n".utf8))
                try db.flush("crash")
            default:
                log.write(Data("B \(seq) C -\n".utf8))
                try db.compact("crash")
            }
            log.write(Data("A \(seq)\n".utf8))
        }
    default:
        fail("usage: quiver-crash inserts DB ACKFILE [START] | random DB LOGFILE SEED START_SEQ")
    }
} catch {
    fail("\(error)")
}
