import CSTA
import NIOCore

/// Opens capture files and trace logs for replay.
public enum ReplaySource {
    /// Opens `path` (`-`: standard input) and reads its header.
    ///
    /// - Parameters:
    ///   - format: `auto` sniffs pcap and pcapng magic numbers, else reads text (see ``ReplayFormat``).
    ///   - port: the CTI port: the side whose source port it is sends switch→application, and TCP on other ports is
    ///     skipped. `nil`: every TCP connection, directions guessed (see the README).
    ///   - framing, encoding: what the streams carry; `auto`/`nil` sniff each stream's first bytes.
    /// - Throws: ``ReplayError`` when the file cannot be opened or its header is malformed.
    public static func open(
        path: String,
        format: ReplayFormat = .auto,
        port: UInt16? = nil,
        framing: CSTAFraming = .auto,
        encoding: CSTAEncoding? = nil,
        maximumPayloadLength: Int = 1 << 20
    ) throws(ReplayError) -> ReplayReader {
        let file = try ChunkedFile(path: path)
        let resolved = format == .auto ? try sniff(file) : format
        let options = ReplayReader.Options(
            port: port, framing: framing, encoding: encoding, maximumPayloadLength: maximumPayloadLength)
        return try ReplayReader(file: file, format: resolved, options: options)
    }

    /// pcap and pcapng by their magic numbers; XML when it starts with an ECMA-323 header (`00 00 LL LL dddd`); a framed
    /// stream when its first byte is binary (not text) and a frame header or APDU tag; a trace log when its first line
    /// has a prefix (XML when `<` follows it, else hex); XML when its first non-blank byte is `<`; hex when it is a hex
    /// digit or `#`.
    static func sniff(_ file: ChunkedFile) throws(ReplayError) -> ReplayFormat {
        try file.ensure(4096)
        let head = file.window()
        if head.count >= 4 {
            let magic = UInt32(head[0]) | UInt32(head[1]) << 8 | UInt32(head[2]) << 16 | UInt32(head[3]) << 24
            switch magic {
            case 0xA1B2_C3D4, 0xD4C3_B2A1, 0xA1B2_3C4D, 0x4D3C_B2A1: return .pcap
            case PcapngReader.sectionHeader: return .pcapng
            default: break
            }
        }
        if head.count >= 8, head[0] == 0, head[1] == 0, (4..<8).allSatisfy({ head[$0] >= 0x30 && head[$0] <= 0x39 }) {
            return .xml
        }
        if let first = head.first, first < 0x09 || (first >= 0x80 && first != 0xEF) || first == 0x26 || first == 0x03,
            CSTAFraming.sniff(head) != nil
        {
            return .stream
        }
        var i = 0
        while i < head.count, [0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains(head[i]) { i += 1 }
        guard i < head.count else { throw ReplayError(.unknownFormat, at: 0, "the file is empty or blank") }
        // A trace log: a timestamp or direction marker before the payload; XML when the payload is.
        let lineEnd = head[i...].firstIndex(of: 0x0A) ?? head.count
        let line = UnsafeRawBufferPointer(rebasing: head[i..<lineEnd])
        if let prefix = TraceLinePrefix.parse(line) {
            return prefix.length < line.count && line[prefix.length] == UInt8(ascii: "<") ? .xml : .hex
        }
        if head[i] == UInt8(ascii: "<") { return .xml }
        if head[i] == UInt8(ascii: "#") || HexDumpReader.nibble(head[i]) != nil { return .hex }
        throw ReplayError(.unknownFormat, at: Int64(i), "neither pcap, pcapng, a framed stream, hex nor XML (byte \(head[i]))")
    }
}

/// Reads one input and yields its messages, gaps and errors in file order. Pull-based and streaming: memory is bounded
/// by the largest record and the reassembly limits, not by the file. Not `Sendable`: one consumer owns it.
public final class ReplayReader {
    struct Options {
        var port: UInt16?
        var framing: CSTAFraming
        var encoding: CSTAEncoding?
        var maximumPayloadLength: Int
    }

    private enum Mode {
        case capture(any CaptureFile, TCPReassembler)
        /// Hex dumps and XML logs, line by line (trace-log prefixes, multi-line documents).
        case text(TextLogAssembler)
        /// ECMA-323 framed XML and framed streams: one byte stream through the splitter.
        case xml(StreamFramer)
        case done
    }

