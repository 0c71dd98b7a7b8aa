/// Key-set record → BER APDU: the inverse of the decoder. Where the schema allows several encodings it makes the
/// choices the reference corpus makes (ConnectionID `both` when call id and device are known, `callID` or `deviceID`
/// alone otherwise; definite lengths; minimal integers).
enum BEREncoder {
    static func encode(_ r: CSTARecord) throws(CSTAEncodeError) -> [UInt8] {
        guard let pduName = r.string("pdu") else { throw missing("pdu") }
        guard let pdu = PDUKind(name: pduName) else { throw CSTAEncodeError("unknown pdu '\(pduName)'") }
        var w = BERWriter()
        switch pdu {
        case .invoke:
            let id = try requireInt(r, "invokeId")
            let op = try opcode(r)
            let argument = try op == 21 ? BEREventEncoder.eventReport(r) : BERServiceEncoder.argument(op: op, r)
            try w.constructed(0xA1) { w throws(CSTAEncodeError) in
                w.integer(0x02, id)
                w.integer(0x02, Int64(op))
                if let argument { w.raw(argument) }
            }
        case .returnResult:
            let id = try requireInt(r, "invokeId")
            let op: Int32? = r["op"] == nil && r["service"] == nil ? nil : try opcode(r)
            try w.constructed(0xA2) { w throws(CSTAEncodeError) in
                w.integer(0x02, id)
                if let op {
                    let result = try BERServiceEncoder.result(op: op, r)
                    try w.constructed(0x30) { w throws(CSTAEncodeError) in
                        w.integer(0x02, Int64(op))
                        w.raw(result)
                    }
                }
            }
        case .returnError:
            let id = try requireInt(r, "invokeId")
            try w.constructed(0xA3) { w throws(CSTAEncodeError) in
                w.integer(0x02, id)
                w.integer(0x02, try int(r, "errorCode") ?? 1)
                if let failure = try universalFailure(r, valueKey: "errorValue") { w.raw(failure) }
            }
        case .reject:
            let problem = try requireInt(r, "rejectProblem")
            guard (0...3).contains(problem) else { throw invalid("rejectProblem") }
            let value = try requireInt(r, "rejectValue")
            try w.constructed(0xA4) { w throws(CSTAEncodeError) in
                if let id = try int(r, "invokeId") { w.integer(0x02, id) } else { w.null(0x05) }
                w.integer(0x80 | UInt8(problem), value)
            }
        case .aarq, .aare:
            try w.constructed(pdu == .aarq ? 0x60 : 0x61) { w throws(CSTAEncodeError) in
                if pdu == .aare { w.element(0x80, [0x07, 0x80]) }  // protocol-version: version1
                let context = r.string("applicationContext") ?? "1.3.12.0.218"
                guard let oid = BERWriter.oidContent(context) else { throw invalid("applicationContext") }
                try w.constructed(0xA1) { w throws(CSTAEncodeError) in w.element(0x06, oid) }
                if pdu == .aare {
                    let result = try enumCode(r, "result", CSTANames.acseResults) ?? 0
                    try w.constructed(0xA2) { w throws(CSTAEncodeError) in w.integer(0x02, result) }
                    // result-source-diagnostic (mandatory): acse-service-user [1] null (0).
                    w.element(0xA3, [0xA1, 0x03, 0x02, 0x01, 0x00])
                }
                if pdu == .aarq, let name = r.string("authenticationName") {
                    let password = r.string("authenticationPassword") ?? ""
                    w.element(0x8A, [0x06, 0x80])  // sender-acse-requirements: authentication
                    // calling-authentication-value [12] → external [2] → [0] → [0] { name, password } (HiPath).
                    try w.constructed(0xAC) { w throws(CSTAEncodeError) in
                        try w.constructed(0xA2) { w throws(CSTAEncodeError) in
                            try w.constructed(0xA0) { w throws(CSTAEncodeError) in
                                try w.constructed(0xA0) { w throws(CSTAEncodeError) in
                                    w.text(0x04, name)
                                    w.text(0x04, password)
                                }
                            }
                        }
                    }
                }
                if let versions = r.strings("cstaVersions") {
                    let bits = try versionBits(versions)
                    // user-information [30] → EXTERNAL → single-ASN1-type [0] → newDefinition [0] → cSTAVersion.
                    try w.constructed(0xBE) { w throws(CSTAEncodeError) in
                        try w.constructed(0x28) { w throws(CSTAEncodeError) in
                            try w.constructed(0xA0) { w throws(CSTAEncodeError) in
                                try w.constructed(0xA0) { w throws(CSTAEncodeError) in w.element(0x03, bits) }
                            }
                        }
                    }
                }
            }
        case .rlrq, .rlre:
            try w.constructed(pdu == .rlrq ? 0x62 : 0x63) { w throws(CSTAEncodeError) in
                if let reason = try int(r, "acseReason") { w.integer(0x80, reason) }
            }
        case .abrt:
            try w.constructed(0x64) { w throws(CSTAEncodeError) in w.integer(0x80, try int(r, "acseReason") ?? 0) }
        }
        return w.bytes
    }

