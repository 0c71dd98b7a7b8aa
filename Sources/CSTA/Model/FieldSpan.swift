/// A decoded value that still lives in the frame: where it is and how to turn it into text.
///
/// The decoders fill ``CSTAFields`` with spans instead of strings so that decoding a frame allocates nothing; the text is
/// produced on demand by ``CSTAMessage`` (and the JSON writer) from the frame bytes.
public struct FieldSpan: Sendable, Hashable {
    /// Offset of the first byte within the frame payload.
    public var start: UInt32
    /// Number of bytes.
    public var count: UInt32
    public var form: ValueForm

    @inlinable
    public init(start: Int, count: Int, form: ValueForm) {
        self.start = UInt32(truncatingIfNeeded: start)
        self.count = UInt32(truncatingIfNeeded: count)
        self.form = form
    }

    public static let absent = FieldSpan(start: 0, count: 0, form: .absent)

    @inlinable public var isPresent: Bool { form != .absent }
    @inlinable public var range: Range<Int> { Int(start)..<(Int(start) + Int(count)) }
}

/// How the bytes of a ``FieldSpan`` become text.
public enum ValueForm: UInt8, Sendable, Hashable {
    case absent
    /// The bytes are text already (BER IA5String/OCTET STRING digits); bytes that are not UTF-8 are replaced.
    case text
    /// Lower-case hex of the octets (BER call ids, cross-reference ids, private data).
    case hexOctets
    /// A BER INTEGER's content octets, rendered in decimal.
    case berInteger
    /// XML character data: entities and character references are resolved, surrounding white space trimmed.
    case xmlText
    /// XML character data with every white-space character removed (identifiers and hex that a pretty-printer split).
    case xmlCompact
    /// A BER OBJECT IDENTIFIER's content octets, rendered dotted.
    case berOID
    /// A BER BIT STRING's content octets (first octet = unused bits); rendered by the field that owns it.
    case berBits
}
