/// Key-set record → service arguments and results, in each type's SEQUENCE order.
enum BERServiceEncoder {
    typealias E = BEREncoder
    typealias Op = BERServices.Op

    /// The invoke argument, or `nil` for an operation this encoder has no argument layout for.
    static func argument(op: Int32, _ r: CSTARecord) throws(CSTAEncodeError) -> [UInt8]? {
        var w = BERWriter()
        func connection() throws(CSTAEncodeError) {
            w.raw(try E.connection(r.string("callID"), r.string("connDevice"), key: "callID"))
        }
        func deviceID(_ key: String, required: Bool = true) throws(CSTAEncodeError) {
            guard let s = r.string(key) else {
                if required { throw E.missing(key) }
                return
            }
            w.raw(try E.deviceID(s, key: key))
        }
        func crossRef(_ identifier: UInt8, _ key: String) throws(CSTAEncodeError) {
            guard let x = try E.hex(r, key) else { throw E.missing(key) }
            w.element(identifier, x)
        }
        switch op {
        case Op.answerCall, Op.clearCall, Op.holdCall, Op.retrieveCall, Op.snapshotCall:
            try connection()
        case Op.clearConnection:
            try connection()
            if let reason = try E.enumCode(r, "reason", CSTANames.eventCauses) { w.integer(0x0A, reason) }
        case Op.conferenceCall, Op.transferCall:
            try connection()
            guard let active = r.string("secondaryCallID") else { throw E.missing("secondaryCallID") }
            w.raw(try E.connection(active, nil, key: "secondaryCallID"))
        case Op.consultationCall:
            // existingCall is [0] IMPLICIT ConnectionID: the A0 tag replaces the 6B wrapper.
            w.raw(try E.connection(r.string("callID"), r.string("connDevice"), key: "callID", identifier: 0xA0))
            guard let called = r.string("called") else { throw E.missing("called") }
            w.element(0xA1, try E.deviceID(called, key: "called"))
        case Op.deflectCall:
            try connection()
            try deviceID("otherDevice")  // newDestination DeviceID
        case Op.makeCall:
            try deviceID("calling")
            try deviceID("called")
        case Op.routeRequest:
            try crossRef(0x58, "routeingCrossRefID")
            guard let route = r.string("currentRoute") else { throw E.missing("currentRoute") }
            w.raw(try E.extendedDevice(0x62, route, key: "currentRoute"))
            if let calling = r.string("calling") { w.raw(try E.extendedDevice(0x61, calling, key: "calling")) }
            if let device = r.string("device") { w.raw(try E.extendedDevice(0x63, device, key: "device")) }
            if r.string("callID") != nil || r.string("connDevice") != nil { try connection() }
        case Op.routeSelectRequest:
            try crossRef(0x58, "routeingCrossRefID")
            guard let selected = r.string("routeSelected") else { throw E.missing("routeSelected") }
            w.element(0xA1, try E.deviceID(selected, key: "routeSelected"))
        case Op.routeEndRequest:
            try crossRef(0x58, "routeingCrossRefID")
            if let failure = try E.universalFailure(r, valueKey: "reason") { w.element(0xA1, failure) }
        case Op.singleStepTransfer:
            try connection()
            try deviceID("otherDevice")
        case Op.escape:
            guard let data = try E.hex(r, "privateData") else { throw E.missing("privateData") }
            w.element(0x04, data)
            return sequence(w)  // EscapeArgument has no extensions
        case Op.systemStatus, Op.systemStatusPhaseI:
            if let id = try E.hex(r, "sysStatRegisterID") { w.element(0x04, id) }
            guard let status = try E.enumCode(r, "systemStatus", CSTANames.systemStatuses) else {
                throw E.missing("systemStatus")
            }
            w.integer(0x0A, status)
        case Op.monitorStart:
            try deviceID("monitorObject")
            w.element(0x0A, [0x01])  // monitorType: device
        case Op.monitorStop:
            try crossRef(0x55, "monitorCrossRefID")
        case Op.snapshotDevice:
            try deviceID("device")
        case Op.systemRegister:
            w.element(0x03, [0x07, 0x80])  // requestTypes: { systemStatus }
        case Op.getAgentState:
            try deviceID("device")
            try deviceID("acdGroup", required: false)
        case Op.setAgentState:
            try deviceID("device")
            guard let state = try E.enumCode(r, "requestedAgentState", CSTANames.requestedAgentStates) else {
                throw E.missing("requestedAgentState")
            }
            w.integer(0x0A, state)
            if let agent = r.string("agentID") { w.text(0x82, agent) }
            try deviceID("acdGroup", required: false)
        default:
            return nil
        }
        w.raw(try E.extensions(r))
        return sequence(w)
    }

