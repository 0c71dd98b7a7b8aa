import Foundation

/// The ground truth of one finished interaction, in the call record shape of `../shared/docs/contracts.md` §5.
public struct CallTruthRecord: Sendable, Hashable, Encodable {
    /// One stretch of time one device spent in one state of the interaction.
    public struct Segment: Sendable, Hashable, Encodable {
        public var device: String
        public var agentID: String?
        public var from: Date
        public var to: Date
        /// `dialing`, `ringing`, `talking`, `held` or `queued`.
        public var state: String

        enum CodingKeys: String, CodingKey { case device, agentID, from, to, state }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(device, forKey: .device)
            try c.encode(agentID, forKey: .agentID)
            try c.encode(CallTruthRecord.iso(from), forKey: .from)
            try c.encode(CallTruthRecord.iso(to), forKey: .to)
            try c.encode(state, forKey: .state)
        }
    }

    public var interactionID: String
    /// Every call of the interaction, consultation legs included, in the order they began.
    public var callIDs: [String]
    public var calling: String
    public var called: String
    /// `inbound`, `outbound` or `internal`.
    public var direction: String
    public var startedAt: Date
    public var answeredAt: Date?
    public var endedAt: Date
    /// `answered`, `abandoned`, `transferred`, `conferenced` or `noAnswer`.
    public var outcome: String
    public var queue: String?
    public var waitSeconds: Double
    public var talkSeconds: Double
    public var holdSeconds: Double
    public var segments: [Segment]

    enum CodingKeys: String, CodingKey {
        case interactionID, callIDs, calling, called, direction, startedAt, answeredAt, endedAt, outcome, queue
        case waitSeconds, talkSeconds, holdSeconds, segments
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(interactionID, forKey: .interactionID)
        try c.encode(callIDs, forKey: .callIDs)
        try c.encode(calling, forKey: .calling)
        try c.encode(called, forKey: .called)
        try c.encode(direction, forKey: .direction)
        try c.encode(Self.iso(startedAt), forKey: .startedAt)
        try c.encode(answeredAt.map(Self.iso), forKey: .answeredAt)
        try c.encode(Self.iso(endedAt), forKey: .endedAt)
        try c.encode(outcome, forKey: .outcome)
        try c.encode(queue, forKey: .queue)
        try c.encode(waitSeconds, forKey: .waitSeconds)
        try c.encode(talkSeconds, forKey: .talkSeconds)
        try c.encode(holdSeconds, forKey: .holdSeconds)
        try c.encode(segments, forKey: .segments)
    }

    /// One JSON line (no trailing newline), keys sorted.
    public func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    static func iso(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

/// Follows one interaction while it lasts: who was in it in which state and when, and how it went.
struct InteractionTracker: Sendable {
    let id: String
    var callIDs: [String] = []
    let calling: String
    let called: String
    let direction: String
    let startedAt: Date
    var answeredAt: Date?
    var queue: String?
    var abandoned = false
    var transferred = false
    var conferenced = false
    var closed: [CallTruthRecord.Segment] = []
    /// Device → its open segment.
    var open: [String: CallTruthRecord.Segment] = [:]

    init(id: String, calling: String, called: String, direction: String, startedAt: Date) {
        self.id = id
        self.calling = calling
        self.called = called
        self.direction = direction
        self.startedAt = startedAt
    }

    static func label(_ state: LocalConnectionState) -> String? {
        switch state {
        case .initiated: "dialing"
        case .alerting: "ringing"
        case .connected: "talking"
        case .hold: "held"
        case .queued: "queued"
        case .null, .fail: nil
        }
    }

    mutating func enter(_ device: String, agentID: String?, _ state: LocalConnectionState, at now: Date) {
        leave(device, at: now)
        guard let label = Self.label(state) else { return }
        open[device] = .init(device: device, agentID: agentID, from: now, to: now, state: label)
    }

    mutating func leave(_ device: String, at now: Date) {
        guard var segment = open.removeValue(forKey: device) else { return }
        segment.to = now
        closed.append(segment)
    }

    mutating func answered(at now: Date) {
        if answeredAt == nil { answeredAt = now }
    }

    mutating func enqueued(_ device: String, at now: Date) {
        if queue == nil { queue = device }
    }

    mutating func absorb(_ other: InteractionTracker) {
        callIDs += other.callIDs
        closed += other.closed
        open.merge(other.open) { mine, _ in mine }
        transferred = transferred || other.transferred
        conferenced = conferenced || other.conferenced
    }

    func truth(endedAt: Date) -> CallTruthRecord {
        var segments = closed
        for var segment in open.values {
            segment.to = endedAt
            segments.append(segment)
        }
        segments.sort { ($0.from, $0.device) < ($1.from, $1.device) }
        func seconds(_ state: String) -> Double {
            segments.filter { $0.state == state }.reduce(0) { $0 + $1.to.timeIntervalSince($1.from) }
        }
        let hold = seconds("held")
        let talk = answeredAt.map { max(0, endedAt.timeIntervalSince($0) - hold) } ?? 0
        let wait = queue == nil ? answeredAt.map { $0.timeIntervalSince(startedAt) } ?? 0 : seconds("queued")
        let outcome =
            conferenced ? "conferenced" : transferred ? "transferred" : answeredAt != nil ? "answered"
            : abandoned ? "abandoned" : "noAnswer"
        return CallTruthRecord(
            interactionID: id, callIDs: callIDs, calling: calling, called: called, direction: direction,
            startedAt: startedAt, answeredAt: answeredAt, endedAt: endedAt, outcome: outcome, queue: queue,
            waitSeconds: Self.round(wait), talkSeconds: Self.round(talk), holdSeconds: Self.round(hold), segments: segments)
    }

    static func round(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
