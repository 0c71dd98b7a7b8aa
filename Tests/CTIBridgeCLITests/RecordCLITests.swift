import CSTA
import Foundation
import NIOCore
import Replay
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `ctibridge tail --record FILE` as a site would run it: the file it leaves behind replays.
@Suite(.serialized, .timeLimit(.minutes(1))) struct RecordCLITests {
    @Test func recordingOptionsThatCannotWorkAreRefused() async throws {
        let keepAlone = try await CLI.run(["tail", "--switch", "127.0.0.1:1", "--record", "x.pcapng", "--record-keep", "2"])
        #expect(keepAlone.status != 0 && keepAlone.stderr.contains("--record-max-mb"), "\(keepAlone.stderr)")
        let sizeAlone = try await CLI.run(["tail", "--switch", "127.0.0.1:1", "--record-max-mb", "5"])
        #expect(sizeAlone.status != 0 && sizeAlone.stderr.contains("--record"), "\(sizeAlone.stderr)")
        let zero = try await CLI.run(["tail", "--switch", "127.0.0.1:1", "--record", "x.pcapng", "--record-max-mb", "0"])
        #expect(zero.status != 0 && zero.stderr.contains("positive"), "\(zero.stderr)")
        // serve: --record-keep works with the file's maxMegabytes, and is refused when neither gives a size.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ctibridge-rec-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = """
            switch: {host: 127.0.0.1, port: 4711, flavour: hipathBER}
            monitor: {devices: "4001"}
            database: {path: \(dir)/db.sqlite}
            """
        try (base + "\nrecord: {path: \(dir)/a.pcapng, maxMegabytes: 5}\n").write(toFile: dir + "/sized.yaml", atomically: true, encoding: .utf8)
        try (base + "\n").write(toFile: dir + "/plain.yaml", atomically: true, encoding: .utf8)
        let sized = try await CLI.run(["serve", "--config", dir + "/sized.yaml", "--record", dir + "/b.pcapng", "--record-keep", "2", "--check"])
        #expect(sized.status == 0 && String(decoding: sized.stdout, as: UTF8.self).contains("b.pcapng"), "\(sized.stderr)")
        let unsized = try await CLI.run(["serve", "--config", dir + "/plain.yaml", "--record", dir + "/b.pcapng", "--record-keep", "2", "--check"])
        #expect(unsized.status != 0 && unsized.stderr.contains("--record-max-mb"), "\(unsized.stderr)")
        let help = try await CLI.run(["tail", "--help"])
        #expect(String(decoding: help.stdout, as: UTF8.self).contains("--record-max-mb"))
        let serveHelp = try await CLI.run(["serve", "--help"])
        #expect(String(decoding: serveHelp.stdout, as: UTF8.self).contains("--record <file>"))
    }

    /// `tail --record` against `simulate`: after SIGTERM the file replays through ``ReplaySource`` with no gap or
    /// error, the association first, the switch's events (the ones tail printed among them) after it.
    @Test func tailRecordWritesAFileThatReplays() async throws {
        let (sim, port) = try await ChildProcess.inboundSimulator()
        defer { sim.kill() }

        let path = try CLI.temporaryFile(Data(), suffix: ".pcapng")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tail = try ChildProcess("tail", [
            "tail", "--switch", "127.0.0.1:\(port)", "--encoding", "ber", "--monitor", "4001-4005,8001", "--heartbeat", "2",
            "--record", path,
        ])
        defer { tail.kill() }
        let delivered = await tail.firstJSONLine(within: .seconds(15)) { $0["event"] as? String == "delivered" }
        #expect(delivered != nil, "tail printed no delivered event: \(tail.errorText)")
        tail.send(SIGTERM)
        let exit = await tail.exit(within: .seconds(5))
        #expect(exit?.reason == .exit && exit?.status == 0, "tail: \(tail.errorText)")
        sim.send(SIGTERM)

        let reader = try ReplaySource.open(path: path)
        var sent: [CSTARecord] = []
        var received: [CSTARecord] = []
        var problems: [String] = []
        while let item = reader.next() {
            switch item {
            case .message(let m):
                guard let record = try? CSTAMessage.decode(m.payload, encoding: m.encoding).record() else {
                    problems.append("undecodable message \(m.frameIndex)")
                    continue
                }
                if m.direction == .applicationToSwitch { sent.append(record) } else { received.append(record) }
                if m.connection.switchSide?.port != UInt16(port) { problems.append("switch side \(m.connection)") }
            case .gap(let gap): problems.append("\(gap)")
            case .error(let error): problems.append("\(error)")
            }
        }
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        #expect(reader.counters.connections == 1)
        #expect(sent.first?.string("pdu") == "aarq" && received.first?.string("pdu") == "aare")
        #expect(sent.filter { $0.string("service") == "MonitorStart" }.count == 6)
        let events = received.compactMap { $0.string("event") }
        #expect(events.contains("delivered"), "events: \(events)")
    }
}
