import Foundation
import Logging
import NIOCore

/// What the load generator does: which calls arrive how often, and how long everything takes.
public struct LoadScenario: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// External callers dial the hotline and queue at the ACD group.
        case inbound
        /// Agents call external numbers.
        case outbound
        /// Inbound, outbound and route-point calls mixed.
        case mixed
        /// External callers dial the route point and wait for the application's RouteSelect.
        case routing
    }

    public var kind: Kind
    /// New calls per second.
    public var rate: Double
    /// Calls to start in all (0: no limit).
    public var calls: Int
    public var seed: UInt64
    /// Multiplies every duration below (tests use 0.01 to run a call in milliseconds).
    public var timeScale: Double = 1
    public var ringSeconds: ClosedRange<Double> = 2...6
    public var talkSeconds: ClosedRange<Double> = 10...40
    public var holdSeconds: ClosedRange<Double> = 3...10
    public var wrapUpSeconds: ClosedRange<Double> = 2...8
    public var patienceSeconds: ClosedRange<Double> = 5...30
    /// Ringing this long without an answer sends the call back to the queue.
    public var noAnswerSeconds: Double = 12
    /// A route request the application leaves unanswered this long goes to the ACD group.
    public var routeTimeoutSeconds: Double = 5
    public var holdShare: Double = 0.25
    public var transferShare: Double = 0.15
    public var conferenceShare: Double = 0.05
    public var abandonShare: Double = 0.1
    public var noAnswerShare: Double = 0.05
    /// Every this many seconds one idle agent takes a break (not ready) and comes back.
    public var agentBreakEverySeconds: Double = 30

    public init(kind: Kind, rate: Double = 1, calls: Int = 0, seed: UInt64 = 1) {
        self.kind = kind
        self.rate = rate
        self.calls = calls
        self.seed = seed
    }
}

/// Plays callers, phones and agents against the switch model on the switch's loop: places calls at the scenario's
/// rate and reacts to the model's events (a ringing agent answers, a queued caller loses patience, an answered call
/// is talked, held, transferred or conferenced, then ends).
final class LoadGenerator {
    let core: SwitchCore
    let scenario: LoadScenario
    private var random: SeededGenerator
    private var timers: [LoopTimer] = []
    private var arrivals: LoopTimer?
    private var started = 0
    private var running = false
    private var scripted: Set<String> = []
    private var numbering: SwitchNumbering { core.configuration.numbering }

    init(core: SwitchCore, scenario: LoadScenario) {
        self.core = core
        self.scenario = scenario
        self.random = SeededGenerator(seed: scenario.seed)
    }

    func start() {
        running = true
        for ext in numbering.agentExtensions {
            attempt("log on") { (m, now) throws(SwitchError) in
                try m.setAgentState(device: ext, requested: "loggedOn", now: now)
                try m.setAgentState(device: ext, requested: "ready", now: now)
            }
        }
        core.eventListeners.append { [weak self] event in self?.react(to: event) }
        core.routeRequestListeners.append { [weak self] request in self?.routeLater(request) }
        if scenario.rate > 0 {
            arrivals = LoopTimer.repeating(on: core.eventLoop, every: .nanoseconds(Int64(1e9 / scenario.rate))) { [weak self] in
                self?.placeCall()
            }
        }
        let breakEvery = scenario.agentBreakEverySeconds * scenario.timeScale
        if breakEvery > 0 {
            timers.append(LoopTimer.repeating(on: core.eventLoop, every: .nanoseconds(Int64(breakEvery * 1e9))) { [weak self] in
                self?.agentBreak()
            })
        }
    }

    func stop() {
        running = false
        arrivals?.cancel()
        for timer in timers { timer.cancel() }
        timers = []
    }

    // MARK: Callers

