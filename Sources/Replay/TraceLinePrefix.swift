/// The prefix a switch's or a client's trace log puts before the hex or XML of each line: a timestamp, a log level, a
/// direction marker, in that order, each optional (at least one of timestamp or direction for a prefix).
///
/// - Timestamp: `2026-11-23 10:15:02.123`, `2026-11-23T10:15:02,123456Z`, `2026/11/23 10:15:02 +01:00`, optionally in
///   `[ ]`; a fraction after `.` or `,` (up to nanoseconds); an offset `Z`, `±HH:MM`, `±HHMM`, `±HH` or ` UTC`.
///   Without an offset the time is taken as UTC. A time without a date (`10:15:02,123`) is recognised and skipped but
///   gives no timestamp (zero): the day is unknown.
/// - Level: `TRACE`, `DEBUG`, `INFO`, `NOTICE`, `WARN`, `WARNING`, `ERROR` (any case, optionally in `[ ]`).
/// - Direction, from the application's point of view (any case, optionally in `[ ]`, optionally followed by `:`):
///   `recv`, `received`, `rcv`, `rcvd`, `rx`, `in`, `incoming`, `<<`, `<<<`, `<-`, `<==` → switch→application;
///   `send`, `sent`, `snd`, `tx`, `out`, `outgoing`, `>>`, `>>>`, `->`, `==>` → application→switch.
/// - A `:` or `-` after the prefix is skipped.
struct TraceLinePrefix: Equatable {
    /// Bytes of the line the prefix takes (up to the payload's first byte).
    var length: Int
    var timestamp: ReplayTimestamp?
    var direction: ReplayDirection

    /// The prefix of `line`, or `nil` when the line has none (no timestamp and no direction marker at its start).
    static func parse(_ line: UnsafeRawBufferPointer) -> TraceLinePrefix? {
        var i = skipSpaces(line, 0)
        var found = false
        var timestamp: ReplayTimestamp?
        var direction = ReplayDirection.unknown
        if let (end, stamp) = bracketed(line, i, timeStamp) {
            (i, timestamp, found) = (skipSpaces(line, end), stamp, true)
        }
        if let (end, _) = bracketed(line, i, level) { i = skipSpaces(line, end) }
        if let (end, marker) = bracketed(line, i, directionMarker) {
            (i, direction, found) = (end, marker, true)
            if i < line.count, line[i] == UInt8(ascii: ":") { i += 1 }
            i = skipSpaces(line, i)
        }
        guard found else { return nil }
        if i < line.count, line[i] == UInt8(ascii: ":") || line[i] == UInt8(ascii: "-"),
            i + 1 == line.count || isSpace(line[i + 1])
        {
            i = skipSpaces(line, i + 1)
        }
        return TraceLinePrefix(length: i, timestamp: timestamp, direction: direction)
    }

    /// `item` at `i`, or inside `[ ]` at `i`; the index after it (and its `]`) and its value. An item must end at a
    /// space, `:`, `]` or the end of the line.
    private static func bracketed<T>(
        _ b: UnsafeRawBufferPointer, _ i: Int, _ item: (UnsafeRawBufferPointer, Int) -> (Int, T)?
    ) -> (Int, T)? {
        if i < b.count, b[i] == UInt8(ascii: "[") {
            guard let (end, value) = item(b, skipSpaces(b, i + 1)) else { return nil }
            let close = skipSpaces(b, end)
            guard close < b.count, b[close] == UInt8(ascii: "]") else { return nil }
            return (close + 1, value)
        }
        guard let (end, value) = item(b, i) else { return nil }
        guard end == b.count || isSpace(b[end]) || b[end] == UInt8(ascii: ":") || b[end] == UInt8(ascii: "]") else {
            return nil
        }
        return (end, value)
    }

    private static let levels: Set<String> = ["trace", "debug", "info", "notice", "warn", "warning", "error"]
    private static let received: Set<String> = ["recv", "received", "rcv", "rcvd", "rx", "in", "incoming"]
    private static let sent: Set<String> = ["send", "sent", "snd", "tx", "out", "outgoing"]
    private static let receivedArrows: Set<String> = ["<<", "<<<", "<-", "<=="]
    private static let sentArrows: Set<String> = [">>", ">>>", "->", "==>"]

    private static func level(_ b: UnsafeRawBufferPointer, _ i: Int) -> (Int, Void)? {
        let end = wordEnd(b, i)
        return levels.contains(lowercased(b, i, end)) ? (end, ()) : nil
    }

