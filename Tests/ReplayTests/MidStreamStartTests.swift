import Replay
import Testing

/// A capture that starts mid-stream (no handshake) with its first segments out of order: the origin is the lowest
/// sequence number among the first segments, so nothing is taken for a retransmission.
@Suite struct MidStreamStartTests {
    /// The first data segments in the order `order` (indices into the first few), the rest as sent; the stream starts
    /// at a frame boundary so every frame is expected back.
    func replay(order: [Int], count: Int = 12) throws -> (ReplayResult, [[UInt8]], [[UInt8]]) {
        let (payloads, packets) = try CaptureDetailsTests.conversation(count: count, seed: 17, handshake: false)
        let head = order.map { packets[$0] }
        let rest = packets.enumerated().filter { !order.contains($0.offset) }.map(\.element)
        var w = PcapWriter(linkType: 101)
        for (i, p) in (head + rest).enumerated() {
            w.addPacket(p, timestamp: ReplayTimestamp(seconds: 1_800_000_000 + Int64(i), nanoseconds: 0))
        }
        return (try CaptureDetailsTests.read(w.bytes), payloads, packets)
    }

    @Test(arguments: [[1, 0], [2, 0, 1], [3, 1, 2, 0]])
    func reorderedFirstSegmentsLoseNothing(_ order: [Int]) throws {
        let (result, payloads, _) = try replay(order: order)
        #expect(result.errors.isEmpty, "\(result.errors)")
        #expect(result.gaps.isEmpty, "\(result.gaps)")
        #expect(result.counters.duplicateBytes == 0)
        #expect(result.payloads(.switchToApplication) == payloads)
        #expect(result.messages.first?.connection.switchSide?.port == 7001)
        // Frames keep the capture time of the packets they came in, not of the packet that settled the origin.
        #expect(result.messages.map(\.timestamp) == result.messages.map(\.timestamp).sorted())
    }

    /// A genuine retransmission of data from before the capture, far behind the first segment: not an origin.
    @Test func oldRetransmissionIsStillADuplicate() throws {
        var conversation = Conversation()
        conversation.switchISN = 0x2000_0000
        let (payloads, packets) = try CaptureDetailsTests.conversation(conversation, count: 12, seed: 17, handshake: false)
        let old = PacketBuilder(link: .raw, ipv6: false).packet(
            from: conversation.switchSide, to: conversation.application, seq: 0x2000_0001 &- 2_000_000, ack: 0,
            flags: 0x18, payload: [UInt8](repeating: 0x55, count: 100))
        var w = PcapWriter(linkType: 101)
        for p in [packets[0], old] + packets.dropFirst() { w.addPacket(p, timestamp: .zero) }
        let result = try CaptureDetailsTests.read(w.bytes)
        #expect(result.payloads(.switchToApplication) == payloads)
        #expect(result.counters.duplicateBytes == 100)
        #expect(result.gaps.isEmpty && result.errors.isEmpty)
    }
}