    private func placeCall() {
        guard running else { return }
        if scenario.calls > 0 && started >= scenario.calls {
            arrivals?.cancel()  // the calls already started play on to their end
            return
        }
        started += 1
        let kind: LoadScenario.Kind
        if scenario.kind == .mixed {
            let roll = Double.random(in: 0..<1, using: &random)
            kind = roll < 0.6 ? .inbound : roll < 0.85 ? .outbound : .routing
        } else {
            kind = scenario.kind
        }
        let external = "+49891" + String(Int.random(in: 1_000_000...9_999_999, using: &random))
        switch kind {
        case .inbound, .mixed, .routing:
            let dialed = kind == .routing ? numbering.routePoint : numbering.hotline
            guard let call = attempt("inbound call", { (m, now) throws(SwitchError) in
                try m.placeInboundCall(from: external, to: dialed, now: now)
            }) else { return }
            if kind == .inbound, chance(scenario.abandonShare) {
                after(scenario.patienceSeconds) { [self] in
                    guard core.model.calls[call]?.state(of: numbering.acdGroup) == .queued else { return }
                    attempt("abandon") { (m, now) throws(SwitchError) in try m.clearConnection(callID: call, device: external, now: now) }
                }
            }
        case .outbound:
            let idle = core.model.agents.values.filter { agent in
                agent.state == .ready && !core.model.calls.values.contains { $0.state(of: agent.ext) != nil }
            }.map(\.ext).sorted()
            guard let agent = idle.randomElement(using: &random) else { return }
            attempt("outbound call") { (m, now) throws(SwitchError) in
                try m.setAgentState(device: agent, requested: "notReady", now: now)
                try m.makeCall(calling: agent, called: external, now: now)
            }
        }
    }

    private func routeLater(_ request: RouteRequestNotice) {
        afterFixed(scenario.routeTimeoutSeconds) { [self] in
            guard core.model.pendingRoutes[request.routeingCrossRefID] != nil else { return }
            attempt("default route") { [numbering] (m, now) throws(SwitchError) in
                try m.routeSelect(routeingCrossRefID: request.routeingCrossRefID, destination: numbering.acdGroup, now: now)
            }
        }
    }

    // MARK: Reactions

    private func react(to event: SwitchEvent) {
        guard running, let call = event.callID else {
            if running, event.name == "agentWorkingAfterCall" { readyLater(event.device, scenario.wrapUpSeconds) }
            return
        }
        let device = event.device
        switch event.name {
        case "delivered" where core.model.kind(of: device) == .agentPhone:
            if event.lastRedirection == numbering.acdGroup, chance(scenario.noAnswerShare) {
                afterFixed(scenario.noAnswerSeconds) { [self] in
                    attempt("no answer") { (m, now) throws(SwitchError) in try m.redirectOnNoAnswer(callID: call, device: device, now: now) }
                    readyLater(device, scenario.wrapUpSeconds)
                }
            } else {
                after(scenario.ringSeconds) { [self] in
                    guard core.model.calls[call]?.state(of: device) == .alerting else { return }
                    attempt("answer") { (m, now) throws(SwitchError) in try m.answerCall(callID: call, device: device, now: now) }
                }
            }
        case "networkReached":
            after(scenario.ringSeconds) { [self] in
                guard core.model.calls[call]?.state(of: device) == .alerting else { return }
                attempt("far end answers") { (m, now) throws(SwitchError) in try m.answerCall(callID: call, device: device, now: now) }
            }
        case "established":
            guard !scripted.contains(call), let parties = core.model.calls[call]?.connections.map(\.device) else { return }
            let agent = parties.first { core.model.kind(of: $0) == .agentPhone }
            guard let agent, let caller = parties.first(where: { $0 != agent }) else { return }
            scripted.insert(call)
            if core.model.kind(of: caller) == .external && core.model.calls[call]?.calling == caller {
                talkInbound(call, agent: agent, caller: caller)
            } else {
                after(scenario.talkSeconds) { [self] in hangUp(call, agent) }
            }
        case "callCleared":
            scripted.remove(call)
        default:
            break
        }
    }

    /// An answered inbound call: talk, then hold/retrieve, a consultation ending in transfer or conference, or the
    /// end.
    private func talkInbound(_ call: String, agent: String, caller: String) {
        let roll = Double.random(in: 0..<1, using: &random)
        after(scenario.talkSeconds) { [self] in
            if roll < scenario.holdShare {
                attempt("hold") { (m, now) throws(SwitchError) in try m.holdCall(callID: call, device: agent, now: now) }
                after(scenario.holdSeconds) { [self] in
                    attempt("retrieve") { (m, now) throws(SwitchError) in try m.retrieveCall(callID: call, device: agent, now: now) }
                    after(scenario.talkSeconds) { [self] in hangUp(call, chance(0.5) ? agent : caller) }
                }
            } else if roll < scenario.holdShare + scenario.transferShare + scenario.conferenceShare {
                consult(call, agent: agent, conference: roll >= scenario.holdShare + scenario.transferShare)
            } else {
                hangUp(call, chance(0.5) ? agent : caller)
            }
        }
    }

