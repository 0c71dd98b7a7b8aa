#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds frame boundaries in a byte stream, for every ``CSTAFraming``. Pure: it looks at the bytes it is given and
/// says what to do next; the NIO decoder, the `decode` command and the replay tool drive it.
///
/// It never trusts a length blindly. Open-source CSTA clients are known to send lengths that include their header,
/// one-byte or character-counted lengths, and fixtures with hand-edited length fields. So:
/// - BER: when the payload's own outer TLV length disagrees with the header and the TLV's end is where the next frame
///   plausibly starts (or the input ends), the TLV wins.
/// - XML: a NUL byte cannot occur in an XML document; a NUL inside a declared frame is where the next header began.
/// - A header that is not plausible is reported once and skipped up to the next plausible header (resync).
/// - A declared length above the bound is an error, never an allocation.
public struct CSTAFrameSplitter: Sendable {
    public enum Step: Sendable, Equatable {
        /// A frame: its payload is `bytes[headerLength ..< headerLength + payloadLength]`; drop `consumed` bytes after.
        case frame(headerLength: Int, payloadLength: Int, consumed: Int, invokeId: Int64?)
        /// Not enough bytes yet.
        case needMoreData
        /// Drop `count` bytes; `error` says why (nil: separators such as empty lines, nothing to report).
        case skip(count: Int, error: CSTADecodeError?)
    }

    /// The framing in force (`auto` until the first bytes have been seen).
    public private(set) var framing: CSTAFraming
    /// The encoding in force; `nil` until sniffed.
    public private(set) var encoding: CSTAEncoding?
    public let maximumPayloadLength: Int

    public init(framing: CSTAFraming, encoding: CSTAEncoding? = nil, maximumPayloadLength: Int = 1 << 20) {
        self.framing = framing
        self.encoding = encoding
        self.maximumPayloadLength = min(maximumPayloadLength, framing.maximumPayloadLength)
    }

    /// What to do with `bytes` (the unread input). `atEnd`: no more bytes will come.
    public mutating func next(_ bytes: UnsafeRawBufferPointer, atEnd: Bool) -> Step {
        guard !bytes.isEmpty else { return .needMoreData }
        if framing == .auto {
            guard let sniffed = CSTAFraming.sniff(bytes) else {
                if bytes.count < 8 && !atEnd { return .needMoreData }
                return .skip(count: 1, error: CSTADecodeError(.invalidFrameHeader, at: 0))
            }
            framing = sniffed
        }
        if encoding == nil { encoding = CSTAFraming.sniffEncoding(bytes, framing: framing) }
        switch framing {
        case .none, .auto: return encoding == .xml ? nextLine(bytes, atEnd: atEnd) : nextTLV(bytes, atEnd: atEnd)
        case .u16, .hipath, .tpkt, .ecma323: return nextHeadered(bytes, atEnd: atEnd)
        }
    }

    // MARK: Length-prefixed framings

    /// The payload length and invoke id a header declares, or `nil` when it is not a header of this framing.
    func parseHeader(_ b: UnsafeRawBufferPointer, at i: Int) -> (payload: Int, invokeId: Int64?)? {
        let h = framing.headerLength
        guard i + h <= b.count else { return nil }
        switch framing {
        case .u16:
            return (Int(b[i]) << 8 | Int(b[i + 1]), nil)
        case .hipath:
            guard b[i] == 0x26 else { return nil }
            return (Int(b[i + 1] & 0x7F) << 8 | Int(b[i + 2]), nil)
        case .tpkt:
            guard b[i] == 0x03, b[i + 1] == 0x00 else { return nil }
            let total = Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard total >= 4 else { return nil }
            return (total - 4, nil)
        case .ecma323:
            var total = 0
            for k in 0..<4 { total = total << 8 | Int(b[i + k]) }
            guard total >= 8 else { return nil }
            var id: Int64 = 0
            for k in 4..<8 {
                guard CSTAFraming.isDigit(b[i + k]) else { return nil }
                id = id * 10 + Int64(b[i + k] - 0x30)
            }
            return (total - 8, id)
        case .none, .auto:
            return nil
        }
    }

    /// Whether a frame of this framing plausibly starts at `i`: a valid header within bounds whose payload (when its
    /// first byte is there) starts like a message. `nil`: not enough bytes to tell.
    func plausibleStart(_ b: UnsafeRawBufferPointer, at i: Int) -> Bool? {
        let h = framing.headerLength
        guard i + h <= b.count else { return nil }
        guard let header = parseHeader(b, at: i), header.payload > 0, header.payload <= maximumPayloadLength else {
            return false
        }
        guard i + h < b.count else { return nil }
        let first = b[i + h]
        return encoding == .xml ? (first == UInt8(ascii: "<") || first == 0xEF) : BERShape.isAPDUStart(first)
    }

