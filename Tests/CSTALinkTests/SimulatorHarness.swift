import CSTA
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import CSTALink
import Simulator

/// The simulator's and the link's own loops in these tests, so other suites' work on the shared singleton cannot delay
/// their timers.
let simulatorLinkTestGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let linkTestGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

/// Log lines kept in memory with the time they were logged: lets a test see when the simulator injected a fault, or
/// that the link logged a bad frame, without printing anything.
final class CapturedLogs: Sendable {
    struct Line: Sendable {
        var at: ContinuousClock.Instant
        var level: Logger.Level
        var message: String
        /// The message with every metadata value (the handler's and the call's), as a log file would show it.
        var text: String
    }

    private let lines = Mutex<[Line]>([])

    func logger(_ label: String, level: Logger.Level = .info) -> Logger {
        var logger = Logger(label: label) { _ in Handler(logs: self) }
        logger.logLevel = level
        return logger
    }

    func append(_ line: Line) { lines.withLock { $0.append(line) } }

    /// Every line whose message starts with `prefix`.
    func lines(startingWith prefix: String) -> [Line] { lines.withLock { $0.filter { $0.message.hasPrefix(prefix) } } }

    /// Every line logged so far.
    var all: [Line] { lines.withLock { $0 } }

    struct Handler: LogHandler {
        let logs: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            let text = ([event.message.description] + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
                .joined(separator: " ")
            logs.append(Line(at: .now, level: event.level, message: event.message.description, text: text))
        }
    }
}

