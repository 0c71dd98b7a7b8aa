import Foundation

/// What the wallboard page shows at one moment (see ``Wallboard`` for the rules). Seconds are rounded to 0.1 s,
/// service levels (0…1) to 4 decimals, so the JSON stays short; `null`/absent means "no calls to say it from".
public struct WallboardSnapshot: Sendable, Hashable, Codable {
    public struct Agent: Sendable, Hashable, Codable {
        public var agentID: String?
        public var device: String
        public var state: AgentState
        /// The switch's not-ready reason (absent when on a call).
        public var reason: String?
        public var since: Date
        /// The agent's device is in a call (so it shows `busy` whatever the switch last said).
        public var onCall: Bool
    }

    public struct AgentCounts: Sendable, Hashable, Codable {
        public var ready = 0
        public var notReady = 0
        public var busy = 0
        public var workingAfterCall = 0
        public var loggedOff = 0

        public init(ready: Int = 0, notReady: Int = 0, busy: Int = 0, workingAfterCall: Int = 0, loggedOff: Int = 0) {
            self.ready = ready
            self.notReady = notReady
            self.busy = busy
            self.workingAfterCall = workingAfterCall
            self.loggedOff = loggedOff
        }

        mutating func count(_ state: AgentState) {
            switch state {
            case .ready: ready += 1
            case .notReady: notReady += 1
            case .busy: busy += 1
            case .workingAfterCall: workingAfterCall += 1
            case .loggedOff: loggedOff += 1
            }
        }
    }

    /// One queue's figures (``Totals`` has the same over every queue).
    public struct Queue: Sendable, Hashable, Codable {
        public var queue: String
        /// Calls queued or ringing at an agent now.
        public var waiting: Int
        /// How long the longest-waiting of them has waited at `generatedAt` (0 when none waits).
        public var oldestWaitSeconds: Double
        public var offered: Int
        public var answered: Int
        public var answeredWithinThreshold: Int
        public var abandoned: Int
        /// Abandoned within the short-abandon limit.
        public var shortAbandoned: Int
        /// Left unanswered otherwise (diverted out, queued on elsewhere, ended by the switch, expired).
        public var left: Int
        /// Mean wait of today's answered calls.
        public var averageAnswerWaitSeconds: Double?
        /// The longest wait today: of the calls answered or abandoned, and of the ones still waiting.
        public var longestWaitSeconds: Double
        public var serviceLevel: Double?
    }

    public struct Totals: Sendable, Hashable, Codable {
        public var waiting: Int
        public var oldestWaitSeconds: Double
        public var offered: Int
        public var answered: Int
        public var answeredWithinThreshold: Int
        public var abandoned: Int
        public var shortAbandoned: Int
        public var left: Int
        public var averageAnswerWaitSeconds: Double?
        public var longestWaitSeconds: Double
        public var serviceLevel: Double?
    }

    /// The rule the service levels were computed with.
    public struct ServiceLevelRule: Sendable, Hashable, Codable {
        public var formula: Wallboard.ServiceLevelFormula
        public var thresholdSeconds: Double
        public var shortAbandonSeconds: Double
    }

    public var generatedAt: Date
    /// The CTI link is down: the figures may be behind.
    public var stale: Bool
    public var staleSince: Date?
    /// The local day the counters are for (`yyyy-MM-dd`), when it started, and in which time zone.
    public var day: String
    public var dayStart: Date
    public var timeZone: String
    public var serviceLevelRule: ServiceLevelRule
    public var agentCounts: AgentCounts
    public var agents: [Agent]
    public var queues: [Queue]
    public var today: Totals

    /// Compact JSON: sorted keys, dates ISO-8601 UTC, absent optionals left out.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }

    /// Reads ``json()``'s output back.
    public static func decode(json data: Data) throws -> WallboardSnapshot {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(WallboardSnapshot.self, from: data)
    }
}

extension Wallboard {
    /// The wallboard at `now`: the day's counters (zero when `now` is in a later day than the last event), waits run
    /// to `now`, calls older than ``Configuration/maxCallAge`` left out. Does not change the wallboard.
    public func snapshot(now: Date) -> WallboardSnapshot {
        var board = self
        board.advance(to: now)
        board.expire(now: now)
        return board.render(now: now)
    }

