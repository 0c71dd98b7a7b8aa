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
        let input: InputBytes
        do {
            input = try InputBytes(path: file)
        } catch {
            printError("ctibridge decode: \(error)")
            throw ExitCode(66)
        }
        // The loop reads plain stored settings: ArgumentParser's property wrappers are too slow to touch per frame.
        var loop = DecodeLoop(
            stats: stats, encoding: encoding.encoding, framing: framing, maximumPayloadLength: maxFrameSize)
        if hex {
            loop.decodeHexLines(input)
        } else {
            loop.decodeStream(input)
        }
        if stats {
            let seconds = monotonicSeconds() - started
            let c = loop.counts
            loop.out.line {
                $0.append(contentsOf: #"{"frames": \#(c.frames), "decoded": \#(c.decoded), "errors": \#(c.errors), "#.utf8)
                $0.append(contentsOf: #""eventErrors": \#(c.eventErrors), "bytes": \#(input.count), "#.utf8)
                $0.append(contentsOf: #""seconds": \#(formatSeconds(seconds))}"#.utf8)
            }
        }
        loop.out.flush()
    }
}

/// The decode loop behind `ctibridge decode`. With `stats` nothing is rendered: one fields value is reused and
/// nothing is allocated per frame.
struct DecodeLoop {
    struct Counts {
        var frames = 0
        var decoded = 0
        var errors = 0
        var eventErrors = 0
    }

    let stats: Bool
    let encoding: CSTAEncoding?
    let framing: CSTAFraming
    let maximumPayloadLength: Int
    var counts = Counts()
    var out = OutputWriter()
    private var fields = CSTAFields()

    init(stats: Bool, encoding: CSTAEncoding?, framing: CSTAFraming, maximumPayloadLength: Int) {
        self.stats = stats
        self.encoding = encoding
        self.framing = framing
        self.maximumPayloadLength = maximumPayloadLength
    }

    /// Splits and decodes the whole stream.
    mutating func decodeStream(_ input: InputBytes) {
        var splitter = CSTAFrameSplitter(framing: framing, encoding: encoding, maximumPayloadLength: maximumPayloadLength)
        input.withBytes { all in
            var position = 0
            while position < all.count {
                let rest = UnsafeRawBufferPointer(rebasing: all[position...])
                switch splitter.next(rest, atEnd: true) {
                case .needMoreData:
                    position = all.count
                case .skip(let count, let error):
                    position += max(count, 1)
                    if let error { emitError(error) }
                case .frame(let header, let length, let consumed, let invokeId):
                    let start = position + header
                    let payload = UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])
                    position += max(consumed, 1)
                    decodeOne(payload, encoding: splitter.encoding ?? .ber, invokeId: invokeId) {
                        ByteBuffer(bytes: payload)
                    }
                }
            }
        }
    }

    /// One unframed message per line in hex; `#` starts a comment line.
    mutating func decodeHexLines(_ input: InputBytes) {
        let bytes = input.withBytes { Array($0) }
        for raw in bytes.split(separator: 0x0A, omittingEmptySubsequences: true) {
            let line = raw.drop(while: { $0 == 0x20 || $0 == 0x09 })
            if line.isEmpty || line.first == UInt8(ascii: "#") || line.allSatisfy({ $0 == 0x0D || $0 == 0x20 }) {
                continue
            }
            guard let message = bytesFromHex(line) else {
                emitError(CSTADecodeError(.invalidFrameHeader, at: 0))
                continue
            }
            let messageEncoding = encoding ?? (message.first == UInt8(ascii: "<") ? .xml : .ber)
            let slice = ByteBuffer(bytes: message)
            slice.withUnsafeReadableBytes { payload in
                decodeOne(payload, encoding: messageEncoding, invokeId: nil) { slice }
            }
        }
    }

    mutating func emitError(_ error: CSTADecodeError) {
        let index = counts.frames
        counts.frames += 1
        counts.errors += 1
        if !stats { out.line { KeySetJSON.writeError(error, index: index, to: &$0) } }
    }

    /// Decodes one payload; renders it unless `stats`. `slice` makes the owned payload only when rendering.
    mutating func decodeOne(
        _ payload: UnsafeRawBufferPointer,
        encoding: CSTAEncoding,
        invokeId: Int64?,
        slice: () -> ByteBuffer
    ) {
        let index = counts.frames
        counts.frames += 1
        fields = .empty
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
