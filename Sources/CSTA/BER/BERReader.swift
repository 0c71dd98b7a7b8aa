/// Limits the BER reader enforces so that hostile input cannot exhaust the stack or make it loop.
public enum BERLimits {
    /// Deepest nesting of constructed values accepted (the outermost APDU is depth 0).
    public static let maximumDepth = 32
    /// Longest tag number accepted, in base-128 octets after the leading octet (4 × 7 = 28 bits).
    static let maximumTagOctets = 4
}

/// A tag as one number: the class and constructed bits of the identifier octet in the top byte, the tag number below.
///
/// Comparing one `UInt32` is cheaper than comparing three fields, and the constants below read like the ASN.1 text.
@usableFromInline
typealias BERTag = UInt32

@usableFromInline
enum Tag {
    @inline(__always) @usableFromInline
    static func make(_ identifierBits: UInt8, _ number: UInt32) -> BERTag {
        (UInt32(identifierBits & 0xE0) << 24) | (number & 0x0FFF_FFFF)
    }
    /// UNIVERSAL primitive.
    @inline(__always) @usableFromInline static func universal(_ n: UInt32) -> BERTag { make(0x00, n) }
    /// UNIVERSAL constructed (SEQUENCE = 16, EXTERNAL = 8).
    @inline(__always) @usableFromInline static func universalC(_ n: UInt32) -> BERTag { make(0x20, n) }
    @inline(__always) @usableFromInline static func application(_ n: UInt32) -> BERTag { make(0x40, n) }
    @inline(__always) @usableFromInline static func applicationC(_ n: UInt32) -> BERTag { make(0x60, n) }
    @inline(__always) @usableFromInline static func context(_ n: UInt32) -> BERTag { make(0x80, n) }
    @inline(__always) @usableFromInline static func contextC(_ n: UInt32) -> BERTag { make(0xA0, n) }

    @usableFromInline static let integer = universal(2)
    @usableFromInline static let bitString = universal(3)
    @usableFromInline static let octetString = universal(4)
    @usableFromInline static let null = universal(5)
    @usableFromInline static let oid = universal(6)
    @usableFromInline static let enumerated = universal(10)
    @usableFromInline static let sequence = universalC(16)
    @usableFromInline static let external = universalC(8)
}

/// One TLV: where its header and content lie within the buffer. Offsets are absolute (from the start of the APDU).
@usableFromInline
struct BERElement {
    @usableFromInline var tag: BERTag
    /// Offset of the identifier octet.
    @usableFromInline var start: Int
    @usableFromInline var contentStart: Int
    /// End of the content (for an indefinite length: the position of the end-of-contents octets).
    @usableFromInline var contentEnd: Int
    /// Offset just past the whole element (past `00 00` for an indefinite length).
    @usableFromInline var end: Int
    /// Nesting depth of this element (the APDU is 0).
    @usableFromInline var depth: Int

    @inline(__always) @usableFromInline var isConstructed: Bool { tag & 0x2000_0000 != 0 }
    @inline(__always) @usableFromInline var contentCount: Int { contentEnd &- contentStart }
    /// The tag number (without class and constructed bits).
    @inline(__always) @usableFromInline var number: UInt32 { tag & 0x0FFF_FFFF }
    /// The class bits (0x00 universal, 0x40 application, 0x80 context, 0xC0 private).
    @inline(__always) @usableFromInline var tagClass: UInt8 { UInt8(truncatingIfNeeded: tag >> 24) & 0xC0 }

    @inline(__always) @usableFromInline
    func span(_ form: ValueForm) -> FieldSpan {
        FieldSpan(start: contentStart, count: contentCount, form: form)
    }
}

/// Reads consecutive TLVs within `[position, end)` of an APDU. A value type: copying it forks the reading position.
@usableFromInline
struct BERCursor {
    @usableFromInline let bytes: UnsafeRawBufferPointer
    @usableFromInline var position: Int
    @usableFromInline let end: Int
    /// Depth of the elements this cursor yields.
    @usableFromInline let depth: Int

    @inline(__always) @usableFromInline
    init(bytes: UnsafeRawBufferPointer, start: Int, end: Int, depth: Int) {
        self.bytes = bytes
        self.position = start
        self.end = end
        self.depth = depth
    }