    /// `UniversalFailure` from `errorCategory` (default `operation`) and `valueKey`, or `nil` when neither is present.
    static func universalFailure(_ r: CSTARecord, valueKey: String) throws(CSTAEncodeError) -> [UInt8]? {
        let category = try enumCode(r, "errorCategory", CSTANames.errorCategories)
        let value = try enumCode(r, valueKey, nil)
        guard category != nil || value != nil else { return nil }
        let tag = category ?? 0
        guard (0...30).contains(tag) else { throw invalid("errorCategory") }
        var w = BERWriter()
        try w.constructed(0xA0 | UInt8(tag)) { w throws(CSTAEncodeError) in
            // unspecified [7] is NULL; the other categories are ENUMERATED.
            if tag == 7 && value == nil { w.null(0x05) } else { w.integer(0x0A, value ?? 1) }
        }
        return w.bytes
    }

    // MARK: Record access

    static func missing(_ key: String) -> CSTAEncodeError { CSTAEncodeError("missing mandatory key '\(key)'") }
    static func invalid(_ key: String) -> CSTAEncodeError { CSTAEncodeError("invalid value for key '\(key)'") }

    static func int(_ r: CSTARecord, _ key: String) throws(CSTAEncodeError) -> Int64? {
        guard r[key] != nil else { return nil }
        guard let v = r.int(key) else { throw invalid(key) }
        return v
    }

    static func requireInt(_ r: CSTARecord, _ key: String) throws(CSTAEncodeError) -> Int64 {
        guard let v = try int(r, key) else { throw missing(key) }
        return v
    }

    static func requireString(_ r: CSTARecord, _ key: String) throws(CSTAEncodeError) -> String {
        guard let v = r.string(key) else { throw missing(key) }
        return v
    }

    static func hex(_ r: CSTARecord, _ key: String) throws(CSTAEncodeError) -> [UInt8]? {
        guard let text = r.string(key) else { return nil }
        guard let bytes = BERWriter.hexBytes(text) else { throw invalid(key) }
        return bytes
    }

    /// An ENUMERATED given by name (looked up in `table`) or by number.
    static func enumCode(_ r: CSTARecord, _ key: String, _ table: [String]?) throws(CSTAEncodeError) -> Int64? {
        switch r[key] {
        case nil: return nil
        case .int(let v): return v
        case .string(let s):
            if let table, let code = CSTANames.code(of: s, in: table) { return Int64(code) }
            if let v = Int64(s) { return v }
            throw invalid(key)
        default: throw invalid(key)
        }
    }

    /// `op`, or the operation of `service` when `op` is absent.
    static func opcode(_ r: CSTARecord) throws(CSTAEncodeError) -> Int32 {
        if let op = try int(r, "op") {
            guard let v = Int32(exactly: op) else { throw invalid("op") }
            return v
        }
        if let service = r.string("service") {
            if let op = CSTANames.preferredOperation(forService: service) { return op }
            if let op = Int32(service) { return op }
            throw invalid("service")
        }
        throw missing("op")
    }

    /// CSTAVersion names → BIT STRING content (at least two octets, as HiPath sends).
    static func versionBits(_ names: [String]) throws(CSTAEncodeError) -> [UInt8] {
        var indices: [Int] = []
        for name in names {
            if let i = CSTANames.cstaVersionNames.firstIndex(of: name) {
                indices.append(i)
            } else if name.hasPrefix("bit"), let i = Int(name.dropFirst(3)), (0..<256).contains(i) {
                indices.append(i)
            } else {
                throw invalid("cstaVersions")
            }
        }
        let octets = max(2, ((indices.max() ?? 0) / 8) + 1)
        var out = [UInt8](repeating: 0, count: octets + 1)
        for i in indices { out[1 + i / 8] |= 0x80 >> UInt8(i % 8) }
        return out
    }

    // MARK: Devices and connections

