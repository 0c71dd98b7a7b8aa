import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `ctibridge simulate` and `ctibridge tail` as integrators run them: two processes talking over loopback, stopped with
/// SIGTERM. (Every API call and fault is covered in-process by CSTALinkTests; long soaks by Benchmarks/link/*.py.)
@Suite(.serialized, .timeLimit(.minutes(1))) struct SimulateTailCLITests {
    @Test func badArgumentsAreRefusedClearly() async throws {
        let sim = try await CLI.run(["simulate", "--fault", "meteor:5s"])
        #expect(sim.status != 0 && sim.stderr.contains("--fault"))
        let tail = try await CLI.run(["tail", "--switch", "nowhere", "--monitor", "4001"])
        #expect(tail.status != 0)
        #expect(!tail.stderr.isEmpty)
        let login = try await CLI.run(["simulate", "--dmcc-user", "cti", "--dmcc-password", "x"])
        #expect(login.status != 0 && login.stderr.contains("--flavor dmcc"))
    }

    /// `simulate --listen 127.0.0.1:0` prints the port it bound; `tail` connects to it, monitors 4001-4005 and 8001,
    /// and prints the link-up line and the events of the simulator's calls as key-set JSON; SIGTERM stops both, each
    /// with exit status 0, within a few seconds.
    @Test func tailWatchesTheSimulatorAndBothStopOnSIGTERM() async throws {
        let (sim, port) = try await ChildProcess.inboundSimulator()
        defer { sim.kill() }

        let tail = try ChildProcess("tail", [
            "tail", "--switch", "127.0.0.1:\(port)", "--encoding", "ber", "--monitor", "4001-4005,8001", "--heartbeat", "2",
        ])
        defer { tail.kill() }
        let up = await tail.firstJSONLine(within: .seconds(15)) { $0["type"] as? String == "link" && $0["state"] as? String == "up" }
        #expect(up?["monitors"] as? Int == 6 && up?["failedMonitors"] as? Int == 0, "no link-up line: \(tail.errorText)")
        #expect(tail.lines.contains { $0.hasPrefix(#"{"type":"link","state":"up","#) })
        let delivered = await tail.firstJSONLine(within: .seconds(15)) { $0["event"] as? String == "delivered" }
        #expect(delivered?["pdu"] as? String == "invoke" && delivered?["service"] as? String == "CSTAEventReport")
        #expect(["4001", "4002", "4003", "4004", "4005"].contains(delivered?["monitoredDevice"] as? String ?? ""),
            "delivered: \(delivered.map { "\($0)" } ?? "none")")
        let queued = await tail.firstJSONLine(within: .seconds(5)) {
            $0["event"] as? String == "queued" && $0["monitoredDevice"] as? String == "8001"
        }
        #expect(queued != nil)

        tail.send(SIGTERM)
        sim.send(SIGTERM)
        let tailExit = await tail.exit(within: .seconds(5))
        let simExit = await sim.exit(within: .seconds(5))
        #expect(tailExit?.reason == .exit && tailExit?.status == 0, "tail: \(tailExit.map { "\($0)" } ?? "still running") \(tail.errorText)")
        #expect(simExit?.reason == .exit && simExit?.status == 0, "simulate: \(simExit.map { "\($0)" } ?? "still running") \(sim.errorText)")
    }
}
