import CSTA
import CSTALink
import Foundation
import Logging
import NIOCore
import Replay
import Testing

/// `--record` (issue 5 part 3): the link against the simulator through a proxy that keeps what really passed on the
/// wire; the recorder's pcapng files, read back through ``ReplaySource``, must hold exactly that — every frame, in
/// order, per direction and connection, with no gap — also when rotated into many files.
@Suite(.serialized, .timeLimit(.minutes(1))) struct LinkRecordingTests {
    /// One session with calls: the file replays to the frames the proxy saw, each direction right, no gap, no error;
    /// the switch side is the proxy's port without telling the reader any port.
    @Test(arguments: [(CSTAEncoding.ber, CSTAFraming.hipath), (.xml, .ecma323)])
    func aRecordedSessionReplaysAsTheWireCarriedIt(_ encoding: CSTAEncoding, _ framing: CSTAFraming) async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/link.pcapng"
        let h = try await RecordedLink.start(path: path, encoding: encoding, framing: framing)
        try await h.placeCalls(3, seed: 5)
        #expect(await h.waitUntilQuiet(afterClearedEvents: 3), "the simulator's calls did not finish")
        let summary = await h.stop()
        #expect(summary.files == [path] && summary.error == nil && summary.droppedBytes == 0, "\(summary)")

        let wire = h.proxy.recorded
        let replayed = try ReplayedFile(path: path)
        #expect(replayed.gaps.isEmpty && replayed.errors.isEmpty, "gaps \(replayed.gaps), errors \(replayed.errors)")
        #expect(replayed.unknownDirections == 0)
        try #require(wire.count == 1 && replayed.ordered.count == 1, "connections: wire \(wire.count), file \(replayed.ordered.count)")
        let toSwitch = framePayloads(wire[0].toSwitch, framing: framing)
        let fromSwitch = framePayloads(wire[0].fromSwitch, framing: framing)
        #expect(replayed.ordered[0].toSwitch == toSwitch, "application→switch: \(replayed.ordered[0].toSwitch.count) of \(toSwitch.count)")
        #expect(replayed.ordered[0].fromSwitch == fromSwitch, "switch→application: \(replayed.ordered[0].fromSwitch.count) of \(fromSwitch.count)")
        #expect(replayed.switchPorts[0] == UInt16(h.proxy.port))

        // Decoded, the file's messages are the link's conversation: what it sent, then the switch's answers and events.
        let sent = records(replayed.ordered[0].toSwitch, encoding: encoding)
        let received = records(replayed.ordered[0].fromSwitch, encoding: encoding)
        #expect(!sent.contains(nil) && !received.contains(nil), "messages that do not decode")
        #expect(sent == records(toSwitch, encoding: encoding) && received == records(fromSwitch, encoding: encoding))
        #expect(sent.compactMap { $0?.string("service") }.filter { $0 == "MonitorStart" }.count == RecordedLink.monitors.count)
        #expect(eventNames(replayed.ordered[0].fromSwitch, encoding: encoding).filter { $0 == "connectionCleared" }.count >= 3)
        try expectTsharkReads(path)
    }

    /// A tiny size limit: many files, each of which replays on its own (no gap, no error, one connection with the
    /// switch on the proxy's port, whole frames only); together they are the whole session, frame for frame.
    @Test func rotatedFilesEachReplayAloneAndTogetherMakeTheSession() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/link.pcapng"
        let h = try await RecordedLink.start(path: path, maximumFileBytes: 1200)
        try await h.placeCalls(3, seed: 9)
        #expect(await h.waitUntilQuiet(afterClearedEvents: 3))
        let summary = await h.stop()
        #expect(summary.error == nil && summary.droppedBytes == 0, "\(summary)")
        #expect(summary.files.count >= 4, "files: \(summary.files)")
        #expect(summary.files.first == path && summary.files.dropFirst().enumerated().allSatisfy { $1 == "\(path).\($0 + 1)" })

        var together = ReplayedFile.Stream()
        for file in summary.files {
            let replayed = try ReplayedFile(path: file)
            #expect(replayed.gaps.isEmpty && replayed.errors.isEmpty, "\(file): gaps \(replayed.gaps), errors \(replayed.errors)")
            #expect(replayed.unknownDirections == 0 && replayed.messages > 0, "\(file)")
            #expect(replayed.ordered.count == 1 && replayed.switchPorts[0] == UInt16(h.proxy.port), "\(file): \(replayed.switchPorts)")
            for stream in replayed.ordered {
                #expect(!records(stream.toSwitch + stream.fromSwitch, encoding: .ber).contains(nil), "\(file): a cut frame")
                together.toSwitch += stream.toSwitch
                together.fromSwitch += stream.fromSwitch
            }
            // Past the limit only by the frame that crossed it (and the next file's handshake is in the next file).
            let size = try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int ?? 0
            if file != summary.files.last { #expect(size >= 1200, "\(file): \(size) bytes") }
        }
        let wire = try #require(h.proxy.recorded.first)
        #expect(together.toSwitch == framePayloads(wire.toSwitch, framing: .hipath))
        #expect(together.fromSwitch == framePayloads(wire.fromSwitch, framing: .hipath))
        try expectTsharkReads(summary.files[1])
    }

    /// `keep`: only the newest files stay; they still replay on their own.
    @Test func keepDeletesTheOldestFiles() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/link.pcapng"
        // An earlier recording's rotated file is not mixed into this one.
        try Data("old".utf8).write(to: URL(fileURLWithPath: path + ".1"))
        let h = try await RecordedLink.start(path: path, maximumFileBytes: 1000, keep: 2)
        try await h.placeCalls(2, seed: 11)
        #expect(await h.waitUntilQuiet(afterClearedEvents: 2))
        let summary = await h.stop()
        #expect(summary.files.count >= 4 && summary.error == nil, "\(summary)")
        let present = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        let newest = summary.files.suffix(2).map { ($0 as NSString).lastPathComponent }.sorted()
        #expect(present == newest, "left: \(present)")
        for file in summary.files.suffix(2) {
            let replayed = try ReplayedFile(path: file)
            #expect(replayed.gaps.isEmpty && replayed.errors.isEmpty && replayed.messages > 0, "\(file)")
        }
    }

    /// A dropped connection and the link's reconnect: two TCP connections in the file (the second from a new local
    /// port, with its own handshake), each replaying to what the wire carried on it.
    @Test func aReconnectIsASecondConnection() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/link.pcapng"
        let h = try await RecordedLink.start(path: path)
        try await Task.sleep(for: .milliseconds(200))
        h.proxy.dropConnections()
        let second = await eventually(within: .seconds(10)) {
            let upAgain = await h.link.linkIsUp
            return upAgain && h.proxy.recorded.count == 2
        }
        #expect(second, "the link did not reconnect through the proxy")
        try await h.placeCalls(1, seed: 13)
        #expect(await h.waitUntilQuiet(afterClearedEvents: 1))
        let summary = await h.stop()
        #expect(summary.error == nil && summary.droppedBytes == 0)

        let wire = h.proxy.recorded
        let replayed = try ReplayedFile(path: path)
        #expect(replayed.gaps.isEmpty && replayed.errors.isEmpty, "gaps \(replayed.gaps), errors \(replayed.errors)")
        try #require(wire.count == 2 && replayed.ordered.count == 2, "connections: wire \(wire.count), file \(replayed.ordered.count)")
        for (file, wire) in zip(replayed.ordered, wire) {
            #expect(file.toSwitch == framePayloads(wire.toSwitch, framing: .hipath))
            #expect(file.fromSwitch == framePayloads(wire.fromSwitch, framing: .hipath))
        }
        #expect(replayed.applicationPorts[0] != replayed.applicationPorts[1])
        #expect(replayed.switchPorts[0] == UInt16(h.proxy.port) && replayed.switchPorts[1] == UInt16(h.proxy.port))
        // Each connection starts with the association again.
        for stream in replayed.ordered {
            #expect(records(Array(stream.toSwitch.prefix(1)), encoding: .ber).first??.string("pdu") == "aarq")
        }
        try expectTsharkReads(path)
    }

    /// A first file that cannot be created is an error that names it; nothing is left running.
    @Test func aFileThatCannotBeCreatedIsAClearError() async throws {
        let path = "/nonexistent-\(UUID().uuidString)/link.pcapng"
        do {
            let recorder = try await LinkCaptureRecorder.start(.init(path: path), logger: .init(label: "test"))
            await recorder.finish()
            Issue.record("the recorder started on \(path)")
        } catch {
            #expect(error.description.contains(path) && error.description.contains("No such file"), "\(error)")
        }
    }
}

/// `tshark -r FILE -q` exits 0 when tshark is installed (skipped otherwise), and its expert analysis, with IP and TCP
/// checksums checked, finds no warning or error (no lost segment, no bad checksum, no malformed packet).
func expectTsharkReads(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let tshark = "/usr/bin/tshark"
    guard FileManager.default.isExecutableFile(atPath: tshark) else { return }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tshark)
    process.arguments = [
        "-r", path, "-q", "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-z", "expert",
    ]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "tshark -r \(path)", sourceLocation: sourceLocation)
    #expect(!text.contains("Errors (") && !text.contains("Warnings ("), "tshark -r \(path): \(text)", sourceLocation: sourceLocation)
    #expect(text.contains("Connection establish request (SYN)"), "tshark saw no handshake: \(text)", sourceLocation: sourceLocation)
}
