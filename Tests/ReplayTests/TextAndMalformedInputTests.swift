import CSTA
import Foundation
import NIOCore
import Replay
import Testing

@Suite struct TextInputTests {
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
            .joined(separator: " ")
    }

    @Test func oneMessagePerLineHexWithComments() throws {
        let payloads = try TestMessages.payloads(count: 5, fromSwitch: true, encoding: .ber, seed: 1)
        var text = "# captured from the switch's trace\n\n"
        for (i, p) in payloads.enumerated() {
            // Spaced and compact lines, one with a HiPath header the splitter removes.
            if i == 2 {
                var framed: [UInt8] = []
                try CSTAFrameWriter.write(p, framing: .hipath, to: &framed)
                text += Self.hex(framed) + "\r\n"
            } else {
                text += i % 2 == 0 ? Self.hex(p) + "\n" : Self.hex(p).replacingOccurrences(of: " ", with: "") + "\n"
            }
        }
        let dir = try TempDir()
        let reader = try ReplaySource.open(path: try dir.write("trace.hex", Array(text.utf8)))
        #expect(reader.format == .hex)
        let result = ReplayResult(reader)
        #expect(result.errors.isEmpty, "\(result.errors)")
        #expect(result.payloads(.unknown) == payloads)
        #expect(result.messages.map(\.frameIndex) == Array(0..<5))
        #expect(result.counters.bytes == Int64(text.utf8.count) && result.counters.packets == 5)
    }

    /// `0000: 26 80 12 …` dumps, 16 bytes a line with an ASCII column, a message per run of continuing offsets.
    @Test func offsetPrefixedDumpSpanningLines() throws {
        let payloads = try TestMessages.payloads(count: 3, fromSwitch: true, encoding: .ber, seed: 2)
        var text = ""
        for p in payloads {
            var framed: [UInt8] = []
            try CSTAFrameWriter.write(p, framing: .hipath, to: &framed)
            var offset = 0
            while offset < framed.count {
                let line = Array(framed[offset..<min(offset + 16, framed.count)])
                let o = String(offset, radix: 16)
                let ascii = String(line.map { $0 >= 0x20 && $0 < 0x7F ? Character(UnicodeScalar($0)) : "." })
                    .replacingOccurrences(of: " ", with: ".")
                text += String(repeating: "0", count: 4 - o.count) + o + ": " + Self.hex(line) + "   |" + ascii + "|\n"
                offset += 16
            }
            text += "\n"
        }
        let dir = try TempDir()
        let result = ReplayResult(try ReplaySource.open(path: try dir.write("dump.txt", Array(text.utf8)), format: .hex))
        #expect(result.errors.isEmpty, "\(result.errors)")
        #expect(result.payloads(.unknown) == payloads)
        #expect(result.messages.allSatisfy { $0.framing == .hipath })
    }

    @Test func badHexLineIsATypedErrorWithItsOffset() throws {
        let payload = try TestMessages.payloads(count: 1, fromSwitch: true, encoding: .ber, seed: 3)[0]
        let text = Self.hex(payload) + "\nzz not hex\n" + Self.hex(payload) + "\n"
        let dir = try TempDir()
        let result = ReplayResult(try ReplaySource.open(path: try dir.write("bad.hex", Array(text.utf8))))
        #expect(result.messages.count == 2)
        #expect(result.errors.map(\.kind) == [.malformedText])
        #expect(result.errors.first?.offset == Int64(Self.hex(payload).utf8.count + 1))
    }

    @Test func xmlOneDocumentPerLineAndFramed() throws {
        let payloads = try TestMessages.payloads(count: 6, fromSwitch: true, encoding: .xml, seed: 4)
        let dir = try TempDir()
        let lines = payloads.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n") + "\n"
        let perLine = try ReplaySource.open(path: try dir.write("log.xml", Array(lines.utf8)))
        #expect(perLine.format == .xml)
        let result = ReplayResult(perLine)
        #expect(result.errors.isEmpty, "\(result.errors)")
        #expect(result.payloads(.unknown) == payloads)

        let (framed, ranges) = try TestMessages.stream(payloads, framing: .ecma323)
        let framedReader = try ReplaySource.open(path: try dir.write("log.bin", framed))
        #expect(framedReader.format == .xml)
        let framedResult = ReplayResult(framedReader)
        #expect(framedResult.payloads(.unknown) == payloads)
        #expect(framedResult.messages.map(\.headerInvokeId) == (0..<6).map { Int64($0) })
        #expect(framedResult.messages.map(\.fileOffset) == ranges.map { Int64($0.lowerBound) })
        #expect(framedResult.counters.bytes == Int64(framed.count))
    }
}

@Suite struct MalformedInputTests {
    func open(_ bytes: [UInt8], format: ReplayFormat = .auto) throws -> ReplayReader {
        let dir = try TempDir()
        return try ReplaySource.open(path: try dir.write("f", bytes), format: format)
    }

    func openError(_ bytes: [UInt8], format: ReplayFormat = .auto) throws -> ReplayError {
        let dir = try TempDir()
        let path = try dir.write("f", bytes)
        do throws(ReplayError) {
            _ = try ReplaySource.open(path: path, format: format)
        } catch {
            return error
        }
        Issue.record("opened")
        return ReplayError(.io, at: -1, "")
    }

