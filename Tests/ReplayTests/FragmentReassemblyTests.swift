import CSTA
import Replay
import Testing

/// IPv4 and IPv6 fragments of TCP segments carrying CSTA frames: reassembled in any order, then framed as usual.
@Suite struct FragmentReassemblyTests {
    struct Built {
        var bytes: [UInt8]
        var switchPayloads: [[UInt8]]
        var applicationPayloads: [[UInt8]]
        var switchRanges: [Range<Int>]
        var conversation: Conversation
        /// Per packet record written: its file offset, and which segment (index into `segments`) it belongs to.
        var records: [(offset: Int64, segment: Int)]
        var segments: [Conversation.Segment]
        var fragmentPackets: Int
        var fragmentedDatagrams: Int
    }

    /// A conversation cut into segments of up to 1,400 bytes (several frames each); every data segment over 200 bytes
    /// is sent as fragments of 80–160 bytes. `shuffle`: the fragments of two neighbouring datagrams are mixed in a
    /// random order and one fragment in five is sent twice. `edit`: may change a datagram's fragment list
    /// (segment index, fragments) before it is written.
    static func build(
        ipv6: Bool, shuffle: Bool, seed: UInt64, framing: CSTAFraming = .u16,
        edit: (Int, inout [[UInt8]]) -> Void = { _, _ in }
    ) throws -> Built {
        let sw = try TestMessages.payloads(count: 160, fromSwitch: true, encoding: .ber, seed: seed)
        let app = try TestMessages.payloads(count: 30, fromSwitch: false, encoding: .ber, seed: seed + 1)
        let swStream = try TestMessages.stream(sw, framing: framing)
        let appStream = try TestMessages.stream(app, framing: framing)
        var conversation = Conversation()
        if ipv6 { conversation.useIPv6() }
        var random = SeededRandom(seed: seed)
        let (segments, _) = conversation.segments(
            switchStream: swStream.bytes, applicationStream: appStream.bytes, random: &random, maxSegment: 1400,
            retransmit: false, reorder: false)
        let ips = conversation.packets(segments, builder: PacketBuilder(link: .raw, ipv6: ipv6))
        var w = PcapWriter(linkType: 1)
        var records: [(Int64, Int)] = []
        var fragmentPackets = 0
        var fragmentedDatagrams = 0
        var window: [(packet: [UInt8], segment: Int)] = []
        func write(_ packets: [(packet: [UInt8], segment: Int)]) {
            for (p, s) in packets {
                records.append((Int64(w.bytes.count), s))
                w.addPacket(Fragmenter.ethernet(p), timestamp: ReplayTimestamp(seconds: 1_700_000_000, nanoseconds: 0))
            }
        }
        for (s, ip) in ips.enumerated() {
            guard segments[s].payload.count > 200 else {
                write(window)
                window = []
                write([(ip, s)])
                continue
            }
            // At most 160 bytes a piece: a segment over 200 bytes is at least two fragments.
            var pieces = Fragmenter.fragments(ip, size: Int.random(in: 80...160, using: &random), id: UInt32(s + 1))
            edit(s, &pieces)
            fragmentedDatagrams += 1
            fragmentPackets += pieces.count
            var tagged = pieces.map { ($0, s) }
            if shuffle {
                // A fragment sent twice, the copy first (a copy after its datagram completed would start a new one).
                let again = Int.random(in: 0..<5, using: &random) == 0 ? tagged.randomElement(using: &random) : nil
                window += tagged
                if window.count > tagged.count { // two datagrams' fragments, mixed
                    window.shuffle(using: &random)
                    if let again {
                        window.insert(again, at: 0)
                        fragmentPackets += 1
                    }
                    write(window)
                    window = []
                } else if let again {
                    window.insert(again, at: 0)
                    fragmentPackets += 1
                }
            } else {
                write(tagged)
            }
        }
        write(window)
        return Built(
            bytes: w.bytes, switchPayloads: sw, applicationPayloads: app, switchRanges: swStream.ranges,
            conversation: conversation, records: records, segments: segments, fragmentPackets: fragmentPackets,
            fragmentedDatagrams: fragmentedDatagrams)
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func fragmentedSegmentsReplayToTheOriginalMessages(_ ipv6: Bool, _ shuffle: Bool) throws {
        let built = try Self.build(ipv6: ipv6, shuffle: shuffle, seed: 21)
        #expect(built.fragmentedDatagrams > 10)
        let dir = try TempDir()
        let result = ReplayResult(try ReplaySource.open(path: try dir.write("fragments.pcap", built.bytes)))
        #expect(result.errors.isEmpty, "\(result.errors)")
        #expect(result.gaps.isEmpty, "\(result.gaps)")
        #expect(result.payloads(.switchToApplication) == built.switchPayloads)
        #expect(result.payloads(.applicationToSwitch) == built.applicationPayloads)
        #expect(result.counters.fragments == built.fragmentPackets)
        #expect(result.counters.reassembledDatagrams == built.fragmentedDatagrams)
        #expect(result.counters.incompleteDatagrams == 0)
        #expect(result.counters.connections == 1)
        #expect(result.counters.malformedPackets == 0)
    }

    /// One fragment never captured: its datagram is one error at the datagram's first fragment, the segment's bytes
    /// one TCP gap, and the frames around the hole still decode.
    @Test(arguments: [false, true])
    func missingFragmentIsReportedAndTheStreamResyncs(_ ipv6: Bool) throws {
        var victim: Int?
        // TPKT: its header is what the splitter resyncs on after the hole (a u16 length alone is a weak anchor).
        let built = try Self.build(ipv6: ipv6, shuffle: false, seed: 8, framing: .tpkt) { segment, pieces in
            // The first switch→application datagram of three fragments or more past the first ten segments.
            guard victim == nil, segment > 10, pieces.count >= 3 else { return }
            let fromSwitch = ipv6 ? pieces[0][8 + 15] == 2 : pieces[0][15] == 2
            guard fromSwitch else { return }
            victim = segment
            pieces.remove(at: 1)
        }
        let lost = try #require(victim)
        let dir = try TempDir()
        let result = ReplayResult(try ReplaySource.open(path: try dir.write("hole.pcap", built.bytes)))
        let firstFragment = try #require(built.records.first { $0.segment == lost })
        #expect(result.errors.map(\.kind) == [.unsupportedFragment])
        #expect(result.errors.first?.offset == firstFragment.offset)
        #expect(result.counters.incompleteDatagrams == 1)
        #expect(result.counters.reassembledDatagrams == built.fragmentedDatagrams - 1)

        let segment = built.segments[lost]
        let gap = try #require(result.gaps.first)
        #expect(result.gaps.count == 1)
        #expect(gap.direction == .switchToApplication)
        #expect(gap.expectedSeq == segment.seq && gap.bytesMissing == segment.payload.count)
        let holeStart = Int(segment.seq &- built.conversation.switchISN &- 1)
        let holeEnd = holeStart + segment.payload.count
        let before = zip(built.switchRanges, built.switchPayloads).filter { $0.0.upperBound <= holeStart }.map(\.1)
        let after = zip(built.switchRanges, built.switchPayloads).filter { $0.0.lowerBound >= holeEnd }.map(\.1)
        #expect(!before.isEmpty && !after.isEmpty)
        #expect(result.payloads(.switchToApplication) == before + after)
        #expect(result.payloads(.applicationToSwitch) == built.applicationPayloads)
    }

    /// A second copy of a fragment with different bytes: reported where it is; the bytes that came first are kept.
    @Test func conflictingOverlapKeepsTheFirstBytes() throws {
        var changed: Int?
        let built = try Self.build(ipv6: false, shuffle: false, seed: 5) { segment, pieces in
            guard changed == nil, pieces.count >= 2 else { return }
            changed = segment
            var copy = pieces[0]
            copy[copy.count - 1] ^= 0xFF
            pieces.insert(copy, at: 1)
        }
        let segment = try #require(changed)
        let dir = try TempDir()
        let result = ReplayResult(try ReplaySource.open(path: try dir.write("overlap.pcap", built.bytes)))
        let records = built.records.filter { $0.segment == segment }
        #expect(result.errors.map(\.kind) == [.unsupportedFragment])
        #expect(result.errors.first?.offset == records[1].offset)
        #expect(result.gaps.isEmpty)
        #expect(result.payloads(.switchToApplication) == built.switchPayloads)
        #expect(result.payloads(.applicationToSwitch) == built.applicationPayloads)
    }

    /// A lone fragment is dropped once a packet 60 s later arrives (not held to the end), at its own offset.
    @Test func staleFragmentIsDroppedAfterSixtySeconds() throws {
        let ip = PacketBuilder(link: .raw, ipv6: false).packet(
            from: TestEndpoint(address: [10, 0, 0, 2], port: 7001), to: TestEndpoint(address: [10, 0, 0, 1], port: 40000),
            seq: 1, ack: 0, flags: 0x18, payload: [UInt8](repeating: 0x30, count: 400))
        let pieces = Fragmenter.fragments(ip, size: 128, id: 77)
        var w = PcapWriter(linkType: 1)
        w.addPacket(Fragmenter.ethernet(pieces[0]), timestamp: ReplayTimestamp(seconds: 100, nanoseconds: 0))
        let late = w.bytes.count
        w.addPacket(Fragmenter.ethernet(pieces[1]), timestamp: ReplayTimestamp(seconds: 161, nanoseconds: 0))
        let dir = try TempDir()
        let reader = try ReplaySource.open(path: try dir.write("stale.pcap", w.bytes))
        var items: [ReplayError] = []
        while let item = reader.next() {
            if case .error(let e) = item { items.append(e) }
        }
        // The first is dropped when the second arrives; the second waits until the end.
        #expect(items.map(\.offset) == [24, Int64(late)])
        #expect(items.allSatisfy { $0.kind == .unsupportedFragment })
        #expect(reader.counters.incompleteDatagrams == 2 && reader.counters.fragments == 2)
    }

    /// A fragmented capture with bytes flipped (offsets, flags, lengths, ids all hit) reads to the end without trapping.
    @Test func flippedBytesInFragmentsNeverTrap() throws {
        let built = try Self.build(ipv6: true, shuffle: true, seed: 3)
        let dir = try TempDir()
        var random = SeededRandom(seed: 6)
        for round in 0..<40 {
            var bytes = built.bytes
            for _ in 0..<20 {
                bytes[Int.random(in: 24..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            let result = ReplayResult(try ReplaySource.open(path: try dir.write("f\(round)", bytes)))
            // A flipped record header may stop reading early (reported); anything else is read past.
            #expect(result.counters.packets > 0 || !result.errors.isEmpty)
        }
        let v4 = try Self.build(ipv6: false, shuffle: true, seed: 3)
        for round in 0..<40 {
            var bytes = v4.bytes
            for _ in 0..<20 {
                bytes[Int.random(in: 24..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            _ = ReplayResult(try ReplaySource.open(path: try dir.write("g\(round)", bytes)))
        }
    }

    /// More datagrams waiting than the bound (256): the oldest is dropped as soon as the next one arrives, not at the
    /// end, and what follows is read as usual.
    @Test func pendingDatagramsAreBounded() throws {
        let sw = TestEndpoint(address: [10, 0, 0, 2], port: 7001)
        let app = TestEndpoint(address: [10, 0, 0, 1], port: 40000)
        let builder = PacketBuilder(link: .raw, ipv6: false)
        let payload = try TestMessages.stream(
            TestMessages.payloads(count: 1, fromSwitch: true, encoding: .ber, seed: 2), framing: .tpkt)
        var w = PcapWriter(linkType: 1)
        // The handshake first, so the segment after the fragments is framed at once (not held as a mid-stream start).
        w.addPacket(Fragmenter.ethernet(builder.packet(from: sw, to: app, seq: 0, ack: 1, flags: 0x12, payload: [])),
                    timestamp: .zero)
        var offsets: [Int64] = []
        for id in 1...257 { // the first fragment of 257 datagrams that never complete
            let ip = builder.packet(
                from: sw, to: app, seq: 1, ack: 0, flags: 0x18, payload: [UInt8](repeating: 1, count: 300))
            offsets.append(Int64(w.bytes.count))
            w.addPacket(Fragmenter.ethernet(Fragmenter.fragments(ip, size: 128, id: UInt32(id))[0]), timestamp: .zero)
        }
        let whole = builder.packet(from: sw, to: app, seq: 1, ack: 0, flags: 0x18, payload: payload.bytes)
        w.addPacket(Fragmenter.ethernet(whole), timestamp: .zero)
        let dir = try TempDir()
        let reader = try ReplaySource.open(path: try dir.write("many.pcap", w.bytes))
        var order: [String] = []
        var errorOffsets: [Int64] = []
        while let item = reader.next() {
            switch item {
            case .message: order.append("message")
            case .error(let e):
                order.append("error")
                errorOffsets.append(e.offset)
            case .gap: order.append("gap")
            }
        }
        #expect(order.first == "error" && order.dropFirst().first == "message")
        #expect(order.filter { $0 == "error" }.count == 257)
        #expect(errorOffsets == offsets)
        #expect(reader.counters.incompleteDatagrams == 257 && reader.counters.fragments == 257)
    }
}
