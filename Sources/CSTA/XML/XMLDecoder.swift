#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Maps the token stream of one ECMA-323 / ECMA-354 document onto ``CSTAFields``.
///
/// The mapping is by local element name and depth (namespaces are not checked, prefixes are ignored), so every edition
/// and the unprefixed OSV/DMCC variants read alike. Values stay spans into the document.
struct XMLMessageDecoder {
    let b: UnsafeRawBufferPointer
    /// The caller's fields value, written in place (no private copy: `CSTAFields` is ~750 bytes).
    let f: UnsafeMutablePointer<CSTAFields>
    /// The name table, loaded once per document (not once per start tag).
    private let names = XMLNameTable.shared

    private enum Root { case none, event, service, error, other }
    private var root = Root.none
    private var rootID: UInt16 = 0
    private var rootStart = 0
    /// OriginatedEvent: `callingDevice` is the subject device.
    private var originated = false
    /// Element ids of the open elements at depths 1…5 (index = depth).
    private var ids: (UInt16, UInt16, UInt16, UInt16, UInt16, UInt16) = (0, 0, 0, 0, 0, 0)
    /// Attribute regions of the open elements at depths 1…4 (for namespace look-ups).
    private var attrs: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)
    // The element whose content may be a leaf value.
    private var leafDepth = 0
    private var leafStart = 0
    private var leafAttrStart = 0
    private var leafAttrEnd = 0
    private var leafLocalStart = 0
    private var leafLocalCount = 0
    private var cdata: (Int, Int)? = nil
    // The depth-2 element that owns the primary connection (its start offset + 1; 0 = none yet).
    private var primaryOwner = 0
    private var current2 = 0
    // Lists.
    private var listStart = 0
    private var listCount = 0
    private var listKind = ListKind.absent
    private var privateStart = 0
    private var vendorDone = false

    init(_ b: UnsafeRawBufferPointer, into f: UnsafeMutablePointer<CSTAFields>) {
        self.b = b
        self.f = f
    }

    // MARK: Driving

    /// Runs `scanner` to the end, filling `f`.
    mutating func run(_ scanner: inout XMLScanner) throws(XMLScanIssue) {
        while true {
            switch try scanner.next() {
            case .eof:
                checkBody()
                return
            // The token is read in place: passed by value, its 80 bytes were copied for every tag.
            case .start: start(&scanner)
            case .end: endElement(depth: scanner.token.depth, tagStart: scanner.token.tagStart)
            case .cdata: if scanner.token.depth == leafDepth { cdata = (scanner.token.tagStart, scanner.token.contentStart) }
            }
        }
    }

    /// Mandatory parts the envelope cannot do without: reported in `eventError`, the envelope stays valid.
    private mutating func checkBody() {
        guard f.pointee.eventError == nil else { return }
        if root == .event && !f.pointee.monitorCrossRefID.isPresent {
            f.pointee.eventError = CSTADecodeError(.missingField, at: rootStart)
        } else if root == .error && !f.pointee.errorCategory.isPresent {
            f.pointee.eventError = CSTADecodeError(.missingField, at: rootStart)
        }
    }

    private func id(_ d: Int) -> UInt16 {
        switch d {
        case 1: ids.1
        case 2: ids.2
        case 3: ids.3
        case 4: ids.4
        case 5: ids.5
        default: 0
        }
    }

    private mutating func setID(_ d: Int, _ v: UInt16) {
        switch d {
        case 1: ids.1 = v
        case 2: ids.2 = v
        case 3: ids.3 = v
        case 4: ids.4 = v
        case 5: ids.5 = v
        default: break
        }
    }

    private func attrRegion(_ d: Int) -> (Int, Int) {
        switch d {
        case 1: (attrs.0, attrs.1)
        case 2: (attrs.2, attrs.3)
        case 3: (attrs.4, attrs.5)
        case 4: (attrs.6, attrs.7)
        default: (0, 0)
        }
    }

    private mutating func setAttrRegion(_ d: Int, _ s: Int, _ e: Int) {
        switch d {
        case 1: attrs.0 = s; attrs.1 = e
        case 2: attrs.2 = s; attrs.3 = e
        case 3: attrs.4 = s; attrs.5 = e
        case 4: attrs.6 = s; attrs.7 = e
        default: break
        }
    }

    @inline(__always) private func span(_ s: Int, _ e: Int, _ form: ValueForm) -> FieldSpan {
        FieldSpan(start: s, count: max(0, e - s), form: form)
    }

    // MARK: Start tags

    private mutating func start(_ scanner: inout XMLScanner) {
        // Fields read one by one from the scanner (a copy of the whole token stalled on the scanner's fresh stores).
        let d = scanner.token.depth
        let x = names.lookup(b, scanner.token.localStart, scanner.token.localCount, hash: scanner.token.localHash)
        setID(d, x)
        setAttrRegion(d, scanner.token.attrStart, scanner.token.attrEnd)
        leafDepth = d
        leafStart = scanner.token.contentStart
        leafAttrStart = scanner.token.attrStart
        leafAttrEnd = scanner.token.attrEnd
        leafLocalStart = scanner.token.localStart
        leafLocalCount = scanner.token.localCount
        cdata = nil
        if d == 1 { return startRoot(scanner.token, x) }
        if d == 2 {
            current2 = scanner.token.tagStart + 1
            switch names.kind(x) {
            case .transferredConnections, .conferenceConnections, .connections:
                listStart = scanner.token.contentStart
                listCount = 0
                listKind = .xmlConnectionList
            default: break
            }
            if root == .error {  // CSTAErrorCode: the child's name is the category
                f.pointee.errorCategory = EnumField(text: span(scanner.token.localStart, scanner.token.localStart + scanner.token.localCount, .xmlText))
            }
            return
        }
        let p = names.kind(id(d - 1))
        let me = names.kind(x)
        if d == 3 {
            if me == .connectionListItem && listKind == .xmlConnectionList { listCount += 1 }
            if me == .snapshotData && p == .crossRefIDorSnapshotData {
                listStart = scanner.token.contentStart
                listCount = 0
                listKind = rootID == XN.serviceBase + 75 ? .xmlSnapshotCallData : .xmlSnapshotDeviceData
            }
            if p == .errorCode || (root == .error && d == 3) {
                // ECMA-354 NegResponse `errorCode/definedError`; CSTA `CSTAErrorCode/operation/<value/>`.
                if p == .errorCode {
                    f.pointee.errorCategory = EnumField(text: span(scanner.token.localStart, scanner.token.localStart + scanner.token.localCount, .xmlText))
                } else if !f.pointee.errorValue.isPresent {
                    f.pointee.errorValue = EnumField(text: span(scanner.token.localStart, scanner.token.localStart + scanner.token.localCount, .xmlText))
                }
            }
            if me.isNullDevice { setDevice(parent: p, DeviceField(kind: nullKind(me), value: .absent)) }
            return
        }
        if d == 4 {
            if (me == .snapshotDeviceResponseInfo || me == .snapshotCallResponseInfo) && p == .snapshotData {
                listCount += 1
            }
            if me == .private && p == .privateData && id(2) == XN.extensions.rawValue {
                privateStart = scanner.token.contentStart
            }
            return
        }
        if d == 5, !vendorDone, id(4) == XN.private.rawValue, id(3) == XN.privateData.rawValue {
            vendorDone = true
            f.pointee.privateDataVendor = namespace(prefixStart: scanner.token.nameStart, prefixCount: scanner.token.prefixCount, own: scanner.token)
        }
    }

    private mutating func startRoot(_ t: XMLToken, _ x: UInt16) {
        rootID = x
        rootStart = t.tagStart
        let nameSpan = span(t.localStart, t.localStart + t.localCount, .xmlText)
        if x >= XN.eventBase {
            root = .event
            f.pointee.pdu = .invoke
            f.pointee.op = 21
            let cls = EventClass(rawValue: UInt8((x - XN.eventBase) >> 8)) ?? .vendorSpecific
            let type = EventType(cls, (x - XN.eventBase) & 0xFF)
            f.pointee.event = type
            originated = cls == .callControl && type.tag == 13
            return
        }
        if x >= XN.serviceBase {
            root = .service
            f.pointee.pdu = .invoke
            f.pointee.op = Int32(x - XN.serviceBase)
            f.pointee.serviceName = nameSpan
            return
        }
        if x == XN.CSTAErrorCode.rawValue {
            root = .error
            f.pointee.pdu = .returnError
            return
        }
        if x != 0 {
            root = .service
            f.pointee.pdu = .invoke
            f.pointee.serviceName = nameSpan
            return
        }
        // Not in the tables: a response, an unknown event, or a vendor element (kept by name).
        let s = t.localStart
        let n = t.localCount
        if endsWith("Event", s, n) {
            root = .event
            f.pointee.pdu = .invoke
            f.pointee.op = 21
            f.pointee.eventName = nameSpan
            return
        }
        root = .service
        var stem = n
        if endsWith("PosResponse", s, n) {
            stem = n - 11
            f.pointee.pdu = .returnResult
        } else if endsWith("NegResponse", s, n) {
            stem = n - 11
            f.pointee.pdu = .returnError
        } else if endsWith("Response", s, n) {
            stem = n - 8
            f.pointee.pdu = .returnResult
        } else {
            f.pointee.pdu = .invoke
        }
        f.pointee.serviceName = span(s, s + stem, .xmlText)
        let base = names.lookup(b, s, stem)
        rootID = base
        if base >= XN.serviceBase && base < XN.eventBase && stem != n {
            f.pointee.op = Int32(base - XN.serviceBase)
        }
    }

    private func endsWith(_ suffix: StaticString, _ s: Int, _ n: Int) -> Bool {
        let k = suffix.utf8CodeUnitCount
        guard n > k else { return false }
        for j in 0..<k where b[s + n - k + j] != suffix.utf8Start[j] { return false }
        return true
    }

    private func nullKind(_ x: XN) -> DeviceKind {
        switch x {
        case .notKnown: .notKnown
        case .restricted: .restricted
        case .notRequired: .notRequired
        default: .notSpecified
        }
    }

    // MARK: End tags

    private mutating func endElement(depth d: Int, tagStart: Int) {
        if d == leafDepth {
            leafDepth = 0
            var s = leafStart
            var e = tagStart
            if let (cs, ce) = cdata {
                s = cs
                e = ce
            }
            leaf(d, s, e)
        }
        let x = names.kind(id(d))
        if d == 2, listKind == .xmlConnectionList,
            x == .transferredConnections || x == .conferenceConnections || x == .connections
        {
            if !f.pointee.newCallIDs.isPresent {
                f.pointee.newCallIDs = ListField(kind: .xmlConnectionList, content: span(listStart, tagStart, .xmlText),
                    count: listCount)
            }
            listKind = .absent
        } else if d == 3, x == .snapshotData, listKind == .xmlSnapshotDeviceData || listKind == .xmlSnapshotCallData {
            let l = ListField(kind: listKind, content: span(listStart, tagStart, .xmlText), count: listCount)
            if listKind == .xmlSnapshotCallData { f.pointee.snapshotDevices = l } else { f.pointee.snapshotCallIDs = l }
            listKind = .absent
        } else if d == 4, x == .private, privateStart > 0, !f.pointee.privateDataRaw.isPresent {
            f.pointee.privateDataRaw = span(privateStart, tagStart, .text)
        }
        setID(d, 0)
    }

    /// An element without child elements ended: its content `b[s..<e]` is a value.
    private mutating func leaf(_ d: Int, _ s: Int, _ e: Int) {
        let x = names.kind(id(d))
        let text = span(s, e, .xmlText)
        // Anywhere: DMCC login, agent state.
        switch x {
        case .userName: if !f.pointee.authenticationName.isPresent { f.pointee.authenticationName = text }; return
        case .password: if !f.pointee.authenticationPassword.isPresent { f.pointee.authenticationPassword = text }; return
        case .sessionCleanupDelay: f.pointee.sessionCleanupDelay = integer(s, e); return
        default: break
        }
        if d >= 3, x == .agentState, !f.pointee.agentState.isPresent { f.pointee.agentState = EnumField(text: text); return }
        // GetAgentStateResponse: agentStateList/agentStateEntry/agentID.
        if d >= 3, x == .agentID, !f.pointee.agentID.isPresent { f.pointee.agentID = text; return }
        if d == 1 { return }
        if d == 2 {
            if root == .error {
                f.pointee.errorValue = EnumField(text: text)
                return
            }
            leaf2(x, s, e, text)
            return
        }
        let p = names.kind(id(d - 1))
        if d == 3 {
            switch x {
            case .callID: setCallID(parent: p, span(s, e, .xmlCompact))
            case .deviceID:
                if let slot = connSlot(p), slot == 0 { f.pointee.connDevice = device(text) }
            case .deviceIdentifier, .numberDialed, .deviceObject: setDevice(parent: p, device(text))
            case .applicationID where p == .applicationInfo: f.pointee.applicationID = text
            case .protocolVersion where p == .requestedProtocolVersions:
                if !f.pointee.protocolVersion.isPresent { f.pointee.protocolVersion = text }
            default:
                if p == .errorCode {
                    f.pointee.errorValue = EnumField(text: text)
                } else if p == .sessionEndReason || p == .sessionTermReason {
                    f.pointee.reason = EnumField(text: text)
                } else if root == .error, e > s, !isBlank(s, e) {
                    f.pointee.errorValue = EnumField(text: text)
                }
            }
            return
        }
        if d == 4, x == .string, id(3) == XN.privateData.rawValue, id(2) == XN.extensions.rawValue,
            !f.pointee.privateData.isPresent
        {
            f.pointee.privateData = span(s, e, .xmlCompact)
        }
    }

    private mutating func leaf2(_ x: XN, _ s: Int, _ e: Int, _ text: FieldSpan) {
        let compact = span(s, e, .xmlCompact)
        switch x {
        case .monitorCrossRefID: f.pointee.monitorCrossRefID = compact
        case .cause: f.pointee.cause = EnumField(text: text)
        case .localConnectionInfo: f.pointee.localConnectionInfo = EnumField(text: text)
        case .agentID: f.pointee.agentID = text
        case .numberQueued: f.pointee.numberQueued = integer(s, e)
        case .crossRefIdentifier: f.pointee.routeingCrossRefID = compact
        case .systemStatus: f.pointee.systemStatus = EnumField(text: text)
        case .sysStatRegisterID: f.pointee.sysStatRegisterID = text
        case .reason, .errorValue: f.pointee.reason = EnumField(text: text)
        case .agentState: f.pointee.agentState = EnumField(text: text)
        case .requestedAgentState: f.pointee.requestedAgentState = EnumField(text: text)
        case .sessionID: f.pointee.sessionID = text
        case .protocolVersion, .actualProtocolVersion: f.pointee.protocolVersion = text
        case .requestedSessionDuration, .actualSessionDuration, .sessionDuration: f.pointee.sessionDuration = integer(s, e)
        case .applicationID: f.pointee.applicationID = text
        default:
            // A device written as text (`<callingDevice typeOfNumber="…">4711</callingDevice>`).
            if e > s || attribute("typeOfNumber", leafAttrStart, leafAttrEnd).isPresent {
                setDevice(parent: x, device(text))
            }
        }
    }

    // MARK: Devices and connections

    private func device(_ value: FieldSpan) -> DeviceField {
        DeviceField(kind: .xml, value: value, xmlTypeOfNumber: attribute("typeOfNumber", leafAttrStart, leafAttrEnd))
    }

    /// 0 = the primary connection, 1 = the secondary one, nil = neither.
    private mutating func connSlot(_ p: XN) -> Int? {
        if p == .secondaryOldCall { return 1 }
        if p == .activeCall && primaryOwner != 0 && primaryOwner != current2 { return 1 }
        let connectionLike = (p.rawValue >= XN.connection.rawValue && p.rawValue < XN.secondaryOldCall.rawValue)
            || p == .callingDevice || p == .snapshotObject
        guard connectionLike else { return nil }
        guard primaryOwner == 0 || primaryOwner == current2 else { return nil }
        primaryOwner = current2
        return 0
    }

    private mutating func setCallID(parent p: XN, _ v: FieldSpan) {
        guard let slot = connSlot(p) else { return }
        if slot == 0 { f.pointee.callID = v } else if !f.pointee.secondaryCallID.isPresent { f.pointee.secondaryCallID = v }
    }

    /// Stores a device found in (or as) the depth-2 element `p`.
    private mutating func setDevice(parent p: XN, _ v: DeviceField) {
        switch p {
        case .alertingDevice, .answeringDevice, .releasingDevice, .holdingDevice, .retrievingDevice,
            .transferringDevice, .conferencingDevice, .divertingDevice, .failingDevice, .queue,
            .networkInterfaceUsed, .agentDevice, .initiatingDevice, .device, .snapshotObject, .extension:
            f.pointee.device = v
        case .callingDevice:
            if originated { f.pointee.device = v } else { f.pointee.calling = v }
        case .calledDevice, .calledDirectoryNumber: f.pointee.called = v
        case .lastRedirectionDevice: f.pointee.lastRedirection = v
        case .transferredToDevice, .addedParty, .newDestination, .consultedDevice, .transferredTo: f.pointee.otherDevice = v
        case .acdGroup, .group: f.pointee.acdGroup = v
        case .monitorObject: f.pointee.monitorObject = v
        case .currentRoute: f.pointee.currentRoute = v
        case .routeSelected: f.pointee.routeSelected = v
        default: break
        }
    }

    // MARK: Helpers

    private func isBlank(_ s: Int, _ e: Int) -> Bool {
        var k = s
        while k < e {
            if !XMLScanner.isSpace(b[k]) { return false }
            k += 1
        }
        return true
    }

    /// A decimal integer (surrounded by white space); a bad one is reported in `eventError`.
    private mutating func integer(_ s: Int, _ e: Int) -> Int32? {
        var k = s
        var end = e
        while k < end, XMLScanner.isSpace(b[k]) { k += 1 }
        while end > k, XMLScanner.isSpace(b[end - 1]) { end -= 1 }
        var negative = false
        if k < end, b[k] == 0x2D {
            negative = true
            k += 1
        }
        var v: Int64 = 0
        guard k < end else {
            if f.pointee.eventError == nil { f.pointee.eventError = CSTADecodeError(.invalidInteger, at: s) }
            return nil
        }
        while k < end {
            let c = b[k]
            guard c >= 0x30, c <= 0x39, v < Int64(Int32.max) + 1 else {
                if f.pointee.eventError == nil { f.pointee.eventError = CSTADecodeError(.invalidInteger, at: k) }
                return nil
            }
            v = v * 10 + Int64(c - 0x30)
            k += 1
        }
        if negative { v = -v }
        guard v >= Int64(Int32.min), v <= Int64(Int32.max) else {
            if f.pointee.eventError == nil { f.pointee.eventError = CSTADecodeError(.invalidInteger, at: s) }
            return nil
        }
        return Int32(v)
    }

    /// The value of attribute `name` (local name, unprefixed) in the attribute region `s..<e`.
    @inline(__always) func attribute(_ name: StaticString, _ s: Int, _ e: Int) -> FieldSpan {
        Self.attribute(name, in: b, s, e)
    }

    /// One attribute of a start tag: its name and its value (without the quotes), as offsets into the document.
    struct Attribute {
        var nameStart, nameEnd, valueStart, valueEnd: Int
    }

    /// The attribute at `k` in the attribute region `..<e`, advancing `k` past it; `nil` when there is none. The
    /// scanner has already checked the region's syntax.
    @inline(__always)
    static func nextAttribute(in b: UnsafeRawBufferPointer, _ k: inout Int, _ e: Int) -> Attribute? {
        while k < e, XMLScanner.isSpace(b[k]) { k += 1 }
        guard k < e else { return nil }
        let nameStart = k
        while k < e, b[k] != 0x3D, !XMLScanner.isSpace(b[k]) { k += 1 }
        let nameEnd = k
        while k < e, b[k] != 0x22, b[k] != 0x27 { k += 1 }
        guard k < e else { return nil }
        let quote = b[k]
        k += 1
        let valueStart = k
        while k < e, b[k] != quote { k += 1 }
        let valueEnd = k
        k += 1
        return Attribute(nameStart: nameStart, nameEnd: nameEnd, valueStart: valueStart, valueEnd: valueEnd)
    }

    /// The value of attribute `name` (local name, unprefixed) in the attribute region `s..<e` of `b`.
    static func attribute(_ name: StaticString, in b: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> FieldSpan {
        var k = s
        let n = name.utf8CodeUnitCount
        while let a = nextAttribute(in: b, &k, e) {
            if a.nameEnd - a.nameStart == n && memcmp(b.baseAddress! + a.nameStart, name.utf8Start, n) == 0 {
                return FieldSpan(start: a.valueStart, count: max(0, a.valueEnd - a.valueStart), form: .xmlText)
            }
        }
        return .absent
    }

    /// The namespace URI bound to a prefix (or the default namespace) for an element inside `<private>`: looked up on
    /// the element itself, then `private`, `privateData`, `extensions` and the root.
    private func namespace(prefixStart: Int, prefixCount: Int, own t: XMLToken) -> FieldSpan {
        for d in stride(from: 5, through: 1, by: -1) {
            let (s, e) = d == 5 ? (t.attrStart, t.attrEnd) : attrRegion(d)
            let v = xmlns(prefixStart, prefixCount, s, e)
            if v.isPresent { return v }
        }
        return .absent
    }

    /// `xmlns:prefix="…"` (or `xmlns="…"` when `prefixCount` is 0) in the attribute region `s..<e`.
    private func xmlns(_ ps: Int, _ pc: Int, _ s: Int, _ e: Int) -> FieldSpan {
        var k = s
        while let a = Self.nextAttribute(in: b, &k, e) {
            let n = a.nameEnd - a.nameStart
            guard n >= 5, memcmp(b.baseAddress! + a.nameStart, ("xmlns" as StaticString).utf8Start, 5) == 0 else {
                continue
            }
            if pc == 0 && n == 5 { return span(a.valueStart, a.valueEnd, .xmlText) }
            if pc > 0, n == 6 + pc, b[a.nameStart + 5] == 0x3A,
                memcmp(b.baseAddress! + a.nameStart + 6, b.baseAddress! + ps, pc) == 0
            {
                return span(a.valueStart, a.valueEnd, .xmlText)
            }
        }
        return .absent
    }
}
