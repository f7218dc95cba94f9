/// An incremental parser of `text/event-stream` (the WHATWG server-sent events format): feed it
/// bytes as they arrive, in any split, and take the complete events' `data`.
///
/// Lines end in LF, CR LF or CR; `data:` lines of one event are joined with LF; a blank line ends
/// the event; comment lines (`:`) and other fields are ignored. Bytes are decoded as UTF-8 only
/// once a line is complete, so a character split across reads is never mangled.
struct ServerSentEventParser {
    private var line: [UInt8] = []
    private var data: [String] = []
    private var hasData = false
    private var lastWasCR = false

    /// The `data` of every event completed by `bytes`.
    mutating func feed<Bytes: Sequence>(_ bytes: Bytes) -> [String] where Bytes.Element == UInt8 {
        var events = [String]()
        for byte in bytes {
            if byte == 0x0A, lastWasCR {  // the LF of a CR LF
                lastWasCR = false
                continue
            }
            lastWasCR = byte == 0x0D
            if byte == 0x0A || byte == 0x0D {
                if let event = endLine() { events.append(event) }
            } else {
                line.append(byte)
            }
        }
        return events
    }

    /// The pending event at the end of the stream, if the server did not end it with a blank line.
    mutating func finish() -> String? {
        if !line.isEmpty { _ = endLine() }
        return endLine()
    }

    private mutating func endLine() -> String? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            guard hasData else { return nil }
            let event = data.joined(separator: "\n")
            data.removeAll()
            hasData = false
            return event
        }
        if line.first == UInt8(ascii: ":") { return nil }
        let text = String(decoding: line, as: UTF8.self)
        let field: Substring
        var value: Substring
        if let colon = text.firstIndex(of: ":") {
            field = text[..<colon]
            value = text[text.index(after: colon)...]
            if value.first == " " { value = value.dropFirst() }
        } else {
            field = Substring(text)
            value = ""
        }
        if field == "data" {
            data.append(String(value))
            hasData = true
        }
        return nil
    }
}
