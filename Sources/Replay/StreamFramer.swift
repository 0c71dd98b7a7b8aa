import CSTA
import NIOCore

/// One direction's reassembled bytes → frames, through the project's ``CSTAFrameSplitter``.
///
/// After a gap the splitter is reset to the framing and encoding it had found (not `auto`: the bytes after a hole
/// start mid-frame) and the partial frame before the hole is dropped; bytes skipped until the next plausible header are
/// part of the gap and not reported again.
struct StreamFramer {
    private var splitter: CSTAFrameSplitter
    private var buffer = ByteBuffer()
    private let initialFraming: CSTAFraming
    private let initialEncoding: CSTAEncoding?
    private let maximumPayloadLength: Int
    /// Set after a gap until the first frame: splitter skips are the resync, not new errors.
    private var resyncing = false
    private(set) var frameIndex = 0
    /// Bytes already taken from this stream (for error offsets within the stream).
    private(set) var streamOffset: Int64 = 0

    init(framing: CSTAFraming, encoding: CSTAEncoding?, maximumPayloadLength: Int) {
        self.splitter = CSTAFrameSplitter(framing: framing, encoding: encoding, maximumPayloadLength: maximumPayloadLength)
        self.initialFraming = framing
        self.initialEncoding = encoding
        self.maximumPayloadLength = maximumPayloadLength
    }

    /// Bytes held waiting for the rest of a frame.
    var pendingBytes: Int { buffer.readableBytes }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if buffer.readableBytes == 0 && buffer.readerIndex > 0 {
            buffer.clear()
        } else if buffer.readerIndex >= 1 << 16 {
            buffer.discardReadBytes()
        }
        buffer.writeBytes(bytes)
    }

    /// The stream is over: give the buffer's memory back (a closed connection stays known, its buffer need not).
    mutating func release() {
        buffer = ByteBuffer()
    }

    /// A hole: what is buffered is an incomplete frame that will never complete.
    mutating func gap() {
        streamOffset += Int64(buffer.readableBytes)
        buffer.clear()
        let framing = splitter.framing == .auto ? initialFraming : splitter.framing
        splitter = CSTAFrameSplitter(
            framing: framing, encoding: splitter.encoding ?? initialEncoding, maximumPayloadLength: maximumPayloadLength)
        resyncing = splitter.framing != .auto
    }

    /// Splits what is buffered. `atEnd`: the stream is over (a frame cut short is handed over as it is).
    mutating func drain(
        atEnd: Bool,
        message: (
            _ payload: ByteBuffer, _ framing: CSTAFraming, _ encoding: CSTAEncoding, _ invokeId: Int64?, _ index: Int,
            _ streamOffset: Int64
        ) -> Void,
        error: (_ error: CSTADecodeError, _ streamOffset: Int64) -> Void
    ) {
        while buffer.readableBytes > 0 {
            let step = buffer.withUnsafeReadableBytes { splitter.next($0, atEnd: atEnd) }
            switch step {
            case .needMoreData:
                return
            case .skip(let count, let reason):
                let n = max(1, min(count, buffer.readableBytes))
                buffer.moveReaderIndex(forwardBy: n)
                if let reason, !resyncing { error(reason, streamOffset) }
                streamOffset += Int64(n)
            case .frame(let header, let length, let consumed, let invokeId):
                let payload = buffer.getSlice(at: buffer.readerIndex + header, length: length) ?? ByteBuffer()
                let n = max(1, min(consumed, buffer.readableBytes))
                let start = streamOffset
                buffer.moveReaderIndex(forwardBy: n)
                streamOffset += Int64(n)
                resyncing = false
                message(payload, splitter.framing, splitter.encoding ?? .ber, invokeId, frameIndex, start)
                frameIndex += 1
            }
        }
    }
}