    /// The format read (`auto` resolved).
    public let format: ReplayFormat
    public private(set) var counters = ReplayCounters()
    private let file: ChunkedFile
    private let options: Options
    private var mode: Mode
    private var queue: [ReplayItem] = []
    private var head = 0
    private var reportedLinkTypes: Set<UInt32> = []
    private var fragments = IPFragmentReassembler()
    private let textConnection = ReplayConnection(id: 0, switchSide: nil, applicationSide: nil)
    /// Text inputs: the next frame index per direction (switch→application, application→switch, unknown).
    private var textFrameIndex = [0, 0, 0]

    init(file: ChunkedFile, format: ReplayFormat, options: Options) throws(ReplayError) {
        self.file = file
        self.format = format
        self.options = options
        let textXML = format == .xml ? try Self.isTextXML(file, framing: options.framing) : false
        switch format {
        case .pcap, .pcapng:
            let capture: any CaptureFile = format == .pcap ? try PcapReader(file: file) : try PcapngReader(file: file)
            mode = .capture(capture, TCPReassembler(
                port: options.port, framing: options.framing, encoding: options.encoding,
                limits: .init(maximumPayloadLength: options.maximumPayloadLength)))
        case .hex:
            mode = .text(TextLogAssembler(maximumDocument: options.maximumPayloadLength))
        case .xml where textXML:
            mode = .text(TextLogAssembler(maximumDocument: options.maximumPayloadLength))
            counters.connections = 1
        case .xml, .stream, .auto:
            mode = .xml(StreamFramer(
                framing: options.framing, encoding: format == .stream ? options.encoding : options.encoding ?? .xml,
                maximumPayloadLength: options.maximumPayloadLength))
            counters.connections = 1
        }
    }

    /// The next message, gap or error; `nil` at the end of the input. A fault that stops reading (a corrupt record
    /// header) is yielded as an error, then what was reassembled so far is flushed, then `nil`.
    public func next() -> ReplayItem? {
        while head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
            if case .done = mode { return nil }
            do {
                try step()
            } catch {
                queue.append(.error(error))
                finish()
            }
        }
        defer { head += 1 }
        return queue[head]
    }

    /// Reads until something is queued or the input ends.
    private func step() throws(ReplayError) {
        switch mode {
        case .capture(let capture, var reassembler):
            mode = .done // the reassembler is held here only, so its buffers are not copied when mutated
            var ended = false
            do {
                while queue.isEmpty {
                    guard let event = try capture.next() else {
                        ended = true
                        break
                    }
                    switch event {
                    case .problem(let error): queue.append(.error(error))
                    case .packet(let packet): handle(packet, &reassembler)
                    }
                }
            } catch {
                queue.append(.error(error))
                ended = true
            }
            if ended {
                fragments.finish(counters: &counters, out: &queue)
                reassembler.finish(counters: &counters, out: &queue)
            } else {
                mode = .capture(capture, reassembler)
            }
        case .text(var assembler):
            mode = .done
            var items: [TextLogAssembler.Item] = []
            while queue.isEmpty {
                guard let (line, at) = try readLine() else {
                    assembler.finish(into: &items)
                    emitText(items)
                    return
                }
                assembler.add(line, at: at, into: &items)
                emitText(items)
                items.removeAll(keepingCapacity: true)
            }
            mode = .text(assembler)
        case .xml(var framer):
            mode = .done
            while queue.isEmpty {
                guard try file.ensure(1) else {
                    drainText(&framer, atEnd: true)
                    return
                }
                let window = file.window()
                framer.append(window)
                counters.bytes += Int64(window.count)
                try file.skip(window.count)
                drainText(&framer, atEnd: false)
            }
            mode = .xml(framer)
        case .done:
            return
        }
    }

    /// After a fault that stops reading.
    private func finish() {
        mode = .done
    }

    private func handle(_ packet: CapturedPacket, _ reassembler: inout TCPReassembler) {
        counters.packets += 1
        counters.bytes += Int64(packet.bytes.count)
        if packet.bytes.count < packet.originalLength { counters.truncatedPackets += 1 }
        route(PacketDecoder.decode(packet.bytes, linkType: packet.linkType), packet, &reassembler)
    }

