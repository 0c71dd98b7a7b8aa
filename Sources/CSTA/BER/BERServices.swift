/// Service arguments (ROSE invoke) and results (ROSE returnResult) by operation code. ECMA-285 tags most components
/// distinctly, so each body is one walk that interprets tags the way its operation defines them.
enum BERServices {
    /// Operation codes (ECMA-285 `CODE local:`).
    enum Op {
        static let answerCall: Int32 = 2, clearCall: Int32 = 4, clearConnection: Int32 = 5, conferenceCall: Int32 = 6
        static let consultationCall: Int32 = 7, deflectCall: Int32 = 218, holdCall: Int32 = 9, makeCall: Int32 = 10
        static let retrieveCall: Int32 = 14, transferCall: Int32 = 16, routeRequest: Int32 = 31
        static let routeSelectRequest: Int32 = 33, routeEndRequest: Int32 = 35, singleStepTransfer: Int32 = 50
        static let escape: Int32 = 51, systemStatusPhaseI: Int32 = 52, monitorStart: Int32 = 71, monitorStop: Int32 = 73
        static let snapshotDevice: Int32 = 74, snapshotCall: Int32 = 75, systemRegister: Int32 = 207
        static let systemStatus: Int32 = 211, getAgentState: Int32 = 304, setAgentState: Int32 = 312
    }

    /// Operations whose argument carries DeviceID SEQUENCEs at its top level.
    static func deviceOperations(_ op: Int32) -> Bool {
        switch op {
        case Op.makeCall, Op.monitorStart, Op.singleStepTransfer, Op.deflectCall, Op.snapshotDevice, Op.getAgentState,
            Op.setAgentState:
            return true
        default:
            return false
        }
    }

    /// An invoke's argument.
    static func argument(op: Int32, _ argument: BERElement, _ bytes: UnsafeRawBufferPointer, _ fields: inout CSTAFields)
        throws(CSTADecodeError)
    {
        guard argument.tag == Tag.sequence else { throw CSTADecodeError(.unexpectedTag, at: argument.start) }
        var c = BERCursor(bytes: bytes, start: argument.contentStart, end: argument.contentEnd, depth: argument.depth &+ 1)
        var connections = 0
        var devices = 0
        while let e = try c.next() {
            switch e.tag {
            case Tag.applicationC(11):
                connections &+= 1
                let conn = try BERValues.connection(e, bytes)
                if op == Op.monitorStart {
                    // callObject: the key set shows the call id (or the device when there is none).
                    fields.monitorObject =
                        conn.callID.isPresent ? DeviceField(kind: .dialingNumber, value: conn.callID) : conn.device
                } else if connections == 1 {
                    fields.callID = conn.callID
                    fields.connDevice = conn.device
                } else if connections == 2 {
                    fields.secondaryCallID = conn.callID  // conference/transfer `activeCall`
                }
            case Tag.contextC(0) where op == Op.consultationCall:
                try BERValues.primaryConnection(e, bytes, into: &fields)  // existingCall [0] IMPLICIT ConnectionID
            case Tag.contextC(1) where op == Op.consultationCall || op == Op.routeSelectRequest:
                var inner = try c.children(of: e)
                let device = try BERValues.deviceID(try inner.expect(Tag.sequence), bytes)
                if op == Op.consultationCall { fields.called = device } else { fields.routeSelected = device }
            case Tag.sequence where op != Op.escape:  // EscapeArgument's SEQUENCE is its security data
                devices &+= 1
                let device: DeviceField
                if deviceOperations(op) {
                    device = try BERValues.deviceID(e, bytes)
                } else {
                    // Another edition's or a vendor's operation: take a DeviceID when it is one, else skip it.
                    do throws(CSTADecodeError) { device = try BERValues.deviceID(e, bytes) } catch { continue }
                }
                switch (op, devices) {
                case (Op.makeCall, 1): fields.calling = device
                case (Op.makeCall, 2): fields.called = device
                case (Op.monitorStart, 1): fields.monitorObject = device
                case (Op.singleStepTransfer, 1), (Op.deflectCall, 1): fields.otherDevice = device
                case (Op.getAgentState, 2), (Op.setAgentState, 2): fields.acdGroup = device
                case (_, 1): fields.device = device
                default: break
                }
            case Tag.applicationC(1): fields.calling = try BERValues.extendedDevice(e, bytes)
            case Tag.applicationC(2):
                let device = try BERValues.extendedDevice(e, bytes)
                if op == Op.routeRequest { fields.currentRoute = device } else { fields.called = device }
            case Tag.applicationC(3): fields.device = try BERValues.extendedDevice(e, bytes)
            case Tag.application(24): fields.routeingCrossRefID = try e.primitiveSpan(.hexOctets)
            case Tag.application(21): fields.monitorCrossRefID = try e.primitiveSpan(.hexOctets)
            case Tag.enumerated:
                let code = try e.int32(bytes)
                switch op {
                case Op.clearConnection: fields.reason = EnumField(code: code)
                case Op.systemStatus, Op.systemStatusPhaseI: fields.systemStatus = EnumField(code: code)
                case Op.setAgentState: fields.requestedAgentState = EnumField(code: code)
                default: break
                }
            case Tag.octetString:
                switch op {
                case Op.systemStatus, Op.systemStatusPhaseI: fields.sysStatRegisterID = e.span(.hexOctets)
                case Op.escape: fields.privateData = e.span(.hexOctets)  // privateData CSTAPrivateData `string`
                default: break
                }
            case Tag.context(2) where op == Op.setAgentState: fields.agentID = try e.primitiveSpan(.text)
            case Tag.contextC(1) where op == Op.routeEndRequest:
                // errorValue [1] UniversalFailure: the category's tag and its ENUMERATED.
                var inner = try c.children(of: e)
                guard let choice = try inner.next() else { throw CSTADecodeError(.missingField, at: e.contentStart) }
                let failure = try BERCodec.universalFailure(choice, bytes)
                fields.errorCategory = failure.category
                fields.reason = failure.value
            case Tag.applicationC(30): try BERValues.extensions(e, bytes, into: &fields)
            default:
                continue
            }
        }
    }

