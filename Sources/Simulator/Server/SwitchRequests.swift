import CSTA
import Logging

/// Turns an application's request into a model operation and the operation's outcome into the answer: a
/// returnResult with the service's result keys, a returnError with the ``SwitchError``, or nothing for the
/// services that never answer (RouteSelect, RouteEnd).
enum SwitchRequests {
    /// The ECMA-323 service name of a request record.
    static func service(of request: CSTARecord) -> String {
        if let service = request.string("service") {
            return CSTANames.operation(forService: service).flatMap { CSTANames.serviceName(forOperation: $0) } ?? service
        }
        return request.int("op").flatMap { CSTANames.serviceName(forOperation: Int32($0)) } ?? "unknown"
    }

    /// A call or cross-reference id as an application sent it back, in the one case the switch writes its ids in
    /// (`SwitchModel.hexID`): BER shows an id's octets as lower-case hex and XML keeps the text, so an id may come back
    /// in the other case.
    static func canonicalID(_ text: String) -> String {
        SwitchModel.hexID(0xA, digits: 1) == "a" ? text.lowercased() : text.uppercased()
    }

    static func allowedBeforeAssociation(_ service: String, flavor: SessionFlavor) -> Bool {
        switch flavor {
        case .hipath: false
        case .osv: service == "SystemStatus" || service == "SystemRegister"
        case .dmcc: service == "StartApplicationSession"
        }
    }

    /// A device as the application wrote it → the switch's number (`deviceNumber:4001`, `other:4001:CM1:…:0`,
    /// `implicitPrivate:4001` all name 4001).
    static func device(_ text: String?) -> String? {
        guard let text else { return nil }
        guard let colon = text.firstIndex(of: ":") else { return text }
        let rest = text[text.index(after: colon)...]
        if text.hasPrefix("explicitPublic:") || text.hasPrefix("explicitPrivate:") {
            return rest.split(separator: ":").last.map(String.init)
        }
        return rest.split(separator: ":").first.map(String.init) ?? String(rest)
    }

    static func answer(_ request: CSTARecord, service: String, invokeId: Int64, session: SwitchSessionHandler) -> CSTARecord? {
        let encoding = session.configuration.encoding
        var result = CSTARecord(["pdu": .string("returnResult"), "invokeId": .int(invokeId), "service": .string(service)])
        if let op = CSTANames.preferredOperation(forService: service) { result["op"] = .int(Int64(op)) }
        do throws(SwitchError) {
            guard try fill(&result, for: request, service: service, session: session) else { return nil }
            return result
        } catch {
            session.logger.info("request refused", metadata: ["service": "\(service)", "error": "\(error)"])
            return error.record(invokeId: invokeId, encoding: encoding, service: service)
        }
    }

