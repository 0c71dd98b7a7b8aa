import CallModel
import Foundation

/// The model behind the supervisor wallboard: agents by state, queues (waiting calls, oldest wait), and today's
/// offered / answered / abandoned calls and service level. A pure value type (no I/O, no clock): feed it the bus's
/// events in order with ``apply(_:)`` and render ``snapshot(now:)``.
///
/// **Queue visits.** A call *visits* a queue (an ACD group or route point: a device a `queued` event names) from its
/// first `queued` event there until it is answered at a device that is not a queue (counted *answered*, its wait is
/// queue entry → answer, ringing at the agent included), the caller hangs up before an answer (*abandoned*: the
/// record's outcome `abandoned`, or `noAnswer` while the call still waited or rang at an agent — the call model says
/// `abandoned` only for a hang-up in the queue itself; the wait is queue entry → end), or it leaves unanswered
/// otherwise (*left*: diverted out of the bridge's view, queued on at another queue, ended by the switch, expired).
/// A call that rings at an agent and comes back keeps its first entry time. A call transferred to a queue after an
/// answer starts a new visit there. *Waiting* calls are visits still queued or ringing at an agent.
///
/// **Today** runs from local midnight in ``Configuration/timeZone``. A visit counts as *offered* on the day it
/// starts and as answered / abandoned / left on the day that happens; at a day rollover every counter restarts and the
/// visits still waiting are offered again on the new day, so each day `offered = answered + abandoned + left +
/// waiting`.
///
/// **Service level** (``Configuration/serviceLevelThreshold`` T, default 20 s; short-abandon limit S, default 5 s):
/// - ``ServiceLevelFormula/answeredAndLateAbandoned`` (default, the common industry formula):
///   answered within T ÷ (answered + abandoned after T); abandons within T (and so the short ones) do not count.
/// - ``ServiceLevelFormula/offered``: answered within T ÷ (offered − short abandons (≤ S) − still waiting), i.e. every
///   visit that ended today except the short abandons; abandons after S and calls that left unanswered count against.
/// `nil` when the denominator is 0. "Within T" is `wait ≤ T`.
///
/// **Agents.** An agent appears once the switch reports its state (`agentState`; `loggedOn` shows as `notReady`).
/// An agent whose device is in a call — answered there, or made there (`originated`), until it leaves the call
/// (`partyCleared`, `transferred` away, `diverted` away) or the interaction ends — shows `busy` with `onCall: true`
/// whatever the switch last said, since the time it got on the call; afterwards the switch's state again, since the
/// later of its report and the call's end. Ringing does not make an agent busy.
///
/// **Link.** A link-down marks the snapshot `stale` until the link is up again; the resync events the call model gives
/// at link-up (`resynced: true`) are applied like any other.
///
/// **Bounded memory.** Calls with no event for ``Configuration/maxCallAge`` (12 h) are dropped (an unanswered visit
/// counts as left); ``expire(now:)`` does it, ``apply(_:)`` runs it once a minute of event time.
public struct Wallboard: Sendable {
    public enum ServiceLevelFormula: String, Sendable, Hashable, Codable, CaseIterable {
        /// answered within T ÷ (answered + abandoned after T).
        case answeredAndLateAbandoned
        /// answered within T ÷ (offered − short abandons − still waiting).
        case offered
    }

    public struct Configuration: Sendable, Hashable {
        /// T: a call answered after waiting at most this long is answered within the service level.
        public var serviceLevelThreshold: TimeInterval
        /// S: an abandon after at most this long is a short abandon (a wrong number, a caller who changed its mind).
        public var shortAbandonLimit: TimeInterval
        public var serviceLevelFormula: ServiceLevelFormula
        /// Where "today" starts at midnight.
        public var timeZone: TimeZone
        /// Calls with no event for this long are dropped (a switch that never reported their end).
        public var maxCallAge: TimeInterval

