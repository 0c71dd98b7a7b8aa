// The scanner's token and issue types, and its word-at-a-time byte helpers.

/// One markup event of an XML document, as offsets into the scanned bytes.
///
/// The scanner reports start and end tags only: character data is never copied; the decoder takes a leaf element's
/// text as the bytes between its start and end tag (entities are resolved later, at render time).
struct XMLToken {
    enum Kind: UInt8 {
        case start, end, cdata, eof
    }

    /// Offset of the qualified name (`ns3:MonitorStart`).
    var nameStart = 0
    var nameCount = 0
    /// Offset of the local part (after the prefix's colon), and its length.
    var localStart = 0
    var localCount = 0
    /// The bytes between the name and `>` or `/>` (attributes and white space).
    var attrStart = 0
    var attrEnd = 0
    /// Start tag: offset of `<`. End tag: offset where the element's content ends (the `<` of `</x>`).
    var tagStart = 0
    /// Start tag: offset after `>`. CDATA: the section's content range is `tagStart..<contentStart`.
    var contentStart = 0
    /// Element depth (root = 1).
    var depth = 0
    /// ``XMLNameTable/hash(_:_:)`` of the local name.
    var localHash: UInt32 = 0
    // The one-byte fields last: no padding holes for the copies to trip over.
    var kind: Kind = .eof
    /// Start tag: written as `<x/>` (the scanner reports the matching end next).
    var selfClosing = false

    @inline(__always) var prefixCount: Int { localStart == nameStart ? 0 : localStart - nameStart - 1 }
}

/// Why the fast scanner stopped: the document is not well formed, or it uses a construct the scanner leaves to libxml2.
///
/// One word (kind, error code, offset packed), so the typed-throws paths pass it in a register: an enum with a
/// two-word payload went through memory on every call and cost a third of the scanner's time.
struct XMLScanIssue: Error, Equatable {
    private let raw: UInt64

    private init(raw: UInt64) { self.raw = raw }

    static func malformed(_ e: CSTADecodeError) -> XMLScanIssue {
        XMLScanIssue(raw: UInt64(e.code.rawValue) << 48 | UInt64(truncatingIfNeeded: e.offset) & 0xFFFF_FFFF_FFFF)
    }

    static func unsupported(_ offset: Int) -> XMLScanIssue {
        XMLScanIssue(raw: 1 << 63 | UInt64(truncatingIfNeeded: offset) & 0xFFFF_FFFF_FFFF)
    }

    var offset: Int { Int(raw & 0xFFFF_FFFF_FFFF) }
    /// `true`: a construct for libxml2; `false`: not well formed.
    var isUnsupported: Bool { raw >> 63 == 1 }
    /// The decode error of a malformed document.
    var error: CSTADecodeError {
        CSTADecodeError(CSTADecodeError.Code(rawValue: UInt8(truncatingIfNeeded: raw >> 48)) ?? .malformedXML, at: offset)
    }
}

/// Limits of the XML scanner.
enum XMLLimits {
    /// ECMA-323 messages nest about 8 deep; anything beyond this bound is refused.
    static let maximumDepth = 48
}

extension XMLScanner {
    /// Whether `n` bytes at `a` and `b` are equal (names are short: word compares beat a `memcmp` call).
    @inline(__always)
    static func equalBytes(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
        if n >= 8 {
            var k = 0
            while k &+ 8 < n {
                if a.loadUnaligned(fromByteOffset: k, as: UInt64.self) != b.loadUnaligned(fromByteOffset: k, as: UInt64.self) {
                    return false
                }
                k &+= 8
            }
            // The last eight bytes (overlapping what was compared already).
            return a.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
                == b.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
        }
        if n >= 4 {
            return a.loadUnaligned(as: UInt32.self) == b.loadUnaligned(as: UInt32.self)
                && a.loadUnaligned(fromByteOffset: n &- 4, as: UInt32.self)
                    == b.loadUnaligned(fromByteOffset: n &- 4, as: UInt32.self)
        }
        var k = 0
        while k < n {
            if a.load(fromByteOffset: k, as: UInt8.self) != b.load(fromByteOffset: k, as: UInt8.self) { return false }
            k &+= 1
        }
        return true
    }

    /// How many of the eight bytes of `w` (in memory order) are ASCII letters before the first byte that is not.
    @inline(__always)
    static func letterRun(_ w: UInt64) -> Int {
        let high: UInt64 = 0x8080_8080_8080_8080
        let x = (w | 0x2020_2020_2020_2020) & 0x7F7F_7F7F_7F7F_7F7F  // ASCII letters fold to 0x61…0x7A
        let atLeastA = (x &+ 0x1F1F_1F1F_1F1F_1F1F) & high  // byte ≥ 0x61 (no carries: every byte < 0x80)
        let pastZ = (x &+ 0x0505_0505_0505_0505) & high  // byte ≥ 0x7B
        let notLetter = ~(atLeastA & ~pastZ & ~(w & high)) & high
        return notLetter.trailingZeroBitCount >> 3
    }

    /// How many of the eight bytes of `w` (in memory order) come before the first `<`, `&`, control character
    /// (below 0x20) or non-ASCII byte.
    @inline(__always)
    static func textStop(_ w: UInt64) -> Int {
        let high: UInt64 = 0x8080_8080_8080_8080
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        let seven = w & low7
        let control = ~(seven &+ 0x6060_6060_6060_6060) & high  // byte (7 bits) < 0x20
        let lt = w ^ 0x3C3C_3C3C_3C3C_3C3C
        let isLT = ~(((lt & low7) &+ low7) | lt | low7)  // exact zero-byte test: no false positives
        let amp = w ^ 0x2626_2626_2626_2626
        let isAmp = ~(((amp & low7) &+ low7) | amp | low7)
        let stop = (w & high) | control | isLT | isAmp
        return stop.trailingZeroBitCount >> 3
    }
}
