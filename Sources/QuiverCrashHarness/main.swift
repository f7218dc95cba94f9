// quiver-crash: the writer side of the crash tests. It performs writes with durability
// `.always` and appends a line to an acknowledgement file after each call returns, so a parent
// that SIGKILLs it can check that every acknowledged write survived.
//
//   quiver-crash inserts DB ACKFILE [START]    insert rows START, START+1, … one call each
import Foundation
import Quiver

let args = CommandLine.arguments
guard args.count >= 4, args[1] == "inserts" else {
    FileHandle.standardError.write(Data("usage: quiver-crash inserts DB ACKFILE [START]\n".utf8))
    exit(2)
}
var options = DatabaseOptions()
options.durability = .always
do {
    let db = try Database.open(at: args[2], options: options)
    if !db.hasCollection("crash") { try db.createCollection("crash", dimension: 4, metric: .l2) }
    guard let ack = FileHandle(forWritingAtPath: args[3]) else { exit(3) }
    ack.seekToEndOfFile()
    var i = Int64(args.count > 4 ? args[4] : "0") ?? 0
    while true {
        let v: [Float] = [Float(i), 1, 2, 3]
        _ = try db.insert(into: "crash", rows: [["id": .int(i), "vector": .vector(v), "n": .int(i)]])
        ack.write(Data("\(i)\n".utf8))
        i += 1
    }
} catch {
    FileHandle.standardError.write(Data("quiver-crash: \(error)\n".utf8))
    exit(1)
}
