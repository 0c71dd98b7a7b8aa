/// `cSTAEventReport` (operation 21): `CSTAEventReportArgument ::= SEQUENCE { crossRefIdentifier MonitorCrossRefID,
/// eventSpecificInfo EventSpecificInfo }`, where `EventSpecificInfo` is an explicit `[0]…[7]` event group around the
/// event's IMPLICIT SEQUENCE.
enum BEREvents {
    /// Call-control event tags used below (ECMA-285 `CallControlEvents`).
    static let conferenced: UInt16 = 2, diverted: UInt16 = 6, queued: UInt16 = 14, transferred: UInt16 = 17

    /// Reads the envelope (throws when it is broken), then the body (a failure there becomes `eventError`).
    static func eventReport(_ argument: BERElement, _ bytes: UnsafeRawBufferPointer, _ fields: inout CSTAFields)
        throws(CSTADecodeError)
    {
        guard argument.tag == Tag.sequence else { throw CSTADecodeError(.unexpectedTag, at: argument.start) }
        var c = BERCursor(bytes: bytes, start: argument.contentStart, end: argument.contentEnd, depth: argument.depth &+ 1)
        let crossRef = try c.expect(Tag.application(21))
        fields.monitorCrossRefID = crossRef.span(.hexOctets)
        do throws(CSTADecodeError) {
            guard let group = try c.next() else { throw CSTADecodeError(.missingField, at: argument.contentEnd) }
            // Phase I/II put an event type here instead of a constructed group: kept as an envelope-only event.
            guard group.tagClass == 0x80, group.isConstructed, group.number <= 7,
                let eventClass = EventClass(rawValue: UInt8(truncatingIfNeeded: group.number))
            else { throw CSTADecodeError(.unexpectedTag, at: group.start) }
            var inner = BERCursor(bytes: bytes, start: group.contentStart, end: group.contentEnd, depth: group.depth &+ 1)
            guard let event = try inner.next() else { throw CSTADecodeError(.missingField, at: group.contentStart) }
            guard event.tagClass == 0x80, event.number <= UInt32(UInt16.max) else {
                throw CSTADecodeError(.unexpectedTag, at: event.start)
            }
            let type = EventType(eventClass, UInt16(truncatingIfNeeded: event.number))
            fields.event = type
            guard inner.isAtEnd else { throw CSTADecodeError(.unexpectedTag, at: inner.position) }
            // Trailing components (Phase II `extensions`) are walked only to validate their TLVs.
            while try c.next() != nil {}
            try body(event, type, bytes, &fields)
        } catch {
            fields.eventError = error
        }
    }

    /// The event's fields, by tag. ECMA-285 gives every key-set field of the call-control events its own universal or
    /// application tag, so one walk covers them all; the few context tags are read per event.
    static func body(_ event: BERElement, _ type: EventType, _ bytes: UnsafeRawBufferPointer, _ fields: inout CSTAFields)
        throws(CSTADecodeError)
    {
        guard event.isConstructed else {
            // A primitive event body carries nothing the key set shows (e.g. an empty vendor event).
            return
        }
        var c = BERCursor(bytes: bytes, start: event.contentStart, end: event.contentEnd, depth: event.depth &+ 1)
        let callControl = type.eventClass == .callControl
        let agentEvent = type.eventClass == .logicalDeviceFeature && type.tag <= 5
        let hasOtherDevice =
            callControl && (type.tag == conferenced || type.tag == diverted || type.tag == transferred)
        var connections = 0
        var subjects = 0
        while let e = try c.next() {
            switch e.tag {
            case Tag.applicationC(11):
                connections &+= 1
                if connections == 1 {
                    try BERValues.primaryConnection(e, bytes, into: &fields)
                } else if connections == 2 && callControl && type.tag == conferenced {
                    fields.secondaryCallID = try BERValues.connection(e, bytes).callID
                } else {
                    _ = try BERValues.connection(e, bytes)  // originatingNIDConnection and the like
                }
            case Tag.applicationC(3):
                subjects &+= 1
                let device = try BERValues.extendedDevice(e, bytes)
                if subjects == 1 { fields.device = device } else if subjects == 2 && hasOtherDevice {
                    fields.otherDevice = device
                }
            case Tag.applicationC(1): fields.calling = try BERValues.extendedDevice(e, bytes)
            case Tag.applicationC(2): fields.called = try BERValues.extendedDevice(e, bytes)
            case Tag.applicationC(4): fields.lastRedirection = try BERValues.extendedDevice(e, bytes, redirection: true)
            case Tag.application(14): fields.localConnectionInfo = EnumField(code: try e.int32(bytes))
            case Tag.enumerated:
                if !fields.cause.isPresent { fields.cause = EnumField(code: try e.int32(bytes)) }
            case Tag.applicationC(30): try BERValues.extensions(e, bytes, into: &fields)
            case Tag.contextC(5) where callControl && type.tag == conferenced:
                try BERValues.extensions(e, bytes, into: &fields)
            case Tag.contextC(0) where callControl && type.tag == transferred:
                fields.secondaryCallID = try BERValues.connection(e, bytes).callID
            case Tag.contextC(1) where callControl && type.tag == transferred:
                fields.newCallIDs = try BERValues.connectionList(e, bytes)
            case Tag.sequence where callControl && type.tag == conferenced:
                fields.newCallIDs = try BERValues.connectionList(e, bytes)
            case Tag.context(0) where callControl && type.tag == queued:
                fields.numberQueued = try e.int32(bytes)
            // agentID is [2] IMPLICIT in loggedOn/loggedOff, a plain OCTET STRING in the others (where [2] is the
            // pending agent state and cause is [3] IMPLICIT in agentBusy/agentWorkingAfterCall).
            case Tag.context(2) where agentEvent && (type.tag == 1 || type.tag == 2),
                Tag.octetString where agentEvent && type.tag != 1 && type.tag != 2:
                fields.agentID = try e.primitiveSpan(.text)
            case Tag.context(3) where agentEvent && (type.tag == 0 || type.tag == 5):
                if !fields.cause.isPresent { fields.cause = EnumField(code: try e.int32(bytes)) }
            case Tag.sequence where agentEvent:
                fields.acdGroup = try BERValues.deviceID(e, bytes)
            case Tag.sequence where !callControl && !fields.device.isPresent:
                // Device-maintenance and other groups name their device with a plain DeviceID; a SEQUENCE that is
                // something else in an event this decoder does not model is skipped.
                do throws(CSTADecodeError) { fields.device = try BERValues.deviceID(e, bytes) } catch { continue }
            default:
                continue  // correlatorData, userData, servicesPermitted, callLinkageData, network devices, …
            }
        }
    }
}
