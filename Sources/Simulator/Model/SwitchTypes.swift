import CSTA

/// The numbering plan of the simulated switch (`../shared/docs/contracts.md` §6).
public struct SwitchNumbering: Sendable, Hashable {
    /// The first agent extension; agents get consecutive extensions from here.
    public var firstDevice: Int
    /// How many agents (phones with an agent) the switch has.
    public var agentCount: Int
    /// The ACD group that queues inbound calls.
    public var acdGroup: String
    /// The route point whose calls wait for the application's RouteSelect.
    public var routePoint: String
    /// What external callers dial to reach the ACD group.
    public var hotline: String

    public init(
        firstDevice: Int = 4001, agentCount: Int = 10, acdGroup: String = "8001", routePoint: String = "8100",
        hotline: String = "96510"
    ) {
        self.firstDevice = firstDevice
        self.agentCount = agentCount
        self.acdGroup = acdGroup
        self.routePoint = routePoint
        self.hotline = hotline
    }

    /// The agents' extensions, in order.
    public var agentExtensions: [String] { (0..<agentCount).map { String(firstDevice + $0) } }

    /// The agent id logged on at `extension` (`A4001` for 4001).
    public func agentID(forExtension ext: String) -> String { "A" + ext }
}

/// What kind of party a device number is on this switch.
public enum DeviceKind: Sendable, Hashable {
    case agentPhone
    case acdGroup
    case routePoint
    /// A number outside the switch, reached over a trunk.
    case external
}

/// An agent's state (ECMA-269 agent states; `loggedOff` is `agentNull` on the wire).
public enum AgentState: String, Sendable, Hashable, CaseIterable {
    case loggedOff, notReady, ready, busy, workingAfterCall

    /// The ECMA-285 `AgentState` name the key set uses (`agentReady`, …).
    public var cstaName: String {
        switch self {
        case .loggedOff: "agentNull"
        case .notReady: "agentNotReady"
        case .ready: "agentReady"
        case .busy: "agentBusy"
        case .workingAfterCall: "agentWorkingAfterCall"
        }
    }
}

/// ECMA-269 local connection state of one device in one call.
public enum LocalConnectionState: String, Sendable, Hashable {
    case null, initiated, alerting, connected, hold, queued, fail
}

/// One device's connection to a call.
public struct SwitchConnection: Sendable, Hashable {
    public var device: String
    public var state: LocalConnectionState
}

/// A call: its id, its parties and what was dialled.
public struct SwitchCall: Sendable, Hashable {
    public var id: String
    public var interactionID: String
    public var calling: String
    public var called: String
    public var connections: [SwitchConnection]

    /// The state of `device` in this call, or `nil` when it has no connection.
    public func state(of device: String) -> LocalConnectionState? {
        connections.first(where: { $0.device == device })?.state
    }
}

/// A request to route a call waiting at the route point (sent to the application as RouteRequest).
public struct RouteRequestNotice: Sendable, Hashable {
    public var routeingCrossRefID: String
    public var callID: String
    public var routePoint: String
    public var calling: String
}

/// An ECMA-269 event as the switch raises it, with every device that observes it and that device's local
/// connection state. The protocol layer sends it to each monitor of an observing device.
public struct SwitchEvent: Sendable, Hashable {
    /// The key-set event name (`delivered`, `agentReady`, …).
    public var name: String
    /// The subject device (`alertingDevice`, `holdingDevice`, `agentDevice`, …): key `device`.
    public var device: String
    public var callID: String?
    public var connDevice: String?
    public var calling: String?
    public var called: String?
    public var lastRedirection: String?
    public var otherDevice: String?
    public var secondaryCallID: String?
    public var newCallIDs: [String]?
    public var cause: String?
    public var agentID: String?
    public var acdGroup: String?
    public var numberQueued: Int?
    /// Observing device → its local connection state after the event (`nil` for agent events).
    public var observers: [String: LocalConnectionState?]

    public init(name: String, device: String, observers: [String: LocalConnectionState?] = [:]) {
        self.name = name
        self.device = device
        self.observers = observers
    }

    /// Call-control events carry the parties; agent events do not.
    public var isCallEvent: Bool { callID != nil }