        public init(
            serviceLevelThreshold: TimeInterval = 20, shortAbandonLimit: TimeInterval = 5,
            serviceLevelFormula: ServiceLevelFormula = .answeredAndLateAbandoned,
            timeZone: TimeZone = Wallboard.chinaStandardTime, maxCallAge: TimeInterval = 12 * 3600
        ) {
            self.serviceLevelThreshold = serviceLevelThreshold
            self.shortAbandonLimit = shortAbandonLimit
            self.serviceLevelFormula = serviceLevelFormula
            self.timeZone = timeZone
            self.maxCallAge = maxCallAge
        }
    }

    /// Asia/Shanghai (UTC+8 all year; the fixed offset if the system has no zone database).
    public static let chinaStandardTime: TimeZone =
        TimeZone(identifier: "Asia/Shanghai") ?? TimeZone(secondsFromGMT: 8 * 3600) ?? .gmt

    public let configuration: Configuration
    var calendar: Calendar
    /// Agents by device (the call model keys agents by the device they are logged on at).
    var agents: [String: AgentEntry] = [:]
    /// Open interactions the wallboard follows, by interaction id.
    var calls: [String: TrackedCall] = [:]
    /// Every device a `queued` event named.
    var queueDevices: Set<String> = []
    /// Local midnight of the day the counters are for; `nil` before the first event.
    var dayStart: Date?
    var day = DayCounters()
    var linkDownSince: Date?
    var lastExpiry: Date?

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = configuration.timeZone
        self.calendar = calendar
    }

    /// Open interactions followed (for tests and metrics).
    public var trackedCallCount: Int { calls.count }

    // MARK: Events

    public mutating func apply(_ event: CallEvent) {
        advance(to: event.at)
        if lastExpiry.map({ event.at.timeIntervalSince($0) >= 60 }) ?? true {
            expire(now: event.at)
        }
        switch event.kind {
        case .agentState: agentState(event)
        case .link: linkState(event)
        case .queued: queued(event)
        case .ringing: ringing(event)
        case .answered: answered(event)
        case .originated: joinCall(event)
        case .diverted: diverted(event)
        case .transferred: rearranged(event, leaving: event.device)
        case .conferenced: rearranged(event, leaving: nil)
        case .partyCleared: leave(event, call: event.callID)
        case .callEnded: ended(event)
        case .held, .retrieved, .networkReached, .failed: touch(event)
        }
    }

    /// Drops the calls with no event for ``Configuration/maxCallAge`` at `now`.
    public mutating func expire(now: Date) {
        lastExpiry = now
        for (id, call) in calls where now.timeIntervalSince(call.lastEventAt) > configuration.maxCallAge {
            if let visit = call.visit { finish(visit, as: .left, at: now) }
            calls[id] = nil
        }
    }

    /// Restarts the day's counters when `date` is in a later local day than the counters'.
    mutating func advance(to date: Date) {
        let start = calendar.startOfDay(for: date)
        guard let current = dayStart else {
            dayStart = start
            return
        }
        guard start > current else { return }
        dayStart = start
        day = DayCounters()
        // The calls still waiting are offered again on the new day (their wait keeps running).
        for call in calls.values {
            if let visit = call.visit, visit.isWaiting { day.queues[visit.queue, default: QueueCounters()].offered += 1 }
        }
    }

    mutating func agentState(_ event: CallEvent) {
        guard let device = event.device, let raw = event.agentState else { return }
        let state: AgentState
        if raw == "loggedOn" {
            state = .notReady
        } else if let known = AgentState(rawValue: raw) {
            state = known
        } else {
            return
        }
        // An agent that logs on at another device leaves its old one.
        if let agentID = event.agentID {
            for (other, entry) in agents where other != device && entry.agentID == agentID { agents[other] = nil }
        }
        var entry = agents[device] ?? AgentEntry(device: device)
        entry.agentID = event.agentID ?? entry.agentID
        entry.state = state
        entry.reason = event.reason
        entry.since = event.at
        agents[device] = entry
    }

    mutating func linkState(_ event: CallEvent) {
        switch event.linkState {
        case "down": linkDownSince = linkDownSince ?? event.at
        case "up": linkDownSince = nil
        default: break
        }
    }

    /// The tracked call of `event`'s interaction (created when `create`), with its last event time moved on.
    mutating func track(_ event: CallEvent, create: Bool) -> String? {
        guard let id = event.interactionID else { return nil }
        if calls[id] == nil {
            guard create else { return nil }
            calls[id] = TrackedCall(lastEventAt: event.at)
        }
        let last = calls[id]?.lastEventAt ?? event.at
        calls[id]?.lastEventAt = max(last, event.at)
        return id
    }

    mutating func touch(_ event: CallEvent) { _ = track(event, create: false) }

    mutating func queued(_ event: CallEvent) {
        guard let queue = event.device, let id = track(event, create: true) else { return }
        queueDevices.insert(queue)
        // A call in a queue is no longer talking there (a consultation or transfer to a queue device).
        calls[id]?.parties[queue] = nil
        if var visit = calls[id]?.visit, visit.queue == queue {
            // Back from an agent that did not answer: the wait runs on from the first entry.
            visit.phase = .queued
            visit.ringingAt = nil
            calls[id]?.visit = visit
            return
        }
        if let previous = calls[id]?.visit { finish(previous, as: .left, at: event.at) }
        calls[id]?.visit = QueueVisit(queue: queue, since: event.at, phase: .queued)
        day.queues[queue, default: QueueCounters()].offered += 1
    }

    mutating func ringing(_ event: CallEvent) {
        guard let device = event.device, !queueDevices.contains(device), let id = track(event, create: false),
            calls[id]?.visit != nil
        else { return }
        calls[id]?.visit?.phase = .ringing
        calls[id]?.visit?.ringingAt = device
    }

    mutating func answered(_ event: CallEvent) {
        guard let device = event.device, !queueDevices.contains(device), let id = track(event, create: true) else {
            return
        }
        if let visit = calls[id]?.visit {
            finish(visit, as: .answered, at: event.at)
            calls[id]?.visit = nil
        }
        joinCall(event)
    }

    /// `event.device` is in call `event.callID` (answered or made there).
    mutating func joinCall(_ event: CallEvent) {
        guard let device = event.device, let call = event.callID, let id = track(event, create: true) else { return }
        if calls[id]?.parties[device] == nil { calls[id]?.parties[device] = Party(since: event.at) }
        calls[id]?.parties[device]?.callIDs.insert(call)
    }

    mutating func diverted(_ event: CallEvent) {
        guard let device = event.device, let id = track(event, create: false) else { return }
        if let visit = calls[id]?.visit, visit.queue == device || visit.ringingAt == device {
            // Distributed to an agent (which rings next), or sent on out of the queue.
            calls[id]?.visit?.phase = .divertedOut
            calls[id]?.visit?.ringingAt = nil
        }
        leave(event, call: event.callID)
    }

    /// A transfer or conference made every leg one call (`event.callID`); a transferring device leaves it.
    mutating func rearranged(_ event: CallEvent, leaving: String?) {
        guard let id = track(event, create: false), let result = event.callID else { return }
        for device in calls[id]?.parties.keys.sorted() ?? [] { calls[id]?.parties[device]?.callIDs = [result] }
        if let leaving, calls[id]?.parties.removeValue(forKey: leaving) != nil { noteCallEnd(at: leaving, event.at) }
    }

    mutating func leave(_ event: CallEvent, call: String?) {
        guard let device = event.device, let call, let id = track(event, create: false),
            var party = calls[id]?.parties[device]
        else { return }
        party.callIDs.remove(call)
        calls[id]?.parties[device] = party.callIDs.isEmpty ? nil : party
        if party.callIDs.isEmpty { noteCallEnd(at: device, event.at) }
    }

    mutating func ended(_ event: CallEvent) {
        guard let id = event.interactionID, let call = calls.removeValue(forKey: id) else { return }
        for device in call.parties.keys { noteCallEnd(at: device, event.at) }
        guard let visit = call.visit else { return }
        let outcome = event.record?.outcome
        let hungUp = outcome == "abandoned" || (outcome == "noAnswer" && visit.phase != .divertedOut)
        finish(visit, as: hungUp ? .abandoned : .left, at: event.at)
    }

    mutating func noteCallEnd(at device: String, _ date: Date) {
        guard var entry = agents[device] else { return }
        entry.lastCallEndedAt = max(entry.lastCallEndedAt ?? date, date)
        agents[device] = entry
    }

    /// Counts how a queue visit ended, on the current day.
    mutating func finish(_ visit: QueueVisit, as outcome: VisitOutcome, at date: Date) {
        let wait = max(0, date.timeIntervalSince(visit.since))
        var counters = day.queues[visit.queue] ?? QueueCounters()
        switch outcome {
        case .answered:
            counters.answered += 1
            counters.answeredWaitTotal += wait
            if wait <= configuration.serviceLevelThreshold { counters.answeredWithinThreshold += 1 }
        case .abandoned:
            counters.abandoned += 1
            if wait <= configuration.shortAbandonLimit { counters.shortAbandoned += 1 }
            if wait > configuration.serviceLevelThreshold && wait > configuration.shortAbandonLimit {
                counters.abandonedAfterThreshold += 1
            }
        case .left:
            counters.left += 1
        }
        if outcome != .left { counters.longestWait = max(counters.longestWait, wait) }
        day.queues[visit.queue] = counters
    }
}

