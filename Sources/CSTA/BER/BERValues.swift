/// Decoders for the ECMA-285 building blocks that events and services share: device identifiers, connection
/// identifiers, common extensions and the list types. Each reads spans only; nothing is allocated.
@usableFromInline
enum BERValues {
    /// The connection parts of a `ConnectionID`.
    @usableFromInline
    struct Connection {
        @usableFromInline var callID: FieldSpan = .absent
        @usableFromInline var device: DeviceField = .absent
        @inlinable init() {}
    }

    // MARK: Devices

    /// `DeviceID ::= SEQUENCE { deviceIdentifier CHOICE {…}, privateNumber, privateName, mediaCallCharacteristics }`.
    @usableFromInline
    static func deviceID(_ element: BERElement, _ bytes: UnsafeRawBufferPointer) throws(CSTADecodeError) -> DeviceField {
        guard element.tag == Tag.sequence else { throw CSTADecodeError(.unexpectedTag, at: element.start) }
        var c = BERCursor(bytes: bytes, start: element.contentStart, end: element.contentEnd, depth: element.depth &+ 1)
        guard let id = try c.next() else { throw CSTADecodeError(.missingField, at: element.contentStart) }
        // The optional privateNumber / privateName / mediaCallCharacteristics are walked only to validate them.
        while try c.next() != nil {}
        return try deviceIdentifier(id, bytes)
    }

    /// The `deviceIdentifier` CHOICE of a DeviceID.
    @usableFromInline
    static func deviceIdentifier(_ id: BERElement, _ bytes: UnsafeRawBufferPointer) throws(CSTADecodeError) -> DeviceField {
        switch id.tag {
        case Tag.context(0): return DeviceField(kind: .dialingNumber, value: try id.primitiveSpan(.text))
        case Tag.context(1):
            _ = try id.integer(bytes)
            return DeviceField(kind: .deviceNumber, value: id.span(.berInteger))
        case Tag.context(2): return DeviceField(kind: .implicitPublic, value: try id.primitiveSpan(.text))
        case Tag.context(4): return DeviceField(kind: .implicitPrivate, value: try id.primitiveSpan(.text))
        case Tag.context(6): return DeviceField(kind: .other, value: try id.primitiveSpan(.text))
        case Tag.contextC(3), Tag.contextC(5):
            // explicitPublic [3] PublicTON / explicitPrivate [5] PrivateTON: a CHOICE of [n] IMPLICIT IA5String.
            var inner = BERCursor(bytes: bytes, start: id.contentStart, end: id.contentEnd, depth: id.depth &+ 1)
            guard let ton = try inner.next() else { throw CSTADecodeError(.missingField, at: id.contentStart) }
            guard ton.tagClass == 0x80, !ton.isConstructed, ton.number <= 6, inner.isAtEnd else {
                throw CSTADecodeError(.unexpectedTag, at: ton.start)
            }
            let kind: DeviceKind = id.tag == Tag.contextC(3) ? .explicitPublic : .explicitPrivate
            return DeviceField(kind: kind, value: ton.span(.text), typeOfNumber: UInt8(truncatingIfNeeded: ton.number))
        default:
            throw CSTADecodeError(.unexpectedTag, at: id.start)
        }
    }

    /// `[APPLICATION n] CHOICE { deviceIdentifier DeviceID, notKnown [7] NULL, restricted [8] NULL }` (calling, called,
    /// subject, associated, network devices) and, with `redirection`, `RedirectionDeviceID` (`numberdialed`,
    /// notKnown [7], notRequired [8], notSpecified [9], restricted [10]).
    @usableFromInline
    static func extendedDevice(
        _ element: BERElement, _ bytes: UnsafeRawBufferPointer, redirection: Bool = false
    ) throws(CSTADecodeError) -> DeviceField {
        var c = BERCursor(bytes: bytes, start: element.contentStart, end: element.contentEnd, depth: element.depth &+ 1)
        guard element.isConstructed, let inner = try c.next() else {
            throw CSTADecodeError(.missingField, at: element.start)
        }
        guard c.isAtEnd else { throw CSTADecodeError(.unexpectedTag, at: c.position) }
        switch inner.tag {
        case Tag.sequence: return try deviceID(inner, bytes)
        case Tag.context(7): return DeviceField(kind: .notKnown, value: .absent)
        case Tag.context(8): return DeviceField(kind: redirection ? .notRequired : .restricted, value: .absent)
        case Tag.context(9) where redirection: return DeviceField(kind: .notSpecified, value: .absent)
        case Tag.context(10) where redirection: return DeviceField(kind: .restricted, value: .absent)
        default: throw CSTADecodeError(.unexpectedTag, at: inner.start)
        }
    }