    /// The event as a key-set record for the monitor `crossRef` seen from `observer`.
    public func record(monitorCrossRefID crossRef: String, observer: String, invokeId: Int64) -> CSTARecord {
        var r = CSTARecord([
            "pdu": .string("invoke"), "invokeId": .int(invokeId), "op": .int(21), "service": .string("CSTAEventReport"),
            "event": .string(name), "monitorCrossRefID": .string(crossRef),
        ])
        if let type = CSTANames.eventType(named: name) { r["eventClass"] = .string(type.eventClass.name) }
        func set(_ key: String, _ value: String?) { if let value { r[key] = .string(value) } }
        set("callID", callID)
        if name != "callCleared" {
            set("device", device)
            set("connDevice", connDevice)
        }
        set("otherDevice", otherDevice)
        set("secondaryCallID", secondaryCallID)
        if let newCallIDs { r["newCallIDs"] = .strings(newCallIDs) }
        if isCallEvent, name != "callCleared" {
            if ["delivered", "established", "failed", "networkReached", "queued"].contains(name) {
                r["calling"] = .string(calling ?? "<notKnown>")
                r["called"] = .string(called ?? "<notKnown>")
                r["lastRedirection"] = .string(lastRedirection ?? "<notKnown>")
            } else if name == "diverted" {
                set("calling", calling)
                set("called", called)
                r["lastRedirection"] = .string(lastRedirection ?? "<notKnown>")
            } else if name == "originated" {
                r["called"] = .string(called ?? "<notKnown>")
            }
            if let state = observers[observer], let state { r["localConnectionInfo"] = .string(state.rawValue) }
        }
        set("cause", cause ?? (isCallEvent ? "normal" : nil))
        set("agentID", agentID)
        set("acdGroup", acdGroup)
        if let numberQueued { r["numberQueued"] = .int(Int64(numberQueued)) }
        return r
    }
}

/// Why the switch refused an operation: an ECMA-285 `UniversalFailure` category and value.
public struct SwitchError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The UniversalFailure alternative (`operation`, `stateIncompatibility`, …).
    public var category: String
    /// The value's ECMA-323 name (`invalidConnectionID`, …).
    public var name: String
    /// The value's ECMA-285 number (BER).
    public var code: Int
    public var detail: String

    public var description: String { "\(category)/\(name): \(detail)" }

    public static func invalidConnectionID(_ detail: String) -> Self {
        .init(category: "stateIncompatibility", name: "invalidConnectionID", code: 3, detail: detail)
    }
    public static func invalidObjectState(_ detail: String) -> Self {
        .init(category: "stateIncompatibility", name: "invalidObjectState", code: 2, detail: detail)
    }
    public static func invalidCallID(_ detail: String) -> Self {
        .init(category: "operation", name: "invalidCallID", code: 11, detail: detail)
    }
    public static func invalidDeviceID(_ detail: String) -> Self {
        .init(category: "operation", name: "invalidDeviceID", code: 12, detail: detail)
    }
    public static func invalidCallingDevice(_ detail: String) -> Self {
        .init(category: "operation", name: "invalidCallingDevice", code: 5, detail: detail)
    }
    public static func invalidCrossRefID(_ detail: String) -> Self {
        .init(category: "operation", name: "invalidCrossRefID", code: 17, detail: detail)
    }
    public static func valueOutOfRange(_ detail: String) -> Self {
        .init(category: "operation", name: "valueOutOfRange", code: 3, detail: detail)
    }
    public static func notSupported(_ detail: String) -> Self {
        .init(category: "operation", name: "requestIncompatibleWithObject", code: 2, detail: detail)
    }
    public static func serviceBusy(_ detail: String) -> Self {
        .init(category: "systemResourceAvailability", name: "serviceBusy", code: 2, detail: detail)
    }
    public static func notAssociated(_ detail: String) -> Self {
        .init(category: "security", name: "requestedServiceNotSubscribed", code: 2, detail: detail)
    }
    /// ECMA-354 `definedError` of an application-session NegResponse (`invalidApplicationInfo`, `invalidSessionID`).
    /// XML only: DMCC has no BER form.
    public static func applicationSession(_ name: String, _ detail: String) -> Self {
        .init(category: "definedError", name: name, code: 0, detail: detail)
    }

    /// The error as a returnError key-set record answering `invokeId`. An ECMA-354 error names its `service`, so the
    /// XML encoder writes `…NegResponse` instead of `CSTAErrorCode`.
    public func record(invokeId: Int64, encoding: CSTAEncoding, service: String? = nil) -> CSTARecord {
        var r = CSTARecord([
            "pdu": .string("returnError"), "invokeId": .int(invokeId), "errorCode": .int(1),
            "errorCategory": .string(category),
            "errorValue": encoding == .ber ? .string(String(code)) : .string(name),
        ])
        if category == "definedError", let service { r["service"] = .string(service) }
        return r
    }
}
