/// Key-set record → `CSTAEventReportArgument`. Components are written in each event's SEQUENCE order.
enum BEREventEncoder {
    typealias E = BEREncoder

    static func eventReport(_ r: CSTARecord) throws(CSTAEncodeError) -> [UInt8] {
        let name = try E.requireString(r, "event")
        let type = try eventType(name, r)
        guard let crossRef = try E.hex(r, "monitorCrossRefID") else { throw E.missing("monitorCrossRefID") }
        let body = try self.body(type, r)
        var w = BERWriter()
        try w.constructed(0x30) { w throws(CSTAEncodeError) in
            w.element(0x55, crossRef)
            try w.constructed(0xA0 | type.eventClass.rawValue) { w throws(CSTAEncodeError) in
                w.element(identifier: BERWriter.identifier(0xA0, UInt32(type.tag)), body)
            }
        }
        return w.bytes
    }

    /// A named event, or `class:tag` / a bare tag with `eventClass` for events outside the tables.
    static func eventType(_ name: String, _ r: CSTARecord) throws(CSTAEncodeError) -> EventType {
        if let type = CSTANames.eventType(named: name) { return type }
        var className = r.string("eventClass")
        var tagText = Substring(name)
        if let colon = name.firstIndex(of: ":") {
            className = String(name[..<colon])
            tagText = name[name.index(after: colon)...]
        }
        guard let className, let eventClass = EventClass.allCases.first(where: { $0.name == className }),
            let tag = UInt16(tagText)
        else { throw E.invalid("event") }
        return EventType(eventClass, tag)
    }

    /// The event's IMPLICIT SEQUENCE content.
    static func body(_ type: EventType, _ r: CSTARecord) throws(CSTAEncodeError) -> [UInt8] {
        var w = BERWriter()
        let cc = type.eventClass == .callControl
        let tag = type.tag

        func connection() throws(CSTAEncodeError) {
            w.raw(try E.connection(r.string("callID"), r.string("connDevice"), key: "callID"))
        }
        func optionalConnection() throws(CSTAEncodeError) {
            if r.string("callID") != nil || r.string("connDevice") != nil { try connection() }
        }
        func device(_ identifier: UInt8, _ key: String, required: Bool, redirection: Bool = false)
            throws(CSTAEncodeError)
        {
            guard let s = r.string(key) else {
                if required { throw E.missing(key) }
                return
            }
            w.raw(try E.extendedDevice(identifier, s, key: key, redirection: redirection))
        }
        func localConnectionInfo() throws(CSTAEncodeError) {
            if let v = try E.enumCode(r, "localConnectionInfo", CSTANames.localConnectionStates) {
                w.integer(0x4E, v)
            }
        }
        func cause(required: Bool, identifier: UInt8 = 0x0A) throws(CSTAEncodeError) {
            if let v = try E.enumCode(r, "cause", CSTANames.eventCauses) {
                w.integer(identifier, v)
            } else if required {
                throw E.missing("cause")
            }
        }
        func extensions(_ identifier: UInt8 = 0x7E) throws(CSTAEncodeError) { w.raw(try E.extensions(r, identifier: identifier)) }

        if cc {
            switch tag {
            case 1:  // callCleared
                try connection()
                try cause(required: true)
                try extensions()
            case 2, 17:  // conferenced, transferred
                try connection()
                if let secondary = r.string("secondaryCallID") {
                    w.raw(try E.connection(secondary, nil, key: "secondaryCallID", identifier: tag == 2 ? 0x6B : 0xA0))
                }
                try device(0x63, "device", required: true)
                try device(0x63, "otherDevice", required: true)
                w.raw(try E.connectionList(tag == 2 ? 0x30 : 0xA1, r.strings("newCallIDs") ?? [], key: "newCallIDs"))
                try localConnectionInfo()
                try cause(required: true)
                try extensions(tag == 2 ? 0xA5 : 0x7E)
            case 3, 9, 15:  // connectionCleared, held, retrieved
                try connection()
                try device(0x63, "device", required: true)
                try localConnectionInfo()
                try cause(required: true)
                try extensions()
            case 4, 7, 8, 11, 14:  // delivered, established, failed, networkReached, queued
                try connection()
                try device(0x63, "device", required: true)
                try device(0x61, "calling", required: true)
                try device(0x62, "called", required: true)
                try device(0x64, "lastRedirection", required: true, redirection: true)
                if tag == 14, let n = try E.int(r, "numberQueued") { w.integer(0x80, n) }
                try localConnectionInfo()
                try cause(required: true)
                try extensions()
            case 6:  // diverted
                try connection()
                try device(0x63, "device", required: true)
                try device(0x63, "otherDevice", required: true)
                try device(0x61, "calling", required: false)
                try device(0x62, "called", required: false)
                try device(0x64, "lastRedirection", required: true, redirection: true)
                try localConnectionInfo()
                try cause(required: true)
                try extensions()
            case 13, 16:  // originated (callingDevice is the subject), serviceInitiated
                try connection()
                try device(0x63, "device", required: true)
                try device(0x62, "called", required: tag == 13)
                try localConnectionInfo()
                try cause(required: true)
                try extensions()
            default:  // bridged, digitsDialed, networkCapabilitiesChanged, offered, and later tags
                try optionalConnection()
                try device(0x63, "device", required: false)
                try device(0x61, "calling", required: false)
                try device(0x62, "called", required: false)
                try device(0x64, "lastRedirection", required: false, redirection: true)
                try localConnectionInfo()
                try cause(required: false)
                try extensions()
            }
        } else if type.eventClass == .logicalDeviceFeature && tag <= 5 {
            // Agent events: agentDevice, agentID ([2] IMPLICIT in loggedOn/loggedOff), acdGroup, cause ([3]
            // IMPLICIT in agentBusy/agentWorkingAfterCall).
            try device(0x63, "device", required: true)
            if let agent = r.string("agentID") { w.text(tag == 1 || tag == 2 ? 0x82 : 0x04, agent) }
            if let group = r.string("acdGroup") { w.raw(try E.deviceID(group, key: "acdGroup")) }
            try cause(required: false, identifier: tag == 0 || tag == 5 ? 0x83 : 0x0A)
            try extensions()
        } else {
            try optionalConnection()
            if type.eventClass == .deviceMaintenance {
                if let d = r.string("device") { w.raw(try E.deviceID(d, key: "device")) }
            } else {
                try device(0x63, "device", required: false)
            }
            try device(0x61, "calling", required: false)
            try device(0x62, "called", required: false)
            try cause(required: false)
            try extensions()
        }
        return w.bytes
    }
}