// MARK: - State

/// The agent states the wallboard shows.
public enum AgentState: String, Sendable, Hashable, Codable, CaseIterable {
    case ready, notReady, busy, workingAfterCall, loggedOff
}

struct AgentEntry: Sendable {
    var device: String
    var agentID: String?
    var state: AgentState = .loggedOff
    var reason: String?
    var since: Date = .distantPast
    var lastCallEndedAt: Date?
}

/// A device in a call of an interaction: the legs it is in, and since when.
struct Party: Sendable {
    var since: Date
    var callIDs: Set<String> = []
}

struct TrackedCall: Sendable {
    var lastEventAt: Date
    /// The queue visit in progress (`nil` when not queued or already answered).
    var visit: QueueVisit?
    /// Devices in the call (answered or made there).
    var parties: [String: Party] = [:]
}

struct QueueVisit: Sendable {
    enum Phase: Sendable { case queued, ringing, divertedOut }
    var queue: String
    var since: Date
    var phase: Phase
    /// The device the call rings at (an agent it was distributed to).
    var ringingAt: String?
    var isWaiting: Bool { phase != .divertedOut }
}

enum VisitOutcome { case answered, abandoned, left }

struct QueueCounters: Sendable, Hashable {
    var offered = 0
    var answered = 0
    var answeredWithinThreshold = 0
    var answeredWaitTotal: TimeInterval = 0
    var abandoned = 0
    var shortAbandoned = 0
    var abandonedAfterThreshold = 0
    var left = 0
    /// The longest wait of a call answered or abandoned today.
    var longestWait: TimeInterval = 0

    static func + (a: Self, b: Self) -> Self {
        Self(
            offered: a.offered + b.offered, answered: a.answered + b.answered,
            answeredWithinThreshold: a.answeredWithinThreshold + b.answeredWithinThreshold,
            answeredWaitTotal: a.answeredWaitTotal + b.answeredWaitTotal, abandoned: a.abandoned + b.abandoned,
            shortAbandoned: a.shortAbandoned + b.shortAbandoned,
            abandonedAfterThreshold: a.abandonedAfterThreshold + b.abandonedAfterThreshold, left: a.left + b.left,
            longestWait: max(a.longestWait, b.longestWait))
    }
}

struct DayCounters: Sendable {
    var queues: [String: QueueCounters] = [:]
}
