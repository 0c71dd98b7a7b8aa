import ArgumentParser
import Bridge
import CSTA
import CSTALink
import Dispatch
import Foundation
import Logging
import Replay

/// `ctibridge tail`: connect to a switch, monitor devices, print every message as key-set JSON and every link state
/// change as `{"type":"link","state":"up|down",…}` — the first tool to run when commissioning a site.
struct TailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Connect to a switch, monitor devices and print every message as key-set JSON.",
        discussion: """
            Example: ctibridge tail --switch 10.0.0.5:1040 --encoding ber --framing hipath --monitor 4001-4010,8001
            Prints one JSON line per message from the switch (plus "monitoredDevice" for events on a monitored \
            device, and the SnapshotDevice results after each link-up), and {"type":"link","state":"up|down",…} \
            when the link changes state. Logs go to standard error. Runs until SIGINT or SIGTERM, then closes the link \
            and exits 0.
            With --record FILE the link's traffic is also written to a pcapng file (no tcpdump needed), e.g. \
            --record site.pcapng --record-max-mb 100 --record-keep 10 keeps the newest ten files of 100 MB: \
            site.pcapng, site.pcapng.1, site.pcapng.2, … Each file opens with the connection's handshake, so it \
            replays on its own. A file that cannot be written is logged; the link goes on.
            """
    )

    enum FlavourOption: String, ExpressibleByArgument, CaseIterable {
        case hipath, generic, osv, dmcc
        var flavour: LinkConfiguration.Flavour {
            switch self {
            case .hipath: .hipathBER
            case .generic: .genericBER
            case .osv: .openScapeXML
            case .dmcc: .dmccXML
            }
        }
    }

    @Option(name: .customLong("switch"), help: "The switch's HOST:PORT (with --listen: the address to listen on).")
    var switchAddress: String

    @Option(help: "Message encoding: ber or xml (default: the flavour's).")
    var encoding: CSTAEncoding?

    @Option(help: "Framing: u16, hipath, tpkt, ecma323 or none (default: the flavour's).")
    var framing: CSTAFraming?

    @Option(help: "Devices to monitor: comma-separated devices and ranges, e.g. 4001-4010,8001.")
    var monitor: String = ""

    @Option(help: "Start-up flavour: hipath, generic, osv or dmcc (default: hipath for ber, osv for xml).")
    var flavour: FlavourOption?

    @Flag(help: "Listen for the switch to dial in instead of dialling it.")
    var listen = false

    @Option(help: "TLS: PEM file with the CA certificates (enables TLS).")
    var tlsCa: String?

    @Option(help: "TLS: PEM client certificate chain (server certificate with --listen).")
    var tlsCert: String?

    @Option(help: "TLS: PEM private key for --tls-cert.")
    var tlsKey: String?

    @Option(help: "TLS: the name to expect in the switch's certificate (default: the host).")
    var tlsServerName: String?

    @Flag(help: "TLS: do not check the host name in the switch's certificate.")
    var noHostnameCheck = false

    @Option(help: "Keep-alive interval when idle, seconds; an unanswered keep-alive ends the link after half of it, silence after twice it.")
    var heartbeat: Double = 20

    @Option(help: "Request timeout, seconds.")
    var timeout: Double = 5

    @Option(help: "AARQ authentication name (HiPath default AMHOST).")
    var aarqName: String?

    @Option(help: "AARQ password (HiPath default 77777).")
    var aarqPassword: String?

    @Option(help: "DMCC user name.")
    var dmccUser: String?

    @Option(help: "DMCC password (or set CTIBRIDGE_DMCC_PASSWORD, which keeps it out of the process list).")
    var dmccPassword: String?

    @Option(help: "DMCC session duration to request, seconds.")
    var sessionDuration: Int = 180

    @Flag(help: "Send SystemRegister after the association (always done for osv).")
    var systemRegister = false

    @Flag(help: "Show phone numbers in logs unmasked.")
    var showNumbers = false

    @Option(help: "Log level on standard error: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @OptionGroup(title: "Recording")
    var recording: RecordOptions

    func validate() throws {
        guard let colon = switchAddress.lastIndex(of: ":"), Int(switchAddress[switchAddress.index(after: colon)...]) != nil else {
            throw ValidationError("--switch must be HOST:PORT")
        }
        guard heartbeat > 0, timeout > 0 else { throw ValidationError("--heartbeat and --timeout must be positive") }
        guard sessionDuration > 0 else { throw ValidationError("--session-duration must be positive") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        if tlsCa == nil && (tlsCert != nil || tlsKey != nil) { throw ValidationError("--tls-cert/--tls-key need --tls-ca") }
        do { _ = try DeviceList.parse(monitor) } catch { throw ValidationError("--monitor: \(error)") }
    }

    func makeConfiguration() throws -> LinkConfiguration {
        let colon = switchAddress.lastIndex(of: ":")!
        var host = String(switchAddress[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = Int(switchAddress[switchAddress.index(after: colon)...])!
        let chosen = flavour?.flavour ?? (encoding == .xml ? .openScapeXML : .hipathBER)
        var c = LinkConfiguration(host: host, port: port, flavour: chosen, role: listen ? .server : .client)
        if let encoding { c.encoding = encoding }
        if let framing { c.framing = framing }
        c.heartbeatInterval = .milliseconds(Int64(heartbeat * 1000))
        c.requestTimeout = .milliseconds(Int64(timeout * 1000))
        c.credentials.aarqName = aarqName
        c.credentials.aarqPassword = aarqPassword
        c.credentials.dmccUser = dmccUser
        c.credentials.dmccPassword = dmccPassword ?? ProcessInfo.processInfo.environment["CTIBRIDGE_DMCC_PASSWORD"]
        c.sessionDuration = sessionDuration
        c.systemRegister = systemRegister
        c.maskNumbersInLogs = !showNumbers
        if let tlsCa {
            var tls = LinkConfiguration.TLS(caFile: tlsCa, certificateFile: tlsCert, privateKeyFile: tlsKey)
            tls.verifyHostname = !noHostnameCheck
            tls.serverName = tlsServerName
            c.tls = tls
        }
        return c
    }

    func run() throws {
        let config = try makeConfiguration()
        let devices = try DeviceList.parse(monitor)
        let level = Logger.Level(rawValue: logLevel) ?? .info
        var logger = Logger(label: "ctibridge.tail") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = level
        let signals = TerminationSignals()
        let finished = DispatchSemaphore(value: 0)
        let record = try recording.record()
        Task { [signals] in
            await Self.tail(config, devices: devices, record: record, logger: logger, signals: signals)
            finished.signal()
        }
        finished.wait()
    }

    static func tail(
        _ config: LinkConfiguration, devices: [String], record: BridgeConfiguration.Record?, logger: Logger,
        signals: TerminationSignals
    ) async {
        var config = config
        let recorder = await BridgeDaemon.startRecorder(record, logger: logger)
        config.tap = recorder
        let link = CSTALinkClient(configuration: config, logger: logger)
        await link.addMonitors(devices)
        await link.start()
        let printer = Task { await printEvents(of: link) }
        // A stop signal shuts the link down, which finishes `events` and so the printer.
        let number = await signals.wait()
        logger.info("stopping", metadata: ["signal": "\(number)"])
        await link.shutdown()
        await printer.value
        await recorder?.finish()
    }

    static func printEvents(of link: CSTALinkClient) async {
        var out = OutputWriter()
        func message(_ m: CSTAEventMessage) {
            var record = m.record
            if let device = m.device { record["monitoredDevice"] = .string(device) }
            out.line { KeySetJSON.write(record, to: &$0) }
        }
        for await event in link.events {
            switch event {
            case .message(let m): message(m)
            case .snapshot(_, let m): message(m)
            case .state(let change): out.line { $0.append(contentsOf: change.json.utf8) }
            }
            out.flush()
        }
    }
}
