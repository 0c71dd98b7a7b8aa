/// ECMA-323 (CSTA Phase III in XML) codec: decodes one XML document into ``CSTAFields`` and encodes a ``CSTARecord``
/// back into a document.
///
/// Decoding runs an allocation-free scanner (``XMLScanner``) over the payload. Documents that use constructs the
/// scanner leaves alone (DOCTYPE, CDATA sections, DTD-declared entities, a non-UTF-8 `encoding`) are first checked by
/// libxml2 (``LibXML2Fallback``) and, when libxml2 finds them well formed, read again by the scanner in lenient mode
/// over the original bytes. Values stay spans into the payload, so the fallback never needs a second buffer (a
/// document in a non-ASCII-compatible encoding such as UTF-16 is the one thing this cannot read: it is rejected).
public enum XMLCodec {
    /// Decodes one XML document (a frame payload, without the 8-byte header).
    ///
    /// The invoke id lives in the frame header; `fields.invokeId` is left as it was.
    ///
    /// Like ``BERCodec/decode(_:into:)``, the document is decoded in place: pass a fresh value (`.empty`, any
    /// `invokeId`). After a throw, `fields` holds whatever was read before the fault.
    /// - Throws: ``CSTADecodeError`` with the byte offset of the fault (`malformedXML`, `truncated`, `empty`, …).
    public static func decode(_ bytes: UnsafeRawBufferPointer, into fields: inout CSTAFields) throws(CSTADecodeError) {
        guard bytes.count > 0, bytes.baseAddress != nil else { throw CSTADecodeError(.empty, at: 0) }
        let invokeId = fields.invokeId
        defer { fields.invokeId = invokeId }
        guard let issue = scan(bytes, lenient: false, into: &fields) else { return }
        guard issue.isUnsupported else { throw issue.error }
        if let error = LibXML2Fallback.validate(bytes) { throw error }
        fields = .empty  // the strict pass may have written some fields before it stopped
        guard let second = scan(bytes, lenient: true, into: &fields) else { return }
        throw second.isUnsupported ? CSTADecodeError(.malformedXML, at: issue.offset) : second.error
    }

    /// Scanner + mapping, with the end-tag stack on the stack. `fields` (fresh) is written in place.
    static func scan(_ bytes: UnsafeRawBufferPointer, lenient: Bool, into fields: inout CSTAFields) -> XMLScanIssue? {
        withUnsafeMutablePointer(to: &fields) { f in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 2 * XMLLimits.maximumDepth) { stack in
                var scanner = XMLScanner(bytes, stack: stack.baseAddress!, lenient: lenient)
                var decoder = XMLMessageDecoder(bytes, into: f)
                do throws(XMLScanIssue) {
                    try decoder.run(&scanner)
                } catch {
                    return error
                }
                return nil
            }
        }
    }

    /// Encodes a record (the key set) as one ECMA-323 ed3 document (ECMA-354 for application sessions), UTF-8 with
    /// an XML declaration.
    /// - Throws: ``CSTAEncodeError`` naming the key that is missing or cannot be written.
    public static func encode(_ record: CSTARecord) throws(CSTAEncodeError) -> [UInt8] {
        var writer = XMLRecordEncoder(record)
        return try writer.encode()
    }

    /// Visits the items of an XML list field (`connectionListItem/newConnection/callID`,
    /// `snapshotDeviceResponseInfo/connectionIdentifier/callID`, `snapshotCallResponseInfo/deviceOnCall`).
    public static func forEachListItem(
        _ list: ListField, in bytes: UnsafeRawBufferPointer, _ body: (CSTAListItem) -> Void
    ) {
        guard list.isPresent, list.content.isPresent, Int(list.content.start) + Int(list.content.count) <= bytes.count
        else { return }
        let range = list.content.range
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 2 * XMLLimits.maximumDepth) { stack in
            var scanner = XMLScanner(
                bytes, from: range.lowerBound, to: range.upperBound, stack: stack.baseAddress!, lenient: true,
                fragment: true)
            var items = XMLListReader(bytes: bytes, kind: list.kind)
            while true {
                guard let kind = try? scanner.next(), kind != .eof else { return }
                items.take(scanner.token, body)
            }
        }
    }
}

