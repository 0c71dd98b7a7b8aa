import ArgumentParser
import CSTA
import NIOCore

enum EncodingOption: String, ExpressibleByArgument, CaseIterable {
    case auto, ber, xml
    var encoding: CSTAEncoding? { self == .auto ? nil : CSTAEncoding(rawValue: rawValue) }
}

extension CSTAFraming: ExpressibleByArgument {}
extension CSTAEncoding: ExpressibleByArgument {}

/// `ctibridge decode`: a framed CSTA byte stream (or hex lines) → one key-set JSON line per message
/// (`../shared/docs/contracts.md` §2).
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode CSTA messages to key-set JSON lines.",
        discussion: """
            Reads a byte stream of framed messages (default) or, with --hex, one unframed message per line in hex \
            ('#' starts a comment). XML with --framing none is one document per line. A frame that cannot be \
            decoded prints {"i": N, "error": …, "offset": K} and the stream goes on. Exit status 0 when the input \
            was read to the end, even if some frames had errors.
            """
    )

    @Argument(help: "Input file, or '-' for standard input.")
    var file: String = "-"

    @Option(help: "Message encoding: auto, ber or xml.")
    var encoding: EncodingOption = .auto

    @Option(help: "Framing: auto, u16, hipath, tpkt, ecma323 or none.")
    var framing: CSTAFraming = .auto

    @Flag(help: "Input is one unframed message per line in hex.")
    var hex = false

    @Flag(help: "Print only a summary line with counts and the time taken.")
    var stats = false

    @Option(help: "Largest frame payload accepted, in bytes.")
    var maxFrameSize: Int = 1 << 20

    func validate() throws {
        guard maxFrameSize > 0 else { throw ValidationError("--max-frame-size must be positive") }
    }

    func run() throws {
        let started = monotonicSeconds()
        let input: ByteBuffer
        do {
            input = try InputReader.readAll(file)
        } catch {
            printError("ctibridge decode: \(error)")
            throw ExitCode(66)
        }
        var counts = DecodeCounts()
        var out = OutputWriter()
        let buffer = input
        if hex {
            decodeHexLines(buffer, counts: &counts, out: &out)
        } else {
            decodeStream(buffer, counts: &counts, out: &out)
        }
        if stats {
            let seconds = monotonicSeconds() - started
            out.line {
                $0.append(contentsOf: #"{"frames": \#(counts.frames), "decoded": \#(counts.decoded), "errors": \#(counts.errors), "#.utf8)
                $0.append(contentsOf: #""eventErrors": \#(counts.eventErrors), "bytes": \#(input.readableBytes), "#.utf8)
                $0.append(contentsOf: #""seconds": \#(formatSeconds(seconds))}"#.utf8)
            }
        }
        out.flush()
    }

    struct DecodeCounts {
        var frames = 0
        var decoded = 0
        var errors = 0
        var eventErrors = 0
    }

    /// Splits and decodes the whole stream. With `--stats` nothing is rendered: the loop reuses one fields value and
    /// allocates nothing per frame.
    func decodeStream(_ buffer: ByteBuffer, counts: inout DecodeCounts, out: inout OutputWriter) {
        var splitter = CSTAFrameSplitter(framing: framing, encoding: encoding.encoding, maximumPayloadLength: maxFrameSize)
        var fields = CSTAFields()
        buffer.withUnsafeReadableBytes { all in
            var position = 0
            while position < all.count {
                let rest = UnsafeRawBufferPointer(rebasing: all[position...])
                switch splitter.next(rest, atEnd: true) {
                case .needMoreData:
                    position = all.count
                case .skip(let count, let error):
                    position += max(count, 1)
                    if let error {
                        emitError(error, counts: &counts, out: &out)
                    }
                case .frame(let header, let length, let consumed, let invokeId):
                    let start = position + header
                    let payload = UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])
                    let encoding = splitter.encoding ?? .ber
                    position += max(consumed, 1)
                    decodeOne(payload, encoding: encoding, invokeId: invokeId, fields: &fields, counts: &counts, out: &out) {
                        buffer.getSlice(at: buffer.readerIndex + start, length: length)!
                    }
                }
            }
        }
    }

    /// One message per line in hex.
    func decodeHexLines(_ buffer: ByteBuffer, counts: inout DecodeCounts, out: inout OutputWriter) {
        var fields = CSTAFields()
        let bytes = Array(buffer.readableBytesView)
        for raw in bytes.split(separator: 0x0A, omittingEmptySubsequences: true) {
            let line = raw.drop(while: { $0 == 0x20 || $0 == 0x09 })
            if line.isEmpty || line.first == UInt8(ascii: "#") || line.allSatisfy({ $0 == 0x0D || $0 == 0x20 }) {
                continue
            }
            guard let message = bytesFromHex(line) else {
                emitError(CSTADecodeError(.invalidFrameHeader, at: 0), counts: &counts, out: &out)
                continue
            }
            let messageEncoding = encoding.encoding ?? (message.first == UInt8(ascii: "<") ? .xml : .ber)
            let slice = ByteBuffer(bytes: message)
            slice.withUnsafeReadableBytes { payload in
                decodeOne(payload, encoding: messageEncoding, invokeId: nil, fields: &fields, counts: &counts, out: &out) {
                    slice
                }
            }
        }
    }

    func emitError(_ error: CSTADecodeError, counts: inout DecodeCounts, out: inout OutputWriter) {
        let index = counts.frames
        counts.frames += 1
        counts.errors += 1
        if !stats { out.line { KeySetJSON.writeError(error, index: index, to: &$0) } }
    }

    /// Decodes one payload; renders it unless `--stats`. `slice` makes the owned payload only when rendering.
    func decodeOne(
        _ payload: UnsafeRawBufferPointer,
        encoding: CSTAEncoding,
        invokeId: Int64?,
        fields: inout CSTAFields,
        counts: inout DecodeCounts,
        out: inout OutputWriter,
        slice: () -> ByteBuffer
    ) {
        let index = counts.frames
        counts.frames += 1
        fields = CSTAFields()
        do throws(CSTADecodeError) {
            switch encoding {
            case .ber: try BERCodec.decode(payload, into: &fields)
            case .xml: try XMLCodec.decode(payload, into: &fields)
            }
        } catch {
            counts.errors += 1
            if !stats { out.line { KeySetJSON.writeError(error, index: index, to: &$0) } }
            return
        }
        counts.decoded += 1
        if fields.eventError != nil { counts.eventErrors += 1 }
        if stats { return }
        if let invokeId { fields.invokeId = invokeId }
        let record = CSTAMessage(encoding: encoding, payload: slice(), fields: fields).record()
        out.line { KeySetJSON.write(record, index: index, to: &$0) }
    }
}

func formatSeconds(_ s: Double) -> String {
    let micros = Int((s * 1_000_000).rounded())
    let fraction = String(micros % 1_000_000)
    return "\(micros / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
}
