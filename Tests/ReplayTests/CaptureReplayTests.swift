import CSTA
import NIOCore
import Replay
import Testing

/// Captures built here from the project's own encoders and frame writer, disturbed like real captures (segments split,
/// coalesced, reordered, retransmitted with overlap), replayed back to the same messages.
@Suite struct CaptureReplayTests {
    struct Case: CustomStringConvertible, Sendable {
        var container: String // pcap-us-le, pcap-ns-be, pcapng-le, pcapng-be
        var link: TestLink
        var ipv6: Bool
        var encoding: CSTAEncoding
        var framing: CSTAFraming
        var description: String { "\(container) \(link) \(ipv6 ? "v6" : "v4") \(encoding) \(framing)" }
    }

    static let cases: [Case] = {
        let containers = ["pcap-us-le", "pcap-ns-be", "pcap-us-be", "pcap-ns-le", "pcapng-le", "pcapng-be"]
        var out: [Case] = []
        for (k, link) in TestLink.allCases.enumerated() {
            for ipv6 in [false, true] {
                let framings: [CSTAFraming] = [.hipath, .u16, .tpkt]
                let ber = Case(
                    container: containers[(k * 2 + (ipv6 ? 1 : 0)) % containers.count], link: link, ipv6: ipv6,
                    encoding: .ber, framing: framings[k % framings.count])
                out.append(ber)
            }
        }
        out.append(Case(container: "pcapng-le", link: .ethernet, ipv6: false, encoding: .xml, framing: .ecma323))
        out.append(Case(container: "pcap-ns-be", link: .sll2, ipv6: true, encoding: .xml, framing: .ecma323))
        return out
    }()

    struct Built {
        var bytes: [UInt8]
        var switchPayloads: [[UInt8]]
        var applicationPayloads: [[UInt8]]
        var switchRanges: [Range<Int>]
        var dropped: Conversation.Segment?
        var conversation: Conversation
    }

    static func build(
        _ c: Case, seed: UInt64, count: Int = 120, retransmit: Bool = true, reorder: Bool = true,
        drop: (fromSwitch: Bool, index: Int)? = nil
    ) throws -> Built {
        let sw = try TestMessages.payloads(count: count, fromSwitch: true, encoding: c.encoding, seed: seed)
        let app = try TestMessages.payloads(count: count / 4, fromSwitch: false, encoding: c.encoding, seed: seed + 1)
        let swStream = try TestMessages.stream(sw, framing: c.framing)
        let appStream = try TestMessages.stream(app, framing: c.framing)
        var conversation = Conversation()
        if c.ipv6 { conversation.useIPv6() }
        var random = SeededRandom(seed: seed)
        let (segments, dropped) = conversation.segments(
            switchStream: swStream.bytes, applicationStream: appStream.bytes, random: &random, retransmit: retransmit,
            reorder: reorder, drop: drop)
        let builder = PacketBuilder(link: c.link, ipv6: c.ipv6)
        let packets = conversation.packets(segments, builder: builder)
        let bytes = Self.container(c.container, packets: packets, linkType: builder.linkType)
        return Built(
            bytes: bytes, switchPayloads: sw, applicationPayloads: app, switchRanges: swStream.ranges, dropped: dropped,
            conversation: conversation)
    }

    /// The packets in the container; pcapng: every other packet on a second interface (same link type, nanoseconds),
    /// and every fifth as a simple packet block on interface 0.
    static func container(_ name: String, packets: [[UInt8]], linkType: UInt16) -> [UInt8] {
        var t = ReplayTimestamp(seconds: 1_700_000_000, nanoseconds: 0)
        func tick() -> ReplayTimestamp {
            t.nanoseconds += 123_457
            if t.nanoseconds >= 1_000_000_000 { t = ReplayTimestamp(seconds: t.seconds + 1, nanoseconds: 0) }
            return t
        }
        if name.hasPrefix("pcapng") {
            var w = PcapngWriter(bigEndian: name.hasSuffix("be"))
            w.addInterface(linkType: linkType)
            w.addInterface(linkType: linkType, nanoseconds: true)
            for (i, p) in packets.enumerated() {
                if i % 5 == 4 { w.addSimplePacket(p) } else { w.addPacket(p, interface: i % 2, timestamp: tick()) }
            }
            return w.bytes
        }
        var w = PcapWriter(linkType: UInt32(linkType), nanoseconds: name.contains("ns"), bigEndian: name.hasSuffix("be"))
        for p in packets { w.addPacket(p, timestamp: tick()) }
        return w.bytes
    }

