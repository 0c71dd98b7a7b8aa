import Foundation

/// ECMA-269 local connection state of one device in one call (`null` is the connection's absence).
public enum ConnectionState: String, Sendable, Hashable, Codable {
    case initiated, alerting, connected, hold, queued, fail

    /// The segment label of the state (contract §5), `nil` for states that make no segment.
    var segmentLabel: String? {
        switch self {
        case .initiated: "dialing"
        case .alerting: "ringing"
        case .connected: "talking"
        case .hold: "held"
        case .queued: "queued"
        case .fail: nil
        }
    }

    /// The state named as in snapshots and `localConnectionInfo` (`alerting`, `connected`, `hold`, …).
    public init?(cstaName: String) {
        switch cstaName {
        case "initiated", "initiate": self = .initiated
        case "alerting", "alert": self = .alerting
        case "connected", "connect": self = .connected
        case "hold", "held": self = .hold
        case "queued", "queue": self = .queued
        case "fail", "failed": self = .fail
        default: return nil
        }
    }
}

/// One device's connection to one call.
struct Connection: Sendable, Hashable, Codable {
    var device: String
    var state: ConnectionState
    /// Why the connection was put on hold (`consultation` links the next call the device makes).
    var holdCause: String?
    /// Added because the call was diverted or transferred to the device, before the device itself reported it.
    var pending: Bool? = nil
    /// When (in hold order) the connection was last put on hold.
    var heldOrder: UInt64? = nil
}

/// One call (one call id) and its connections; it belongs to exactly one interaction.
struct CallLeg: Sendable, Hashable, Codable {
    var id: String
    var interactionID: String
    var connections: [Connection] = []

    func index(of device: String) -> Int? { connections.firstIndex { $0.device == device } }
    func state(of device: String) -> ConnectionState? { index(of: device).map { connections[$0].state } }
}

/// One customer contact across every call id it had: the first call, consultations, transfers, conferences.
struct Interaction: Sendable, Hashable, Codable {
    var id: String
    var callIDs: [String]
    var calling: String?
    var called: String?
    var startedAt: Date
    var answeredAt: Date?
    var answeredDevice: String?
    var answeredBy: String?
    var queue: String?
    var abandoned = false
    var transferred = false
    var conferenced = false
    var failureCause: String?
    var resynced = false
    /// Call ids of this interaction that are still up.
    var liveCalls: Set<String> = []
    var closedSegments: [CallRecord.Segment] = []
    /// `callID|device` → the segment that device is in on that call now.
    var openSegments: [String: CallRecord.Segment] = [:]

    init(id: String, firstCall: String, startedAt: Date) {
        self.id = id
        self.callIDs = [firstCall]
        self.startedAt = startedAt
        self.liveCalls = [firstCall]
    }

    static func segmentKey(_ call: String, _ device: String) -> String { call + "|" + device }

    mutating func enter(call: String, device: String, agentID: String?, state: ConnectionState, at: Date) {
        let key = Self.segmentKey(call, device)
        if let open = openSegments[key], let label = state.segmentLabel, open.state == label { return }
        leave(call: call, device: device, at: at)
        guard let label = state.segmentLabel else { return }
        openSegments[key] = CallRecord.Segment(device: device, agentID: agentID, from: at, to: at, state: label)
    }

    mutating func leave(call: String, device: String, at: Date) {
        guard var segment = openSegments.removeValue(forKey: Self.segmentKey(call, device)) else { return }
        segment.to = max(at, segment.from)
        closedSegments.append(segment)
    }

    /// The call record, closing what is still open at `endedAt`.
    func record(endedAt: Date, direction: String) -> CallRecord {
        var segments = closedSegments
        for var segment in openSegments.values {
            segment.to = max(endedAt, segment.from)
            segments.append(segment)
        }
        segments.sort { ($0.from, $0.device, $0.state) < ($1.from, $1.device, $1.state) }
        func seconds(_ state: String) -> Double {
            segments.lazy.filter { $0.state == state }.reduce(0) { $0 + $1.to.timeIntervalSince($1.from) }
        }
        let hold = seconds("held")
        let talk = answeredAt.map { max(0, endedAt.timeIntervalSince($0) - hold) } ?? 0
        let wait =
            queue == nil ? answeredAt.map { max(0, $0.timeIntervalSince(startedAt)) } ?? 0 : seconds("queued")
        let outcome: String
        if conferenced {
            outcome = "conferenced"
        } else if transferred {
            outcome = "transferred"
        } else if answeredAt != nil {
            outcome = "answered"
        } else if abandoned {
            outcome = "abandoned"
        } else if let failureCause {
            outcome = failureCause == "busy" || failureCause == "aCDBusy" ? "busy" : "failed"
        } else {
            outcome = "noAnswer"
        }
        return CallRecord(
            interactionID: id, callIDs: callIDs, calling: calling ?? "<notKnown>", called: called ?? "<notKnown>",
            direction: direction, startedAt: startedAt, answeredAt: answeredAt, endedAt: max(endedAt, startedAt),
            outcome: outcome, queue: queue, waitSeconds: Self.round(wait), talkSeconds: Self.round(talk),
            holdSeconds: Self.round(hold), segments: segments,
            answeredBy: segments.first { $0.state == "talking" && $0.agentID != nil }?.agentID ?? answeredBy,
            answeredDevice: answeredDevice, resynced: resynced)
    }

    static func round(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}

/// What the model knows of one agent.
public struct AgentStatus: Sendable, Hashable, Codable {
    public var agentID: String?
    public var device: String
    /// `loggedOn`, `loggedOff`, `notReady`, `ready`, `busy`, `workingAfterCall`.
    public var state: String
    public var reason: String?
    public var since: Date
}
