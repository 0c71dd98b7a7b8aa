/// Writes a ``CSTARecord`` as an ECMA-323 ed3 document (ECMA-354 for application sessions, the Avaya namespace for
/// `GetDeviceId`), choosing the element names the corpus generator and ``XMLCodec/decode(_:into:)`` use.
struct XMLRecordEncoder {
    static let ed3 = "http://www.ecma-international.org/standards/ecma-323/csta/ed3"
    static let ecma354 = "http://www.ecma-international.org/standards/ecma-354/appl_session"
    static let avaya = "http://www.avaya.com/csta"
    static let sessionServices: Set<String> = [
        "StartApplicationSession", "StopApplicationSession", "ResetApplicationSessionTimer",
        "ApplicationSessionTerminated",
    ]

    let r: CSTARecord
    var out: [UInt8] = []

    init(_ record: CSTARecord) { self.r = record }

    mutating func encode() throws(CSTAEncodeError) -> [UInt8] {
        out = Array(#"<?xml version="1.0" encoding="UTF-8"?>"#.utf8)
        guard let pdu = r.string("pdu") else { throw CSTAEncodeError("XML encode: missing key 'pdu'") }
        let op = r.int("op").map { Int32(truncatingIfNeeded: $0) }
        let service = r.string("service") ?? op.flatMap { CSTANames.serviceName(forOperation: $0) }
        if r.string("event") != nil || service == "CSTAEventReport" || op == 21 {
            guard pdu == "invoke" else { throw CSTAEncodeError("XML encode: an event must have pdu 'invoke', not '\(pdu)'") }
            try event()
            return out
        }
        if let service, Self.sessionServices.contains(service) {
            try session(service, pdu)
            return out
        }
        if pdu == "returnError" {
            try errorCode()
            return out
        }
        guard let service else { throw CSTAEncodeError("XML encode: missing key 'service' (or a known 'op')") }
        guard let first = service.unicodeScalars.first, first.properties.isAlphabetic,
            service.utf8.allSatisfy({ XMLScanner.isNameChar($0) && $0 != UInt8(ascii: ":") })
        else { throw CSTAEncodeError("XML encode: service '\(service)' has no ECMA-323 element name") }
        switch pdu {
        case "invoke": try request(service)
        case "returnResult": try response(service)
        default: throw CSTAEncodeError("XML encode: pdu '\(pdu)' cannot be written as ECMA-323 XML")
        }
        return out
    }

    // MARK: Events

    /// (primary connection element, subject device element) of each call-control and agent event.
    static let eventLayout: [String: (conn: String?, subject: String?)] = [
        "callCleared": ("clearedCall", nil), "conferenced": ("primaryOldCall", "conferencingDevice"),
        "connectionCleared": ("droppedConnection", "releasingDevice"), "delivered": ("connection", "alertingDevice"),
        "diverted": ("connection", "divertingDevice"), "established": ("establishedConnection", "answeringDevice"),
        "failed": ("failedConnection", "failingDevice"), "held": ("heldConnection", "holdingDevice"),
        "networkReached": ("outboundConnection", "networkInterfaceUsed"),
        "originated": ("originatedConnection", "callingDevice"), "queued": ("queuedConnection", "queue"),
        "retrieved": ("retrievedConnection", "retrievingDevice"),
        "serviceInitiated": ("initiatedConnection", "initiatingDevice"),
        "transferred": ("primaryOldCall", "transferringDevice"), "agentBusy": (nil, "agentDevice"),
        "agentLoggedOn": (nil, "agentDevice"), "agentLoggedOff": (nil, "agentDevice"),
        "agentNotReady": (nil, "agentDevice"), "agentReady": (nil, "agentDevice"),
        "agentWorkingAfterCall": (nil, "agentDevice"),
    ]
    static let otherDeviceElement = [
        "transferred": "transferredToDevice", "conferenced": "addedParty", "diverted": "newDestination",
    ]

    private mutating func event() throws(CSTAEncodeError) {
        guard let name = r.string("event"), let first = name.first else {
            throw CSTAEncodeError("XML encode: missing key 'event'")
        }
        guard r.string("monitorCrossRefID") != nil else {
            throw CSTAEncodeError("XML encode: missing key 'monitorCrossRefID' for event '\(name)'")
        }
        let element =
            CSTANames.eventType(named: name).flatMap { CSTANames.xmlEventElement($0) }
            ?? (String(first).uppercased() + name.dropFirst() + "Event")
        guard element.utf8.allSatisfy({ XMLScanner.isNameChar($0) && $0 != UInt8(ascii: ":") }) else {
            throw CSTAEncodeError("XML encode: event '\(name)' has no ECMA-323 element name")
        }
        let layout = Self.eventLayout[name] ?? ("connection", "device")
        open(element, namespace: Self.ed3)
        leaf("monitorCrossRefID", "monitorCrossRefID")
        connection(layout.conn ?? "connection")
        if let secondary = r.string("secondaryCallID") {
            text("<secondaryOldCall><callID>\(escape(secondary))</callID></secondaryOldCall>")
        }
        if let device = r.string("device") { extendedDevice(layout.subject ?? "device", device) }
        if let other = r.string("otherDevice") { extendedDevice(Self.otherDeviceElement[name] ?? "newDestination", other) }
        if let ids = r.strings("newCallIDs") {
            connectionList(name == "transferred" ? "transferredConnections" : "conferenceConnections", ids)
        }
        if name != "originated", let calling = r.string("calling") { extendedDevice("callingDevice", calling) }
        if let called = r.string("called") { extendedDevice("calledDevice", called) }
        if let last = r.string("lastRedirection") { extendedDevice("lastRedirectionDevice", last, inner: "numberDialed") }
        leaf("agentID", "agentID")
        if let group = r.string("acdGroup") { plainDevice("acdGroup", group) }
        if let n = r.int("numberQueued") { text("<numberQueued>\(n)</numberQueued>") }
        leaf("localConnectionInfo", "localConnectionInfo")
        leaf("cause", "cause")
        leaf("agentState", "agentState")
        privateData()
        close(element)
    }

    // MARK: Services

    /// Request element per service where ECMA-323 spells it differently (`RouteSelect` for `RouteSelectRequest`).
    private func requestElement(_ service: String) -> String {
        if service.hasSuffix("Request"), let op = CSTANames.operation(forService: service),
            let alias = CSTANames.xmlServiceAliases.first(where: { $0.op == op && !$0.element.hasSuffix("Call") })
        {
            return alias.element
        }
        return service
    }

    static let requestConnection = [
        "AnswerCall": "callToBeAnswered", "ClearCall": "callToBeCleared", "ClearConnection": "connectionToBeCleared",
        "HoldCall": "callToBeHeld", "RetrieveCall": "callToBeRetrieved", "DeflectCall": "callToBeDiverted",
        "ConsultationCall": "existingCall", "TransferCall": "heldCall", "ConferenceCall": "heldCall",
        "AlternateCall": "heldCall", "ReconnectCall": "heldCall", "SingleStepTransferCall": "activeCall",
        "SnapshotCall": "snapshotObject", "RouteRequest": "routedCall",
    ]
    static let responseConnection = [
        "MakeCall": "callingDevice", "ConsultationCall": "initiatedCall", "TransferCall": "transferredCall",
        "SingleStepTransferCall": "transferredCall", "ConferenceCall": "conferenceCall",
        "MakePredictiveCall": "initiatedCall",
    ]
    static let otherDevice = [
        "DeflectCall": "newDestination", "ConsultationCall": "consultedDevice", "SingleStepTransferCall": "transferredTo",
    ]

    private mutating func request(_ service: String) throws(CSTAEncodeError) {
        let required: [String: [String]] = [
            "MonitorStart": ["monitorObject"], "MakeCall": ["calling", "called"],
            "RouteSelectRequest": ["routeingCrossRefID"], "RouteRequest": ["routeingCrossRefID"],
            "MonitorStop": ["monitorCrossRefID"],
        ]
        for key in required[service] ?? [] where r[key] == nil {
            throw CSTAEncodeError("XML encode: missing key '\(key)' for \(service) request")
        }
        let element = requestElement(service)
        open(element, namespace: service == "GetDeviceId" ? Self.avaya : Self.ed3)
        leaf("monitorCrossRefID", "monitorCrossRefID")
        leaf("crossRefIdentifier", "routeingCrossRefID")
        if let object = r.string("monitorObject") {
            text("<monitorObject>")
            plainDevice("deviceObject", object)
            text("</monitorObject><monitorType>device</monitorType>")
        }
        if service == "MakeCall" {
            if let calling = r.string("calling") { plainDevice("callingDevice", calling) }
            if let called = r.string("called") { plainDevice("calledDirectoryNumber", called) }
        }
        if service == "RouteRequest" {
            if let route = r.string("currentRoute") { extendedDevice("currentRoute", route) }
            if let calling = r.string("calling") { extendedDevice("callingDevice", calling) }
            if let called = r.string("called") { extendedDevice("calledDevice", called) }
        }
        connection(Self.requestConnection[service] ?? "connection")
        if let secondary = r.string("secondaryCallID") {
            text("<activeCall><callID>\(escape(secondary))</callID></activeCall>")
        }
        if let device = r.string("device") {
            let name = ["SnapshotDevice": "snapshotObject", "GetDeviceId": "extension"][service] ?? "device"
            plainDevice(name, device)
        }
        if let route = r.string("routeSelected") { plainDevice("routeSelected", route) }
        if let other = r.string("otherDevice") { plainDevice(Self.otherDevice[service] ?? "newDestination", other) }
        leaf(service == "RouteEndRequest" ? "errorValue" : "reason", "reason")
        leaf("sysStatRegisterID", "sysStatRegisterID")
        leaf("systemStatus", "systemStatus")
        leaf("agentID", "agentID")
        leaf("requestedAgentState", "requestedAgentState")
        if let group = r.string("acdGroup") { plainDevice("group", group) }
        privateData()
        close(element)
    }

    private mutating func response(_ service: String) throws(CSTAEncodeError) {
        let element = requestElement(service) + "Response"
        open(element, namespace: service == "GetDeviceId" ? Self.avaya : Self.ed3)
        leaf("monitorCrossRefID", "monitorCrossRefID")
        leaf("crossRefIdentifier", "routeingCrossRefID")
        connection(Self.responseConnection[service] ?? "connection")
        if let ids = r.strings("newCallIDs") { connectionList("connections", ids) }
        if let device = r.string("device") { plainDevice("device", device) }
        if let ids = r.strings("snapshotCallIDs") {
            text("<crossRefIDorSnapshotData><snapshotData>")
            let states = r.strings("snapshotStates") ?? []
            for (index, id) in ids.enumerated() {
                text("<snapshotDeviceResponseInfo><connectionIdentifier><callID>\(escape(id))</callID>")
                text("</connectionIdentifier>")
                if index < states.count, SnapshotStates.names.contains(states[index]) {
                    text("<localCallState><compoundCallState><localConnectionState>\(states[index])")
                    text("</localConnectionState></compoundCallState></localCallState>")
                }
                text("</snapshotDeviceResponseInfo>")
            }
            text("</snapshotData></crossRefIDorSnapshotData>")
        } else if let devices = r.strings("snapshotDevices") {
            text("<crossRefIDorSnapshotData><snapshotData>")
            let states = r.strings("snapshotDeviceStates") ?? []
            for (index, device) in devices.enumerated() {
                text("<snapshotCallResponseInfo>")
                extendedDevice("deviceOnCall", device)
                if index < states.count, SnapshotStates.names.contains(states[index]) {
                    text("<localConnectionState>\(states[index])</localConnectionState>")
                }
                text("</snapshotCallResponseInfo>")
            }
            text("</snapshotData></crossRefIDorSnapshotData>")
        }
        leaf("sysStatRegisterID", "sysStatRegisterID")
        leaf("systemStatus", "systemStatus")
        if let state = r.string("agentState") {
            // ECMA-323 GetAgentStateResponse: the agent id belongs to its agentStateEntry.
            text("<agentStateList><agentStateEntry>")
            if let agentID = r.string("agentID") { text("<agentID>\(escape(agentID))</agentID>") }
            text("<agentState>\(escape(state))</agentState></agentStateEntry></agentStateList>")
        } else {
            leaf("agentID", "agentID")
        }
        privateData()
        close(element)
    }

    private mutating func errorCode() throws(CSTAEncodeError) {
        guard let category = r.string("errorCategory") else {
            throw CSTAEncodeError("XML encode: missing key 'errorCategory' for a returnError")
        }
        guard category.utf8.allSatisfy({ XMLScanner.isNameChar($0) && $0 != UInt8(ascii: ":") }),
            let first = category.utf8.first, XMLScanner.isNameStart(first)
        else { throw CSTAEncodeError("XML encode: errorCategory '\(category)' is not an element name") }
        open("CSTAErrorCode", namespace: Self.ed3)
        text("<\(category)>\(escape(r.string("errorValue") ?? ""))</\(category)>")
        close("CSTAErrorCode")
    }

    // MARK: ECMA-354 application sessions

    private mutating func session(_ service: String, _ pdu: String) throws(CSTAEncodeError) {
        let element: String
        switch pdu {
        case "invoke": element = service
        case "returnResult": element = service == "ApplicationSessionTerminated" ? service + "Response" : service + "PosResponse"
        case "returnError": element = service + "NegResponse"
        default: throw CSTAEncodeError("XML encode: pdu '\(pdu)' cannot be written for \(service)")
        }
        open(element, namespace: Self.ecma354)
        if pdu == "invoke" && service == "StartApplicationSession" {
            text("<applicationInfo>")
            leaf("applicationID", "applicationID")
            sessionLoginInfo()
            text("</applicationInfo>")
            if let version = r.string("protocolVersion") {
                text("<requestedProtocolVersions><protocolVersion>\(escape(version))</protocolVersion>")
                text("</requestedProtocolVersions>")
            }
        }
        leaf("sessionID", "sessionID")
        if pdu == "returnResult" { leaf("actualProtocolVersion", "protocolVersion") }
        if let duration = r.int("sessionDuration") {
            let name = pdu == "invoke" ? "requestedSessionDuration" : "actualSessionDuration"
            text("<\(name)>\(duration)</\(name)>")
        }
        if let reason = r.string("reason") {
            let (outer, inner) =
                service == "ApplicationSessionTerminated"
                ? ("sessionTermReason", "definedTermReason") : ("sessionEndReason", "definedEndReason")
            text("<\(outer)><\(inner)>\(escape(reason))</\(inner)></\(outer)>")
        }
        if pdu == "returnError" {
            let category = r.string("errorCategory") ?? "definedError"
            guard category.utf8.allSatisfy({ XMLScanner.isNameChar($0) && $0 != UInt8(ascii: ":") }) else {
                throw CSTAEncodeError("XML encode: errorCategory '\(category)' is not an element name")
            }
            text("<errorCode><\(category)>\(escape(r.string("errorValue") ?? ""))</\(category)></errorCode>")
        }
        close(element)
    }

    /// Avaya `SessionLoginInfo` (`userName`, `password`, `sessionCleanupDelay`, in the schema's order) from the keys
    /// `authenticationName`, `authenticationPassword` and `sessionCleanupDelay` — the same keys as the AARQ's.
    private mutating func sessionLoginInfo() {
        let name = r.string("authenticationName")
        let password = r.string("authenticationPassword")
        let cleanup = r.int("sessionCleanupDelay")
        guard name != nil || password != nil || cleanup != nil else { return }
        text("<applicationSpecificInfo><SessionLoginInfo xmlns=\"\(Self.avaya)\">")
        if let name { text("<userName>\(escape(name))</userName>") }
        if let password { text("<password>\(escape(password))</password>") }
        if let cleanup { text("<sessionCleanupDelay>\(cleanup)</sessionCleanupDelay>") }
        text("</SessionLoginInfo></applicationSpecificInfo>")
    }

    // MARK: Pieces

    private mutating func text(_ s: String) { out.append(contentsOf: s.utf8) }

    private mutating func open(_ element: String, namespace: String) {
        text("<\(element) xmlns=\"\(namespace)\">")
    }

    private mutating func close(_ element: String) { text("</\(element)>") }

    private mutating func leaf(_ element: String, _ key: String) {
        if let v = r.string(key) { text("<\(element)>\(escape(v))</\(element)>") }
    }

    private mutating func privateData() {
        if let v = r.string("privateData") {
            text("<extensions><privateData><string>\(escape(v))</string></privateData></extensions>")
        }
    }

    private mutating func connection(_ element: String) {
        let callID = r.string("callID")
        let device = r.string("connDevice")
        guard callID != nil || device != nil else { return }
        text("<\(element)>")
        if let callID { text("<callID>\(escape(callID))</callID>") }
        if let device { plainDevice("deviceID", device) }
        text("</\(element)>")
    }

    private mutating func connectionList(_ element: String, _ ids: [String]) {
        text("<\(element)>")
        for id in ids {
            text("<connectionListItem><newConnection><callID>\(escape(id))</callID></newConnection></connectionListItem>")
        }
        text("</\(element)>")
    }

    /// `<tag><deviceIdentifier typeOfNumber="…">v</deviceIdentifier></tag>` or `<tag><notKnown/></tag>`.
    private mutating func extendedDevice(_ element: String, _ device: String, inner: String = "deviceIdentifier") {
        text("<\(element)>")
        if let null = Self.nullAlternative(device) {
            text("<\(null)/>")
        } else {
            plainDevice(inner, device)
        }
        text("</\(element)>")
    }

    /// `<tag typeOfNumber="…">v</tag>` (a NULL alternative as a child element).
    private mutating func plainDevice(_ element: String, _ device: String) {
        if let null = Self.nullAlternative(device) {
            text("<\(element)><\(null)/></\(element)>")
            return
        }
        let (ton, value) = Self.split(device)
        if let ton {
            text("<\(element) typeOfNumber=\"\(escape(ton, attribute: true))\">\(escape(value))</\(element)>")
        } else {
            text("<\(element)>\(escape(value))</\(element)>")
        }
    }

    static func nullAlternative(_ device: String) -> String? {
        switch device {
        case "<notKnown>": "notKnown"
        case "<restricted>": "restricted"
        case "<notRequired>": "notRequired"
        case "<notSpecified>": "notSpecified"
        default: nil
        }
    }

    /// Key-set device string → (`typeOfNumber` attribute, element text).
    static func split(_ device: String) -> (String?, String) {
        guard !device.hasPrefix("+"), let colon = device.firstIndex(of: ":") else { return (nil, device) }
        let kind = String(device[..<colon])
        let rest = String(device[device.index(after: colon)...])
        switch kind {
        case "dynamic": return ("dynamicID", rest)
        case "deviceNumber", "implicitPublic", "implicitPrivate", "other", "dynamicID":
            return (kind, rest)
        case "explicitPublic", "explicitPrivate":
            guard let second = rest.firstIndex(of: ":") else { return (kind, rest) }
            return (kind + ":" + rest[..<second], String(rest[rest.index(after: second)...]))
        default: return (nil, device)
        }
    }

    private func escape(_ s: String, attribute: Bool = false) -> String {
        guard s.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 < 0x20 }) else {
            return s
        }
        var o = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"" where attribute: o += "&quot;"
            case "\t", "\n", "\r": o += attribute ? "&#\(ch.value);" : String(ch)
            default:
                if ch.value < 0x20 { continue }  // not representable in XML 1.0
                o.unicodeScalars.append(ch)
            }
        }
        return o
    }
}
