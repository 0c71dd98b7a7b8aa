import NIOCore
import NIOTestUtils
import Testing

@testable import CSTA

/// Frame boundaries for every framing: partial reads, many frames per read, lying lengths, garbage, oversize.
@Suite struct FramingTests {
    /// Real HiPath APDUs (from `fixtures/real/hipath`, header stripped): SystemStatus invoke, its answer, MakeCall.
    static let apdus: [[UInt8]] = [
        hex("a10c020105020200d330030a0102"),
        hex("a20b0201053006020200d30500"),
        hex("a11602010502010a300e3005800332303130058003323032"),
    ]
    static let xmlDocuments: [[UInt8]] = [
        Array(#"<?xml version="1.0" encoding="UTF-8"?><SystemStatus xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed4"><systemStatus>normal</systemStatus></SystemStatus>"#.utf8),
        Array(#"<MonitorStartResponse xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed3"><monitorCrossRefID>42</monitorCrossRefID></MonitorStartResponse>"#.utf8),
    ]

    static func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var it = s.utf8.makeIterator()
        while let h = it.next(), let l = it.next() {
            out.append(UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16)!)
        }
        return out
    }

    static func framed(_ payloads: [[UInt8]], _ framing: CSTAFraming, invokeIds: [Int]? = nil) throws -> [UInt8] {
        var out: [UInt8] = []
        for (n, p) in payloads.enumerated() {
            try CSTAFrameWriter.write(p, framing: framing, invokeId: invokeIds?[n] ?? 9999, to: &out)
            if framing == .none && p.first == UInt8(ascii: "<") { out.append(0x0A) }
        }
        return out
    }

