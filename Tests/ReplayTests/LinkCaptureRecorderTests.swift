import CSTA
import CSTALink
import Foundation
import Logging
import NIOCore
import Replay
import Testing

/// The recorder fed by hand (no link): packet sizes, IPv6, timestamps, and what happens when the disk is behind.
@Suite(.serialized, .timeLimit(.minutes(1))) struct LinkCaptureRecorderTests {
    static let quiet = Logger(label: "test.recorder") { _ in SwiftLogNoOpLogHandler() }

    /// An ECMA-323 frame around an XML-ish payload of `size` bytes (no NUL: the framing reads NUL as a new header).
    static func frame(_ size: Int, tag: String) throws -> [UInt8] {
        let body = "<\(tag)>" + String(repeating: "x", count: max(0, size - 2 * tag.count - 5)) + "</\(tag)>"
        var out: [UInt8] = []
        try CSTAFrameWriter.write(Array(body.utf8), framing: .ecma323, invokeId: 1, to: &out)
        return out
    }

    /// The captured length of every enhanced packet block (little-endian pcapng, as the recorder writes it).
    static func packetLengths(_ path: String) throws -> [Int] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        func u32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
        var at = 0
        var lengths: [Int] = []
        while at + 12 <= bytes.count {
            if u32(at) == 6 { lengths.append(u32(at + 20)) }
            at += u32(at + 4)
        }
        return lengths
    }

    /// A link that listens (the switch dialled, so the file shows the switch's SYN): every packet says its direction
    /// in `epb_flags`, and the reader takes the switch's side from that — no port, no guess from the handshake.
    @Test func aListenModeRecordingReplaysWithTheSwitchOnItsSide() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/listen.pcapng"
        let recorder = try await LinkCaptureRecorder.start(.init(path: path), logger: Self.quiet)
        let connection = LinkTapConnection(
            local: try SocketAddress(ipAddress: "10.1.2.3", port: 2555),
            remote: try SocketAddress(ipAddress: "10.1.2.4", port: 51_234), role: .server)
        let fromSwitch = try Self.frame(80, tag: "event")
        let toSwitch = try Self.frame(60, tag: "answer")
        recorder.linkOpened(connection)
        recorder.linkBytes(ByteBuffer(bytes: fromSwitch), direction: .fromSwitch, streamOffset: 0, connection: connection)
        recorder.linkBytes(ByteBuffer(bytes: toSwitch), direction: .toSwitch, streamOffset: 0, connection: connection)
        recorder.linkClosed(connection, sent: Int64(toSwitch.count), received: Int64(fromSwitch.count))
        _ = await recorder.finish()

        let reader = try ReplaySource.open(path: path)
        var seen: [(ReplayDirection, [UInt8])] = []
        while let item = reader.next() {
            guard case .message(let m) = item else {
                Issue.record("\(item)")
                continue
            }
            seen.append((m.direction, Array(m.payload.readableBytesView)))
            #expect(m.connection.switchSide?.port == 51_234 && m.connection.applicationSide?.port == 2555)
        }
        #expect(seen.map(\.0) == [.switchToApplication, .applicationToSwitch])
        #expect(seen.map(\.1) == [Array(fromSwitch.dropFirst(8)), Array(toSwitch.dropFirst(8))])
    }

    /// A 200 KB frame each way, over IPv4 and IPv6: split into packets of at most 65,535 bytes of IP, replayed whole,
    /// with the real endpoints and wall-clock timestamps.
    @Test(arguments: [("10.1.2.3", "10.1.2.4"), ("2001:db8::10", "2001:db8::20")])
    func largeFramesAreSplitIntoPacketsThatFitAndReplayWhole(_ application: String, _ switchHost: String) async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/big.pcapng"
        let recorder = try await LinkCaptureRecorder.start(.init(path: path), logger: Self.quiet)
        let connection = LinkTapConnection(
            local: try SocketAddress(ipAddress: application, port: 40_123),
            remote: try SocketAddress(ipAddress: switchHost, port: 4721), role: .client)
        let before = ReplayTimestamp(seconds: Int64(Date().timeIntervalSince1970) - 1, nanoseconds: 0)
        let sent = [try Self.frame(300, tag: "a"), try Self.frame(200_000, tag: "b")]
        let received = [try Self.frame(120, tag: "c"), try Self.frame(200_000, tag: "d"), try Self.frame(90, tag: "e")]
        recorder.linkOpened(connection)
        var offsets: [LinkTapDirection: Int64] = [.toSwitch: 0, .fromSwitch: 0]
        let traffic = sent.map { ($0, LinkTapDirection.toSwitch) } + received.map { ($0, LinkTapDirection.fromSwitch) }
        for (frame, direction) in traffic {
            recorder.linkBytes(ByteBuffer(bytes: frame), direction: direction, streamOffset: offsets[direction]!, connection: connection)
            offsets[direction]! += Int64(frame.count)
        }
        recorder.linkClosed(connection, sent: offsets[.toSwitch]!, received: offsets[.fromSwitch]!)
        let summary = await recorder.finish()
        let after = ReplayTimestamp(seconds: Int64(Date().timeIntervalSince1970) + 1, nanoseconds: 0)
        #expect(summary.error == nil && summary.droppedBytes == 0 && summary.files == [path])

        let lengths = try Self.packetLengths(path)
        #expect(lengths.max().map { $0 - 14 <= 65_535 } == true, "largest packet: \(lengths.max() ?? 0)")
        #expect(lengths.filter { $0 > 60_000 }.count >= 6, "the 200 KB frames were not split in large packets")
        let reader = try ReplaySource.open(path: path)
        var toSwitch: [[UInt8]] = [], fromSwitch: [[UInt8]] = []
        while let item = reader.next() {
            guard case .message(let m) = item else {
                Issue.record("\(item)")
                continue
            }
            #expect(m.timestamp > before && m.timestamp < after, "\(m.timestamp)")
            #expect(m.connection.switchSide?.port == 4721 && m.connection.applicationSide?.port == 40_123)
            #expect(m.connection.switchSide?.isIPv6 == application.contains(":"))
            let framed = Array(m.payload.readableBytesView)
            if m.direction == .applicationToSwitch { toSwitch.append(framed) } else { fromSwitch.append(framed) }
        }
        #expect(toSwitch == sent.map { Array($0.dropFirst(8)) })
        #expect(fromSwitch == received.map { Array($0.dropFirst(8)) })
        #expect(reader.counters.connections == 1)
        try expectTsharkReads(path)
    }

    /// A queue of one and a burst of frames: frames are dropped rather than waited for; the file tells the truth —
    /// each hole is a gap of exactly the dropped bytes, every frame that was kept replays whole, nothing else is wrong.
    @Test func whenTheDiskIsBehindFramesAreDroppedAndTheFileShowsTheGaps() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/burst.pcapng"
        let recorder = try await LinkCaptureRecorder.start(.init(path: path, queueCapacity: 1), logger: Self.quiet)
        let connection = LinkTapConnection(
            local: try SocketAddress(ipAddress: "127.0.0.1", port: 50_000),
            remote: try SocketAddress(ipAddress: "127.0.0.1", port: 4711), role: .client)
        let frame = try Self.frame(100, tag: "e")
        recorder.linkOpened(connection)
        try await Task.sleep(for: .milliseconds(100)) // the open is written: the queue is empty
        for i in 0..<3000 {
            recorder.linkBytes(
                ByteBuffer(bytes: frame), direction: .fromSwitch, streamOffset: Int64(i * frame.count), connection: connection)
        }
        try await Task.sleep(for: .milliseconds(300)) // the queue drains, so the close (with the lengths) is kept
        recorder.linkClosed(connection, sent: 0, received: Int64(3000 * frame.count))
        let summary = await recorder.finish()
        #expect(summary.error == nil)
        #expect(summary.droppedBytes > 0, "a queue of one kept up with 3000 frames in a burst")
        #expect(summary.droppedBytes % Int64(frame.count) == 0, "only whole frames are dropped")

        let reader = try ReplaySource.open(path: path)
        var messages = 0, gapBytes = 0
        while let item = reader.next() {
            switch item {
            case .message(let m):
                messages += 1
                #expect(Array(m.payload.readableBytesView) == Array(frame.dropFirst(8)))
            case .gap(let g): gapBytes += g.bytesMissing
            case .error(let e): Issue.record("\(e)")
            }
        }
        #expect(Int64(gapBytes) == summary.droppedBytes)
        #expect(messages > 0 && messages + gapBytes / frame.count == 3000, "\(messages) frames, \(gapBytes) bytes missing")
    }
}
