import CSTA
import CSTALink
import CallModel
import EventBus
import Foundation
import Logging
import Metrics
import Store

/// The two questions the pipeline asks the switch after a link-up: the live link answers them over the wire, a trace
/// replay from the answers the trace holds.
public protocol SwitchQueries: Sendable {
    /// GetAgentState's result record for `device`.
    func agentStateRecord(device: String) async throws -> CSTARecord
    /// SnapshotCall's result record for `callID`.
    func snapshotCallRecord(callID: String) async throws -> CSTARecord
}

extension CSTALinkClient: SwitchQueries {
    public func agentStateRecord(device: String) async throws -> CSTARecord {
        try await getAgentState(device: device).record
    }

    public func snapshotCallRecord(callID: String) async throws -> CSTARecord {
        try await snapshotCall(callID: callID).record
    }
}

/// The bridge's one path for call state: link events → call model → event bus (journalled). One actor, fed by one
/// loop over the link's events, so the model sees the switch's order.
public actor BridgePipeline {
    let link: any SwitchQueries
    let events: AsyncStream<LinkEvent>?
    /// The time stamped on what the model does; a trace replay sets it to the capture's time.
    let clock: @Sendable () -> Date
    let bus: EventBus
    let logger: Logger
    let checkpointInterval: TimeInterval
    let staleCallAge: TimeInterval
    var engine: CallModelEngine
    /// The link's last state change (`nil` before the first).
    public private(set) var linkState: LinkStateChange?
    public private(set) var lastLinkChange: Date?
    var publishFailed = false

    let cstaMessagesIn = Counter(label: "ctibridge_csta_messages_total")
    let callEventsOut = Counter(label: "ctibridge_call_events_total")
    let linkUpGauge = Gauge(label: "ctibridge_link_up")
    let linkDowns = Counter(label: "ctibridge_link_down_total")
    let openCallsGauge = Gauge(label: "ctibridge_open_calls")
    let eventErrors = Counter(label: "ctibridge_csta_event_errors_total")

    /// A pipeline over `link`, publishing on `bus`; `restoredOpenCalls` is the checkpoint of a previous run.
    public init(
        link: CSTALinkClient, bus: EventBus, model: CallModelEngine.Configuration, checkpointInterval: TimeInterval,
        staleCallAge: TimeInterval, restoredOpenCalls: [String: String], logger: Logger
    ) {
        self.init(
            queries: link, events: link.events, clock: { Date() }, bus: bus, model: model,
            checkpointInterval: checkpointInterval, staleCallAge: staleCallAge, restoredOpenCalls: restoredOpenCalls,
            logger: logger)
    }

    /// A pipeline fed by its owner through ``handle(_:at:)`` (a trace replay), asking `queries` after a link-up and
    /// stamping with `clock`.
    public init(
        queries: any SwitchQueries, events: AsyncStream<LinkEvent>? = nil, clock: @escaping @Sendable () -> Date,
        bus: EventBus, model: CallModelEngine.Configuration, checkpointInterval: TimeInterval,
        staleCallAge: TimeInterval, restoredOpenCalls: [String: String], logger: Logger
    ) {
        self.link = queries
        self.events = events
        self.clock = clock
        self.bus = bus
        self.logger = logger
        self.checkpointInterval = checkpointInterval
        self.staleCallAge = staleCallAge
        var engine = CallModelEngine(configuration: model)
        let unreadable = engine.restore(restoredOpenCalls)
        if !unreadable.isEmpty {
            logger.warning("open calls of the previous run could not be read", metadata: ["count": "\(unreadable.count)"])
        }
        if engine.openInteractionCount > 0 {
            logger.info("continuing open calls of the previous run", metadata: ["count": "\(engine.openInteractionCount)"])
        }
        self.engine = engine
        linkUpGauge.record(0)
    }

    /// Follows the link's events until the link shuts down.
    public func run() async {
        guard let events else { return }
        for await event in events {
            await handle(event, at: clock())
        }
        await flush()
    }

    /// Publishes what is pending (the last checkpoint).
    public func flush() async {
        await publish([], at: clock())
    }

    /// Checkpoints open calls and closes stale ones; the daemon calls it every checkpoint interval.
    public func tick() async {
        let now = clock()
        let out = engine.closeStale(olderThan: staleCallAge, at: now)
        await publish(out, at: now)
    }

    /// Adds devices to those the model observes (a trace replay learns them from the trace's MonitorStart requests).
    public func addMonitoredDevices(_ devices: some Sequence<String> & Sendable) {
        engine.addMonitoredDevices(devices)
    }

    /// Calls in progress (for the status page and `/api/v1/calls/active`).
    public func activeInteractions() -> [ActiveInteraction] { engine.activeInteractions() }

    /// Agents as last reported.
    public func agents() -> [AgentStatus] { engine.agents.values.sorted { $0.device < $1.device } }

    /// Applies one link event at `now` and publishes what the model made of it.
    public func handle(_ event: LinkEvent, at now: Date) async {
        var out: [CallEvent] = []
        switch event {
        case .message(let message):
            cstaMessagesIn.increment()
            if message.record.string("eventError") != nil { eventErrors.increment() }
            guard let input = CSTAEventInput(record: message.record, monitoredDevice: message.device) else { break }
            out = engine.apply(input, at: now)
        case .snapshot(let device, let result):
            engine.snapshot(
                device: device, callIDs: result.record.strings("snapshotCallIDs") ?? [],
                states: result.record.strings("snapshotStates") ?? [], at: now)
        case .state(let change):
            linkState = change
            lastLinkChange = now
            logger.notice("link \(change.state.rawValue)", metadata: ["reason": "\(change.reason)", "attempt": "\(change.attempt)"])
            if change.state == .down {
                linkUpGauge.record(0)
                linkDowns.increment()
                out = engine.linkDown(at: now, reason: change.reason)
            } else {
                linkUpGauge.record(1)
                out = await agentStates(at: now) + engine.linkUp(at: now, reason: change.reason)
                out += await verifyCalls(at: clock())
            }
        }
        await publish(out, at: now)
    }

    func publish(_ events: [CallEvent], at now: Date) async {
        let checkpoint = engine.takeCheckpoint(at: now, interval: checkpointInterval)
        openCallsGauge.record(engine.openCallCount)
        guard !events.isEmpty || !checkpoint.isEmpty else { return }
        callEventsOut.increment(by: Int64(events.count))
        do {
            try await bus.publish(events, openCalls: OpenCallsDelta(upserts: checkpoint.upserts, deletes: checkpoint.deletes))
        } catch {
            // The bus refuses only after shutdown or a failed journal write; both are logged once by the bus too.
            if !publishFailed {
                logger.error("events could not be journalled", metadata: ["error": "\(error)"])
                publishFailed = true
            }
        }
    }

    /// SnapshotCall for the calls whose progress no device snapshot shows (an outbound call's far end), a bounded
    /// number at a time.
    func verifyCalls(at now: Date) async -> [CallEvent] {
        let ids = engine.callsToVerify()
        guard !ids.isEmpty else { return [] }
        let link = self.link
        let answers = await Self.ask(ids, atOnce: 64) { id in try await link.snapshotCallRecord(callID: id) }
        var out: [CallEvent] = []
        for (id, record) in answers.sorted(by: { $0.0 < $1.0 }) {
            guard let record, let devices = record.strings("snapshotDevices"),
                let states = record.strings("snapshotDeviceStates")
            else { continue }
            out += engine.callSnapshot(callID: id, devices: devices, states: states, at: now)
        }
        return out
    }

    /// Asks the switch for the agent at every monitored device that is not a queue (the agents that logged on while
    /// the bridge was away), a bounded number at a time.
    func agentStates(at now: Date) async -> [CallEvent] {
        let devices = engine.configuration.monitoredDevices.subtracting(engine.configuration.queueDevices).sorted()
        let link = self.link
        let answers = await Self.ask(devices, atOnce: 256) { device in try await link.agentStateRecord(device: device) }
        var out: [CallEvent] = []
        for (device, record) in answers.sorted(by: { $0.0 < $1.0 }) {
            guard let record, let name = record.string("agentState") else { continue }
            let state =
                switch name {
                case "agentNull": "loggedOff"
                case "agentNotReady": "notReady"
                case "agentReady": "ready"
                case "agentBusy": "busy"
                case "agentWorkingAfterCall": "workingAfterCall"
                default: name
                }
            out += engine.setAgent(device: device, agentID: record.string("agentID"), state: state, at: now)
        }
        return out
    }

    /// Sends one request per key, at most `atOnce` in flight (the link pipelines them); a failed request gives `nil`.
    static func ask(
        _ keys: [String], atOnce: Int, _ request: @escaping @Sendable (String) async throws -> CSTARecord
    ) async -> [(String, CSTARecord?)] {
        await withTaskGroup(of: (String, CSTARecord?).self, returning: [(String, CSTARecord?)].self) { group in
            var answers: [(String, CSTARecord?)] = []
            var next = keys.makeIterator()
            var running = 0
            while running < atOnce, let key = next.next() {
                group.addTask { (key, try? await request(key)) }
                running += 1
            }
            while let answer = await group.next() {
                answers.append(answer)
                if let key = next.next() { group.addTask { (key, try? await request(key)) } }
            }
            return answers
        }
    }
}