    /// A cursor over the whole APDU (the APDU itself is its only element at depth 0).
    @inline(__always) @usableFromInline
    init(_ bytes: UnsafeRawBufferPointer) {
        self.init(bytes: bytes, start: 0, end: bytes.count, depth: 0)
    }

    @inline(__always) @usableFromInline var isAtEnd: Bool { position >= end }

    /// The next element, or `nil` when the cursor's range is used up.
    @inline(__always) @usableFromInline
    mutating func next() throws(CSTADecodeError) -> BERElement? {
        guard position < end else { return nil }
        let element = try BERCursor.readElement(bytes, at: position, limit: end, depth: depth)
        position = element.end
        return element
    }

    /// The next element without consuming it.
    @inline(__always) @usableFromInline
    func peek() throws(CSTADecodeError) -> BERElement? {
        var copy = self
        return try copy.next()
    }

    /// The next element, which must exist and carry `tag`.
    @inline(__always) @usableFromInline
    mutating func expect(_ tag: BERTag) throws(CSTADecodeError) -> BERElement {
        guard let element = try next() else { throw CSTADecodeError(.missingField, at: position) }
        guard element.tag == tag else { throw CSTADecodeError(.unexpectedTag, at: element.start) }
        return element
    }

    /// Consumes the next element when it carries `tag`.
    @inline(__always) @usableFromInline
    mutating func optional(_ tag: BERTag) throws(CSTADecodeError) -> BERElement? {
        guard let element = try peek(), element.tag == tag else { return nil }
        position = element.end
        return element
    }

    /// A cursor over the content of a constructed element.
    @inline(__always) @usableFromInline
    func children(of element: BERElement) throws(CSTADecodeError) -> BERCursor {
        guard element.isConstructed else { throw CSTADecodeError(.unexpectedTag, at: element.start) }
        return BERCursor(bytes: bytes, start: element.contentStart, end: element.contentEnd, depth: element.depth &+ 1)
    }

    /// Reads one TLV at `offset` that must end at or before `limit`. Never reads outside `[offset, limit)`.
    ///
    /// The common shape — a one-octet tag and a short-form length that fits — is handled inline; everything else
    /// (multi-octet tags, long and indefinite lengths, every error) goes to ``readElementInGeneral``.
    @inline(__always) @usableFromInline
    static func readElement(
        _ bytes: UnsafeRawBufferPointer, at offset: Int, limit: Int, depth: Int
    ) throws(CSTADecodeError) -> BERElement {
        let bound = min(limit, bytes.count)
        if depth <= BERLimits.maximumDepth, offset >= 0, offset &+ 2 <= bound {
            let first = bytes[offset]
            let l0 = bytes[offset &+ 1]
            if first & 0x1F != 0x1F, l0 < 0x80 {
                let contentStart = offset &+ 2
                let end = contentStart &+ Int(l0)
                if end <= bound {
                    return BERElement(
                        tag: Tag.make(first, UInt32(first & 0x1F)), start: offset, contentStart: contentStart,
                        contentEnd: end, end: end, depth: depth)
                }
            }
        }
        return try readElementInGeneral(bytes, at: offset, limit: limit, depth: depth)
    }

