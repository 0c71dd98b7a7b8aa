/// The key-set JSON lines (`../shared/docs/contracts.md` §1): one object per message, keys sorted.
///
/// Hand-written rather than Foundation's `JSONSerialization` so the codec module stays free of Foundation and the
/// writer appends to a reusable buffer.
public enum KeySetJSON {
    // MARK: Writing

    /// Appends `record` as one JSON object (no newline), keys sorted, `i` first when given.
    public static func write(_ record: CSTARecord, index: Int? = nil, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var first = true
        func key(_ k: String) {
            if !first { out.append(contentsOf: [UInt8(ascii: ","), UInt8(ascii: " ")]) }
            first = false
            writeString(k, to: &out)
            out.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: " ")])
        }
        var keys = record.values.keys.filter { $0 != "i" }
        if index != nil { keys.append("i") }
        keys.sort()
        for k in keys {
            key(k)
            if k == "i", let index {
                out.append(contentsOf: String(index).utf8)
                continue
            }
            writeValue(record.values[k]!, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Appends the error line of a frame that could not be decoded: `{"error": …, "i": N, "offset": K}`.
    public static func writeError(_ error: CSTADecodeError, index: Int, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"error": "#.utf8)
        writeString(error.reason, to: &out)
        out.append(contentsOf: #", "i": "#.utf8)
        out.append(contentsOf: String(index).utf8)
        out.append(contentsOf: #", "offset": "#.utf8)
        out.append(contentsOf: String(error.offset).utf8)
        out.append(UInt8(ascii: "}"))
    }

    static func writeValue(_ value: CSTARecord.Value, to out: inout [UInt8]) {
        switch value {
        case .string(let s): writeString(s, to: &out)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .strings(let list):
            out.append(UInt8(ascii: "["))
            for (n, s) in list.enumerated() {
                if n > 0 { out.append(contentsOf: [UInt8(ascii: ","), UInt8(ascii: " ")]) }
                writeString(s, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
    }

    /// `s` as a quoted, escaped JSON string.
    public static func quoted(_ s: String) -> String {
        var out: [UInt8] = []
        writeString(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func writeString(_ s: String, to out: inout [UInt8]) {
        JSONText.appendQuoted(s, to: &out)
    }

    // MARK: Reading

    /// Why a line is not a key-set object, with the column.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var column: Int
        public var description: String { "\(message) at column \(column + 1)" }
    }

    /// Parses one JSON object whose values are strings, integers, booleans, null (dropped) or lists of strings.
    public static func parse(_ line: some Collection<UInt8>) throws(ParseError) -> CSTARecord {
        var p = Parser(bytes: Array(line))
        return try p.object()
    }

    struct Parser {
        let bytes: [UInt8]
        var i = 0

        mutating func fail(_ message: String) -> ParseError { ParseError(message: message, column: i) }

        mutating func skipSpace() {
            while i < bytes.count, XMLText.isSpace(bytes[i]) { i += 1 }
        }

        mutating func expect(_ c: Character) throws(ParseError) {
            skipSpace()
            guard i < bytes.count, bytes[i] == c.asciiValue! else { throw fail("expected '\(c)'") }
            i += 1
        }

        mutating func object() throws(ParseError) -> CSTARecord {
            var record = CSTARecord()
            try expect("{")
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
                i += 1
                return try end(record)
            }
            while true {
                skipSpace()
                let k = try string()
                try expect(":")
                if let v = try value() { record[k] = v }
                skipSpace()
                guard i < bytes.count else { throw fail("unterminated object") }
                if bytes[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                if bytes[i] == UInt8(ascii: "}") {
                    i += 1
                    return try end(record)
                }
                throw fail("expected ',' or '}'")
            }
        }

        mutating func end(_ record: CSTARecord) throws(ParseError) -> CSTARecord {
            skipSpace()
            guard i == bytes.count else { throw fail("text after the object") }
            return record
        }

        mutating func value() throws(ParseError) -> CSTARecord.Value? {
            skipSpace()
            guard i < bytes.count else { throw fail("missing value") }
            switch bytes[i] {
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "["):
                i += 1
                var list: [String] = []
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
                    i += 1
                    return .strings(list)
                }
                while true {
                    skipSpace()
                    list.append(try string())
                    skipSpace()
                    guard i < bytes.count else { throw fail("unterminated list") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "]") { i += 1; return .strings(list) }
                    throw fail("expected ',' or ']'")
                }
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return nil
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .int(try integer())
            default: throw fail("unsupported value (objects are not part of the key set)")
            }
        }

        mutating func literal(_ word: String) throws(ParseError) {
            for c in word.utf8 {
                guard i < bytes.count, bytes[i] == c else { throw fail("expected \(word)") }
                i += 1
            }
        }

        mutating func integer() throws(ParseError) -> Int64 {
            var negative = false
            if bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
            var v: Int64 = 0
            var digits = 0
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(bytes[i] - 0x30))
                guard !o1, !o2 else { throw fail("integer out of range") }
                v = a
                i += 1
                digits += 1
            }
            guard digits > 0 else { throw fail("expected digits") }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                throw fail("only integers are used in the key set")
            }
            return negative ? -v : v
        }

        mutating func string() throws(ParseError) -> String {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a string") }
            i += 1
            var out: [UInt8] = []
            while i < bytes.count {
                let c = bytes[i]
                i += 1
                if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                if c != UInt8(ascii: "\\") { out.append(c); continue }
                guard i < bytes.count else { break }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar), i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"),
                        bytes[i + 1] == UInt8(ascii: "u")
                    {
                        i += 2
                        let low = try hex4()
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low &- 0xDC00 & 0x3FF)
                    }
                    XMLText.appendUTF8(Unicode.Scalar(scalar) ?? "\u{FFFD}", to: &out)
                default: out.append(e)
                }
            }
            throw fail("unterminated string")
        }

        mutating func hex4() throws(ParseError) -> UInt32 {
            guard i + 4 <= bytes.count else { throw fail("bad \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                guard let d = XMLText.hexValue(bytes[i]) else { throw fail("bad \\u escape") }
                v = v * 16 + UInt32(d)
                i += 1
            }
            return v
        }
    }
}