    /// A returnResult's result: a SEQUENCE, or one of the CHOICE alternatives `noData NULL` / `extensions`.
    static func result(op: Int32, _ result: BERElement, _ bytes: UnsafeRawBufferPointer, _ fields: inout CSTAFields)
        throws(CSTADecodeError)
    {
        switch result.tag {
        case Tag.null: return
        case Tag.applicationC(30): return try BERValues.extensions(result, bytes, into: &fields)
        case Tag.sequence: break
        default: return  // an edition or vendor result this decoder does not model
        }
        var c = BERCursor(bytes: bytes, start: result.contentStart, end: result.contentEnd, depth: result.depth &+ 1)
        while let e = try c.next() {
            switch e.tag {
            case Tag.applicationC(11): try BERValues.primaryConnection(e, bytes, into: &fields)
            case Tag.contextC(0)
            where op == Op.conferenceCall || op == Op.transferCall || op == Op.singleStepTransfer:
                fields.newCallIDs = try BERValues.connectionList(e, bytes)
            case Tag.application(21): fields.monitorCrossRefID = try e.primitiveSpan(.hexOctets)
            case Tag.applicationC(22):
                fields.snapshotCallIDs = try BERValues.snapshotList(.berSnapshotDeviceData, e, bytes)
            case Tag.applicationC(23):
                fields.snapshotDevices = try BERValues.snapshotList(.berSnapshotCallData, e, bytes)
            case Tag.applicationC(1): fields.calling = try BERValues.extendedDevice(e, bytes)
            case Tag.applicationC(2): fields.called = try BERValues.extendedDevice(e, bytes)
            case Tag.octetString where op == Op.systemRegister: fields.sysStatRegisterID = e.span(.hexOctets)
            case Tag.sequence where op == Op.getAgentState: try agentStateList(e, bytes, &fields)
            case Tag.applicationC(30): try BERValues.extensions(e, bytes, into: &fields)
            default: continue
            }
        }
    }

    /// GetAgentState result: the first `AgentStateEntry` (agentID) and its first `AgentInfo` (acdGroup, agentState).
    static func agentStateList(_ list: BERElement, _ bytes: UnsafeRawBufferPointer, _ fields: inout CSTAFields)
        throws(CSTADecodeError)
    {
        var entries = BERCursor(bytes: bytes, start: list.contentStart, end: list.contentEnd, depth: list.depth &+ 1)
        guard let entry = try entries.next() else { return }
        guard entry.tag == Tag.sequence else { throw CSTADecodeError(.unexpectedTag, at: entry.start) }
        var parts = try entries.children(of: entry)
        while let p = try parts.next() {
            switch p.tag {
            case Tag.octetString: fields.agentID = p.span(.text)
            case Tag.sequence:
                var infos = try parts.children(of: p)
                guard let info = try infos.next() else { continue }
                var items = try infos.children(of: info)
                while let i = try items.next() {
                    if i.tag == Tag.sequence { fields.acdGroup = try BERValues.deviceID(i, bytes) }
                    if i.tag == Tag.enumerated { fields.agentState = EnumField(code: try i.int32(bytes)) }
                }
            default: continue
            }
        }
        while try entries.next() != nil {}
    }
}
