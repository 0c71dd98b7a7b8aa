import CSTA
import Foundation
import NIOCore
import Replay
import Testing

/// Switch and client trace logs: a timestamp and a direction marker before the hex or XML of each line, and XML
/// documents pretty-printed over several lines.
@Suite struct TraceLogTests {
    static func hex(_ bytes: [UInt8]) -> String { TextInputTests.hex(bytes) }

    /// Seconds since the epoch of a UTC date and time, computed by Foundation (not by the reader's own arithmetic).
    static func utc(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int, _ s: Int) -> Int64 {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = calendar.date(from: DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: s))!
        return Int64(date.timeIntervalSince1970)
    }

    @Test func hexLinesWithTimestampsAndDirections() throws {
        let p = try TestMessages.payloads(count: 8, fromSwitch: true, encoding: .ber, seed: 31)
        var framed: [UInt8] = []
        try CSTAFrameWriter.write(p[6], framing: .hipath, to: &framed)
        var dump = ""
        for start in stride(from: 0, to: framed.count, by: 16) {
            let o = String(start, radix: 16)
            dump += String(repeating: "0", count: 4 - o.count) + o + ": "
                + Self.hex(Array(framed[start..<min(start + 16, framed.count)])) + "\n"
        }
        let lines = [
            "2026-11-23 10:15:02.123 RX: \(Self.hex(p[0]))",
            "2026-11-23T10:15:02,5+01:00 TX \(Self.hex(p[1]))",
            "10:15:02,123 <<< \(Self.hex(p[2]))",
            "[SEND] \(Self.hex(p[3]).replacingOccurrences(of: " ", with: ""))",
            "[2026-11-23 10:15:03.000] [INFO] >>> \(Self.hex(p[4]))",
            "2026/11/23 10:15:04 UTC recv: \(Self.hex(p[5]))",
            "[main] RX: \(Self.hex(p[0]))", // a prefix the reader does not know
            "2026-11-23 10:15:05.250 Received:", // a header line before a dump
        ]
        let text = lines.joined(separator: "\n") + "\n" + dump + "\n2026-11-23 10:15:06.000000001Z out \(Self.hex(p[7]))\n"
        let dir = try TempDir()
        let reader = try ReplaySource.open(path: try dir.write("switch.log", Array(text.utf8)))
        #expect(reader.format == .hex)
        let result = ReplayResult(reader)

        let unknownLine = lines[0..<6].reduce(0) { $0 + $1.utf8.count + 1 }
        #expect(result.errors.map(\.kind) == [.malformedText])
        #expect(result.errors.first?.offset == Int64(unknownLine))
        #expect(result.messages.map { Array($0.payload.readableBytesView) } == p)
        let s2a = ReplayDirection.switchToApplication, a2s = ReplayDirection.applicationToSwitch
        #expect(result.messages.map(\.direction) == [s2a, a2s, s2a, a2s, a2s, s2a, s2a, a2s])
        let day = Self.utc(2026, 11, 23, 0, 0, 0)
        #expect(result.messages.map(\.timestamp) == [
            ReplayTimestamp(seconds: day + 36902, nanoseconds: 123_000_000),
            ReplayTimestamp(seconds: day + 36902 - 3600, nanoseconds: 500_000_000), // +01:00
            .zero, // a time without a date
            .zero, // no time at all
            ReplayTimestamp(seconds: day + 36903, nanoseconds: 0),
            ReplayTimestamp(seconds: day + 36904, nanoseconds: 0),
            ReplayTimestamp(seconds: day + 36905, nanoseconds: 250_000_000), // the header line's
            ReplayTimestamp(seconds: day + 36906, nanoseconds: 1),
        ])
        #expect(result.messages[6].framing == .hipath)
        #expect(result.messages.map(\.frameIndex) == [0, 0, 1, 1, 2, 2, 3, 3])
        #expect(result.messages[6].fileOffset == Int64(unknownLine + lines[6].utf8.count + 1 + lines[7].utf8.count + 1))
    }

    /// Pretty-printed documents, one after another, with and without the same log prefix on every line; two documents
    /// on one line; `>` and `</` inside comments, CDATA and attribute values do not end a document.
    @Test(arguments: [false, true])
    func xmlDocumentsOverSeveralLines(_ prefixed: Bool) throws {
        let payloads = try TestMessages.payloads(count: 4, fromSwitch: true, encoding: .xml, seed: 12)
        func pretty(_ p: [UInt8]) -> String {
            String(decoding: p, as: UTF8.self).replacingOccurrences(of: "><", with: ">\n  <")
        }
        let tricky = #"<a x="1>2" y='</a>'><!-- </a> --><b><![CDATA[</a>]]></b><c/></a>"#
        var documents = payloads.map(pretty)
        documents.insert(tricky + "<d>\n</d>", at: 2)
        let stamps = ["2026-11-23 10:15:02.123 RX: ", "2026-11-23 10:15:03.123 TX: "]
        var text = ""
        for (i, document) in documents.enumerated() {
            for line in document.split(separator: "\n", omittingEmptySubsequences: false) {
                text += (prefixed ? stamps[i % 2] : "") + line + "\n"
            }
        }
        let dir = try TempDir()
        let reader = try ReplaySource.open(path: try dir.write("pretty.log", Array(text.utf8)))
        #expect(reader.format == .xml)
        let result = ReplayResult(reader)
        #expect(result.errors.isEmpty, "\(result.errors)")
        let texts = result.messages.map { String(decoding: $0.payload.readableBytesView, as: UTF8.self) }
        #expect(texts.count == 6)
        guard texts.count == 6 else { return }
        #expect(texts[2] == tricky && texts[3] == "<d>\n</d>")
        for (replayed, original) in zip([texts[0], texts[1], texts[4], texts[5]], payloads) {
            let a = try CSTAMessage.decode(ByteBuffer(string: replayed), encoding: .xml).record()
            let b = try CSTAMessage.decode(ByteBuffer(bytes: original), encoding: .xml).record()
            #expect(a == b)
        }
        if !prefixed { #expect(texts[0] == pretty(payloads[0])) } // a prefix takes the indentation with it
        #expect(result.messages.allSatisfy { $0.encoding == .xml })
        if prefixed {
            #expect(result.messages.map(\.direction) == [.switchToApplication, .applicationToSwitch, .switchToApplication,
                                                         .switchToApplication, .applicationToSwitch, .switchToApplication])
            #expect(result.messages[0].fileOffset == Int64(stamps[0].utf8.count))
        } else {
            #expect(result.messages.allSatisfy { $0.direction == .unknown && $0.timestamp == .zero })
            #expect(result.messages[0].fileOffset == 0)
        }
    }

    /// One-line documents after a prefix (`recv <CSTA…`); a document cut short is given up at a line of the other
    /// direction, and one still open at the end of the file: each an error at its first byte.
    @Test func xmlWithPrefixesAndUnclosedDocuments() throws {
        let payloads = try TestMessages.payloads(count: 3, fromSwitch: false, encoding: .xml, seed: 13)
        let lines = payloads.map { String(decoding: $0, as: UTF8.self) }
        let head = "recv \(lines[0])\n10:15:02,123 >>> \(lines[1])\n[SEND] \(lines[2])\n"
        let text = head + "send <Broken><x>\nrecv <Next/>\nsend <Open>\n"
        let dir = try TempDir()
        let result = ReplayResult(try ReplaySource.open(path: try dir.write("client.log", Array(text.utf8))))
        #expect(result.payloads(.switchToApplication) == [payloads[0], Array("<Next/>".utf8)])
        #expect(result.payloads(.applicationToSwitch) == [payloads[1], payloads[2]])
        #expect(result.errors.map(\.kind) == [.malformedText, .malformedText])
        let broken = head.utf8.count + "send ".utf8.count
        let open = text.utf8.count - "<Open>\n".utf8.count
        #expect(result.errors.map(\.offset) == [Int64(broken), Int64(open)])
    }

    /// OpenScape Voice's pretty-printed messages (the shared fixtures), one log: one message per document.
    @Test func realPrettyPrintedMessages() throws {
        let folder = PeerCorpusTests.shared.appendingPathComponent("fixtures/real/openscape-voice/captures")
        let names = [
            "05_MonitorStart.xml", "08_StartApplicationSession.xml", "09_SystemStatus.xml", "14_DeliveredEvent.xml",
        ]
        let present = names.allSatisfy { FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }
        guard present else {
            print("skipped: \(folder.path) not found")
            return
        }
        var log: [UInt8] = []
        for name in names { log += try Array(Data(contentsOf: folder.appendingPathComponent(name))) + [0x0A] }
        let dir = try TempDir()
        let result = ReplayResult(try ReplaySource.open(path: try dir.write("osv.log", log)))
        #expect(result.errors.isEmpty, "\(result.errors)")
        #expect(result.messages.count == names.count)
        let last = try #require(result.messages.last)
        #expect(String(decoding: last.payload.readableBytesView, as: UTF8.self).hasSuffix("</DeliveredEvent>"))
        #expect(try CSTAMessage.decode(last.payload, encoding: .xml).record().string("event") == "delivered")
    }

    /// Every prefix of a trace log mixing prefixes, hex and pretty-printed XML, with bytes flipped, reads to the end.
    @Test func prefixesAndFlippedBytesNeverTrap() throws {
        let xml = try TestMessages.payloads(count: 2, fromSwitch: true, encoding: .xml, seed: 3)
        let ber = try TestMessages.payloads(count: 2, fromSwitch: true, encoding: .ber, seed: 3)
        var text = "[2026-11-23 10:15:02.123+05:30] [DEBUG] RX: \(Self.hex(ber[0]))\n"
        text += "10:15:02,123 <<< \(Self.hex(ber[1]))\n"
        for p in xml {
            let pretty = String(decoding: p, as: UTF8.self).replacingOccurrences(of: "><", with: ">\n<")
            for line in pretty.split(separator: "\n") {
                text += "2026-11-23T10:15:03Z TX " + line + "\n"
            }
        }
        text += "<a x='>'><!-- <b> --><![CDATA[</a>]]></a>\n"
        let full = Array(text.utf8)
        let dir = try TempDir()
        var random = SeededRandom(seed: 4)
        var reads = 0
        for length in stride(from: 0, through: full.count, by: 7) {
            var bytes = Array(full[0..<length])
            if length % 2 == 0, !bytes.isEmpty {
                for _ in 0..<3 {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                }
            }
            for format in [ReplayFormat.auto, .hex, .xml] {
                guard let reader = try? ReplaySource.open(path: try dir.write("t\(length)", bytes), format: format) else {
                    continue
                }
                _ = ReplayResult(reader)
                reads += 1
            }
        }
        #expect(reads > 100)
    }

    /// Documents over `maximumPayloadLength` are skipped with an error, on one line or over many; the next is read.
    @Test func oversizedDocumentsAreSkipped() throws {
        let filler = String(repeating: "<x>0123456789</x>", count: 20)
        let long = "<big>" + filler + "</big>"
        let spread = "<big>\n" + String(repeating: "<x>0123456789</x>\n", count: 20) + "</big>"
        let text = "RX " + long + "\nRX <ok/>\n" + spread + "\nTX <fine/>\n"
        let dir = try TempDir()
        let reader = try ReplaySource.open(
            path: try dir.write("big.log", Array(text.utf8)), maximumPayloadLength: 200)
        let result = ReplayResult(reader)
        #expect(result.errors.map(\.kind) == [.malformedText, .malformedText])
        let spreadStart = text.utf8.count - spread.utf8.count - "\nTX <fine/>\n".utf8.count
        #expect(result.errors.map(\.offset) == [3, Int64(spreadStart)])
        let texts = result.messages.map { String(decoding: $0.payload.readableBytesView, as: UTF8.self) }
        #expect(texts == ["<ok/>", "<fine/>"])
    }
}
