import Foundation

/// One message to an agent's desktop (contract §7): a pop when a call reaches the agent, updates while it goes on,
/// the end, the agent's own state, or a gap notice after a reconnect that lost messages.
public struct PopMessage: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case pop, update, end, state, gap
    }

    public var type: Kind
    public var interactionID: String?
    public var callIDs: [String]
    public var calling: String?
    public var called: String?
    /// The agent's device the call is at.
    public var device: String?
    public var agentID: String?
    /// The ACD group or route point the call waited at, and for how long (seconds).
    public var queue: String?
    public var waitSeconds: Double?
    /// The call at the agent's device: `ringing`, `talking`, `held`; `ended` in an `end` message.
    public var callState: String?
    /// The customer found by the caller's number (`nil`: unknown caller).
    public var customer: CustomerCard?
    /// The customer's open work orders (the work-order store fills them; empty until then).
    public var openWorkOrders: [WorkOrderSummary]
    /// The customer's (or, unknown, the number's) last calls, newest first.
    public var recentCalls: [RecentCall]
    /// `state`: the agent's state (`ready`, `notReady`, `busy`, `workingAfterCall`, `loggedOff`) and reason.
    public var agentState: String?
    public var reason: String?
    /// When the message left the bridge; set when it is sent.
    public var sentAt: Date?
    /// What caused the message: `ringing`, `answered`, `held`, `retrieved`, `conferenced`, `transferred`, `diverted`,
    /// `cleared`, `ended`, `attached` (customer data arrived), `reconnect` (current state), `expired`, `agentState`.
    public var event: String?
    /// The customer lookup has answered (``customer`` `nil` then means an unknown caller, not "not yet known").
    public var enriched: Bool?
    /// The call was seen across a CTI link failure; some of its steps may be missing.
    public var resynced: Bool?

    public init(
        type: Kind, interactionID: String? = nil, callIDs: [String] = [], calling: String? = nil, called: String? = nil,
        device: String? = nil, agentID: String? = nil, queue: String? = nil, waitSeconds: Double? = nil,
        callState: String? = nil, customer: CustomerCard? = nil, openWorkOrders: [WorkOrderSummary] = [],
        recentCalls: [RecentCall] = [], agentState: String? = nil, reason: String? = nil, sentAt: Date? = nil,
        event: String? = nil, enriched: Bool? = nil, resynced: Bool? = nil
    ) {
        self.type = type
        self.interactionID = interactionID
        self.callIDs = callIDs
        self.calling = calling
        self.called = called
        self.device = device
        self.agentID = agentID
        self.queue = queue
        self.waitSeconds = waitSeconds
        self.callState = callState
        self.customer = customer
        self.openWorkOrders = openWorkOrders
        self.recentCalls = recentCalls
        self.agentState = agentState
        self.reason = reason
        self.sentAt = sentAt
        self.event = event
        self.enriched = enriched
        self.resynced = resynced
    }
}

/// The customer card a pop carries.
public struct CustomerCard: Sendable, Hashable, Codable {
    public var customerID: String
    public var name: String
    /// The utility's account number (户号).
    public var accountNumber: String
    public var address: String?
    public var meter: String?
    /// Amount owed, in the currency's minor unit (fen, cent), so no rounding happens on the way.
    public var arrearsMinor: Int64?
    public var tags: [String]
    /// Every number of the customer, normalized.
    public var numbers: [String]

    public init(
        customerID: String, name: String, accountNumber: String, address: String? = nil, meter: String? = nil,
        arrearsMinor: Int64? = nil, tags: [String] = [], numbers: [String] = []
    ) {
        self.customerID = customerID
        self.name = name
        self.accountNumber = accountNumber
        self.address = address
        self.meter = meter
        self.arrearsMinor = arrearsMinor
        self.tags = tags
        self.numbers = numbers
    }
}

/// One of the customer's last calls, from the store's call records.
public struct RecentCall: Sendable, Hashable, Codable {
    public var interactionID: String
    public var startedAt: Date
    public var direction: String
    public var outcome: String
    public var agentID: String?
    public var talkSeconds: Double

    public init(interactionID: String, startedAt: Date, direction: String, outcome: String, agentID: String?, talkSeconds: Double) {
        self.interactionID = interactionID
        self.startedAt = startedAt
        self.direction = direction
        self.outcome = outcome
        self.agentID = agentID
        self.talkSeconds = talkSeconds
    }
}

/// An open work order as a pop lists it (the work-order store, issue 7, provides them).
public struct WorkOrderSummary: Sendable, Hashable, Codable {
    public var workOrderID: String
    public var category: String
    public var status: String
    public var createdAt: Date
    public var title: String

    public init(workOrderID: String, category: String, status: String, createdAt: Date, title: String) {
        self.workOrderID = workOrderID
        self.category = category
        self.status = status
        self.createdAt = createdAt
        self.title = title
    }
}
