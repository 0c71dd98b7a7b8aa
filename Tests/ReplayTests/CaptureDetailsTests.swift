import CSTA
import NIOCore
import Replay
import Testing

/// Timestamps, pcapng sections, connection life cycles and direction rules.
@Suite struct CaptureDetailsTests {
    /// The switch sends `count` framed events over one connection; returns the payloads and the packets.
    static func conversation(
        _ conversation: Conversation = Conversation(), count: Int, seed: UInt64, link: TestLink = .raw,
        handshake: Bool = true, rst: Bool = false
    ) throws -> (payloads: [[UInt8]], packets: [[UInt8]]) {
        let payloads = try TestMessages.payloads(count: count, fromSwitch: true, encoding: .ber, seed: seed)
        let stream = try TestMessages.stream(payloads, framing: .hipath)
        var random = SeededRandom(seed: seed)
        var segments = conversation.segments(
            switchStream: stream.bytes, applicationStream: [], random: &random, retransmit: false, reorder: false
        ).segments
        if !handshake { segments.removeFirst(3) }
        if rst { segments[segments.count - 1].flags = 0x04 }
        return (payloads, conversation.packets(segments, builder: PacketBuilder(link: link, ipv6: false)))
    }

    static func read(_ bytes: [UInt8], port: UInt16? = nil) throws -> ReplayResult {
        let dir = try TempDir()
        return ReplayResult(try ReplaySource.open(path: try dir.write("capture", bytes), port: port))
    }

    @Test(arguments: [false, true])
    func pcapTimestampsInMicrosecondsAndNanoseconds(_ nanoseconds: Bool) throws {
        let (payloads, packets) = try Self.conversation(count: 3, seed: 1)
        var w = PcapWriter(linkType: 101, nanoseconds: nanoseconds, bigEndian: nanoseconds)
        for (i, p) in packets.enumerated() {
            w.addPacket(p, timestamp: ReplayTimestamp(seconds: 1_800_000_000 + Int64(i), nanoseconds: 123_456_789))
        }
        let result = try Self.read(w.bytes)
        #expect(result.payloads(.switchToApplication) == payloads)
        let stamp = try #require(result.messages.first?.timestamp)
        #expect(stamp.nanoseconds == (nanoseconds ? 123_456_789 : 123_456_000))
        #expect(stamp.seconds >= 1_800_000_003) // after the three handshake packets
        #expect(result.counters.packets == packets.count)
    }

    /// An interface whose `if_tsresol` is binary (2^-20 s): 5.5 s is 5·2^20 + 2^19 ticks. Unknown blocks are skipped.
    @Test func pcapngBinaryTimestampResolution() throws {
        let (payloads, packets) = try Self.conversation(count: 2, seed: 2)
        var bytes = PcapngWriter().bytes
        func le32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        let idbBody: [UInt8] = [101, 0, 0, 0] + le32(65535) + [9, 0, 1, 0, 0x80 | 20, 0, 0, 0] + [0, 0, 0, 0]
        bytes += le32(1) + le32(UInt32(12 + idbBody.count)) + idbBody + le32(UInt32(12 + idbBody.count))
        let ticks: UInt64 = 5 << 20 + 1 << 19
        // Blocks to skip: a name resolution block (4) and a custom block (0x40000BAD), between the IDB and the packets.
        bytes += le32(4) + le32(16) + le32(0) + le32(16)
        bytes += le32(0x4000_0BAD) + le32(20) + le32(32473) + le32(0xDEAD_BEEF) + le32(20)
        for p in packets {
            let padded = p + [UInt8](repeating: 0, count: (4 - p.count % 4) % 4)
            let body = le32(0) + le32(UInt32(ticks >> 32)) + le32(UInt32(ticks & 0xFFFF_FFFF)) + le32(UInt32(p.count))
                + le32(UInt32(p.count)) + padded
            bytes += le32(6) + le32(UInt32(12 + body.count)) + body + le32(UInt32(12 + body.count))
        }
        let result = try Self.read(bytes)
        #expect(result.errors.isEmpty, "\(result.errors)")
        #expect(result.payloads(.switchToApplication) == payloads)
        #expect(result.messages.first?.timestamp == ReplayTimestamp(seconds: 5, nanoseconds: 500_000_000))
    }

    /// A second section (big-endian, another link type) restarts the interface list; the connection goes on.
    @Test func pcapngSectionRestart() throws {
        let (payloads, raw) = try Self.conversation(count: 30, seed: 3, link: .raw)
        let (_, sll) = try Self.conversation(count: 30, seed: 3, link: .sll)
        #expect(raw.count == sll.count)
        let half = raw.count / 2
        var first = PcapngWriter()
        first.addInterface(linkType: 101)
        for p in raw[..<half] { first.addPacket(p, interface: 0, timestamp: .zero) }
        var second = PcapngWriter(bigEndian: true)
        second.addInterface(linkType: 113)
        for p in sll[half...] { second.addPacket(p, interface: 0, timestamp: .zero) }
        let result = try Self.read(first.bytes + second.bytes)
        #expect(result.errors.isEmpty, "\(result.errors)")
        #expect(result.counters.connections == 1)
        #expect(result.payloads(.switchToApplication) == payloads)
    }