extension XMLCodec {
    /// The local connection state per `snapshotDeviceResponseInfo` or `snapshotCallResponseInfo` (`nil` when the item
    /// has none or says `unknown`); see ``SnapshotStates``.
    static func snapshotStates(_ list: ListField, in bytes: UnsafeRawBufferPointer) -> [String?] {
        guard list.kind == .xmlSnapshotDeviceData || list.kind == .xmlSnapshotCallData, list.content.isPresent,
            Int(list.content.start) + Int(list.content.count) <= bytes.count
        else { return [] }
        let range = list.content.range
        var states: [String?] = []
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 2 * XMLLimits.maximumDepth) { stack in
            var scanner = XMLScanner(
                bytes, from: range.lowerBound, to: range.upperBound, stack: stack.baseAddress!, lenient: true,
                fragment: true)
            var state: String? = nil
            var sawFirst = false
            var leafStart = 0
            var names: [String] = []
            while true {
                guard let kind = try? scanner.next(), kind != .eof else { return }
                let t = scanner.token
                switch t.kind {
                case .start:
                    let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[t.localStart..<(t.localStart + t.localCount)]), as: UTF8.self)
                    if t.depth == 1 {
                        state = nil
                        sawFirst = false
                        names = []
                    }
                    names.append(name)
                    leafStart = t.contentStart
                case .end:
                    let leaf = names.last ?? ""
                    // SnapshotDevice: localCallState/…; SnapshotCall: the party's own localConnectionState.
                    let inState = names.contains("localCallState") || (t.depth == 2 && leaf == "localConnectionState")
                    if t.depth >= 2, inState, t.tagStart > leafStart, !sawFirst {
                        let raw = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[leafStart..<t.tagStart]), as: UTF8.self)
                        let text = String(raw.filter { !$0.isWhitespace })
                        if leaf == "localConnectionState", SnapshotStates.names.contains(text) {
                            state = text
                            sawFirst = true
                        } else if leaf == "simpleCallState", let mapped = SnapshotStates.simple[text] {
                            state = mapped
                            sawFirst = true
                        }
                    }
                    if t.depth == 1 { states.append(state) }
                    if !names.isEmpty { names.removeLast() }
                    leafStart = Int.max
                case .cdata, .eof: break
                }
            }
        }
        return states
    }
}

/// Reads the items of one list (see ``XMLCodec/forEachListItem(_:in:_:)``).
private struct XMLListReader {
    let bytes: UnsafeRawBufferPointer
    let kind: ListKind
    var ids: (UInt16, UInt16, UInt16) = (0, 0, 0)
    var callID = FieldSpan.absent
    var device = DeviceField.absent
    var leafStart = 0
    var leafAttrs = (0, 0)

    mutating func take(_ t: XMLToken, _ body: (CSTAListItem) -> Void) {
        switch t.kind {
        case .start:
            let x = XMLNameTable.shared.lookup(bytes, t.localStart, t.localCount, hash: t.localHash)
            switch t.depth {
            case 1:
                ids.0 = x
                callID = .absent
                device = .absent
            case 2: ids.1 = x
            case 3:
                ids.2 = x
                if ids.1 == XN.deviceOnCall.rawValue {
                    switch XN(rawValue: x) {
                    case .notKnown: device = DeviceField(kind: .notKnown, value: .absent)
                    case .restricted: device = DeviceField(kind: .restricted, value: .absent)
                    case .notRequired: device = DeviceField(kind: .notRequired, value: .absent)
                    case .notSpecified: device = DeviceField(kind: .notSpecified, value: .absent)
                    default: break
                    }
                }
            default: break
            }
            leafStart = t.contentStart
            leafAttrs = (t.attrStart, t.attrEnd)
        case .end:
            let value = FieldSpan(start: leafStart, count: max(0, t.tagStart - leafStart), form: .xmlText)
            let ton = XMLMessageDecoder.attribute("typeOfNumber", in: bytes, leafAttrs.0, leafAttrs.1)
            switch t.depth {
            case 1:
                if kind == .xmlSnapshotCallData {
                    body(.device(device))
                } else {
                    body(.callID(callID))
                }
            case 2 where ids.1 == XN.deviceOnCall.rawValue && !device.isPresent && t.tagStart > leafStart:
                device = DeviceField(kind: .xml, value: value, xmlTypeOfNumber: ton)
            case 3 where ids.2 == XN.callID.rawValue:
                if !callID.isPresent {
                    callID = FieldSpan(start: leafStart, count: max(0, t.tagStart - leafStart), form: .xmlCompact)
                }
            case 3 where ids.2 == XN.deviceIdentifier.rawValue && ids.1 == XN.deviceOnCall.rawValue:
                device = DeviceField(kind: .xml, value: value, xmlTypeOfNumber: ton)
            default: break
            }
            leafStart = Int.max
        case .cdata, .eof: break
        }
    }
}
