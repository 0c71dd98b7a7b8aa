/// The two pieces of hand-written JSON every writer in the project needs (key-set lines, journal events, desktop
/// messages, replay summaries): a quoted string and an ISO-8601 UTC timestamp. Appends to a byte buffer; no
/// Foundation, no formatter.
public enum JSONText {
    /// `s` as a JSON string: `"` and `\` escaped, `\n` `\r` `\t`, other control characters as `\u00XX`, everything
    /// else copied as UTF-8 (runs without escapes are copied whole).
    public static func appendQuoted(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = s
        text.withUTF8 { bytes in
            var start = 0
            for (index, byte) in bytes.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                out.append(UInt8(ascii: "\\"))
                switch byte {
                case 0x22, 0x5C: out.append(byte)
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                default:
                    out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    out.append(hexDigit(byte >> 4))
                    out.append(hexDigit(byte & 0x0F))
                }
                start = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `2026-11-23T10:15:02.123456Z` (UTC, microseconds, no quotes) for a time in microseconds since the Unix epoch.
    public static func appendISO8601(unixMicroseconds micros: Int64, to out: inout [UInt8]) {
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let fraction = micros - seconds * 1_000_000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        appendDigits(year, 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(month, 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(day, 2, to: &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(secondOfDay / 3600, 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay / 60 % 60, 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, 2, to: &out)
        out.append(UInt8(ascii: "."))
        appendDigits(fraction, 6, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// The same as a string.
    public static func iso8601(unixMicroseconds micros: Int64) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(27)
        appendISO8601(unixMicroseconds: micros, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `value` zero-padded to at least `width` digits (a minus sign first for a negative year).
    static func appendDigits(_ value: Int64, _ width: Int, to out: inout [UInt8]) {
        if value < 0 {
            out.append(UInt8(ascii: "-"))
            return appendDigits(-value, width, to: &out)
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of room, filled from the end
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { bytes in
            repeat {
                bytes[23 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest > 0 && count < 24
            while count < width && count < 24 {
                bytes[23 - count] = UInt8(ascii: "0")
                count += 1
            }
            out.append(contentsOf: bytes[(24 - count)...])
        }
    }

    @inline(__always) static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
