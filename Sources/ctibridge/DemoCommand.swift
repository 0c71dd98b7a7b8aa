import ArgumentParser
import Bridge
import CSTA
import CSTALink
import NIOCore
import Foundation
import Logging
import ServiceLifecycle
import Simulator
import Synchronization

/// `ctibridge demo`: the simulator and the daemon together on embedded defaults.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a simulated switch with callers and agents, and the bridge on it (Ctrl-C stops both).",
        discussion: """
            Everything stays on this machine: the switch listens on loopback, the database is
            ./ctibridge-demo/ctibridge.sqlite, the status page is on http://127.0.0.1:8080/ (the next free port if
            8080 is taken). The switch's own record of every finished call goes to ./ctibridge-demo/truth.jsonl, so
            `ctibridge calls --json` can be compared with it.
            """
    )

    static let defaultDirectory = "ctibridge-demo"

    @Option(name: .long, help: "Folder for the database and the truth file.")
    var dir = DemoCommand.defaultDirectory

    @Option(name: .long, help: "HTTP address of the status page and API (port 0: any free port).")
    var http = "127.0.0.1:8080"

    @Option(name: .long, help: "The switch's encoding: ber (HiPath) or xml (OpenScape Voice).")
    var encoding: String = "ber"

    @Option(name: .long, help: "Agents on the simulated switch.")
    var agents = 12

    @Option(name: .long, help: "New calls per second.")
    var rate = 0.5

    @Option(name: .long, help: "Seed of the callers' behaviour.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Log level (the demo prints its own status lines).")
    var logLevel = "warning"

    func validate() throws {
        guard CSTAEncoding(rawValue: encoding) != nil else { throw ValidationError("--encoding must be ber or xml") }
        guard (1...2000).contains(agents) else { throw ValidationError("--agents must be 1…2000") }
        guard rate > 0, rate <= 200 else { throw ValidationError("--rate must be above 0 and at most 200") }
        guard BridgeConfiguration.hostPort(http) != nil else { throw ValidationError("--http must be host:port") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    func run() async throws {
        let registry = Observability.bootstrap(level: logLevel)
        let logger = Logger(label: "ctibridge.demo")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let encoding = CSTAEncoding(rawValue: encoding) ?? .ber
        let numbering = SwitchNumbering(firstDevice: 4001, agentCount: agents)

        // The switch.
        var simulator = SimulatorConfiguration(host: "127.0.0.1", port: 0, encoding: encoding)
        simulator.numbering = numbering
        let truth = try TruthFile(path: dir + "/truth.jsonl")
        let server = try await SimulatorServer.start(configuration: simulator, logger: logger) { truth.append($0) }
        var load = LoadScenario(kind: .mixed, rate: rate, calls: 0, seed: seed)
        load.timeScale = 1
        try await server.startLoad(load)

        // The bridge on it.
        let port = server.localAddress.port ?? 0
        var configuration = BridgeConfiguration(
            switch: .init(host: "127.0.0.1", port: port),
            monitor: .init(devices: "\(numbering.agentExtensions.first!)-\(numbering.agentExtensions.last!),8001,8100"))
        configuration.switch.flavour = encoding == .ber ? "hipathBER" : "openScapeXML"
        configuration.switch.heartbeatSeconds = 5
        configuration.monitor.queues = "8001,8100"
        configuration.monitor.internalNumbers = [numbering.hotline]
        configuration.database.path = dir + "/ctibridge.sqlite"
        configuration.http.listen = try await Self.freeHTTPAddress(http)
        configuration.log.level = logLevel
        try configuration.validate(source: "demo")

        let out = StatusPrinter()
        out.say(
            """
            ctibridge demo — a simulated \(encoding == .ber ? "HiPath (BER)" : "OpenScape Voice (XML)") switch on 127.0.0.1:\(port) \
            with \(agents) agents and about \(rate) calls/s, and the bridge on it.
            database: \(configuration.database.path)   switch's truth: \(dir)/truth.jsonl
            """)
        do {
            try await BridgeDaemon.run(
                configuration: configuration, registry: registry, logger: logger,
                onReady: { endpoints in
                    out.say(
                        """
                        open http://\(endpoints.httpHost):\(endpoints.httpPort)/ for the status page; \
                        `swift run ctibridge calls --db \(endpoints.databasePath)` lists finished calls. Ctrl-C stops.
                        """)
                },
                onStatus: { status in out.status(status) })
        } catch {
            try? await server.shutdown()
            throw error
        }
        try await server.shutdown()
        out.say("stopped; the database stays in \(dir)/")
    }

    /// The asked address, or the next free port after it when it is taken (port 0 stays 0).
    static func freeHTTPAddress(_ text: String) async throws -> String {
        guard let (host, port) = BridgeConfiguration.hostPort(text), port != 0 else { return text }
        for candidate in port..<(port + 20) where PortProbe.isFree(host: host, port: candidate) {
            return "\(host):\(candidate)"
        }
        throw ValidationError("no free port for the status page in \(port)…\(port + 19); pass --http HOST:PORT")
    }
}

/// Prints the demo's lines: status every five seconds and when the link changes.
final class StatusPrinter: Sendable {
    private let last = Mutex<(printed: Date, link: String)>((.distantPast, ""))

    func say(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    func status(_ status: BridgeStatus) {
        let link = status.link?.state.rawValue ?? "starting"
        let now = Date()
        let due = last.withLock { last -> Bool in
            guard link != last.link || now.timeIntervalSince(last.printed) >= 5 else { return false }
            last = (now, link)
            return true
        }
        guard due else { return }
        let time = now.formatted(Date.ISO8601FormatStyle(timeZone: .current).time(includingFractionalSeconds: false))
        say("\(time)  link \(link) · \(status.openCalls) calls in progress · \(status.finishedCalls) finished · journal #\(status.journalSeq)")
    }
}
