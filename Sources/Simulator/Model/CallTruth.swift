import CallModel
import Foundation

/// The ground truth of one finished interaction: a call record in the shape of `../shared/docs/contracts.md` §5 (the
/// same type the bridge's call model produces, so the two compare field by field).
public typealias CallTruthRecord = CallRecord

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
    var closed: [CallRecord.Segment] = []
    /// Device → its open segment.
    var open: [String: CallRecord.Segment] = [:]

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
        return CallRecord(
            interactionID: id, callIDs: callIDs, calling: calling, called: called, direction: direction,
            startedAt: startedAt, answeredAt: answeredAt, endedAt: endedAt, outcome: outcome, queue: queue,
            waitSeconds: Self.round(wait), talkSeconds: Self.round(talk), holdSeconds: Self.round(hold), segments: segments,
            answeredBy: segments.first { $0.state == "talking" && $0.agentID != nil }?.agentID)
    }

    static func round(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
