import Foundation

/// When an agent's desktop gets the pop for a call at its device.
public enum PopTrigger: String, Sendable, Hashable, Codable {
    /// When the call rings at the device (the agent sees who calls before picking up).
    case alerting
    /// When the device answers.
    case answer
}

/// What the customer lookup found for an interaction's caller (filled outside the router, asynchronously).
public struct PopAttachedData: Sendable, Hashable {
    public var customer: CustomerCard?
    public var recentCalls: [RecentCall]
    public var openWorkOrders: [WorkOrderSummary]

    public init(customer: CustomerCard?, recentCalls: [RecentCall] = [], openWorkOrders: [WorkOrderSummary] = []) {
        self.customer = customer
        self.recentCalls = recentCalls
        self.openWorkOrders = openWorkOrders
    }
}

/// A caller number the enrichment step should look up for an interaction.
public struct CustomerLookup: Sendable, Hashable {
    public var interactionID: String
    public var number: String

    public init(interactionID: String, number: String) {
        self.interactionID = interactionID
        self.number = number
    }
}

/// One message for one agent; the server sends it to every desktop the agent has open.
public struct PopDelivery: Sendable, Hashable {
    public var recipient: String
    public var message: PopMessage

    public init(recipient: String, message: PopMessage) {
        self.recipient = recipient
        self.message = message
    }
}

/// A device's state in one call, as desktops show it.
enum PopPartyState: String, Sendable, Hashable {
    case dialing, ringing, talking, held, queued, failed

    /// Which state a device in several legs shows: the one the agent is busiest in (talking to a colleague while the
    /// customer is held shows talking).
    var rank: Int {
        switch self {
        case .talking: 5
        case .ringing: 4
        case .held: 3
        case .dialing: 2
        case .queued: 1
        case .failed: 0
        }
    }
}

/// One device in an interaction: its state in each leg (call id) it is in, and whether its agent was popped.
struct PopParty: Sendable, Hashable {
    var legs: [String: PopPartyState] = [:]
    /// The trigger was met at this device: its agents got (or, without a desktop, would have got) the pop, so later
    /// changes are updates and its leaving is an end.
    var popped = false
    /// The call was delivered here (rang, or was transferred here): a call the device makes itself never is.
    var offered = false
    /// The device answered the call (an outbound call's maker never does: its far end answers).
    var answered = false

    /// The state shown for the device: its busiest leg.
    var state: PopPartyState? { legs.values.max { $0.rank < $1.rank } }

    /// Whether the call is at the device as the trigger wants it (and the device is still in the call).
    func meets(_ trigger: PopTrigger) -> Bool {
        guard !legs.isEmpty else { return false }
        switch trigger {
        case .alerting: return offered || answered
        case .answer: return answered
        }
    }
}

/// An interaction the router follows: the customer's call across consultation, transfer and conference.
struct PopInteraction: Sendable, Hashable {
    var id: String
    var callIDs: [String] = []
    var calling: String?
    var called: String?
    var queue: String?
    /// First seen (the wait counts from here when the call never queued).
    var startedAt: Date
    var queuedAt: Date?
    var answeredAt: Date?
    /// The last event of the interaction (expiry counts from here).
    var lastEventAt: Date
    var resynced = false
    var lookupRequested = false
    var data: PopAttachedData?
    var parties: [String: PopParty] = [:]
    /// Calls a device of the interaction made (consultations, internal calls): every party of theirs is named by an
    /// event, so one left alone after another leaves is no longer in a call.
    var madeCalls: Set<String> = []

    init(id: String, at: Date) {
        self.id = id
        self.startedAt = at
        self.lastEventAt = at
    }

    /// How long the caller waited: from queueing (or first sight) to the answer, or to `now` while unanswered.
    func waitSeconds(now: Date) -> Double {
        max(0, (answeredAt ?? now).timeIntervalSince(queuedAt ?? startedAt))
    }

    /// Takes the event's ids and numbers (the first known calling and called numbers are kept).
    mutating func absorb(_ event: CallEventFields) {
        for id in event.callIDs where !callIDs.contains(id) { callIDs.append(id) }
        if calling == nil { calling = event.calling }
        if called == nil { called = event.called }
        if queue == nil { queue = event.queue }
        if event.resynced { resynced = true }
        if event.at > lastEventAt { lastEventAt = event.at }
    }

    mutating func setLeg(_ device: String, call: String, _ state: PopPartyState) {
        parties[device, default: PopParty()].legs[call] = state
        if state == .ringing { parties[device]?.offered = true }
    }

    mutating func removeLeg(_ device: String, call: String) {
        parties[device]?.legs[call] = nil
    }

    /// The one device left in a call a device made, when the other party has left (a cancelled consultation: the
    /// switch clears it, and the call model reports no end for a leg while the interaction's other calls go on).
    func aloneInMadeCall(_ call: String) -> String? {
        guard madeCalls.contains(call) else { return nil }
        let left = parties.filter { $0.value.legs[call] != nil }
        return left.count == 1 ? left.first?.key : nil
    }

    /// A transfer or conference made one call of the legs: every device keeps its busiest state, under `result`.
    mutating func collapseLegs(into result: String) {
        // The result may hold a party no event named (the caller of the first call).
        madeCalls = []
        for device in parties.keys {
            guard let state = parties[device]?.state else { continue }
            parties[device]?.legs = [result: state]
        }
    }
}

/// The fields of a `CallEvent` the interaction keeps, with defaults (keeps `PopInteraction` free of optionals).
struct CallEventFields {
    var at: Date
    var callIDs: [String]
    var calling: String?
    var called: String?
    var queue: String?
    var resynced: Bool
}