    /// Skips to the next plausible header after a bad one.
    func resync(_ b: UnsafeRawBufferPointer, atEnd: Bool, reason: CSTADecodeError.Code) -> Step {
        var i = 1
        while i < b.count {
            switch plausibleStart(b, at: i) {
            case true?: return .skip(count: i, error: CSTADecodeError(reason, at: 0))
            case nil where !atEnd: return .skip(count: i, error: CSTADecodeError(reason, at: 0))
            default: i += 1
            }
        }
        return .skip(count: b.count, error: CSTADecodeError(reason, at: 0))
    }

    func nextHeadered(_ b: UnsafeRawBufferPointer, atEnd: Bool) -> Step {
        let h = framing.headerLength
        guard b.count >= h else {
            return atEnd ? .skip(count: b.count, error: CSTADecodeError(.truncated, at: b.count)) : .needMoreData
        }
        guard let (declared, invokeId) = parseHeader(b, at: 0) else {
            return resync(b, atEnd: atEnd, reason: .invalidFrameHeader)
        }
        guard declared > 0 else { return .skip(count: h, error: CSTADecodeError(.empty, at: h)) }
        guard declared <= maximumPayloadLength else { return resync(b, atEnd: atEnd, reason: .frameTooLarge) }
        let available = b.count - h
        let payload = UnsafeRawBufferPointer(rebasing: b[h...])
        // A BER payload starts with an ACSE or ROSE APDU tag. Without this check a u16 "header" made of garbage (it
        // has no marker byte) would swallow the frames behind it while waiting for its length.
        if encoding != .xml, available > 0, !BERShape.isAPDUStart(payload[0]) {
            return resync(b, atEnd: atEnd, reason: .invalidFrameHeader)
        }

        if encoding == .xml {
            // A NUL cannot be part of XML: the next frame's header started there.
            let limit = min(available, declared)
            if limit > 0, let base = payload.baseAddress, let hit = memchr(base, 0, limit),
                case let nul = UnsafeRawPointer(hit) - base, nul > 0
            {
                return .frame(headerLength: h, payloadLength: nul, consumed: h + nul, invokeId: invokeId)
            }
        } else if let tlv = BERShape.tlvSize(payload), tlv != declared, tlv > 0 {
            // The header and the APDU disagree: believe the APDU when its end is where a frame plausibly starts.
            let tlvEnd = h + tlv
            let tlvEndFits = tlvEnd <= b.count && ((tlvEnd == b.count && atEnd) || plausibleStart(b, at: tlvEnd) == true)
            if tlv < declared && tlvEndFits {
                return .frame(headerLength: h, payloadLength: tlv, consumed: tlvEnd, invokeId: invokeId)
            }
            if tlv > declared && tlvEndFits && plausibleStart(b, at: h + declared) == false {
                return .frame(headerLength: h, payloadLength: tlv, consumed: tlvEnd, invokeId: invokeId)
            }
        }
        if available >= declared {
            return .frame(headerLength: h, payloadLength: declared, consumed: h + declared, invokeId: invokeId)
        }
        if atEnd {
            // The stream ended inside the frame: hand over what there is; the decoder reports where it falls short.
            return available > 0
                ? .frame(headerLength: h, payloadLength: available, consumed: b.count, invokeId: invokeId)
                : .skip(count: b.count, error: CSTADecodeError(.truncated, at: h))
        }
        return .needMoreData
    }

    // MARK: Unframed

    /// BER without framing: one complete TLV after another.
    func nextTLV(_ b: UnsafeRawBufferPointer, atEnd: Bool) -> Step {
        if let size = BERShape.completeTLVSize(b) {
            guard size - 2 <= maximumPayloadLength else { return .skip(count: size, error: CSTADecodeError(.frameTooLarge, at: 0)) }
            return .frame(headerLength: 0, payloadLength: size, consumed: size, invokeId: nil)
        }
        if !BERShape.isAPDUStart(b[0]) {
            var i = 1
            while i < b.count, !BERShape.isAPDUStart(b[i]) { i += 1 }
            return .skip(count: i, error: CSTADecodeError(.invalidFrameHeader, at: 0))
        }
        if atEnd { return .frame(headerLength: 0, payloadLength: b.count, consumed: b.count, invokeId: nil) }
        if b.count > maximumPayloadLength { return .skip(count: 1, error: CSTADecodeError(.frameTooLarge, at: 0)) }
        return .needMoreData
    }

    /// XML without framing: one document per line.
    func nextLine(_ b: UnsafeRawBufferPointer, atEnd: Bool) -> Step {
        guard let newline = b.firstIndex(of: UInt8(ascii: "\n")) else {
            if atEnd { return .frame(headerLength: 0, payloadLength: b.count, consumed: b.count, invokeId: nil) }
            if b.count > maximumPayloadLength { return .skip(count: b.count, error: CSTADecodeError(.frameTooLarge, at: 0)) }
            return .needMoreData
        }
        var end = newline
        if end > 0 && b[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let line = UnsafeRawBufferPointer(rebasing: b[0..<end])
        if line.allSatisfy(XMLText.isSpace) { return .skip(count: newline + 1, error: nil) }
        return .frame(headerLength: 0, payloadLength: end, consumed: newline + 1, invokeId: nil)
    }
}