    /// A decoded packet, or a datagram rebuilt from fragments, to TCP, the fragment reassembler or an error.
    private func route(_ outcome: PacketDecoder.Outcome, _ packet: CapturedPacket, _ reassembler: inout TCPReassembler) {
        switch outcome {
        case .segment(var segment):
            segment.inbound = packet.inbound
            _ = reassembler.accept(
                segment, timestamp: packet.timestamp, fileOffset: packet.fileOffset, counters: &counters, out: &queue)
        case .notTCP:
            counters.nonTCPSkipped += 1
        case .fragment(let fragment):
            counters.fragments += 1
            guard let datagram = fragments.add(
                fragment, timestamp: packet.timestamp, fileOffset: packet.fileOffset, counters: &counters, out: &queue)
            else { return }
            // The datagram takes the time and offset of the fragment that completed it.
            datagram.withUnsafeBytes { bytes in
                route(PacketDecoder.reassembled(bytes, key: fragment.key), packet, &reassembler)
            }
        case .malformed(let kind, let detail):
            counters.malformedPackets += 1
            if kind == .unsupportedLinkType {
                // Once per link type: a file of them would otherwise be nothing but this error.
                guard reportedLinkTypes.insert(packet.linkType).inserted else { return }
            }
            queue.append(.error(ReplayError(kind, at: packet.fileOffset, detail)))
        }
    }

    /// XML that is text (documents, not ECMA-323 framed bytes): no framing asked for, and the file does not start
    /// with the ECMA-323 header's zero bytes.
    private static func isTextXML(_ file: ChunkedFile, framing: CSTAFraming) throws(ReplayError) -> Bool {
        guard framing == .auto || framing == .none else { return false }
        guard try file.ensure(1) else { return true }
        return file.window()[0] != 0
    }

    private func emitText(_ items: [TextLogAssembler.Item]) {
        for item in items {
            switch item {
            case .error(let error):
                queue.append(.error(error))
            case .xml(let bytes, let at, let stamp):
                counters.packets += 1
                appendTextMessage(ByteBuffer(bytes: bytes), .none, .xml, nil, at, stamp)
            case .hex(let (bytes, at, stamp)):
                counters.packets += 1
                HexDumpReader.frames(
                    bytes, framing: options.framing, encoding: options.encoding,
                    maximumPayloadLength: options.maximumPayloadLength
                ) { result in
                    switch result {
                    case .success(let (payload, framing, encoding, invokeId)):
                        appendTextMessage(payload, framing, encoding, invokeId, at, stamp)
                    case .failure(let error):
                        counters.framingErrors += 1
                        queue.append(.error(ReplayError(.framing, at: at, "\(error)")))
                    }
                }
            }
        }
    }

    private func appendTextMessage(
        _ payload: ByteBuffer, _ framing: CSTAFraming, _ encoding: CSTAEncoding, _ invokeId: Int64?, _ at: Int64,
        _ stamp: TextStamp
    ) {
        let d = stamp.direction == .switchToApplication ? 0 : stamp.direction == .applicationToSwitch ? 1 : 2
        queue.append(.message(ReplayMessage(
            timestamp: stamp.timestamp, connection: textConnection, direction: stamp.direction, framing: framing,
            encoding: encoding, headerInvokeId: invokeId, payload: payload, frameIndex: textFrameIndex[d],
            fileOffset: at)))
        textFrameIndex[d] += 1
        counters.messages += 1
    }

    private func drainText(_ framer: inout StreamFramer, atEnd: Bool) {
        let connection = textConnection
        framer.drain(atEnd: atEnd) { payload, framing, encoding, invokeId, index, frameStart in
            counters.messages += 1
            // One stream from the file's first byte: a frame's stream offset is its file offset.
            queue.append(.message(ReplayMessage(
                timestamp: .zero, connection: connection, direction: .unknown, framing: framing, encoding: encoding,
                headerInvokeId: invokeId, payload: payload, frameIndex: index, fileOffset: frameStart)))
        } error: { error, streamOffset in
            counters.framingErrors += 1
            queue.append(.error(ReplayError(.framing, at: streamOffset, "\(error)")))
        }
    }

    /// The next text line without its newline (a view valid until the next read) and its file offset.
    private func readLine() throws(ReplayError) -> (UnsafeRawBufferPointer, Int64)? {
        guard try file.ensure(1) else { return nil }
        var scanned = 0
        while true {
            let window = file.window()
            let at = file.offset
            if let newline = window[scanned...].firstIndex(of: 0x0A) {
                let line = UnsafeRawBufferPointer(rebasing: window[0..<newline])
                try file.skip(newline + 1) // moves the window's start only: `line` stays valid
                counters.bytes += Int64(newline + 1)
                return (line, at)
            }
            scanned = window.count
            if try !file.ensure(window.count + 1) {
                if window.count + 1 > file.maximumWindow {
                    try file.skip(window.count)
                    throw ReplayError(.malformedText, at: at, "a line longer than \(file.maximumWindow) bytes")
                }
                try file.skip(window.count)
                counters.bytes += Int64(window.count)
                return (window, at) // the last line, without a newline
            }
        }
    }
}