    // MARK: Connections

    /// `ConnectionID ::= [APPLICATION 11] CHOICE { callID [0], deviceID [1] LocalDeviceID, both SEQUENCE {…} }`.
    /// `element` is the tagged wrapper (`6B`, or a context tag that replaced it); its content is the CHOICE.
    @usableFromInline
    static func connection(_ element: BERElement, _ bytes: UnsafeRawBufferPointer) throws(CSTADecodeError) -> Connection {
        var c = BERCursor(bytes: bytes, start: element.contentStart, end: element.contentEnd, depth: element.depth &+ 1)
        guard element.isConstructed, let choice = try c.next() else {
            throw CSTADecodeError(.missingField, at: element.start)
        }
        // Phase II shapes (`[2]` call, `[3]` device directly inside) end up here as unexpected tags.
        guard c.isAtEnd else { throw CSTADecodeError(.unexpectedTag, at: c.position) }
        var out = Connection()
        switch choice.tag {
        case Tag.context(0):
            out.callID = choice.span(.hexOctets)
        case Tag.contextC(1):
            out.device = try localDevice(choice, bytes)
        case Tag.sequence:
            var parts = BERCursor(bytes: bytes, start: choice.contentStart, end: choice.contentEnd, depth: choice.depth &+ 1)
            let call = try parts.expect(Tag.context(0))
            out.callID = call.span(.hexOctets)
            let device = try parts.expect(Tag.contextC(1))
            out.device = try localDevice(device, bytes)
            guard parts.isAtEnd else { throw CSTADecodeError(.unexpectedTag, at: parts.position) }
        default:
            throw CSTADecodeError(.unexpectedTag, at: choice.start)
        }
        return out
    }

    /// `[1] LocalDeviceID` (explicit): `staticID DeviceID | dynamicID [3] IMPLICIT OCTET STRING`.
    @usableFromInline
    static func localDevice(_ element: BERElement, _ bytes: UnsafeRawBufferPointer) throws(CSTADecodeError) -> DeviceField {
        var c = BERCursor(bytes: bytes, start: element.contentStart, end: element.contentEnd, depth: element.depth &+ 1)
        guard let inner = try c.next() else { throw CSTADecodeError(.missingField, at: element.contentStart) }
        guard c.isAtEnd else { throw CSTADecodeError(.unexpectedTag, at: c.position) }
        switch inner.tag {
        case Tag.sequence: return try deviceID(inner, bytes)
        case Tag.context(3): return DeviceField(kind: .dynamic, value: inner.span(.hexOctets))
        default: throw CSTADecodeError(.unexpectedTag, at: inner.start)
        }
    }

    /// Fills `callID`/`connDevice` from a ConnectionID.
    @inline(__always) @usableFromInline
    static func primaryConnection(
        _ element: BERElement, _ bytes: UnsafeRawBufferPointer, into fields: inout CSTAFields
    ) throws(CSTADecodeError) {
        let conn = try connection(element, bytes)
        fields.callID = conn.callID
        fields.connDevice = conn.device
    }

    // MARK: Extensions

    /// `CSTACommonArguments ::= [APPLICATION 30] IMPLICIT SEQUENCE { security [0] …, privateData [1] SEQUENCE OF
    /// CSTAPrivateData }`: keeps the first `string` private data (and the first other item as raw bytes). The
    /// security data (HiPath: GeneralizedTime without `Z`) is skipped unread.
    @usableFromInline
    static func extensions(_ element: BERElement, _ bytes: UnsafeRawBufferPointer, into fields: inout CSTAFields)
        throws(CSTADecodeError)
    {
        var c = BERCursor(bytes: bytes, start: element.contentStart, end: element.contentEnd, depth: element.depth &+ 1)
        guard element.isConstructed else { throw CSTADecodeError(.unexpectedTag, at: element.start) }
        while let part = try c.next() {
            guard part.tag == Tag.contextC(1) else { continue }
            var items = BERCursor(bytes: bytes, start: part.contentStart, end: part.contentEnd, depth: part.depth &+ 1)
            while let item = try items.next() {
                if item.tag == Tag.octetString {
                    if !fields.privateData.isPresent { fields.privateData = item.span(.hexOctets) }
                } else if !fields.privateDataRaw.isPresent {
                    fields.privateDataRaw = FieldSpan(start: item.start, count: item.end &- item.start, form: .hexOctets)
                }
            }
        }
    }