    /// Runs the NIO decoder over `bytes` fed in chunks of `chunk` bytes, then EOF.
    static func split(_ bytes: [UInt8], _ framing: CSTAFraming, encoding: CSTAEncoding? = nil, chunk: Int = .max) throws -> [CSTAFrame] {
        let processor = NIOSingleStepByteToMessageProcessor(CSTAFrameDecoder(framing: framing, encoding: encoding))
        var frames: [CSTAFrame] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + min(chunk, bytes.count))
            try processor.process(buffer: ByteBuffer(bytes: bytes[offset..<end])) { frames.append($0) }
            offset = end
        }
        try processor.finishProcessing(seenEOF: true) { frames.append($0) }
        return frames
    }

    @Test(arguments: [CSTAFraming.u16, .hipath, .tpkt, .none])
    func berFramesSurviveEveryChunking(framing: CSTAFraming) throws {
        let stream = try Self.framed(Self.apdus, framing)
        for chunk in [1, 2, 3, 7, stream.count] {
            for declared in [framing, .auto] {
                let frames = try Self.split(stream, declared, chunk: chunk)
                #expect(frames.map { Array($0.payload.readableBytesView) } == Self.apdus, "chunk \(chunk) \(declared)")
                #expect(frames.allSatisfy { $0.error == nil && $0.encoding == .ber })
            }
        }
    }

    @Test func verifierAgreesForHiPath() throws {
        let pairs = try Self.apdus.map { apdu -> (ByteBuffer, [CSTAFrame]) in
            (ByteBuffer(bytes: try Self.framed([apdu], .hipath)), [CSTAFrame(payload: ByteBuffer(bytes: apdu), encoding: .ber)])
        }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            CSTAFrameDecoder(framing: .hipath, encoding: .ber)
        }
    }

    @Test func ecma323CarriesTheInvokeIdAndSurvivesOneByteReads() throws {
        let stream = try Self.framed(Self.xmlDocuments, .ecma323, invokeIds: [17, 9999])
        for framing in [CSTAFraming.ecma323, .auto] {
            let frames = try Self.split(stream, framing, chunk: 1)
            #expect(frames.map { Array($0.payload.readableBytesView) } == Self.xmlDocuments)
            #expect(frames.map(\.headerInvokeId) == [17, 9999])
            #expect(frames.allSatisfy { $0.encoding == .xml })
        }
    }

    @Test func xmlLinesWithoutFraming() throws {
        var stream = try Self.framed(Self.xmlDocuments, .none)
        stream.insert(contentsOf: Array("\r\n\n".utf8), at: 0)
        let frames = try Self.split(stream, .auto, chunk: 5)
        #expect(frames.map { Array($0.payload.readableBytesView) } == Self.xmlDocuments)
    }

    @Test func u16LengthThatIncludesItsHeaderIsCorrectedByTheAPDU() throws {
        // A client that counts the 2 header bytes into the length (seen in open-source clients).
        var stream: [UInt8] = []
        for apdu in Self.apdus {
            let n = apdu.count + 2
            stream += [UInt8(n >> 8), UInt8(n & 0xFF)] + apdu
        }
        let frames = try Self.split(stream, .u16, chunk: 4)
        #expect(frames.map { Array($0.payload.readableBytesView) } == Self.apdus)
    }

    @Test func ecma323LengthThatLiesLongIsCutAtTheNextHeader() throws {
        // OpenScape fixtures 03/04/06/07: the length field was hand-edited upstream and exceeds the frame.
        var stream = try Self.framed([Self.xmlDocuments[0]], .ecma323, invokeIds: [2])
        stream[2] = 0x04
        stream[3] = 0x41  // 1089, far more than the document
        stream += try Self.framed([Self.xmlDocuments[1]], .ecma323, invokeIds: [3])
        let frames = try Self.split(stream, .ecma323, chunk: 16)
        #expect(frames.map { Array($0.payload.readableBytesView) } == Self.xmlDocuments)
        #expect(frames.map(\.headerInvokeId) == [2, 3])
    }

    @Test func ecma323LengthThatLiesLongAtTheEndOfTheStreamYieldsWhatThereIs() throws {
        var stream = try Self.framed([Self.xmlDocuments[1]], .ecma323, invokeIds: [2])
        stream[2] = 0xB4  // 46145 (fixture 04)
        let frames = try Self.split(stream, .auto)
        #expect(frames.count == 1)
        #expect(Array(frames[0].payload.readableBytesView) == Self.xmlDocuments[1])
    }

    @Test func garbageIsReportedOnceAndTheStreamResynchronises() throws {
        let good = try Self.framed(Self.apdus, .hipath)
        let garbage: [UInt8] = [0x26, 0x00, 0x02, 0xFF, 0x13, 0x37, 0x00, 0x26]
        let stream = Array(good[0..<16]) + garbage + Array(good[16...])
        let frames = try Self.split(stream, .hipath, chunk: 3)
        let payloads = frames.filter { $0.error == nil }.map { Array($0.payload.readableBytesView) }
        #expect(payloads.contains(Self.apdus[1]) && payloads.contains(Self.apdus[2]))
        #expect(frames.contains { $0.error != nil })
    }

    @Test func oversizedLengthIsAnErrorNotAnAllocation() throws {
        var stream: [UInt8] = [0x00, 0x00, 0xFF, 0xFF, 0x30, 0x30, 0x30, 0x31, UInt8(ascii: "<")]  // claims ~4 GiB
        stream += try Self.framed([Self.xmlDocuments[1]], .ecma323, invokeIds: [5])
        let processor = NIOSingleStepByteToMessageProcessor(CSTAFrameDecoder(framing: .ecma323, maximumPayloadLength: 4096))
        var frames: [CSTAFrame] = []
        try processor.process(buffer: ByteBuffer(bytes: stream)) { frames.append($0) }
        try processor.finishProcessing(seenEOF: true) { frames.append($0) }
        #expect(frames.first?.error?.code == .frameTooLarge)
        #expect(frames.last.map { Array($0.payload.readableBytesView) } == Self.xmlDocuments[1])
    }

    @Test func writerRoundTripsEveryFraming() throws {
        for framing in [CSTAFraming.u16, .hipath, .tpkt] {
            let stream = try Self.framed(Self.apdus, framing)
            #expect(try Self.split(stream, framing).count == Self.apdus.count)
        }
        #expect(throws: CSTAEncodeError.self) {
            var out: [UInt8] = []
            try CSTAFrameWriter.write([UInt8](repeating: 0, count: 0x8000), framing: .hipath, to: &out)
        }
    }

    @Test func sniffing() {
        func sniff(_ b: [UInt8]) -> CSTAFraming? { b.withUnsafeBytes { CSTAFraming.sniff($0) } }
        #expect(sniff([0x26, 0x80, 0x0E, 0xA1]) == .hipath)
        #expect(sniff([0x03, 0x00, 0x00, 0x12, 0xA1]) == .tpkt)
        #expect(sniff(Array("\0\0\0\u{30}0001<".utf8)) == .ecma323)
        #expect(sniff([0x00, 0x0E, 0xA1, 0x0C]) == .u16)
        #expect(sniff([0xA1, 0x0C, 0x02]) == CSTAFraming.none)
        #expect(sniff(Array("<?xml".utf8)) == CSTAFraming.none)
        #expect(sniff([0x99, 0x99]) == nil)
    }
}

extension FramingTests {
    /// u16 has no marker byte: garbage reads as a length. The payload must start like an APDU, or the splitter
    /// resynchronises instead of waiting for (and swallowing) tens of kilobytes of following frames.
    @Test func u16GarbageDoesNotSwallowTheFramesBehindIt() throws {
        let good = try Self.framed(Self.apdus, .u16)
        let garbage: [UInt8] = [0xFF, 0xFE, 0x13, 0x37, 0x42]
        let stream = garbage + good
        let frames = try Self.split(stream, .u16, chunk: 7)
        #expect(frames.filter { $0.error == nil }.map { Array($0.payload.readableBytesView) } == Self.apdus)
        #expect(frames.first?.error?.code == .invalidFrameHeader)
    }
}