    /// The `deviceIdentifier` CHOICE for a key-set device string.
    static func deviceIdentifier(_ s: String, key: String) throws(CSTAEncodeError) -> [UInt8] {
        var w = BERWriter()
        func rest(_ prefix: String) -> String? { s.hasPrefix(prefix) ? String(s.dropFirst(prefix.count)) : nil }
        if let n = rest("deviceNumber:") {
            guard let v = Int64(n) else { throw invalid(key) }
            w.integer(0x81, v)
        } else if let v = rest("implicitPublic:") {
            w.text(0x82, v)
        } else if let v = rest("implicitPrivate:") {
            w.text(0x84, v)
        } else if let v = rest("other:") {
            w.text(0x86, v)
        } else if let v = rest("explicitPublic:") ?? rest("explicitPrivate:") {
            let isPublic = s.hasPrefix("explicitPublic:")
            let tons =
                isPublic
                ? ["unknown", "international", "national", "networkspecific", "subscriber", "abbreviated"]
                : ["unknown", "level3RegionalNumber", "level2RegionalNumber", "level1RegionalNumber",
                    "pTNSpecificNumber", "localNumber", "abbreviated"]
            guard let colon = v.firstIndex(of: ":") else { throw invalid(key) }
            let tonName = v[..<colon]
            let digits = String(v[v.index(after: colon)...])
            guard let ton = tons.firstIndex(where: { $0 == tonName }) ?? Int(tonName) else { throw invalid(key) }
            try w.constructed(isPublic ? 0xA3 : 0xA5) { w throws(CSTAEncodeError) in w.text(0x80 | UInt8(ton & 0x1F), digits) }
        } else if s.hasPrefix("<") || s.hasPrefix("dynamic:") {
            throw invalid(key)
        } else {
            w.text(0x80, s)
        }
        return w.bytes
    }

    /// `DeviceID ::= SEQUENCE { deviceIdentifier … }`.
    static func deviceID(_ s: String, key: String) throws(CSTAEncodeError) -> [UInt8] {
        var w = BERWriter()
        w.element(0x30, try deviceIdentifier(s, key: key))
        return w.bytes
    }

    /// `[APPLICATION n] CHOICE { deviceIdentifier DeviceID, notKnown [7], restricted [8] }`, or with `redirection`
    /// the RedirectionDeviceID alternatives.
    static func extendedDevice(_ identifier: UInt8, _ s: String, key: String, redirection: Bool = false)
        throws(CSTAEncodeError) -> [UInt8]
    {
        var w = BERWriter()
        let nulls: [String: UInt8] =
            redirection
            ? ["<notKnown>": 0x87, "<notRequired>": 0x88, "<notSpecified>": 0x89, "<restricted>": 0x8A]
            : ["<notKnown>": 0x87, "<restricted>": 0x88]
        if s.hasPrefix("<") {
            guard let tag = nulls[s] else { throw invalid(key) }
            w.element(identifier, [tag, 0x00])
        } else {
            w.element(identifier, try deviceID(s, key: key))
        }
        return w.bytes
    }

    /// The content of a ConnectionID (the CHOICE), for use under `6B` or an IMPLICIT context tag.
    static func connectionChoice(callID: String?, device: String?, key: String) throws(CSTAEncodeError) -> [UInt8] {
        var w = BERWriter()
        func local(_ d: String) throws(CSTAEncodeError) -> [UInt8] {
            if d.hasPrefix("dynamic:") {
                guard let b = BERWriter.hexBytes(String(d.dropFirst(8))) else { throw invalid(key) }
                var l = BERWriter()
                l.element(0x83, b)
                return l.bytes
            }
            return try deviceID(d, key: key)
        }
        let call: [UInt8]? = try callID.map { (c: String) throws(CSTAEncodeError) -> [UInt8] in
            guard let b = BERWriter.hexBytes(c) else { throw invalid(key) }
            return b
        }
        switch (call, device) {
        case (let c?, let d?):
            let l = try local(d)
            try w.constructed(0x30) { w throws(CSTAEncodeError) in
                w.element(0x80, c)
                w.element(0xA1, l)
            }
        case (let c?, nil): w.element(0x80, c)
        case (nil, let d?): w.element(0xA1, try local(d))
        case (nil, nil): throw missing(key)
        }
        return w.bytes
    }

    /// `ConnectionID` (`6B`, or `identifier` when an IMPLICIT tag replaces it).
    static func connection(_ callID: String?, _ device: String?, key: String, identifier: UInt8 = 0x6B)
        throws(CSTAEncodeError) -> [UInt8]
    {
        var w = BERWriter()
        w.element(identifier, try connectionChoice(callID: callID, device: device, key: key))
        return w.bytes
    }

    /// A ConnectionList of `newConnection` entries (call id only).
    static func connectionList(_ identifier: UInt8, _ callIDs: [String], key: String) throws(CSTAEncodeError) -> [UInt8] {
        var w = BERWriter()
        try w.constructed(identifier) { w throws(CSTAEncodeError) in
            for id in callIDs {
                let conn = try connection(id, nil, key: key)
                try w.constructed(0x30) { w throws(CSTAEncodeError) in w.element(0xA0, conn) }
            }
        }
        return w.bytes
    }

    /// `CSTACommonArguments` with one private-data `string`, when the record has `privateData`.
    static func extensions(_ r: CSTARecord, identifier: UInt8 = 0x7E) throws(CSTAEncodeError) -> [UInt8] {
        guard let data = try hex(r, "privateData") else { return [] }
        var w = BERWriter()
        try w.constructed(identifier) { w throws(CSTAEncodeError) in
            try w.constructed(0xA1) { w throws(CSTAEncodeError) in w.element(0x04, data) }
        }
        return w.bytes
    }
}