    /// The same 4-tuple used twice (FIN, then a new SYN), and a connection ended by RST: three connections, all read.
    @Test func reusedFourTupleAndReset() throws {
        let a = try Self.conversation(count: 5, seed: 4)
        var second = Conversation()
        second.applicationISN = 77
        second.switchISN = 0xFFFF_FFF0
        let b = try Self.conversation(second, count: 6, seed: 5)
        var third = Conversation()
        third.application.port = 40001
        let c = try Self.conversation(third, count: 7, seed: 6, rst: true)
        var w = PcapWriter(linkType: 101)
        for p in a.packets + b.packets + c.packets { w.addPacket(p, timestamp: .zero) }
        let result = try Self.read(w.bytes)
        #expect(result.errors.isEmpty && result.gaps.isEmpty)
        #expect(result.counters.connections == 3)
        let byConnection = (0..<3).map { id in
            result.messages.filter { $0.connection.id == id }.map { Array($0.payload.readableBytesView) }
        }
        #expect(byConnection == [a.payloads, b.payloads, c.payloads])
    }

    /// No handshake in the file: the first segment gives the sequence number, and the lower port is the switch's —
    /// unless `port` says otherwise.
    @Test func midStreamCaptureUsesTheLowerPortOrTheGivenPort() throws {
        let (payloads, packets) = try Self.conversation(count: 8, seed: 7, handshake: false)
        var w = PcapWriter(linkType: 101)
        for p in packets { w.addPacket(p, timestamp: .zero) }
        let guessed = try Self.read(w.bytes)
        #expect(guessed.payloads(.switchToApplication) == payloads)
        #expect(guessed.messages.first?.connection.switchSide?.port == 7001)

        let told = try Self.read(w.bytes, port: 40000)
        #expect(told.payloads(.applicationToSwitch) == payloads)
        #expect(told.messages.first?.connection.switchSide?.port == 40000)
    }

    /// Packets cut by the snapshot length are counted; the bytes they lack are a gap.
    @Test func snapshotLengthCutsAreCountedAndBecomeGaps() throws {
        let (_, packets) = try Self.conversation(count: 20, seed: 8)
        var w = PcapWriter(linkType: 101, snapshotLength: 96)
        var cutBytes = 0
        for p in packets {
            let kept = min(p.count, 96)
            // Only data segments (the IPv4 + TCP headers with options are 24 + 32 bytes) lose bytes here.
            cutBytes += p.count - kept
            w.addPacket(p[..<kept], timestamp: .zero, originalLength: p.count)
        }
        let result = try Self.read(w.bytes)
        #expect(result.counters.truncatedPackets > 0)
        #expect(result.counters.gapBytes == Int64(cutBytes))
        #expect(result.counters.gaps == result.counters.truncatedPackets)
    }

    /// A hole that never fills while megabytes keep coming: the gap is decided when the held data passes its bound (not
    /// at the end of the file), so memory stays bounded, and every frame after the hole still decodes.
    @Test func holdingIsBoundedAndTheGapIsDecidedMidStream() throws {
        let base = try TestMessages.payloads(count: 3, fromSwitch: true, encoding: .ber, seed: 10)
        let payloads = (0..<(5 << 20) / 60).map { base[$0 % 3] }
        let stream = try TestMessages.stream(payloads, framing: .hipath)
        #expect(stream.bytes.count > 4 << 20)
        let conversation = Conversation()
        var random = SeededRandom(seed: 10)
        let (segments, dropped) = conversation.segments(
            switchStream: stream.bytes, applicationStream: [], random: &random, maxSegment: 1400, retransmit: false,
            reorder: false, drop: (true, 2))
        var w = PcapWriter(linkType: 101)
        var offsets: [Int64] = []
        for p in conversation.packets(segments, builder: PacketBuilder(link: .raw, ipv6: false, withOptions: false)) {
            offsets.append(Int64(w.bytes.count))
            w.addPacket(p, timestamp: .zero)
        }
        let result = try Self.read(w.bytes)
        let gap = try #require(result.gaps.first)
        #expect(result.gaps.count == 1)
        #expect(gap.bytesMissing == dropped?.payload.count)
        #expect(gap.fileOffset < offsets[offsets.count / 2], "decided long before the end of the file")
        let holeEnd = Int(gap.resumedAt &- conversation.switchISN &- 1)
        let after = zip(stream.ranges, payloads).filter { $0.0.lowerBound >= holeEnd }.map(\.1)
        #expect(Array(result.payloads(.switchToApplication).suffix(after.count)) == after)
        let holeStart = Int(gap.expectedSeq &- conversation.switchISN &- 1)
        let before = stream.ranges.filter { $0.upperBound <= holeStart }.count
        #expect(result.messages.count == before + after.count, "hole \(holeStart)..<\(holeEnd)")
    }

    /// IPv6 fragments (a fragment header) are counted and reported like IPv4 fragments.
    @Test func ipv6FragmentIsReported() throws {
        var packet: [UInt8] = [0x60, 0, 0, 0, 0, 8 + 20, 44, 64] + [UInt8](repeating: 0, count: 32)
        packet += [6, 0, 0, 1, 0, 0, 0, 1] + [UInt8](repeating: 0, count: 20)
        var w = PcapWriter(linkType: 229)
        w.addPacket(packet, timestamp: .zero)
        let result = try Self.read(w.bytes)
        #expect(result.errors.map(\.kind) == [.unsupportedFragment])
        #expect(result.errors.first?.offset == 24)
        #expect(result.counters.fragments == 1)
    }
}