    @usableFromInline @inline(never)
    static func readElementInGeneral(
        _ bytes: UnsafeRawBufferPointer, at offset: Int, limit: Int, depth: Int
    ) throws(CSTADecodeError) -> BERElement {
        guard depth <= BERLimits.maximumDepth else { throw CSTADecodeError(.nestingTooDeep, at: offset) }
        let limit = min(limit, bytes.count)
        var p = offset
        guard p >= 0, p < limit else { throw CSTADecodeError(.truncated, at: max(0, min(p, bytes.count))) }

        // Identifier octets.
        let first = bytes[p]
        p &+= 1
        var number = UInt32(first & 0x1F)
        if number == 0x1F {
            number = 0
            var octets = 0
            while true {
                guard p < limit else { throw CSTADecodeError(.truncated, at: p) }
                let b = bytes[p]
                p &+= 1
                octets &+= 1
                // A first subsequent octet of 0x80 is a non-minimal encoding; too many octets would overflow.
                if octets > BERLimits.maximumTagOctets || (octets == 1 && b == 0x80) {
                    throw CSTADecodeError(.invalidTag, at: offset)
                }
                number = (number << 7) | UInt32(b & 0x7F)
                if b & 0x80 == 0 { break }
            }
        }
        let tag = Tag.make(first, number)
        let constructed = first & 0x20 != 0

        // Length octets.
        guard p < limit else { throw CSTADecodeError(.truncated, at: p) }
        let lengthOffset = p
        let l0 = bytes[p]
        p &+= 1
        if l0 == 0x80 {
            // Indefinite: only for constructed values; the content runs to the matching end-of-contents.
            guard constructed else { throw CSTADecodeError(.invalidLength, at: lengthOffset) }
            let contentStart = p
            var q = p
            while true {
                guard q < limit else { throw CSTADecodeError(.truncated, at: limit) }
                if bytes[q] == 0 {
                    guard q &+ 1 < limit else { throw CSTADecodeError(.truncated, at: limit) }
                    if bytes[q &+ 1] == 0 {
                        return BERElement(
                            tag: tag, start: offset, contentStart: contentStart, contentEnd: q, end: q &+ 2,
                            depth: depth)
                    }
                }
                let child = try readElement(bytes, at: q, limit: limit, depth: depth &+ 1)
                q = child.end
            }
        }
        var length = 0
        if l0 < 0x80 {
            length = Int(l0)
        } else {
            let count = Int(l0 & 0x7F)
            guard l0 != 0xFF, count <= 8 else { throw CSTADecodeError(.invalidLength, at: lengthOffset) }
            for _ in 0..<count {
                guard p < limit else { throw CSTADecodeError(.truncated, at: p) }
                // Any length beyond the buffer is already an error; stop before the accumulator can overflow.
                guard length <= (Int.max >> 8) else { throw CSTADecodeError(.invalidLength, at: lengthOffset) }
                length = (length << 8) | Int(bytes[p])
                p &+= 1
            }
        }
        let available = limit &- p
        guard length <= available else {
            if limit >= bytes.count { throw CSTADecodeError(.truncated, at: bytes.count) }
            throw CSTADecodeError(.lengthExceedsParent, at: lengthOffset)
        }
        return BERElement(tag: tag, start: offset, contentStart: p, contentEnd: p &+ length, end: p &+ length, depth: depth)
    }
}

// MARK: Primitive values

extension BERElement {
    /// A signed INTEGER / ENUMERATED of at most 8 content octets.
    @inline(__always) @usableFromInline
    func integer(_ bytes: UnsafeRawBufferPointer) throws(CSTADecodeError) -> Int64 {
        let n = contentCount
        guard !isConstructed, n >= 1, n <= 8 else { throw CSTADecodeError(.invalidInteger, at: start) }
        var v: Int64 = bytes[contentStart] & 0x80 != 0 ? -1 : 0
        var i = contentStart
        while i < contentEnd {
            v = (v << 8) | Int64(bytes[i])
            i &+= 1
        }
        return v
    }

    /// An INTEGER that must fit 32 bits.
    @inline(__always) @usableFromInline
    func int32(_ bytes: UnsafeRawBufferPointer) throws(CSTADecodeError) -> Int32 {
        let v = try integer(bytes)
        guard let r = Int32(exactly: v) else { throw CSTADecodeError(.invalidInteger, at: start) }
        return r
    }

    /// The content of a primitive value (an OCTET STRING, IA5String, …) as a span.
    @inline(__always) @usableFromInline
    func primitiveSpan(_ form: ValueForm) throws(CSTADecodeError) -> FieldSpan {
        guard !isConstructed else { throw CSTADecodeError(.unexpectedTag, at: start) }
        return span(form)
    }

    /// An OBJECT IDENTIFIER's content, checked for well-formed arcs.
    @inline(__always) @usableFromInline
    func oidSpan(_ bytes: UnsafeRawBufferPointer) throws(CSTADecodeError) -> FieldSpan {
        guard !isConstructed, contentCount >= 1, bytes[contentEnd &- 1] & 0x80 == 0 else {
            throw CSTADecodeError(.invalidObjectIdentifier, at: start)
        }
        return span(.berOID)
    }
}