    func render(now: Date) -> WallboardSnapshot {
        // Devices in a call, with since when.
        var onCallSince: [String: Date] = [:]
        for call in calls.values {
            for (device, party) in call.parties { onCallSince[device] = min(onCallSince[device] ?? party.since, party.since) }
        }
        var agentRows: [WallboardSnapshot.Agent] = []
        var agentCounts = WallboardSnapshot.AgentCounts()
        for entry in agents.values {
            let row: WallboardSnapshot.Agent
            if let since = onCallSince[entry.device] {
                row = .init(
                    agentID: entry.agentID, device: entry.device, state: .busy, reason: nil, since: since, onCall: true)
            } else {
                let since = max(entry.since, entry.lastCallEndedAt ?? entry.since)
                row = .init(
                    agentID: entry.agentID, device: entry.device, state: entry.state, reason: entry.reason,
                    since: since, onCall: false)
            }
            agentCounts.count(row.state)
            agentRows.append(row)
        }
        agentRows.sort { ($0.agentID ?? $0.device, $0.device) < ($1.agentID ?? $1.device, $1.device) }

        // Waiting calls per queue: how many, and the earliest entry.
        var waiting: [String: (count: Int, since: Date)] = [:]
        for call in calls.values {
            guard let visit = call.visit, visit.isWaiting else { continue }
            let current = waiting[visit.queue]
            waiting[visit.queue] = ((current?.count ?? 0) + 1, min(current?.since ?? visit.since, visit.since))
        }
        let names = Set(queueDevices).union(day.queues.keys).union(waiting.keys).sorted()
        var total = QueueCounters()
        var totalWaiting = 0
        var totalOldest: TimeInterval = 0
        var queueRows: [WallboardSnapshot.Queue] = []
        for name in names {
            let counters = day.queues[name] ?? QueueCounters()
            let count = waiting[name]?.count ?? 0
            let oldest = waiting[name].map { max(0, now.timeIntervalSince($0.since)) } ?? 0
            total = total + counters
            totalWaiting += count
            totalOldest = max(totalOldest, oldest)
            queueRows.append(
                .init(
                    queue: name, waiting: count, oldestWaitSeconds: Self.tenths(oldest), offered: counters.offered,
                    answered: counters.answered, answeredWithinThreshold: counters.answeredWithinThreshold,
                    abandoned: counters.abandoned, shortAbandoned: counters.shortAbandoned, left: counters.left,
                    averageAnswerWaitSeconds: averageWait(counters),
                    longestWaitSeconds: Self.tenths(max(counters.longestWait, oldest)),
                    serviceLevel: serviceLevel(counters)))
        }
        let today = WallboardSnapshot.Totals(
            waiting: totalWaiting, oldestWaitSeconds: Self.tenths(totalOldest), offered: total.offered,
            answered: total.answered, answeredWithinThreshold: total.answeredWithinThreshold,
            abandoned: total.abandoned, shortAbandoned: total.shortAbandoned, left: total.left,
            averageAnswerWaitSeconds: averageWait(total), longestWaitSeconds: Self.tenths(max(total.longestWait, totalOldest)),
            serviceLevel: serviceLevel(total))
        let start = dayStart ?? calendar.startOfDay(for: now)
        let parts = calendar.dateComponents([.year, .month, .day], from: start)
        return WallboardSnapshot(
            generatedAt: now, stale: linkDownSince != nil, staleSince: linkDownSince,
            day: String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0),
            dayStart: start, timeZone: configuration.timeZone.identifier,
            serviceLevelRule: .init(
                formula: configuration.serviceLevelFormula, thresholdSeconds: configuration.serviceLevelThreshold,
                shortAbandonSeconds: configuration.shortAbandonLimit),
            agentCounts: agentCounts, agents: agentRows, queues: queueRows, today: today)
    }

    func averageWait(_ counters: QueueCounters) -> Double? {
        counters.answered == 0 ? nil : Self.tenths(counters.answeredWaitTotal / Double(counters.answered))
    }

    /// The service level by ``Configuration/serviceLevelFormula`` (see ``Wallboard``), `nil` when nothing counts.
    func serviceLevel(_ counters: QueueCounters) -> Double? {
        let denominator: Int
        switch configuration.serviceLevelFormula {
        case .answeredAndLateAbandoned:
            denominator = counters.answered + counters.abandonedAfterThreshold
        case .offered:
            // offered − short abandons − still waiting, counted from the outcomes (a day's offered includes calls
            // carried over from the day before).
            denominator = counters.answered + counters.abandoned - counters.shortAbandoned + counters.left
        }
        guard denominator > 0 else { return nil }
        let share = min(1, Double(counters.answeredWithinThreshold) / Double(denominator))
        return (share * 10_000).rounded() / 10_000
    }

    static func tenths(_ seconds: TimeInterval) -> Double { (seconds * 10).rounded() / 10 }
}
