/// How CSTA messages are delimited on a TCP stream.
///
/// ```
/// u16      LL LL  payload                      2-byte big-endian payload length (MD110, Panasonic, OXE)
/// hipath   26 LL LL  payload                   0x26, then 2-byte length with the top bit set (Siemens HiPath)
/// tpkt     03 00 LL LL  payload                RFC 1006; the length includes the 4-byte header
/// ecma323  00 00 LL LL  d d d d  payload       total length incl. the 8-byte header (4 bytes: OpenScape Voice),
///                                              then the invoke id as 4 ASCII digits (Avaya DMCC, OpenScape Voice)
/// none     payload                             BER: one TLV after another; XML: one document per line
/// ```
/// `auto` sniffs the first bytes once and then keeps that framing.
public enum CSTAFraming: String, Sendable, Hashable, CaseIterable {
    case u16, hipath, tpkt, ecma323, none, auto

    /// Bytes before the payload (`none`/`auto`: 0).
    public var headerLength: Int {
        switch self {
        case .u16: 2
        case .hipath: 3
        case .tpkt: 4
        case .ecma323: 8
        case .none, .auto: 0
        }
    }

    /// The largest payload the header can describe.
    public var maximumPayloadLength: Int {
        switch self {
        case .u16: 0xFFFF
        case .hipath: 0x7FFF
        case .tpkt: 0xFFFF - 4
        case .ecma323: Int(UInt32.max) - 8
        case .none, .auto: Int.max
        }
    }

    /// Guesses the framing from the first bytes of a stream, or `nil` when they are too few or fit none.
    public static func sniff(_ bytes: UnsafeRawBufferPointer) -> CSTAFraming? {
        guard let first = bytes.first else { return nil }
        switch first {
        case 0x26: return .hipath
        case 0x03: return bytes.count >= 2 ? (bytes[1] == 0 ? .tpkt : nil) : nil
        case 0x00:
            guard bytes.count >= 8 else { return bytes.count >= 3 && BERShape.isAPDUStart(bytes[2]) ? .u16 : nil }
            if bytes[1] == 0x00 && (4..<8).allSatisfy({ isDigit(bytes[$0]) }) { return .ecma323 }
            return .u16
        case UInt8(ascii: "<"), UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), 0xEF:
            return CSTAFraming.none
        default:
            if BERShape.isAPDUStart(first) { return CSTAFraming.none }
            // A u16 length whose high byte is not zero (payloads of 256 bytes and more).
            if bytes.count >= 3 && BERShape.isAPDUStart(bytes[2]) { return .u16 }
            return nil
        }
    }

    /// The encoding a framing implies when the encoding is left to `auto`.
    public static func sniffEncoding(_ bytes: UnsafeRawBufferPointer, framing: CSTAFraming) -> CSTAEncoding {
        if framing == .ecma323 { return .xml }
        let start = framing.headerLength
        var i = start
        while i < bytes.count, XMLText.isSpace(bytes[i]) || bytes[i] == 0xEF || bytes[i] == 0xBB || bytes[i] == 0xBF {
            i += 1
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "<") { return .xml }
        return .ber
    }

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
}

/// Cheap structural facts about BER APDUs, used to find frame boundaries when a length field lies.
enum BERShape {
    /// Tags an ACSE or ROSE APDU starts with: AARQ…ABRT `60…64`, invoke…reject `A1…A4`.
    @inline(__always) static func isAPDUStart(_ b: UInt8) -> Bool {
        (b >= 0x60 && b <= 0x64) || (b >= 0xA1 && b <= 0xA4)
    }

    /// The total size (tag + length + content) of the definite-length TLV at the start of `bytes`, when its header is
    /// complete and well formed; `nil` otherwise (indefinite lengths included).
    static func tlvSize(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= 2 else { return nil }
        var i = 1
        if bytes[0] & 0x1F == 0x1F {
            while i < bytes.count, bytes[i] & 0x80 != 0, i < 5 { i += 1 }
            i += 1
        }
        guard i < bytes.count else { return nil }
        let first = bytes[i]
        i += 1
        if first < 0x80 { return i + Int(first) }
        let octets = Int(first & 0x7F)
        guard octets >= 1, octets <= 4, i + octets <= bytes.count else { return nil }
        var length = 0
        for k in 0..<octets { length = (length << 8) | Int(bytes[i + k]) }
        return i + octets + length
    }

    /// The size of the complete TLV (definite or indefinite) at the start of `bytes`, or `nil` if it does not end
    /// within them or is malformed. Bounded in depth.
    static func completeTLVSize(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var reader = TLVExtent(bytes: bytes)
        return reader.size(at: 0, depth: 0)
    }
}

/// Walks BER headers only, to find where a value ends (indefinite lengths included).
private struct TLVExtent {
    let bytes: UnsafeRawBufferPointer

    mutating func size(at start: Int, depth: Int) -> Int? {
        guard depth < 32, start + 2 <= bytes.count else { return nil }
        var i = start + 1
        let constructed = bytes[start] & 0x20 != 0
        if bytes[start] & 0x1F == 0x1F {
            while i < bytes.count, bytes[i] & 0x80 != 0 {
                i += 1
                if i - start > 6 { return nil }
            }
            i += 1
        }
        guard i < bytes.count else { return nil }
        let first = bytes[i]
        i += 1
        if first == 0x80 {
            guard constructed else { return nil }
            var p = i
            while true {
                guard p + 2 <= bytes.count else { return nil }
                if bytes[p] == 0 && bytes[p + 1] == 0 { return p + 2 - start }
                guard let inner = size(at: p, depth: depth + 1) else { return nil }
                p += inner
            }
        }
        var length = 0
        if first < 0x80 {
            length = Int(first)
        } else {
            let octets = Int(first & 0x7F)
            guard octets >= 1, octets <= 4, i + octets <= bytes.count else { return nil }
            for k in 0..<octets { length = (length << 8) | Int(bytes[i + k]) }
            i += octets
        }
        guard i + length <= bytes.count else { return nil }
        return i + length - start
    }
}
