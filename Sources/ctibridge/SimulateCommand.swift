import CallModel
import ArgumentParser
import CSTA
import Foundation
import Logging
import NIOCore
import NIOPosix
import Simulator
import Synchronization

/// `ctibridge simulate`: a CSTA switch on TCP with scenarios, load and faults (`../shared/docs/contracts.md` §4).
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a simulated CSTA switch (BER or XML) with call scenarios, load and faults.",
        discussion: """
            Example: ctibridge simulate --listen 127.0.0.1:4711 --encoding ber --framing hipath \
            --scenario inbound --rate 0.5 --agents 10 --seed 7 --truth calls.jsonl --fault drop:15s
            Prints {"type":"listening","host":…,"port":…} on standard output once listening (--listen HOST:0 picks \
            a free port); logs go to standard error. Runs until SIGINT or SIGTERM, then exits 0.
            """
    )

    @Option(help: "HOST:PORT to listen on.")
    var listen: String = "127.0.0.1:4711"

    @Option(help: "Message encoding: ber or xml.")
    var encoding: CSTAEncoding = .ber

    @Option(help: "Framing: hipath, u16, tpkt, ecma323 or none (default: hipath for BER, ecma323 for XML).")
    var framing: CSTAFraming?

    @Option(help: "Link start-up: hipath (ACSE), osv (OpenScape Voice) or dmcc (Avaya AES).")
    var flavor: String?

    @Option(help: "Load: none, inbound, outbound, mixed or routing (default: mixed when --rate or --calls is given, else none).")
    var scenario: String?

    @Option(help: "New calls per second (default 0.2 when a scenario runs).")
    var rate: Double?

    @Option(help: "Calls to start in all (0: no limit).")
    var calls: Int?

    @Option(help: "Number of agents.")
    var agents: Int = 10

    @Option(help: "The first agent extension.")
    var firstDevice: Int = 4001

    @Option(help: "Seed for every random choice.")
    var seed: UInt64 = 1

    @Option(help: "Append one JSON line per finished call to this file.")
    var truth: String?

    @Option(help: "Fault KIND:EVERY[*TIMES] (drop:15s, drop:13s*3, halfopen:40s, garbage:30s, split:1, slow:200ms, reject:0.1); repeatable.")
    var fault: [String] = []

    @Option(help: "Seconds between the switch's SystemStatus invokes (0: only at start-up).")
    var systemStatusInterval: Double = 10

    @Option(help: "Multiply every scenario duration by this factor.")
    var timeScale: Double = 1

    @Option(help: "DMCC: the only user name StartApplicationSession may log in with (default: any log-in is accepted).")
    var dmccUser: String?

    @Option(help: "DMCC: the password that goes with --dmcc-user (or set CTIBRIDGE_DMCC_PASSWORD).")
    var dmccPassword: String?

    func validate() throws {
        guard parseListen() != nil else { throw ValidationError("--listen must be HOST:PORT") }
        guard agents >= 0, agents < 100_000 else { throw ValidationError("--agents must be 0…99999") }
        guard (rate ?? 0) >= 0 else { throw ValidationError("--rate must not be negative") }
        guard (calls ?? 0) >= 0 else { throw ValidationError("--calls must not be negative") }
        guard timeScale > 0 else { throw ValidationError("--time-scale must be positive") }
        guard effectiveScenario == "none" || LoadScenario.Kind(rawValue: effectiveScenario) != nil else {
            throw ValidationError("--scenario must be none, inbound, outbound, mixed or routing")
        }
        if let flavor, SessionFlavor(rawValue: flavor) == nil { throw ValidationError("--flavor must be hipath, osv or dmcc") }
        for text in fault where FaultSchedule(parsing: text) == nil { throw ValidationError("bad --fault '\(text)'") }
        if dmccUser != nil || dmccPassword != nil {
            guard flavor == SessionFlavor.dmcc.rawValue else {
                throw ValidationError("--dmcc-user/--dmcc-password need --flavor dmcc")
            }
            guard dmccUser != nil, effectiveDMCCPassword != nil else {
                throw ValidationError("--dmcc-user and --dmcc-password (or CTIBRIDGE_DMCC_PASSWORD) go together")
            }
        }
    }

    /// `--dmcc-password`, else the environment (keeps the password out of `ps`).
    var effectiveDMCCPassword: String? {
        dmccPassword ?? (dmccUser == nil ? nil : ProcessInfo.processInfo.environment["CTIBRIDGE_DMCC_PASSWORD"])
    }

    /// Asking for a rate or a number of calls asks for load, even without naming a scenario.
    var effectiveScenario: String {
        scenario ?? ((rate != nil || calls != nil) ? LoadScenario.Kind.mixed.rawValue : "none")
    }

    private func parseListen() -> (String, Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        return (String(listen[..<colon]), port)
    }

    /// The root command is synchronous, so this blocks the main thread until the switch has shut down.
    func run() throws {
        let (host, port) = parseListen()!
        let configuration = SimulatorConfiguration(
            host: host, port: port, encoding: encoding, framing: framing, flavor: flavor.flatMap(SessionFlavor.init),
            numbering: SwitchNumbering(firstDevice: firstDevice, agentCount: agents),
            systemStatusInterval: systemStatusInterval > 0 ? .nanoseconds(Int64(systemStatusInterval * 1e9)) : nil,
            afterCallWork: effectiveScenario != "none", faults: fault.compactMap(FaultSchedule.init(parsing:)), seed: seed,
            dmccLogin: dmccUser.flatMap { user in effectiveDMCCPassword.map { DMCCLogin(user: user, password: $0) } })
        var load = LoadScenario.Kind(rawValue: effectiveScenario).map {
            LoadScenario(kind: $0, rate: rate ?? 0.2, calls: calls ?? 0, seed: seed)
        }
        load?.timeScale = timeScale
        let sink = try truth.map { try TruthFile(path: $0) }
        let signals = TerminationSignals()
        let failure = Mutex<(any Error)?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task { [load, signals] in
            do {
                try await Self.serve(configuration: configuration, load: load, sink: sink, signals: signals)
            } catch {
                failure.withLock { $0 = error }
            }
            done.signal()
        }
        done.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }

    private static func serve(
        configuration: SimulatorConfiguration, load: LoadScenario?, sink: TruthFile?, signals: TerminationSignals
    ) async throws {
        let logger = Logger(label: "ctibridge.simulate")
        let server = try await SimulatorServer.start(configuration: configuration, logger: logger) { record in
            sink?.append(record)
        }
        if let load { try await server.startLoad(load) }
        printListening(server)
        await signals.wait()
        logger.info("shutting down")
        try await server.shutdown()
    }
}

/// One JSON line on standard output once the switch listens — `--listen HOST:0` picks a free port, and this is how a
/// script or test learns it: `{"type":"listening","host":"127.0.0.1","port":40123,"encoding":"ber",…}`.
private func printListening(_ server: SimulatorServer) {
    let c = server.configuration
    let host = KeySetJSON.quoted(server.localAddress.ipAddress ?? c.host)
    let port = server.localAddress.port ?? c.port
    let line = "{\"type\":\"listening\",\"host\":\(host),\"port\":\(port),\"encoding\":\"\(c.encoding.rawValue)\","
        + "\"framing\":\"\(c.framing.rawValue)\",\"flavor\":\"\(c.flavor.rawValue)\"}"
    var out = OutputWriter()
    out.line { $0.append(contentsOf: line.utf8) }
    out.flush()
}

/// Appends truth records to a file, one JSON line each.
final class TruthFile: Sendable {
    private let handle: FileHandle

    init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw ValidationError("cannot create \(path)")
            }
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
    }

    /// Called on the switch's one loop only, so writes never interleave.
    func append(_ record: CallTruthRecord) {
        guard let line = try? record.jsonLine() else { return }
        handle.write(Data((line + "\n").utf8))
    }
}
