import CSTA

/// What the link publishes on ``CSTALinkClient/events``.
public enum LinkEvent: Sendable {
    /// An unsolicited message from the switch: a CSTA event report, a SystemStatus, a RouteRequest, …
    case message(CSTAEventMessage)
    /// The result of the SnapshotDevice the link sent for a monitored device after (re)connecting.
    case snapshot(device: String, result: CSTAEventMessage)
    /// The link came up (associated, monitors restored, snapshots taken) or went down.
    case state(LinkStateChange)
}

/// An unsolicited message with the monitored device it belongs to.
public struct CSTAEventMessage: Sendable {
    /// The decoded message (spans into its payload).
    public var message: CSTAMessage
    /// The key-set record of the message.
    public var record: CSTARecord
    /// The monitored device whose cross-reference id the event carries (`nil` when not an event or not ours).
    public var device: String?

    /// An event message.
    public init(message: CSTAMessage, record: CSTARecord, device: String?) {
        self.message = message
        self.record = record
        self.device = device
    }
}

/// A change of the link's state.
public struct LinkStateChange: Sendable, Hashable {
    /// Up or down.
    public enum State: String, Sendable, Hashable {
        case up, down
    }

    /// The new state.
    public var state: State
    /// Why (down: `closed by peer`, `dead link`, `connect failed: …`; up: `associated`).
    public var reason: String
    /// Connection attempt number since the link started (1 = the first).
    public var attempt: Int
    /// Monitors active after the (re)start; `nil` for down.
    public var monitors: Int?
    /// Monitors that could not be restarted.
    public var failedMonitors: Int?
    /// Down because start-up failed with a ``CSTALinkError``: its code (``CSTALinkError/Code/authenticationFailed``,
    /// ``CSTALinkError/Code/associationRejected``, ``CSTALinkError/Code/timeout``, …).
    public var error: CSTALinkError.Code?

    /// A state change.
    public init(
        state: State, reason: String, attempt: Int, monitors: Int? = nil, failedMonitors: Int? = nil,
        error: CSTALinkError.Code? = nil
    ) {
        self.state = state
        self.reason = reason
        self.attempt = attempt
        self.monitors = monitors
        self.failedMonitors = failedMonitors
        self.error = error
    }

    /// `{"type":"link","state":"up",…}` as `ctibridge tail` prints it.
    public var json: String {
        var s = "{\"type\":\"link\",\"state\":\"\(state.rawValue)\",\"reason\":\(KeySetJSON.quoted(reason)),\"attempt\":\(attempt)"
        if let monitors { s += ",\"monitors\":\(monitors)" }
        if let failedMonitors { s += ",\"failedMonitors\":\(failedMonitors)" }
        if let error { s += ",\"error\":\(KeySetJSON.quoted(error.description))" }
        return s + "}"
    }
}