    private static func directionMarker(_ b: UnsafeRawBufferPointer, _ i: Int) -> (Int, ReplayDirection)? {
        var end = wordEnd(b, i)
        if end > i {
            let word = lowercased(b, i, end)
            if received.contains(word) { return (end, .switchToApplication) }
            if sent.contains(word) { return (end, .applicationToSwitch) }
            return nil
        }
        end = i
        while end < b.count, end - i < 3, [UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "-"), UInt8(ascii: "=")]
            .contains(b[end])
        {
            end += 1
        }
        // An arrow is followed by a space (`<<< <CSTA…`): `<` alone opens XML.
        guard end > i, end == b.count || isSpace(b[end]) || b[end] == UInt8(ascii: "]") else { return nil }
        let arrow = lowercased(b, i, end)
        if receivedArrows.contains(arrow) { return (end, .switchToApplication) }
        if sentArrows.contains(arrow) { return (end, .applicationToSwitch) }
        return nil
    }

    /// `[date[T| ]]HH:MM:SS[(.|,)fraction][offset]`: the index after it, and the time when there is a date.
    private static func timeStamp(_ b: UnsafeRawBufferPointer, _ start: Int) -> (Int, ReplayTimestamp?)? {
        var i = start
        var day: Int64?
        if let (y, m, d, end) = date(b, i) {
            guard let days = daysFromCivil(y, m, d) else { return nil }
            day = days
            i = end
            guard i < b.count, b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: " ") else { return nil }
            i += 1
        }
        guard let (h, end1) = digits(b, i, 2), h < 24, end1 < b.count, b[end1] == UInt8(ascii: ":"),
            let (mi, end2) = digits(b, end1 + 1, 2), mi < 60, end2 < b.count, b[end2] == UInt8(ascii: ":"),
            let (s, end3) = digits(b, end2 + 1, 2), s <= 60
        else { return nil }
        i = end3
        var nanoseconds = 0
        if i + 1 < b.count, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: ","), isDigit(b[i + 1]) {
            i += 1
            var scale = 100_000_000
            while i < b.count, isDigit(b[i]) {
                nanoseconds += Int(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
        }
        var offsetSeconds = 0
        if i < b.count, b[i] == UInt8(ascii: "Z") {
            i += 1
        } else if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), let (oh, e1) = digits(b, i + 1, 2) {
            let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
            var end = e1
            var om = 0
            if end < b.count, b[end] == UInt8(ascii: ":") { end += 1 }
            if let (m, e2) = digits(b, end, 2) { (om, end) = (m, e2) } else if b[end - 1] == UInt8(ascii: ":") { end -= 1 }
            offsetSeconds = sign * (oh * 3600 + om * 60)
            i = end
        } else if i + 3 < b.count, b[i] == UInt8(ascii: " "), lowercased(b, i + 1, i + 4) == "utc",
            i + 4 == b.count || !isLetter(b[i + 4])
        {
            i += 4
        }
        guard let day else { return (i, nil) }
        let seconds = day * 86_400 + Int64(h * 3600 + mi * 60 + s) - Int64(offsetSeconds)
        return (i, ReplayTimestamp(seconds: seconds, nanoseconds: UInt32(nanoseconds)))
    }

    /// `YYYY-MM-DD` or `YYYY/MM/DD`.
    private static func date(_ b: UnsafeRawBufferPointer, _ i: Int) -> (Int, Int, Int, Int)? {
        guard let (y, e1) = digits(b, i, 4), e1 < b.count, b[e1] == UInt8(ascii: "-") || b[e1] == UInt8(ascii: "/"),
            let (m, e2) = digits(b, e1 + 1, 2), e2 < b.count, b[e2] == b[e1], let (d, e3) = digits(b, e2 + 1, 2)
        else { return nil }
        return (y, m, d, e3)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm), `nil` for an invalid one.
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int64? {
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64((month + 9) % 12)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func digits(_ b: UnsafeRawBufferPointer, _ i: Int, _ count: Int) -> (Int, Int)? {
        guard i >= 0, i + count <= b.count else { return nil }
        var v = 0
        for k in i..<(i + count) {
            guard isDigit(b[k]) else { return nil }
            v = v * 10 + Int(b[k] - 0x30)
        }
        // Exactly `count` digits: `10:15:02` is a time, `0010:` (a dump offset) is not.
        if i + count < b.count, isDigit(b[i + count]) { return nil }
        return (v, i + count)
    }

    private static func wordEnd(_ b: UnsafeRawBufferPointer, _ i: Int) -> Int {
        var end = i
        while end < b.count, isLetter(b[end]) { end += 1 }
        return end
    }

    private static func lowercased(_ b: UnsafeRawBufferPointer, _ from: Int, _ to: Int) -> String {
        String(decoding: b[from..<min(to, b.count)].map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
    }

    private static func skipSpaces(_ b: UnsafeRawBufferPointer, _ i: Int) -> Int {
        var i = i
        while i < b.count, isSpace(b[i]) { i += 1 }
        return i
    }

    @inline(__always) private static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D }
    @inline(__always) private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    @inline(__always) private static func isLetter(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }
}

/// The time and direction a text input's line prefix gives its message.
struct TextStamp: Equatable {
    var timestamp: ReplayTimestamp
    var direction: ReplayDirection

    static let none = TextStamp(timestamp: .zero, direction: .unknown)
}

extension TraceLinePrefix {
    var stamp: TextStamp { TextStamp(timestamp: timestamp ?? .zero, direction: direction) }
}
