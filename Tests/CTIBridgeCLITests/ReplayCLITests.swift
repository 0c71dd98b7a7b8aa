import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A packet capture on the loopback interface by an independent tool (tcpdump, else Wireshark's dumpcap), as an
/// integrator would make one on site.
final class LoopbackCapture {
    static let tool: (path: String, kind: String)? = {
        guard geteuid() == 0 else { return nil }  // capturing needs the raw-socket capability
        for (path, kind) in [("/usr/bin/tcpdump", "tcpdump"), ("/usr/sbin/tcpdump", "tcpdump"), ("/usr/bin/dumpcap", "dumpcap")]
        where FileManager.default.isExecutableFile(atPath: path) {
            return (path, kind)
        }
        return nil
    }()

    static var isAvailable: Bool { tool != nil }

    let process = Process()
    let errorPath: String

    /// Starts capturing TCP on `port` into `file`; returns once the tool says it listens.
    init(port: Int, file: String) async throws {
        let tool = try #require(Self.tool)
        errorPath = file + ".err"
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: tool.path)
        process.arguments =
            tool.kind == "tcpdump"
            ? ["-i", "lo", "-U", "-s", "0", "-w", file, "tcp port \(port)"]
            : ["-q", "-i", "lo", "-f", "tcp port \(port)", "-w", file]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        try process.run()
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, process.isRunning {
            let text = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            if text.contains("listening on") || text.contains("Capturing on") || FileManager.default.fileExists(atPath: file) {
                try await Task.sleep(for: .milliseconds(300))
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let text = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
        Issue.record("\(tool.kind) did not start capturing: \(text)")
    }

    deinit { kill() }

    func kill() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Stops the capture (the tool writes what it buffered and exits).
    func stop() async {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGINT)
        let deadline = ContinuousClock.now + .seconds(5)
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        kill()
    }
}

/// `ctibridge replay` on a real capture: the simulator and `serve` as processes over loopback, captured by tcpdump
/// (an independent writer of pcap), the switch dropping the link once. The capture replayed into a scratch database
/// must give the live run's call records; played as the switch towards a second bridge (`--to`, the bridge listens)
/// and a third (`--listen`, the bridge dials), too.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ReplayCLITests {
    @Test func badArgumentsAreRefusedClearly() async throws {
        let speed = try await CLI.run(["replay", "x.pcap", "--speed", "fast"])
        #expect(speed.status != 0 && speed.stderr.contains("--speed"))
        let to = try await CLI.run(["replay", "x.pcap", "--to", "nowhere"])
        #expect(to.status != 0 && to.stderr.contains("--to"))
        let missing = try await CLI.run(["replay", "/nonexistent/capture.pcap"])
        #expect(missing.status == 66 && missing.stderr.contains("/nonexistent/capture.pcap"))
        let diff = try await CLI.run(["replay", "x.pcap", "--diff", "y.sqlite"])
        #expect(diff.status != 0 && diff.stderr.contains("--into-db"))
    }

    /// The peers' corpus wrapped into a pcap by their own `make_pcap.py` (two directions, PDUs coalesced into
    /// segments): `replay --json` prints, line for line, what `decode` prints for the corpus's framed bytes and what
    /// the independent codec expects — plus its own keys.
    @Test(.enabled(if: CLI.hasShared("tools/peers/make_pcap.py") && CLI.hasShared("fixtures/corpus-dev/frames.bin")))
    func jsonEqualsDecodeOnTheSameBytes() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ctibridge-replay-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let decoded = try await CLI.run(["decode", CLI.shared("fixtures/corpus-dev/frames.bin").path])
        #expect(decoded.status == 0)
        let expected = try String(contentsOf: CLI.shared("fixtures/corpus-dev/expected.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! NSDictionary }
        for coalesce in ["1", "5"] {
            let pcap = dir + "/corpus-\(coalesce).pcap"
            let make = Process()
            make.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            make.arguments = [CLI.shared("tools/peers/make_pcap.py").path, CLI.shared("fixtures/corpus-dev").path, pcap, "--coalesce", coalesce]
            make.standardOutput = FileHandle.nullDevice
            try make.run()
            await make.exited()
            try #require(make.terminationStatus == 0)
            let replayed = try await CLI.run(["replay", pcap, "--json"])
            #expect(replayed.status == 0)
            let ours = ["timestamp", "direction", "connection", "frame"]
            let lines = replayed.jsonLines
            #expect(lines.count == decoded.jsonLines.count && lines.count == expected.count)
            for (index, (line, reference)) in zip(lines, decoded.jsonLines).enumerated() {
                #expect(Set(ours).isSubset(of: Set(line.keys)), "line \(index) lacks replay's keys")
                let stripped = line.filter { !ours.contains($0.key) }
                #expect(NSDictionary(dictionary: stripped) == NSDictionary(dictionary: reference), "line \(index)")
                if index < expected.count {
                    var peer = stripped
                    peer["snapshotStates"] = nil  // a key of ours the peers' key set lacks
                    #expect(NSDictionary(dictionary: peer) == expected[index], "line \(index) against the peers")
                }
            }
        }
    }

    @Test(.enabled(if: LoopbackCapture.isAvailable, "needs tcpdump or dumpcap and root"))
    func aCapturedLiveRunReplaysIntoTheSameCallRecords() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ctibridge-replay-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try ServeCrashTests.freePort()
        let capture = dir + "/site.pcap"
        let tap = try await LoopbackCapture(port: port, file: capture)
        defer { tap.kill() }

        let calls = 60
        let truth = dir + "/truth.jsonl"
        let simulator = try ChildProcess("simulate", [
            "simulate", "--listen", "127.0.0.1:\(port)", "--encoding", "ber", "--agents", "10", "--rate", "12",
            "--calls", "\(calls)", "--time-scale", "0.05", "--seed", "11", "--truth", truth, "--fault", "drop:2.5s*1",
        ])
        defer { simulator.kill() }
        _ = await simulator.firstJSONLine(within: .seconds(15)) { $0["type"] as? String == "listening" }
        let live = dir + "/live.sqlite"
        let config = try Self.config(dir + "/live.yaml", port: port, role: "client", database: live)
        let serve = try ChildProcess("serve", ["serve", "--config", config])
        defer { serve.kill() }

        // Wait for the simulator's calls to end (a routed call offered while the link was down waits for ever, so
        // stop once no call has ended for three seconds).
        let deadline = ContinuousClock.now + .seconds(60)
        var ended = 0
        var lastChange = ContinuousClock.now
        while ended < calls, ContinuousClock.now < deadline, ContinuousClock.now - lastChange < .seconds(3) || ended == 0 {
            try await Task.sleep(for: .milliseconds(100))
            let now = ServeCrashTests.lineCount(truth)
            if now != ended {
                ended = now
                lastChange = ContinuousClock.now
            }
        }
        #expect(ended >= calls / 2, "the simulator finished \(ended) calls")
        try await Task.sleep(for: .milliseconds(800))
        serve.send(SIGTERM)
        _ = await serve.exit(within: .seconds(10))
        await tap.stop()
        simulator.send(SIGTERM)

        // The capture itself: two connections (the drop), nothing lost, everything decoded.
        let summary = try await CLI.run(["replay", capture, "--summary", "--json"])
        #expect(summary.status == 0, "\(summary.stderr)")
        let counts = try #require(summary.jsonLines.first { $0["type"] as? String == "summary" })
        #expect(counts["gaps"] as? Int == 0 && counts["decodeErrors"] as? Int == 0)
        #expect((counts["connections"] as? [Any])?.count == 2, "connections: \(counts["connections"] ?? "none")")

        // Into a scratch database: the same call records as the live run, times within a second, parties in order.
        let liveRecords = try await CLI.run(["calls", "--db", live, "--json"]).lines.count
        #expect(liveRecords >= calls / 2, "the live run recorded \(liveRecords) calls")
        let scratch = dir + "/replay.sqlite"
        let intoDb = try await CLI.run(["replay", capture, "--into-db", scratch, "--diff", live, "--json"])
        #expect(intoDb.status == 0, "\(String(decoding: intoDb.stdout, as: UTF8.self)) \(intoDb.stderr)")
        let ingest = try #require(intoDb.jsonLines.first { $0["type"] as? String == "intoDb" })
        #expect(ingest["linkUps"] as? Int == 2 && ingest["calls"] as? Int == liveRecords)
        let diff = try #require(intoDb.jsonLines.first { $0["type"] as? String == "diff" }?["comparison"] as? [String: Any])
        #expect(diff["matched"] as? Int == liveRecords && diff["differ"] as? Int == 0 && diff["extra"] as? Int == 0)
        let again = try await CLI.run(["replay", capture, "--into-db", scratch])
        #expect(again.status != 0 && again.stderr.contains("exists"), "a scratch database is never appended to")

        // Played as the switch towards a second bridge that listens: the same records again (at full speed, so the
        // times differ; the parties, agents and outcomes may not).
        let playedPort = try ServeCrashTests.freePort()
        let played = dir + "/played.sqlite"
        let secondConfig = try Self.config(dir + "/played.yaml", port: playedPort, role: "server", database: played)
        let second = try ChildProcess("serve", ["serve", "--config", secondConfig])
        defer { second.kill() }
        try await Task.sleep(for: .milliseconds(500))
        let play = try await CLI.run(["replay", capture, "--to", "127.0.0.1:\(playedPort)", "--json"])
        #expect(play.status == 0, "\(play.stderr)")
        let report = try #require(play.jsonLines.first { $0["type"] as? String == "played" })
        #expect(report["notAsked"] as? Int == 0 && report["unknownRequests"] as? Int == 0, "\(report)")
        try await Task.sleep(for: .milliseconds(500))
        second.send(SIGTERM)
        _ = await second.exit(within: .seconds(10))
        let compared = try await CLI.run(["replay", played, "--diff", live, "--diff-tolerance", "86400"])
        #expect(compared.status == 0, "\(String(decoding: compared.stdout, as: UTF8.self)) \(compared.stderr)")

        // And as the switch a bridge dials (`--listen`), reconnect included.
        let player = try ChildProcess("replay", ["replay", capture, "--listen", "127.0.0.1:0"])
        defer { player.kill() }
        let listening = await player.firstJSONLine(within: .seconds(10)) { $0["type"] as? String == "listening" }
        let playerPort = try #require(listening?["port"] as? Int, "no listening line: \(player.errorText)")
        let dialled = dir + "/dialled.sqlite"
        let thirdConfig = try Self.config(dir + "/dialled.yaml", port: playerPort, role: "client", database: dialled)
        let third = try ChildProcess("serve", ["serve", "--config", thirdConfig])
        defer { third.kill() }
        let done = await player.firstJSONLine(within: .seconds(30)) { $0["type"] as? String == "played" }
        #expect(done?["notAsked"] as? Int == 0 && done?["unknownRequests"] as? Int == 0, "\(player.errorText)")
        try await Task.sleep(for: .milliseconds(500))
        third.send(SIGTERM)
        _ = await third.exit(within: .seconds(10))
        let comparedAgain = try await CLI.run(["replay", dialled, "--diff", live, "--diff-tolerance", "86400"])
        #expect(comparedAgain.status == 0, "\(String(decoding: comparedAgain.stdout, as: UTF8.self))")
    }

    static func config(_ path: String, port: Int, role: String, database: String) throws -> String {
        try """
        switch: {host: 127.0.0.1, port: \(port), role: \(role), flavour: hipathBER, heartbeatSeconds: 2, reconnectInitialSeconds: 0.05, reconnectMaximumSeconds: 0.2}
        monitor: {devices: "4001-4010,8001,8100", queues: "8001,8100", internalNumbers: ["96510"]}
        database: {path: \(database)}
        journal: {checkpointSeconds: 0.2}
        http: {listen: ""}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