    @Test func headersThatAreNotCaptures() throws {
        #expect(try openError([0xA1, 0xB2], format: .pcap).kind == .truncatedFile)
        #expect(try openError([UInt8](repeating: 0x55, count: 24), format: .pcap).kind == .unknownFormat)
        #expect(try openError([0x01, 0x02, 0x03, 0xFF]).kind == .unknownFormat)
        #expect(try openError([]).kind == .unknownFormat)
        var badVersion = PcapWriter(linkType: 1).bytes
        badVersion[4] = 9
        let error = try openError(badVersion)
        #expect(error.kind == .malformedHeader && error.offset == 4)
        #expect(try openError(Array("0000".utf8), format: .pcapng).kind == .unknownFormat)
        do throws(ReplayError) {
            _ = try ReplaySource.open(path: "/nonexistent/replay/file")
            Issue.record("opened a missing file")
        } catch {
            #expect(error.kind == .io)
        }
    }

    /// A capture cut in the middle of a record: the packets before it, then a truncation error at the record's offset.
    @Test func truncatedPcapAndPcapng() throws {
        let c = CaptureReplayTests.Case(container: "pcap-us-le", link: .raw, ipv6: false, encoding: .ber, framing: .hipath)
        let built = try CaptureReplayTests.build(c, seed: 11, count: 10, retransmit: false, reorder: false)
        let cut = Array(built.bytes.dropLast(5))
        let result = ReplayResult(try open(cut))
        #expect(result.errors.count == 1)
        let error = try #require(result.errors.first)
        #expect(error.kind == .truncatedFile)
        #expect(error.offset > 24 && error.offset < Int64(cut.count))
        #expect(result.counters.packets > 0)

        var w = PcapngWriter()
        w.addInterface(linkType: 101)
        w.addPacket([0x45, 0, 0, 20], interface: 0, timestamp: .zero)
        let full = w.bytes
        let blockStart = full.count - 36 // the enhanced packet block: 8 + 20 + 4 + 4 bytes
        let ng = ReplayResult(try open(Array(full.dropLast(3))))
        #expect(ng.errors.map(\.kind) == [.truncatedFile])
        #expect(ng.errors.first?.offset == Int64(blockStart))

        var lying = full
        lying[blockStart + 4] = 0x0D // a block length that is not a multiple of 4
        let bad = ReplayResult(try open(lying))
        #expect(bad.errors.map(\.kind) == [.malformedHeader])
        #expect(bad.errors.first?.offset == Int64(blockStart + 4))
    }

    /// An absurd record length is reported where it is, not allocated.
    @Test func oversizedRecordStopsWithAnError() throws {
        var w = PcapWriter(linkType: 101)
        w.addPacket([UInt8](repeating: 0, count: 40), timestamp: .zero)
        var bytes = w.bytes
        bytes[24 + 8] = 0xFF
        bytes[24 + 11] = 0x7F
        let result = ReplayResult(try open(bytes))
        #expect(result.errors.map(\.kind) == [.oversizedRecord])
        #expect(result.errors.first?.offset == 24)
    }

    /// Garbage packets, fragments, non-TCP and an unknown link type: errors with offsets and counters, no trap.
    @Test func malformedPacketsAreReportedAndSkipped() throws {
        var w = PcapngWriter()
        w.addInterface(linkType: 1)
        w.addInterface(linkType: 147) // a user link type
        var offsets: [Int64] = []
        func add(_ p: [UInt8], _ interface: Int = 0) {
            offsets.append(Int64(w.bytes.count))
            w.addPacket(p, interface: interface, timestamp: .zero)
        }
        add([1, 2, 3]) // Ethernet cut short
        var ipv4 = [UInt8](repeating: 0, count: 12) + [0x08, 0x00] + [0x45, 0, 0, 40, 0, 1, 0x20, 0, 64, 6, 0, 0]
        ipv4 += [UInt8](repeating: 1, count: 8) + [UInt8](repeating: 0, count: 20)
        add(ipv4) // more fragments
        var udp = ipv4
        udp[14 + 6] = 0x40
        udp[14 + 9] = 17
        add(udp) // UDP
        var badTCP = ipv4
        badTCP[14 + 6] = 0x40
        badTCP[14 + 20 + 12] = 0x10 // TCP data offset 4 bytes
        add(badTCP)
        add([0xDE, 0xAD], 1)
        add([0xBE, 0xEF], 1)
        let result = ReplayResult(try open(w.bytes))
        #expect(result.errors.map(\.kind) == [.malformedPacket, .unsupportedFragment, .malformedPacket, .unsupportedLinkType])
        #expect(result.errors.map(\.offset) == [offsets[0], offsets[1], offsets[3], offsets[4]])
        #expect(result.counters.fragments == 1)
        #expect(result.counters.nonTCPSkipped == 1)
        #expect(result.counters.malformedPackets == 4)
        #expect(result.counters.packets == 6)
        #expect(result.messages.isEmpty)
    }

    /// Every prefix of a capture, and the capture with bytes flipped, reads to the end without trapping.
    @Test func prefixesAndFlippedBytesNeverTrap() throws {
        let c = CaptureReplayTests.Case(container: "pcapng-le", link: .sll2, ipv6: true, encoding: .ber, framing: .u16)
        let built = try CaptureReplayTests.build(c, seed: 5, count: 6)
        let dir = try TempDir()
        var random = SeededRandom(seed: 99)
        var reads = 0
        for length in stride(from: 0, through: built.bytes.count, by: 37) {
            var bytes = Array(built.bytes[0..<length])
            if length % 2 == 0, !bytes.isEmpty {
                for _ in 0..<4 { bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= 0xFF }
            }
            guard let reader = try? ReplaySource.open(path: try dir.write("p\(length)", bytes)) else { continue }
            _ = ReplayResult(reader)
            reads += 1
        }
        #expect(reads > 10)
    }
}