    // MARK: Lists

    /// Validates and counts a `ConnectionList` (its content range); items are read again by ``ConnectionListWalker``.
    @usableFromInline
    static func connectionList(_ element: BERElement, _ bytes: UnsafeRawBufferPointer) throws(CSTADecodeError) -> ListField {
        guard element.isConstructed else { throw CSTADecodeError(.unexpectedTag, at: element.start) }
        var walker = ListWalker(kind: .berConnectionList, bytes: bytes, element: element)
        var count = 0
        while try walker.next() != nil { count &+= 1 }
        return ListField(kind: .berConnectionList, content: element.span(.hexOctets), count: count)
    }

    /// Validates and counts a SnapshotDeviceData / SnapshotCallData list.
    @usableFromInline
    static func snapshotList(_ kind: ListKind, _ element: BERElement, _ bytes: UnsafeRawBufferPointer)
        throws(CSTADecodeError) -> ListField
    {
        guard element.isConstructed else { throw CSTADecodeError(.unexpectedTag, at: element.start) }
        var walker = ListWalker(kind: kind, bytes: bytes, element: element)
        var count = 0
        while try walker.next() != nil { count &+= 1 }
        return ListField(kind: kind, content: element.span(.hexOctets), count: count)
    }
}

/// Walks the items of a BER list field and yields what the key set shows of each (a call id or a device).
@usableFromInline
struct ListWalker {
    @usableFromInline let kind: ListKind
    @usableFromInline let bytes: UnsafeRawBufferPointer
    @usableFromInline var items: BERCursor

    @usableFromInline
    init(kind: ListKind, bytes: UnsafeRawBufferPointer, element: BERElement) {
        self.kind = kind
        self.bytes = bytes
        self.items = BERCursor(bytes: bytes, start: element.contentStart, end: element.contentEnd, depth: element.depth &+ 1)
    }

    /// Over a stored content span (rendering time: the depth restarts, still bounded).
    @usableFromInline
    init(kind: ListKind, bytes: UnsafeRawBufferPointer, content: FieldSpan) {
        self.kind = kind
        self.bytes = bytes
        let start = min(Int(content.start), bytes.count)
        let end = min(start &+ Int(content.count), bytes.count)
        self.items = BERCursor(bytes: bytes, start: start, end: end, depth: 1)
    }

    /// The next item that shows in the key set; items without one (a ConnectionList entry without `newConnection`)
    /// are skipped.
    @usableFromInline
    mutating func next() throws(CSTADecodeError) -> CSTAListItem? {
        while let item = try items.next() {
            guard item.tag == Tag.sequence else { throw CSTADecodeError(.unexpectedTag, at: item.start) }
            var parts = BERCursor(bytes: bytes, start: item.contentStart, end: item.contentEnd, depth: item.depth &+ 1)
            var found: CSTAListItem? = nil
            while let part = try parts.next() {
                switch kind {
                case .berConnectionList:
                    // newConnection [0] ConnectionID (explicit: A0 { 6B … }).
                    if part.tag == Tag.contextC(0), found == nil {
                        var inner = BERCursor(
                            bytes: bytes, start: part.contentStart, end: part.contentEnd, depth: part.depth &+ 1)
                        let conn = try inner.expect(Tag.applicationC(11))
                        found = .callID(try BERValues.connection(conn, bytes).callID)
                    }
                case .berSnapshotDeviceData:
                    if part.tag == Tag.applicationC(11), found == nil {
                        found = .callID(try BERValues.connection(part, bytes).callID)
                    }
                case .berSnapshotCallData:
                    if part.tag == Tag.applicationC(3), found == nil {
                        found = .device(try BERValues.extendedDevice(part, bytes))
                    }
                default:
                    return nil
                }
            }
            if let found { return found }
            if kind != .berConnectionList { throw CSTADecodeError(.missingField, at: item.start) }
        }
        return nil
    }
}