    @Test(arguments: cases)
    func disturbedStreamReplaysToTheOriginalMessages(_ c: Case) throws {
        let built = try Self.build(c, seed: 42)
        let dir = try TempDir()
        let path = try dir.write("capture", built.bytes)
        let reader = try ReplaySource.open(path: path)
        #expect(reader.format == (c.container.hasPrefix("pcapng") ? .pcapng : .pcap))
        let result = ReplayResult(reader)
        #expect(result.errors.isEmpty, "\(result.errors)")
        #expect(result.gaps.isEmpty, "\(result.gaps)")
        #expect(result.payloads(.switchToApplication) == built.switchPayloads)
        #expect(result.payloads(.applicationToSwitch) == built.applicationPayloads)
        #expect(result.counters.connections == 1)
        #expect(result.counters.duplicateBytes > 0, "the capture retransmits")
        #expect(result.messages.allSatisfy { $0.framing == c.framing && $0.encoding == c.encoding })
        // Every message decodes to what the original bytes decode to.
        for (m, original) in zip(result.messages.filter { $0.direction == .switchToApplication }, built.switchPayloads) {
            let replayed = try CSTAMessage.decode(m.payload, encoding: m.encoding).record()
            let direct = try CSTAMessage.decode(ByteBuffer(bytes: original), encoding: c.encoding).record()
            #expect(replayed == direct)
        }
        let first = try #require(result.messages.first)
        #expect(first.connection.switchSide?.port == 7001)
        #expect(first.connection.applicationSide?.port == 40000)
        #expect(first.timestamp.seconds == 1_700_000_000)
        #expect(result.messages.filter { $0.direction == .switchToApplication }.map(\.frameIndex)
            == Array(0..<built.switchPayloads.count))
    }

    /// One segment of the switch's stream never captured: exactly one gap of its size; every frame wholly before it
    /// and every frame starting after it decode, in order.
    @Test(arguments: [CSTAFraming.hipath, .tpkt])
    func droppedSegmentIsOneGapAndTheStreamResyncs(_ framing: CSTAFraming) throws {
        let c = Case(container: "pcap-us-le", link: .ethernet, ipv6: false, encoding: .ber, framing: framing)
        let built = try Self.build(c, seed: 7, retransmit: false, reorder: true, drop: (true, 40))
        let dropped = try #require(built.dropped)
        let dir = try TempDir()
        let result = ReplayResult(try ReplaySource.open(path: try dir.write("hole.pcap", built.bytes)))
        #expect(result.gaps.count == 1)
        let gap = try #require(result.gaps.first)
        #expect(gap.bytesMissing == dropped.payload.count)
        #expect(gap.expectedSeq == dropped.seq)
        #expect(gap.resumedAt == dropped.seq &+ UInt32(dropped.payload.count))
        #expect(gap.direction == .switchToApplication)
        #expect(result.counters.gaps == 1 && result.counters.gapBytes == Int64(dropped.payload.count))
        #expect(result.errors.isEmpty, "resync skips are part of the gap: \(result.errors)")

        let holeStart = Int(dropped.seq &- built.conversation.switchISN &- 1)
        let holeEnd = holeStart + dropped.payload.count
        let before = zip(built.switchRanges, built.switchPayloads).filter { $0.0.upperBound <= holeStart }.map(\.1)
        let after = zip(built.switchRanges, built.switchPayloads).filter { $0.0.lowerBound >= holeEnd }.map(\.1)
        #expect(!before.isEmpty && !after.isEmpty)
        #expect(result.payloads(.switchToApplication) == before + after)
        #expect(result.payloads(.applicationToSwitch) == built.applicationPayloads)
        // Frames after the gap were held until the end of the file; they keep their own packets' capture times.
        let resumed = result.messages.filter { $0.direction == .switchToApplication }.suffix(after.count)
        #expect(Set(resumed.map(\.timestamp)).count > after.count / 4) // segments carry about two frames each
        #expect(resumed.map(\.timestamp) == resumed.map(\.timestamp).sorted())
    }

    /// With `port`, another TCP conversation in the same file is skipped; without it both are read as two connections.
    @Test func portSelectsTheCTIConnection() throws {
        let c = Case(container: "pcapng-le", link: .ethernet, ipv6: false, encoding: .ber, framing: .hipath)
        let cti = try Self.build(c, seed: 3, count: 20)
        var other = cti.conversation
        other.switchSide.port = 443
        other.application.port = 50000
        var random = SeededRandom(seed: 9)
        let noise = try TestMessages.stream(
            TestMessages.payloads(count: 10, fromSwitch: true, encoding: .ber, seed: 5), framing: .hipath)
        let otherSegments = other.segments(
            switchStream: noise.bytes, applicationStream: [], random: &random, retransmit: false, reorder: false)
        let builder = PacketBuilder(link: .ethernet, ipv6: false)
        var w = PcapngWriter()
        w.addInterface(linkType: 1)
        w.addInterface(linkType: 1)
        // The CTI capture's blocks (after its SHB and IDBs), then the other conversation's packets on interface 1.
        let ctiBlocks = Array(cti.bytes.dropFirst(Self.pcapngPrefixLength(cti.bytes)))
        var bytes = w.take()
        bytes += ctiBlocks
        for p in other.packets(otherSegments.segments, builder: builder) {
            w.addPacket(p, interface: 1, timestamp: ReplayTimestamp(seconds: 1_700_000_100, nanoseconds: 0))
        }
        bytes += w.take()
        let dir = try TempDir()
        let path = try dir.write("two.pcapng", bytes)

        let selected = ReplayResult(try ReplaySource.open(path: path, port: 7001))
        #expect(selected.counters.connections == 1)
        #expect(selected.payloads(.switchToApplication) == cti.switchPayloads)
        #expect(selected.counters.nonTCPSkipped > 0)

        let all = ReplayResult(try ReplaySource.open(path: path))
        #expect(all.counters.connections == 2)
        #expect(Set(all.messages.map(\.connection.id)) == [0, 1])
        let second = all.messages.filter { $0.connection.id == 1 }
        #expect(second.allSatisfy { $0.connection.switchSide?.port == 443 && $0.direction == .switchToApplication })
        #expect(second.map { Array($0.payload.readableBytesView) } == (try TestMessages.payloads(
            count: 10, fromSwitch: true, encoding: .ber, seed: 5)))
    }

    /// Bytes of the SHB and the two IDBs `container` writes for pcapng.
    static func pcapngPrefixLength(_ bytes: [UInt8]) -> Int {
        var at = 0
        for _ in 0..<3 {
            let length = Int(bytes[at + 4]) | Int(bytes[at + 5]) << 8 | Int(bytes[at + 6]) << 16 | Int(bytes[at + 7]) << 24
            at += length
        }
        return at
    }
}