    private func consult(_ call: String, agent: String, conference: Bool) {
        let idle = core.model.agents.values.filter { other in
            other.ext != agent && other.state == .ready && !core.model.calls.values.contains { $0.state(of: other.ext) != nil }
        }.map(\.ext).sorted()
        guard let colleague = idle.randomElement(using: &random),
            let consultation = attempt("consult", { (m, now) throws(SwitchError) in
                try m.setAgentState(device: colleague, requested: "notReady", now: now)
                return try m.consultationCall(callID: call, device: agent, consulted: colleague, now: now)
            })
        else {
            hangUp(call, agent)
            return
        }
        scripted.insert(consultation)
        after(scenario.ringSeconds.upperBound...(scenario.ringSeconds.upperBound + scenario.holdSeconds.upperBound)) { [self] in
            guard core.model.calls[consultation]?.state(of: colleague) == .connected else {
                attempt("end consultation") { (m, now) throws(SwitchError) in
                    try m.clearCall(callID: consultation, now: now)
                    try m.retrieveCall(callID: call, device: agent, now: now)
                }
                readyLater(colleague, scenario.wrapUpSeconds)
                after(scenario.talkSeconds) { [self] in hangUp(call, agent) }
                return
            }
            attempt(conference ? "conference" : "transfer") { (m, now) throws(SwitchError) in
                _ = conference
                    ? try m.conferenceCall(heldCallID: call, activeCallID: consultation, device: agent, now: now)
                    : try m.transferCall(heldCallID: call, activeCallID: consultation, device: agent, now: now)
            }
            if conference { after(scenario.talkSeconds) { [self] in hangUp(call, agent) } }
            after(scenario.talkSeconds) { [self] in
                hangUp(call, colleague)
                readyLater(colleague, scenario.wrapUpSeconds)
            }
        }
    }

    private func hangUp(_ call: String, _ device: String) {
        guard core.model.calls[call]?.state(of: device) != nil else { return }
        attempt("hang up") { (m, now) throws(SwitchError) in try m.clearConnection(callID: call, device: device, now: now) }
        if core.model.agents[device]?.state == .notReady { readyLater(device, scenario.wrapUpSeconds) }
    }

    private func agentBreak() {
        let idle = core.model.agents.values.filter { agent in
            agent.state == .ready && !core.model.calls.values.contains { $0.state(of: agent.ext) != nil }
        }.map(\.ext).sorted()
        guard idle.count > 1, let agent = idle.randomElement(using: &random) else { return }
        let logOff = chance(0.3)
        attempt("break") { (m, now) throws(SwitchError) in
            try m.setAgentState(device: agent, requested: logOff ? "loggedOff" : "notReady", now: now)
        }
        after(scenario.holdSeconds) { [self] in
            attempt("back from break") { (m, now) throws(SwitchError) in
                if logOff { try m.setAgentState(device: agent, requested: "loggedOn", now: now) }
                try m.setAgentState(device: agent, requested: "ready", now: now)
            }
        }
    }

    private func readyLater(_ device: String, _ seconds: ClosedRange<Double>) {
        after(seconds) { [self] in
            guard let agent = core.model.agents[device], agent.state == .notReady || agent.state == .workingAfterCall,
                !core.model.calls.values.contains(where: { $0.state(of: device) != nil })
            else { return }
            attempt("ready") { (m, now) throws(SwitchError) in try m.setAgentState(device: device, requested: "ready", now: now) }
        }
    }

    // MARK: Helpers

    private func chance(_ share: Double) -> Bool { Double.random(in: 0..<1, using: &random) < share }

    private func after(_ seconds: ClosedRange<Double>, _ body: @escaping () -> Void) {
        afterFixed(Double.random(in: seconds, using: &random), body)
    }

    private func afterFixed(_ seconds: Double, _ body: @escaping () -> Void) {
        let delay = TimeAmount.nanoseconds(Int64(max(0, seconds * scenario.timeScale) * 1e9))
        core.eventLoop.assumeIsolated().scheduleTask(in: delay) { [weak self] in
            guard let self, running else { return }
            body()
        }
    }

    @discardableResult
    private func attempt<T>(_ what: String, _ operation: (inout SwitchModel, Date) throws(SwitchError) -> T) -> T? {
        do {
            return try core.perform(operation)
        } catch {
            core.logger.debug("scenario step skipped", metadata: ["step": "\(what)", "reason": "\(error)"])
            return nil
        }
    }
}

@available(*, unavailable)
extension LoadGenerator: Sendable {}
