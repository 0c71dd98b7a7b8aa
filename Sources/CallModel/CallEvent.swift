import Foundation

/// What happened, in the words desktops, the recording index and the work-order store understand.
public enum CallEventKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// A device went off hook or was asked to call (serviceInitiated / originated).
    case originated
    /// A device is alerting (delivered).
    case ringing
    /// An outbound call reached the public network (networkReached).
    case networkReached
    /// The call waits at an ACD group or route point (queued).
    case queued
    /// A device answered (established).
    case answered
    case held
    case retrieved
    /// The call left a device for another one without being answered there (diverted, deflected, distributed).
    case diverted
    /// A device left the interaction by transferring it; `callIDs` holds every leg, `otherDevice` the new party.
    case transferred
    /// Two legs became one conference; `otherDevice` is the added party.
    case conferenced
    /// A device's connection failed (busy, unreachable, …); `cause` says why.
    case failed
    /// One device left the call (connectionCleared).
    case partyCleared
    /// The interaction ended; `record` is its call record.
    case callEnded
    /// An agent's state changed (`agentState`, `reason`).
    case agentState
    /// The CTI link went up or down (`linkState`, `reason`).
    case link
}

/// One normalized event. Which fields are set depends on ``kind``; absent fields are omitted from the JSON.
public struct CallEvent: Sendable, Hashable, Codable {
    public var kind: CallEventKind
    /// When the bridge learnt it.
    public var at: Date
    /// The interaction the event belongs to (every call event has one).
    public var interactionID: String?
    /// The call the event was reported on.
    public var callID: String?
    /// Every call id of the interaction so far.
    public var callIDs: [String]?
    /// The device the event is about (the ringing, answering, holding, leaving … device).
    public var device: String?
    /// The agent logged on at ``device``, when known.
    public var agentID: String?
    public var calling: String?
    public var called: String?
    /// Transferred-to, conferenced-in, or diverted-to device.
    public var otherDevice: String?
    /// The ACD group or route point the call waits at.
    public var queue: String?
    /// The switch's cause (ECMA-269 EventCause name).
    public var cause: String?
    /// `agentState`: `loggedOff`, `notReady`, `ready`, `busy`, `workingAfterCall`.
    public var agentState: String?
    /// `link`: `up` or `down`.
    public var linkState: String?
    /// Why (link state changes, agent not-ready reasons).
    public var reason: String?
    /// `callEnded`: the interaction's call record.
    public var record: CallRecord?
    /// The event was derived from a snapshot after a reconnect, not reported by the switch as it happened.
    public var resynced: Bool?

    public init(
        kind: CallEventKind, at: Date, interactionID: String? = nil, callID: String? = nil, callIDs: [String]? = nil,
        device: String? = nil, agentID: String? = nil, calling: String? = nil, called: String? = nil,
        otherDevice: String? = nil, queue: String? = nil, cause: String? = nil, agentState: String? = nil,
        linkState: String? = nil, reason: String? = nil, record: CallRecord? = nil, resynced: Bool? = nil
    ) {
        self.kind = kind
        self.at = at
        self.interactionID = interactionID
        self.callID = callID
        self.callIDs = callIDs
        self.device = device
        self.agentID = agentID
        self.calling = calling
        self.called = called
        self.otherDevice = otherDevice
        self.queue = queue
        self.cause = cause
        self.agentState = agentState
        self.linkState = linkState
        self.reason = reason
        self.record = record
        self.resynced = resynced
    }
}

/// A journalled event: the bus's strictly increasing sequence number and the event.
public struct SequencedEvent: Sendable, Hashable {
    public var seq: Int64
    public var event: CallEvent

    public init(seq: Int64, event: CallEvent) {
        self.seq = seq
        self.event = event
    }
}
