import NIOCore

extension CSTAMessage {
    /// The message in the key set: every field present becomes a key (`../shared/docs/contracts.md` §1).
    public func record() -> CSTARecord {
        payload.withUnsafeReadableBytes { bytes in
            FieldRenderer(bytes: bytes, encoding: encoding).record(fields)
        }
    }

    /// The text of one span of this message.
    public func text(_ span: FieldSpan) -> String? {
        payload.withUnsafeReadableBytes { FieldRenderer(bytes: $0, encoding: encoding).text(span) }
    }

    /// The password of an AARQ (calling-authentication-value) or a DMCC `SessionLoginInfo`, for the switch side that
    /// checks it. Deliberately not a key of ``record()``: records are printed and logged, passwords never are.
    public var authenticationPassword: String? { text(fields.authenticationPassword) }

    /// The key-set text of one device field (`4711`, `deviceNumber:100123`, `<notKnown>`, …).
    public func text(_ device: DeviceField) -> String? {
        payload.withUnsafeReadableBytes { FieldRenderer(bytes: $0, encoding: encoding).device(device) }
    }
}

/// Turns spans into text. Kept separate from the decoders: rendering allocates, decoding does not.
struct FieldRenderer {
    let bytes: UnsafeRawBufferPointer
    let encoding: CSTAEncoding

    func record(_ f: CSTAFields) -> CSTARecord {
        var r = CSTARecord()
        func put(_ key: String, _ span: FieldSpan) {
            if let s = text(span) { r[key] = .string(s) }
        }
        func put(_ key: String, _ d: DeviceField) {
            if let s = device(d) { r[key] = .string(s) }
        }
        func put(_ key: String, _ e: EnumField, _ table: [String]?) {
            if let s = enumText(e, table) { r[key] = .string(s) }
        }
        func put(_ key: String, _ v: Int32?) {
            if let v { r[key] = .int(Int64(v)) }
        }

        if let pdu = f.pdu { r["pdu"] = .string(pdu.name) }
        put("op", f.op)
        if let id = f.invokeId { r["invokeId"] = .int(id) }
        if let service = serviceName(f) { r["service"] = .string(service) }
        if let event = f.event {
            r["event"] = .string(CSTANames.eventName(event) ?? "\(event.eventClass.name):\(event.tag)")
            r["eventClass"] = .string(event.eventClass.name)
        } else if let name = text(f.eventName) {
            r["event"] = .string(Self.eventKey(fromElement: name))
        }
        if let error = f.eventError { r["eventError"] = .string(error.description) }

        put("monitorCrossRefID", f.monitorCrossRefID)
        put("callID", f.callID)
        put("connDevice", f.connDevice)
        put("device", f.device)
        put("otherDevice", f.otherDevice)
        put("calling", f.calling)
        put("called", f.called)
        put("lastRedirection", f.lastRedirection)
        put("cause", f.cause, CSTANames.eventCauses)
        put("localConnectionInfo", f.localConnectionInfo, CSTANames.localConnectionStates)
        put("secondaryCallID", f.secondaryCallID)
        if let ids = list(f.newCallIDs) { r["newCallIDs"] = .strings(ids) }
        put("numberQueued", f.numberQueued)
        put("agentID", f.agentID)
        put("acdGroup", f.acdGroup)
        put("agentState", f.agentState, CSTANames.agentStates)
        put("requestedAgentState", f.requestedAgentState, CSTANames.requestedAgentStates)
        put("privateData", f.privateData)
        put("privateDataVendor", f.privateDataVendor)
        put("privateDataRaw", f.privateDataRaw)
        put("monitorObject", f.monitorObject)
        put("routeingCrossRefID", f.routeingCrossRefID)
        put("currentRoute", f.currentRoute)
        put("routeSelected", f.routeSelected)
        put("systemStatus", f.systemStatus, CSTANames.systemStatuses)
        put("sysStatRegisterID", f.sysStatRegisterID)
        if let ids = list(f.snapshotCallIDs) {
            r["snapshotCallIDs"] = .strings(ids)
            let states =
                f.snapshotCallIDs.kind == .berSnapshotDeviceData
                ? SnapshotStates.ber(f.snapshotCallIDs, in: bytes) : XMLCodec.snapshotStates(f.snapshotCallIDs, in: bytes)
            // Parallel to the ids; `unknown` where the switch did not say.
            if states.count == ids.count, states.contains(where: { $0 != nil }) {
                r["snapshotStates"] = .strings(states.map { $0 ?? "unknown" })
            }
        }
        if let devices = list(f.snapshotDevices) {
            r["snapshotDevices"] = .strings(devices)
            let states =
                f.snapshotDevices.kind == .berSnapshotCallData
                ? SnapshotStates.berCall(f.snapshotDevices, in: bytes)
                : XMLCodec.snapshotStates(f.snapshotDevices, in: bytes)
            if states.count == devices.count, states.contains(where: { $0 != nil }) {
                r["snapshotDeviceStates"] = .strings(states.map { $0 ?? "unknown" })
            }
        }
        put("reason", f.reason, nil)
        put("errorCode", f.errorCode)
        put("errorCategory", f.errorCategory, CSTANames.errorCategories)
        put("errorValue", f.errorValue, nil)
        put("rejectProblem", f.rejectProblem)
        put("rejectValue", f.rejectValue)
        put("applicationContext", f.applicationContext)
        if let result = f.acseResult { r["result"] = .string(CSTANames.name(result, in: CSTANames.acseResults)) }
        if f.cstaVersions.isPresent { r["cstaVersions"] = .strings(cstaVersions(f.cstaVersions)) }
        put("authenticationName", f.authenticationName)
        put("acseReason", f.acseReason)
        put("sessionID", f.sessionID)
        put("protocolVersion", f.protocolVersion)
        put("sessionDuration", f.sessionDuration)
        put("applicationID", f.applicationID)
        put("sessionCleanupDelay", f.sessionCleanupDelay)
        return r
    }

