/// Why a frame (or part of one) could not be decoded, and where.
///
/// Decoders never trap on input: every byte sequence yields a value or one of these. `offset` is the byte offset of the
/// fault within the frame payload (not the stream). The error is two words wide and carries no heap storage, so the
/// throwing path allocates nothing.
public struct CSTADecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: UInt8, Sendable, Hashable {
        /// The input ended inside a tag, a length or a value.
        case truncated
        /// A length octet sequence is malformed (reserved 0xFF, more than 8 length octets, indefinite on a primitive).
        case invalidLength
        /// A definite length runs past the end of its enclosing value.
        case lengthExceedsParent
        /// A tag number does not fit, or the tag is malformed.
        case invalidTag
        /// Nesting deeper than ``BERLimits/maximumDepth``.
        case nestingTooDeep
        /// A value of the wrong tag where the schema allows only certain tags.
        case unexpectedTag
        /// A mandatory component is missing.
        case missingField
        /// An INTEGER or ENUMERATED is empty or does not fit 64 bits.
        case invalidInteger
        /// An OBJECT IDENTIFIER is malformed.
        case invalidObjectIdentifier
        /// Bytes follow the end of the outermost value.
        case trailingBytes
        /// The XML is not well formed (unbalanced tags, bad markup, bad entity).
        case malformedXML
        /// The XML root element is not a CSTA message this decoder knows how to read.
        case unknownRootElement
        /// The frame header is invalid (bad marker, length smaller than the header, non-digit invoke id).
        case invalidFrameHeader
        /// The frame's length exceeds the configured bound.
        case frameTooLarge
        /// A value is outside its allowed range (an enumeration number or a size).
        case valueOutOfRange
        /// The payload is empty.
        case empty
        /// Text that is not valid UTF-8 where UTF-8 is required.
        case invalidUTF8
    }

    public var code: Code
    public var offset: Int

    @inlinable
    public init(_ code: Code, at offset: Int) {
        self.code = code
        self.offset = offset
    }

    /// A short, stable, machine-friendly description (what the `error`/`eventError` JSON keys carry).
    public var reason: String {
        switch code {
        case .truncated: return "truncated"
        case .invalidLength: return "invalid length"
        case .lengthExceedsParent: return "length exceeds enclosing value"
        case .invalidTag: return "invalid tag"
        case .nestingTooDeep: return "nesting too deep"
        case .unexpectedTag: return "unexpected tag"
        case .missingField: return "missing mandatory field"
        case .invalidInteger: return "invalid integer"
        case .invalidObjectIdentifier: return "invalid object identifier"
        case .trailingBytes: return "trailing bytes after message"
        case .malformedXML: return "malformed XML"
        case .unknownRootElement: return "unknown root element"
        case .invalidFrameHeader: return "invalid frame header"
        case .frameTooLarge: return "frame too large"
        case .valueOutOfRange: return "value out of range"
        case .empty: return "empty message"
        case .invalidUTF8: return "invalid UTF-8"
        }
    }

    public var description: String { "\(reason) at offset \(offset)" }
}
