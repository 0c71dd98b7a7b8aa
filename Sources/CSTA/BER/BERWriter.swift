/// Builds definite-length BER. Encoding is not on the hot path, so it works on arrays: a constructed value's content
/// is built in its own writer and then appended with its length.
struct BERWriter {
    private(set) var bytes: [UInt8] = []

    /// Appends a TLV with a one-octet identifier (every tag CSTA's encoder writes has a number below 31).
    mutating func element(_ identifier: UInt8, _ content: [UInt8]) {
        bytes.append(identifier)
        Self.appendLength(content.count, to: &bytes)
        bytes.append(contentsOf: content)
    }

    /// Appends a TLV with any identifier (multi-octet tag numbers included).
    mutating func element(identifier: [UInt8], _ content: [UInt8]) {
        bytes.append(contentsOf: identifier)
        Self.appendLength(content.count, to: &bytes)
        bytes.append(contentsOf: content)
    }

    /// Identifier octets for class/constructed `bits` (0xA0 = context constructed, …) and a tag number.
    static func identifier(_ bits: UInt8, _ number: UInt32) -> [UInt8] {
        guard number >= 31 else { return [bits | UInt8(number)] }
        var groups: [UInt8] = [UInt8(number & 0x7F)]
        var rest = number >> 7
        while rest > 0 {
            groups.insert(UInt8(rest & 0x7F) | 0x80, at: 0)
            rest >>= 7
        }
        return [bits | 0x1F] + groups
    }

    /// Appends a constructed TLV whose content `body` writes.
    mutating func constructed(
        _ identifier: UInt8, _ body: (inout BERWriter) throws(CSTAEncodeError) -> Void
    ) throws(CSTAEncodeError) {
        var inner = BERWriter()
        try body(&inner)
        element(identifier, inner.bytes)
    }

    /// Appends already encoded TLVs.
    mutating func raw(_ encoded: [UInt8]) { bytes.append(contentsOf: encoded) }

    mutating func integer(_ identifier: UInt8, _ value: Int64) { element(identifier, Self.integerContent(value)) }
    mutating func text(_ identifier: UInt8, _ value: String) { element(identifier, Array(value.utf8)) }
    mutating func null(_ identifier: UInt8) { element(identifier, []) }

    static func appendLength(_ length: Int, to out: inout [UInt8]) {
        if length < 0x80 {
            out.append(UInt8(length))
            return
        }
        var octets: [UInt8] = []
        var n = length
        while n > 0 {
            octets.insert(UInt8(n & 0xFF), at: 0)
            n >>= 8
        }
        out.append(0x80 | UInt8(octets.count))
        out.append(contentsOf: octets)
    }

    /// Minimal two's-complement content octets.
    static func integerContent(_ value: Int64) -> [UInt8] {
        var out: [UInt8] = []
        var v = value
        repeat {
            out.insert(UInt8(truncatingIfNeeded: v), at: 0)
            v >>= 8
        } while !((v == 0 && out[0] & 0x80 == 0) || (v == -1 && out[0] & 0x80 != 0))
        return out
    }

    /// Dotted OID text → content octets.
    static func oidContent(_ dotted: String) -> [UInt8]? {
        let arcs = dotted.split(separator: ".").map { UInt64($0) }
        guard arcs.count >= 2, arcs.allSatisfy({ $0 != nil }) else { return nil }
        let values = arcs.compactMap { $0 }
        guard values[0] <= 2, values[0] == 2 || values[1] < 40 else { return nil }
        var out: [UInt8] = []
        func base128(_ x: UInt64) {
            var groups: [UInt8] = [UInt8(x & 0x7F)]
            var rest = x >> 7
            while rest > 0 {
                groups.insert(UInt8(rest & 0x7F) | 0x80, at: 0)
                rest >>= 7
            }
            out.append(contentsOf: groups)
        }
        let (first, overflow) = (values[0] * 40).addingReportingOverflow(values[1])
        guard !overflow else { return nil }
        base128(first)
        for arc in values.dropFirst(2) { base128(arc) }
        return out
    }

    /// Lower-case or upper-case hex text → bytes.
    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            case 0x41...0x46: return c - 0x41 + 10
            default: return nil
            }
        }
        var i = 0
        while i < digits.count {
            guard let hi = nibble(digits[i]), let lo = nibble(digits[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}
