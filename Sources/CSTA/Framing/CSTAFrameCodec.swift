import NIOCore

/// One frame as the link sees it: the payload (a slice of the receive buffer, no copy), the header's invoke id where
/// the framing carries one, or the reason the bytes were not a frame.
public struct CSTAFrame: Sendable, Equatable {
    public var payload: ByteBuffer
    public var encoding: CSTAEncoding
    public var headerInvokeId: Int64?
    /// Set for bytes that were skipped (garbage, a bad header, an oversized length): the stream goes on after them.
    public var error: CSTADecodeError?

    public init(payload: ByteBuffer, encoding: CSTAEncoding, headerInvokeId: Int64? = nil, error: CSTADecodeError? = nil) {
        self.payload = payload
        self.encoding = encoding
        self.headerInvokeId = headerInvokeId
        self.error = error
    }

    /// Decodes the frame's message (throws for frames that carry an error or whose envelope is broken).
    public func decode() throws(CSTADecodeError) -> CSTAMessage {
        if let error { throw error }
        return try CSTAMessage.decode(payload, encoding: encoding, headerInvokeId: headerInvokeId)
    }
}

/// Splits a TCP byte stream into ``CSTAFrame``s. Handles partial reads, many frames per read, lengths that lie and
/// garbage (reported as frames with an `error`, then resynchronised), with a bound on the frame size.
///
/// Use it in a pipeline through `ByteToMessageHandler(NIOSingleStepByteToMessageProcessor…)` or directly with
/// `NIOSingleStepByteToMessageProcessor`.
public struct CSTAFrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = CSTAFrame

    public private(set) var splitter: CSTAFrameSplitter
    private let defaultEncoding: CSTAEncoding

    public init(framing: CSTAFraming, encoding: CSTAEncoding? = nil, maximumPayloadLength: Int = 1 << 20) {
        self.splitter = CSTAFrameSplitter(framing: framing, encoding: encoding, maximumPayloadLength: maximumPayloadLength)
        self.defaultEncoding = encoding ?? .ber
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> CSTAFrame? {
        try step(&buffer, atEnd: false)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> CSTAFrame? {
        try step(&buffer, atEnd: seenEOF)
    }

    private mutating func step(_ buffer: inout ByteBuffer, atEnd: Bool) throws -> CSTAFrame? {
        while buffer.readableBytes > 0 {
            let step = buffer.withUnsafeReadableBytes { splitter.next($0, atEnd: atEnd) }
            let encoding = splitter.encoding ?? defaultEncoding
            switch step {
            case .needMoreData:
                return nil
            case .skip(let count, let error):
                let skipped = buffer.readSlice(length: count) ?? ByteBuffer()
                if let error { return CSTAFrame(payload: skipped, encoding: encoding, error: error) }
            case .frame(let header, let length, let consumed, let invokeId):
                let payload = buffer.getSlice(at: buffer.readerIndex + header, length: length) ?? ByteBuffer()
                buffer.moveReaderIndex(forwardBy: consumed)
                return CSTAFrame(payload: payload, encoding: encoding, headerInvokeId: invokeId)
            }
        }
        return nil
    }
}

/// Writes frame headers. The inverse of ``CSTAFrameSplitter``.
public enum CSTAFrameWriter {
    /// Appends `payload` framed as `framing` (`auto` is not a framing to write: it is treated as `none`).
    /// - Parameter invokeId: the ECMA-323 header invoke id (0–9999; events use 9999).
    public static func write(
        _ payload: some Collection<UInt8>,
        framing: CSTAFraming,
        invokeId: Int = 9999,
        to out: inout [UInt8]
    ) throws(CSTAEncodeError) {
        let n = payload.count
        guard n <= framing.maximumPayloadLength else {
            throw CSTAEncodeError("payload of \(n) bytes is too long for \(framing.rawValue) framing")
        }
        switch framing {
        case .u16:
            out.append(contentsOf: [UInt8(n >> 8), UInt8(n & 0xFF)])
        case .hipath:
            out.append(contentsOf: [0x26, UInt8((n >> 8) | 0x80), UInt8(n & 0xFF)])
        case .tpkt:
            let total = n + 4
            out.append(contentsOf: [0x03, 0x00, UInt8(total >> 8), UInt8(total & 0xFF)])
        case .ecma323:
            guard (0...9999).contains(invokeId) else {
                throw CSTAEncodeError("ECMA-323 invoke id \(invokeId) does not fit 4 digits")
            }
            let total = n + 8
            out.append(contentsOf: [UInt8(total >> 24 & 0xFF), UInt8(total >> 16 & 0xFF), UInt8(total >> 8 & 0xFF), UInt8(total & 0xFF)])
            var digits = [UInt8](repeating: 0x30, count: 4)
            var v = invokeId
            for k in stride(from: 3, through: 0, by: -1) {
                digits[k] = UInt8(0x30 + v % 10)
                v /= 10
            }
            out.append(contentsOf: digits)
        case .none, .auto:
            break
        }
        out.append(contentsOf: payload)
    }
}