    /// Carries out `service`, adding its result keys to `result`; `false` when the service has no answer.
    private static func fill(
        _ result: inout CSTARecord, for r: CSTARecord, service: String, session: SwitchSessionHandler
    ) throws(SwitchError) -> Bool {
        let core = session.core
        func required(_ key: String) throws(SwitchError) -> String {
            guard let value = r.string(key), !value.isEmpty else { throw .valueOutOfRange("missing \(key)") }
            return value
        }
        func requiredID(_ key: String) throws(SwitchError) -> String { canonicalID(try required(key)) }
        func requiredDevice(_ key: String) throws(SwitchError) -> String {
            guard let value = device(r.string(key)), !value.isEmpty else { throw .invalidDeviceID("missing \(key)") }
            return value
        }
        switch service {
        case "SystemStatus", "Escape", "ChangeMonitorFilter":
            break
        case "SystemRegister":
            result["sysStatRegisterID"] = .string("0001")
        case "StartApplicationSession":
            let granted = session.startApplicationSession(requested: r.int("sessionDuration"))
            result["sessionID"] = .string(granted.id)
            result["protocolVersion"] = .string(
                r.string("protocolVersion") ?? "http://www.ecma-international.org/standards/ecma-323/csta/ed3")
            result["sessionDuration"] = .int(granted.duration)
        case "ResetApplicationSessionTimer":
            result["sessionDuration"] = .int(
                try session.resetApplicationSessionTimer(id: r.string("sessionID"), requested: r.int("sessionDuration")))
        case "StopApplicationSession":
            session.stopApplicationSession()
        case "GetDeviceId":
            let ext = try requiredDevice("device")
            guard core.model.isInternal(ext) else { throw .invalidDeviceID("\(ext) is not on this switch") }
            result["device"] = .string("other:\(ext):SIM:127.0.0.1:0")
        case "MonitorStart":
            let crossRef = try core.startMonitor(device: try requiredDevice("monitorObject"), session: session.sessionID)
            result["monitorCrossRefID"] = .string(crossRef)
        case "MonitorStop":
            try core.stopMonitor(crossRef: try requiredID("monitorCrossRefID"), session: session.sessionID)
        case "MakeCall":
            let calling = try requiredDevice("calling")
            let called = try requiredDevice("called")
            let call = try core.perform { (m, now) throws(SwitchError) in try m.makeCall(calling: calling, called: called, now: now) }
            result["callID"] = .string(call)
            result["connDevice"] = .string(calling)
        case "AnswerCall", "ClearConnection", "HoldCall", "RetrieveCall":
            let call = try requiredID("callID")
            let device = try requiredDevice("connDevice")
            try core.perform { (m, now) throws(SwitchError) in
                switch service {
                case "AnswerCall": try m.answerCall(callID: call, device: device, now: now)
                case "ClearConnection": try m.clearConnection(callID: call, device: device, now: now)
                case "HoldCall": try m.holdCall(callID: call, device: device, now: now)
                default: try m.retrieveCall(callID: call, device: device, now: now)
                }
            }
        case "ClearCall":
            let call = try requiredID("callID")
            try core.perform { (m, now) throws(SwitchError) in try m.clearCall(callID: call, now: now) }
        case "ConsultationCall":
            let call = try requiredID("callID")
            let device = try requiredDevice("connDevice")
            guard let consulted = Self.device(r.string("otherDevice") ?? r.string("called")) else {
                throw .invalidDeviceID("missing consultedDevice")
            }
            let new = try core.perform { (m, now) throws(SwitchError) in
                try m.consultationCall(callID: call, device: device, consulted: consulted, now: now)
            }
            result["callID"] = .string(new)
            result["connDevice"] = .string(device)
        case "TransferCall", "ConferenceCall":
            let held = try requiredID("callID")
            let device = try requiredDevice("connDevice")
            let active = try requiredID("secondaryCallID")
            let resulting = try core.perform { (m, now) throws(SwitchError) in
                service == "TransferCall"
                    ? try m.transferCall(heldCallID: held, activeCallID: active, device: device, now: now)
                    : try m.conferenceCall(heldCallID: held, activeCallID: active, device: device, now: now)
            }
            result["callID"] = .string(resulting)
            result["newCallIDs"] = .strings([resulting])
        case "SingleStepTransferCall", "DeflectCall":
            let call = try requiredID("callID")
            let device = try requiredDevice("connDevice")
            let to = try requiredDevice("otherDevice")
            try core.perform { (m, now) throws(SwitchError) in
                service == "DeflectCall"
                    ? try m.deflectCall(callID: call, device: device, to: to, now: now)
                    : try m.singleStepTransfer(callID: call, device: device, to: to, now: now)
            }
            if service == "SingleStepTransferCall" { result["callID"] = .string(call) }
        case "SetAgentState":
            let device = try requiredDevice("device")
            let requested = try required("requestedAgentState")
            try core.perform { (m, now) throws(SwitchError) in try m.setAgentState(device: device, requested: requested, now: now) }
        case "GetAgentState":
            let agent = try core.model.agentState(device: try requiredDevice("device"))
            result["agentState"] = .string(agent.state.cstaName)
            result["agentID"] = .string(agent.agentID)
            if session.configuration.encoding == .ber {
                result["acdGroup"] = .string(core.configuration.numbering.acdGroup)
            }
        case "SnapshotDevice":
            let calls = try core.model.snapshotDevice(try requiredDevice("device"))
            result["snapshotCallIDs"] = .strings(calls.map(\.callID))
            result["snapshotStates"] = .strings(calls.map(\.state.rawValue))
        case "SnapshotCall":
            let parties = try core.model.snapshotCall(try requiredID("callID"))
            result["snapshotDevices"] = .strings(parties.map(\.device))
            result["snapshotDeviceStates"] = .strings(parties.map(\.state.rawValue))
        case "RouteSelectRequest":
            let crossRef = try requiredID("routeingCrossRefID")
            try core.answerRoute(crossRef, destination: try requiredDevice("routeSelected"), session: session.sessionID)
            return false
        case "RouteEndRequest":
            try core.answerRoute(try requiredID("routeingCrossRefID"), destination: nil, session: session.sessionID)
            return false
        default:
            throw .notSupported("\(service) is not supported by the simulator")
        }
        return true
    }
}