    /// `service`: from the operation code when it has a name, else the XML element's own name, else the code as text.
    func serviceName(_ f: CSTAFields) -> String? {
        if let op = f.op, let name = CSTANames.serviceName(forOperation: op) { return name }
        if let name = text(f.serviceName) { return name }
        if let op = f.op { return String(op) }
        return nil
    }

    /// `FooBarEvent` → `fooBar` (an XML event the tables do not name).
    static func eventKey(fromElement element: String) -> String {
        var stem = Substring(element)
        if stem.hasSuffix("Event") { stem = stem.dropLast(5) }
        guard let first = stem.first else { return element }
        return String(first).lowercased() + stem.dropFirst()
    }

    // MARK: Spans

    func slice(_ span: FieldSpan) -> UnsafeRawBufferPointer? {
        guard span.isPresent else { return nil }
        let end = Int(span.start) + Int(span.count)
        guard end <= bytes.count else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[Int(span.start)..<end])
    }

    func text(_ span: FieldSpan) -> String? {
        guard let b = slice(span) else { return nil }
        switch span.form {
        case .absent: return nil
        case .text: return String(decoding: b, as: UTF8.self)
        case .hexOctets: return Self.hex(b)
        case .berInteger: return String(Self.berInteger(b))
        case .xmlText: return XMLText.decode(b, compact: false)
        case .xmlCompact: return XMLText.decode(b, compact: true)
        case .berOID: return Self.oid(b)
        case .berBits: return Self.hex(b)
        }
    }

    func enumText(_ e: EnumField, _ table: [String]?) -> String? {
        if e.text.isPresent { return text(e.text) }
        guard e.code != .min else { return nil }
        guard let table else { return String(e.code) }
        return CSTANames.name(e.code, in: table)
    }

    func device(_ d: DeviceField) -> String? {
        switch d.kind {
        case .absent: return nil
        case .notKnown: return "<notKnown>"
        case .restricted: return "<restricted>"
        case .notRequired: return "<notRequired>"
        case .notSpecified: return "<notSpecified>"
        case .dialingNumber: return text(d.value) ?? ""
        case .deviceNumber: return "deviceNumber:" + (text(d.value) ?? "")
        case .implicitPublic: return "implicitPublic:" + (text(d.value) ?? "")
        case .implicitPrivate: return "implicitPrivate:" + (text(d.value) ?? "")
        case .other: return "other:" + (text(d.value) ?? "")
        case .explicitPublic:
            let ton = ["unknown", "international", "national", "networkspecific", "subscriber", "abbreviated"]
            return "explicitPublic:" + CSTANames.name(Int32(d.typeOfNumber), in: ton) + ":" + (text(d.value) ?? "")
        case .explicitPrivate:
            let ton = [
                "unknown", "level3RegionalNumber", "level2RegionalNumber", "level1RegionalNumber",
                "pTNSpecificNumber", "localNumber", "abbreviated",
            ]
            return "explicitPrivate:" + CSTANames.name(Int32(d.typeOfNumber), in: ton) + ":" + (text(d.value) ?? "")
        case .dynamic: return "dynamic:" + (text(d.value) ?? "")
        case .xml:
            let value = text(d.value) ?? ""
            guard let ton = text(d.xmlTypeOfNumber), ton != "dialingNumber" else { return value }
            if ton == "dynamicID" { return "dynamic:" + value }
            return ton + ":" + value
        }
    }

    func list(_ l: ListField) -> [String]? {
        guard l.isPresent else { return nil }
        var out: [String] = []
        out.reserveCapacity(Int(l.count))
        let visit: (CSTAListItem) -> Void = { item in
            switch item {
            case .callID(let span): out.append(text(span) ?? "")
            case .device(let d): out.append(device(d) ?? "")
            }
        }
        switch l.kind {
        case .absent: return nil
        case .berConnectionList, .berSnapshotDeviceData, .berSnapshotCallData:
            BERCodec.forEachListItem(l, in: bytes, visit)
        case .xmlConnectionList, .xmlSnapshotDeviceData, .xmlSnapshotCallData:
            XMLCodec.forEachListItem(l, in: bytes, visit)
        }
        return out
    }

    func cstaVersions(_ span: FieldSpan) -> [String] {
        guard let b = slice(span), b.count >= 1 else { return [] }
        var names: [String] = []
        let unused = Int(b[0] & 7)
        let bitCount = (b.count - 1) * 8 - unused
        for bit in 0..<max(0, bitCount) where b[1 + bit / 8] & (0x80 >> UInt8(bit % 8)) != 0 {
            names.append(bit < CSTANames.cstaVersionNames.count ? CSTANames.cstaVersionNames[bit] : "bit\(bit)")
        }
        return names
    }

    // MARK: Primitive renderings

    static func hex(_ b: UnsafeRawBufferPointer) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: b.count * 2) { out in
            var i = 0
            for byte in b {
                out[i] = digits[Int(byte >> 4)]
                out[i + 1] = digits[Int(byte & 0x0F)]
                i += 2
            }
            return i
        }
    }

    /// A BER INTEGER's content octets (two's complement, big-endian); saturates beyond 64 bits.
    static func berInteger(_ b: UnsafeRawBufferPointer) -> Int64 {
        guard let first = b.first else { return 0 }
        var v: Int64 = (first & 0x80) != 0 ? -1 : 0
        for byte in b.prefix(8) { v = (v << 8) | Int64(byte) }
        return v
    }

    static func oid(_ b: UnsafeRawBufferPointer) -> String {
        var arcs: [UInt64] = []
        var acc: UInt64 = 0
        for byte in b {
            acc = (acc << 7) | UInt64(byte & 0x7F)
            if byte & 0x80 == 0 {
                if arcs.isEmpty {
                    let first: UInt64 = acc < 40 ? 0 : (acc < 80 ? 1 : 2)
                    arcs.append(first)
                    arcs.append(acc - first * 40)
                } else {
                    arcs.append(acc)
                }
                acc = 0
            }
        }
        return arcs.map(String.init).joined(separator: ".")
    }
}

/// One item of a list field, handed out by the codec that knows the list's layout.
public enum CSTAListItem: Sendable {
    case callID(FieldSpan)
    case device(DeviceField)
}