    /// The `result` inside returnResult's `SEQUENCE { opcode, result }`.
    static func result(op: Int32, _ r: CSTARecord) throws(CSTAEncodeError) -> [UInt8] {
        var w = BERWriter()
        switch op {
        case Op.monitorStart:
            guard let x = try E.hex(r, "monitorCrossRefID") else { throw E.missing("monitorCrossRefID") }
            w.element(0x55, x)
        case Op.makeCall, Op.consultationCall:
            w.raw(try E.connection(r.string("callID"), r.string("connDevice"), key: "callID"))
        case Op.conferenceCall, Op.transferCall, Op.singleStepTransfer:
            w.raw(try E.connection(r.string("callID"), r.string("connDevice"), key: "callID"))
            if let ids = r.strings("newCallIDs") { w.raw(try E.connectionList(0xA0, ids, key: "newCallIDs")) }
        case Op.snapshotDevice:
            let states = r.strings("snapshotStates") ?? []
            try w.constructed(0x76) { w throws(CSTAEncodeError) in
                for (index, id) in (r.strings("snapshotCallIDs") ?? []).enumerated() {
                    let conn = try E.connection(id, nil, key: "snapshotCallIDs")
                    let state = index < states.count ? SnapshotStates.names.firstIndex(of: states[index]) : nil
                    try w.constructed(0x30) { w throws(CSTAEncodeError) in
                        w.raw(conn)
                        if let state {
                            // localCallState: compoundCallState [0] { LocalConnectionState [APPLICATION 14] }
                            var compound = BERWriter()
                            compound.integer(0x4E, Int64(state))
                            w.element(0xA0, compound.bytes)
                        } else {
                            w.null(0x82)  // localCallState: unknown
                        }
                    }
                }
            }
        case Op.snapshotCall:
            let states = r.strings("snapshotDeviceStates") ?? []
            try w.constructed(0x77) { w throws(CSTAEncodeError) in
                for (index, device) in (r.strings("snapshotDevices") ?? []).enumerated() {
                    var item = BERWriter()
                    item.raw(try E.extendedDevice(0x63, device, key: "snapshotDevices"))
                    if index < states.count, let state = SnapshotStates.names.firstIndex(of: states[index]) {
                        item.integer(0x4E, Int64(state))  // localConnectionState [APPLICATION 14]
                    }
                    w.element(0x30, item.bytes)
                }
            }
            if let calling = r.string("calling") { w.raw(try E.extendedDevice(0x61, calling, key: "calling")) }
            if let called = r.string("called") { w.raw(try E.extendedDevice(0x62, called, key: "called")) }
        case Op.systemRegister:
            guard let id = try E.hex(r, "sysStatRegisterID") else { throw E.missing("sysStatRegisterID") }
            w.element(0x04, id)
        case Op.getAgentState:
            var entry = BERWriter()
            if let agent = r.string("agentID") { entry.text(0x04, agent) }
            entry.element(0x01, [0xFF])  // loggedOn
            if let state = try E.enumCode(r, "agentState", CSTANames.agentStates) {
                var info = BERWriter()
                if let group = r.string("acdGroup") { info.raw(try E.deviceID(group, key: "acdGroup")) }
                info.integer(0x0A, state)
                var infos = BERWriter()
                infos.element(0x30, info.bytes)
                entry.element(0x30, infos.bytes)
            } else if r.string("acdGroup") != nil {
                throw E.missing("agentState")
            }
            var list = BERWriter()
            list.element(0x30, entry.bytes)
            w.element(0x30, list.bytes)
        case Op.setAgentState:
            break
        default:
            // Results that are `CHOICE { extensions, noData NULL }`.
            let ext = try E.extensions(r)
            return ext.isEmpty ? [0x05, 0x00] : ext
        }
        w.raw(try E.extensions(r))
        return sequence(w)
    }

    static func sequence(_ content: BERWriter) -> [UInt8] {
        var w = BERWriter()
        w.element(0x30, content.bytes)
        return w.bytes
    }
}
