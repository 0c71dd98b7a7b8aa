import Foundation

/// One finished interaction in the shape of `../shared/docs/contracts.md` §5: every call id of its legs, who called
/// whom, how long it waited, talked and was held, how it ended, and the segments each device spent in it.
public struct CallRecord: Sendable, Hashable, Codable {
    /// One stretch of time one device spent in one state of the interaction.
    public struct Segment: Sendable, Hashable, Codable {
        public var device: String
        public var agentID: String?
        public var from: Date
        public var to: Date
        /// `dialing`, `ringing`, `talking`, `held`, `queued` or `failed`.
        public var state: String

        public init(device: String, agentID: String?, from: Date, to: Date, state: String) {
            self.device = device
            self.agentID = agentID
            self.from = from
            self.to = to
            self.state = state
        }

        enum CodingKeys: String, CodingKey { case device, agentID, from, to, state }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            device = try c.decode(String.self, forKey: .device)
            agentID = try c.decodeIfPresent(String.self, forKey: .agentID)
            from = try CallRecord.date(c.decode(String.self, forKey: .from), at: c.codingPath + [CodingKeys.from])
            to = try CallRecord.date(c.decode(String.self, forKey: .to), at: c.codingPath + [CodingKeys.to])
            state = try c.decode(String.self, forKey: .state)
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(device, forKey: .device)
            try c.encode(agentID, forKey: .agentID)
            try c.encode(CallRecord.iso(from), forKey: .from)
            try c.encode(CallRecord.iso(to), forKey: .to)
            try c.encode(state, forKey: .state)
        }
    }

    public var interactionID: String
    /// Every call of the interaction, consultation legs included, in the order they were first seen.
    public var callIDs: [String]
    public var calling: String
    public var called: String
    /// `inbound`, `outbound` or `internal`.
    public var direction: String
    public var startedAt: Date
    public var answeredAt: Date?
    public var endedAt: Date
    /// `answered`, `abandoned`, `noAnswer`, `busy`, `failed`, `transferred` or `conferenced`.
    public var outcome: String
    /// The first ACD group or route point the call queued at.
    public var queue: String?
    public var waitSeconds: Double
    public var talkSeconds: Double
    public var holdSeconds: Double
    public var segments: [Segment]
    /// The agent who took the call: the first agent talking in it (the answering agent of an inbound call, the agent
    /// who made an outbound one); `null` when no agent talked or the agent is not known.
    public var answeredBy: String?
    /// The device that answered first.
    public var answeredDevice: String?
    /// Set when the link or the bridge went down while the call was up: some of its events may be missing, and the
    /// record was completed from the switch's snapshots.
    public var resynced: Bool

    public init(
        interactionID: String, callIDs: [String], calling: String, called: String, direction: String,
        startedAt: Date, answeredAt: Date?, endedAt: Date, outcome: String, queue: String?, waitSeconds: Double,
        talkSeconds: Double, holdSeconds: Double, segments: [Segment], answeredBy: String? = nil,
        answeredDevice: String? = nil, resynced: Bool = false
    ) {
        self.interactionID = interactionID
        self.callIDs = callIDs
        self.calling = calling
        self.called = called
        self.direction = direction
        self.startedAt = startedAt
        self.answeredAt = answeredAt
        self.endedAt = endedAt
        self.outcome = outcome
        self.queue = queue
        self.waitSeconds = waitSeconds
        self.talkSeconds = talkSeconds
        self.holdSeconds = holdSeconds
        self.segments = segments
        self.answeredBy = answeredBy
        self.answeredDevice = answeredDevice
        self.resynced = resynced
    }

    enum CodingKeys: String, CodingKey {
        case interactionID, callIDs, calling, called, direction, startedAt, answeredAt, endedAt, outcome, queue
        case waitSeconds, talkSeconds, holdSeconds, segments, answeredBy, answeredDevice, resynced
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        interactionID = try c.decode(String.self, forKey: .interactionID)
        callIDs = try c.decode([String].self, forKey: .callIDs)
        calling = try c.decode(String.self, forKey: .calling)
        called = try c.decode(String.self, forKey: .called)
        direction = try c.decode(String.self, forKey: .direction)
        startedAt = try Self.date(c.decode(String.self, forKey: .startedAt), at: [CodingKeys.startedAt])
        answeredAt = try c.decodeIfPresent(String.self, forKey: .answeredAt).map {
            try Self.date($0, at: [CodingKeys.answeredAt])
        }
        endedAt = try Self.date(c.decode(String.self, forKey: .endedAt), at: [CodingKeys.endedAt])
        outcome = try c.decode(String.self, forKey: .outcome)
        queue = try c.decodeIfPresent(String.self, forKey: .queue)
        waitSeconds = try c.decode(Double.self, forKey: .waitSeconds)
        talkSeconds = try c.decode(Double.self, forKey: .talkSeconds)
        holdSeconds = try c.decode(Double.self, forKey: .holdSeconds)
        segments = try c.decode([Segment].self, forKey: .segments)
        answeredBy = try c.decodeIfPresent(String.self, forKey: .answeredBy)
        answeredDevice = try c.decodeIfPresent(String.self, forKey: .answeredDevice)
        resynced = try c.decodeIfPresent(Bool.self, forKey: .resynced) ?? false
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
        try c.encode(answeredBy, forKey: .answeredBy)
        try c.encode(answeredDevice, forKey: .answeredDevice)
        if resynced { try c.encode(true, forKey: .resynced) }
    }

    /// One JSON line (no trailing newline), keys sorted.
    public func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// ISO-8601 with milliseconds, UTC.
    public static func iso(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func date(_ text: String, at path: [any CodingKey]) throws -> Date {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
        throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "not an ISO-8601 time: \(text)"))
    }
}