/// A link's events with the time each one was seen, so a test can measure how long recovery took.
actor TimedEventLog {
    struct Entry: Sendable {
        var at: ContinuousClock.Instant
        var event: LinkEvent
    }

    private(set) var entries: [Entry] = []

    init(_ link: CSTALinkClient) {
        let stream = link.events
        Task { await self.consume(stream) }
    }

    private func consume(_ stream: AsyncStream<LinkEvent>) async {
        for await e in stream { entries.append(Entry(at: .now, event: e)) }
    }

    var count: Int { entries.count }

    /// The first entry (from index `start`) matching `predicate`, waiting up to `within`.
    func first(
        from start: Int = 0, within: Duration = .seconds(5), where predicate: (LinkEvent) -> Bool
    ) async -> (index: Int, entry: Entry)? {
        let deadline = ContinuousClock.now + within
        var i = start
        while true {
            while i < entries.count {
                if predicate(entries[i].event) { return (i, entries[i]) }
                i += 1
            }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The CSTA event reports (from index `start`) with their index: event name, call id, monitored device, record.
    func callEvents(from start: Int = 0) -> [(index: Int, name: String, callID: String?, device: String?, message: CSTAEventMessage)] {
        entries.indices.dropFirst(start).compactMap { i in
            guard case .message(let m) = entries[i].event, let name = m.record.string("event") else { return nil }
            return (i, name, m.record.string("callID"), m.device, m)
        }
    }

    /// The event `name` for `device` (and `callID`, when given) from index `start`, waiting up to `within`.
    func event(
        _ name: String, device: String, callID: String? = nil, from start: Int = 0, within: Duration = .seconds(5)
    ) async -> (index: Int, message: CSTAEventMessage)? {
        let hit = await first(from: start, within: within) { e in
            guard case .message(let m) = e else { return false }
            return m.record.string("event") == name && m.device == device
                && (callID == nil || m.record.string("callID") == callID)
        }
        guard let hit, case .message(let m) = hit.entry.event else { return nil }
        return (hit.index, m)
    }

    /// Link state changes from index `start`.
    func stateChanges(from start: Int = 0) -> [(index: Int, at: ContinuousClock.Instant, change: LinkStateChange)] {
        entries.indices.dropFirst(start).compactMap { i in
            guard case .state(let s) = entries[i].event else { return nil }
            return (i, entries[i].at, s)
        }
    }

    /// Devices that got a snapshot from index `start`.
    func snapshots(from start: Int = 0) -> [String] {
        entries.dropFirst(start).compactMap { if case .snapshot(let d, _) = $0.event { d } else { nil } }
    }
}

/// One way to speak to the switch: the simulator's encoding, framing and start-up flavour, and the link's matching
/// configuration.
struct LinkVariant: Sendable, CustomTestStringConvertible {
    var name: String
    var encoding: CSTAEncoding
    var framing: CSTAFraming
    var simulatorFlavor: SessionFlavor
    var linkFlavour: LinkConfiguration.Flavour
    var faults: [FaultSchedule] = []

    var testDescription: String { name }

    static let hipath = LinkVariant(name: "BER/hipath", encoding: .ber, framing: .hipath, simulatorFlavor: .hipath, linkFlavour: .hipathBER)
    static let berU16 = LinkVariant(name: "BER/u16", encoding: .ber, framing: .u16, simulatorFlavor: .hipath, linkFlavour: .hipathBER)
    /// RFC 1006 `03 00 LL LL` framing (the length counts the 4-byte header).
    static let berTPKT = LinkVariant(name: "BER/tpkt", encoding: .ber, framing: .tpkt, simulatorFlavor: .hipath, linkFlavour: .hipathBER)
    static let osv = LinkVariant(name: "XML-OSV/ecma323", encoding: .xml, framing: .ecma323, simulatorFlavor: .osv, linkFlavour: .openScapeXML)
    static let dmcc = LinkVariant(name: "XML-DMCC/ecma323", encoding: .xml, framing: .ecma323, simulatorFlavor: .dmcc, linkFlavour: .dmccXML)

    func with(_ faults: [FaultSchedule], _ suffix: String) -> LinkVariant {
        var v = self
        v.faults = faults
        v.name += " " + suffix
        return v
    }
}

/// A simulator and a link to it over loopback, with both sides' logs captured.
struct SimulatorLink {
    let server: SimulatorServer
    let link: CSTALinkClient
    let log: TimedEventLog
    let simulatorLogs: CapturedLogs
    let linkLogs: CapturedLogs

    /// Starts the simulator (port 0, deterministic seed), then a link monitoring `monitors`, and waits for link-up.
    static func start(
        _ variant: LinkVariant, monitors: [String], agents: Int = 3, agentsReady: Bool = false,
        systemStatusInterval: TimeAmount = .seconds(1), systemStatusMissesAllowed: Int = 3,
        truth: (@Sendable (CallTruthRecord) -> Void)? = nil, dmccLogin: DMCCLogin? = nil, waitForUp: Bool = true,
        linkLogLevel: Logger.Level = .info,
        configure: (inout LinkConfiguration) -> Void = { _ in }
    ) async throws -> SimulatorLink {
        let simulatorLogs = CapturedLogs()
        let linkLogs = CapturedLogs()
        let simConfig = SimulatorConfiguration(
            host: "127.0.0.1", port: 0, encoding: variant.encoding, framing: variant.framing, flavor: variant.simulatorFlavor,
            numbering: SwitchNumbering(agentCount: agents), systemStatusInterval: systemStatusInterval,
            systemStatusMissesAllowed: systemStatusMissesAllowed, agentsReady: agentsReady, faults: variant.faults, seed: 42,
            dmccLogin: dmccLogin)
        let server = try await SimulatorServer.start(
            configuration: simConfig, group: simulatorLinkTestGroup,
            logger: simulatorLogs.logger("test.simulator", level: .notice), truthSink: truth)
        var config = LinkConfiguration(host: "127.0.0.1", port: server.localAddress.port ?? 0, flavour: variant.linkFlavour)
        config.encoding = variant.encoding
        config.framing = variant.framing
        config.connectTimeout = .seconds(2)
        config.requestTimeout = .seconds(2)
        config.heartbeatInterval = .seconds(1)
        config.deadLinkInterval = .seconds(4)  // no fault here: a busy machine must not look like a dead link
        config.backoff = .init(initial: .milliseconds(50), maximum: .milliseconds(200), jitter: 0.2)
        config.maskNumbersInLogs = false
        configure(&config)
        let link = CSTALinkClient(
            configuration: config, eventLoopGroup: linkTestGroup, logger: linkLogs.logger("test.link", level: linkLogLevel))
        let log = TimedEventLog(link)
        await link.addMonitors(monitors)
        await link.start()
        let harness = SimulatorLink(server: server, link: link, log: log, simulatorLogs: simulatorLogs, linkLogs: linkLogs)
        guard waitForUp else { return harness }
        guard await link.waitUntilUp(timeout: .seconds(5)) else {
            await harness.shutdown()
            throw HarnessError(message: "the link did not come up against the simulator (\(variant.name))")
        }
        // The log consumes the link's events on a task of its own: let it catch up with the link-up, so a test that
        // looks at the first state change right away finds it.
        _ = await log.first(within: .seconds(2)) { $0.linkState == .up }
        return harness
    }

    func shutdown() async {
        await link.shutdown()
        try? await server.shutdown()
    }

    /// The current cross-reference ids of `devices`.
    func crossReferences(_ devices: [String]) async -> [String: String] {
        var out: [String: String] = [:]
        for d in devices { out[d] = await link.crossReference(for: d) }
        return out
    }

    /// An external caller dials `dialed` (the hotline by default); returns the call id.
    func placeInboundCall(from caller: String = "+498912345678", to dialed: String = "96510") async throws -> String {
        try await server.perform { (m, now) throws(SwitchError) in try m.placeInboundCall(from: caller, to: dialed, now: now) }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Inbound calls that are answered and hung up, nothing else (no hold, transfer, conference, abandon, no-answer,
/// agent breaks): each call's events are then exactly queued, diverted, delivered, established, cleared.
func plainInboundLoad(rate: Double, calls: Int, seed: UInt64, timeScale: Double) -> LoadScenario {
    var load = LoadScenario(kind: .inbound, rate: rate, calls: calls, seed: seed)
    load.timeScale = timeScale
    load.holdShare = 0
    load.transferShare = 0
    load.conferenceShare = 0
    load.abandonShare = 0
    load.noAnswerShare = 0
    load.agentBreakEverySeconds = 0
    return load
}
