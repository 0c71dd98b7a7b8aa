/// ECMA-285 (CSTA Phase III) in ASN.1 BER: ROSE and ACSE envelopes, events, services.
///
/// Decoding fills ``CSTAFields`` with spans into the APDU and allocates nothing. It never traps: every malformed input
/// becomes a ``CSTADecodeError`` with the byte offset of the fault. A broken envelope (ROSE/ACSE header, operation
/// code, event cross-reference) throws; a body that does not fit Phase III (another edition, a vendor's drift) is
/// reported in `fields.eventError` with the envelope fields kept.
public enum BERCodec {
    /// Decodes one unframed APDU (ROSE or ACSE).
    public static func decode(_ bytes: UnsafeRawBufferPointer, into fields: inout CSTAFields) throws(CSTADecodeError) {
        guard bytes.count > 0 else { throw CSTADecodeError(.empty, at: 0) }
        let apdu = try BERCursor.readElement(bytes, at: 0, limit: bytes.count, depth: 0)
        guard apdu.end == bytes.count else { throw CSTADecodeError(.trailingBytes, at: apdu.end) }
        switch apdu.tag {
        case Tag.contextC(1): try invoke(apdu, bytes, &fields)
        case Tag.contextC(2): try returnResult(apdu, bytes, &fields)
        case Tag.contextC(3): try returnError(apdu, bytes, &fields)
        case Tag.contextC(4): try reject(apdu, bytes, &fields)
        case Tag.applicationC(0), Tag.applicationC(1): try BERACSE.associate(apdu, bytes, &fields)
        case Tag.applicationC(2), Tag.applicationC(3), Tag.applicationC(4): try BERACSE.release(apdu, bytes, &fields)
        default: throw CSTADecodeError(.unexpectedTag, at: 0)
        }
    }

    /// Encodes a key-set record as one definite-length APDU (no framing).
    public static func encode(_ record: CSTARecord) throws(CSTAEncodeError) -> [UInt8] {
        try BEREncoder.encode(record)
    }

    /// Calls `body` for each item of a BER list field (call ids of a ConnectionList or SnapshotDeviceData, devices of
    /// SnapshotCallData). The list was validated when decoded; a damaged buffer just ends the walk.
    public static func forEachListItem(
        _ list: ListField, in bytes: UnsafeRawBufferPointer, _ body: (CSTAListItem) -> Void
    ) {
        switch list.kind {
        case .berConnectionList, .berSnapshotDeviceData, .berSnapshotCallData: break
        default: return
        }
        var walker = ListWalker(kind: list.kind, bytes: bytes, content: list.content)
        while true {
            guard let item = try? walker.next() else { return }
            body(item)
        }
    }

    // MARK: ROSE

    /// `invoke [1] { invokeId INTEGER, linkedId [0] OPTIONAL, opcode INTEGER, argument OPTIONAL }`.
    static func invoke(_ apdu: BERElement, _ bytes: UnsafeRawBufferPointer, _ fields: inout CSTAFields)
        throws(CSTADecodeError)
    {
        fields.pdu = .invoke
        var c = BERCursor(bytes: bytes, start: apdu.contentStart, end: apdu.contentEnd, depth: 1)
        fields.invokeId = try c.expect(Tag.integer).integer(bytes)
        _ = try c.optional(Tag.context(0))
        let op = try c.expect(Tag.integer).int32(bytes)
        fields.op = op
        let argument = try c.next()
        guard c.isAtEnd else { throw CSTADecodeError(.unexpectedTag, at: c.position) }
        if op == 21 {
            guard let argument else { throw CSTADecodeError(.missingField, at: apdu.contentEnd) }
            try BEREvents.eventReport(argument, bytes, &fields)
            return
        }
        guard let argument else { return }
        do throws(CSTADecodeError) {
            try BERServices.argument(op: op, argument, bytes, &fields)
        } catch {
            fields.eventError = error
        }
    }

    /// `returnResult [2] { invokeId, SEQUENCE { opcode, result } OPTIONAL }`.
    static func returnResult(_ apdu: BERElement, _ bytes: UnsafeRawBufferPointer, _ fields: inout CSTAFields)
        throws(CSTADecodeError)
    {
        fields.pdu = .returnResult
        var c = BERCursor(bytes: bytes, start: apdu.contentStart, end: apdu.contentEnd, depth: 1)
        fields.invokeId = try c.expect(Tag.integer).integer(bytes)
        guard let wrapper = try c.optional(Tag.sequence) else {
            guard c.isAtEnd else { throw CSTADecodeError(.unexpectedTag, at: c.position) }
            return
        }
        guard c.isAtEnd else { throw CSTADecodeError(.unexpectedTag, at: c.position) }
        var r = try c.children(of: wrapper)
        let op = try r.expect(Tag.integer).int32(bytes)
        fields.op = op
        let result = try r.next()
        guard r.isAtEnd else { throw CSTADecodeError(.unexpectedTag, at: r.position) }
        guard let result else { return }
        do throws(CSTADecodeError) {
            try BERServices.result(op: op, result, bytes, &fields)
        } catch {
            fields.eventError = error
        }
    }

    /// `returnError [3] { invokeId, errcode INTEGER, parameter OPTIONAL }`; CSTA's parameter is UniversalFailure, a
    /// CHOICE of `[n]` categories around an ENUMERATED.
    static func returnError(_ apdu: BERElement, _ bytes: UnsafeRawBufferPointer, _ fields: inout CSTAFields)
        throws(CSTADecodeError)
    {
        fields.pdu = .returnError
        var c = BERCursor(bytes: bytes, start: apdu.contentStart, end: apdu.contentEnd, depth: 1)
        fields.invokeId = try c.expect(Tag.integer).integer(bytes)
        fields.errorCode = try c.expect(Tag.integer).int32(bytes)
        let parameter = try c.next()
        guard c.isAtEnd else { throw CSTADecodeError(.unexpectedTag, at: c.position) }
        guard let parameter else { return }
        do throws(CSTADecodeError) {
            let failure = try universalFailure(parameter, bytes)
            fields.errorCategory = failure.category
            fields.errorValue = failure.value
        } catch {
            fields.eventError = error
        }
    }

    /// `UniversalFailure ::= CHOICE { operation [0] OperationErrors, … unspecified [7] UnspecifiedErrors }`: explicit
    /// tags around an ENUMERATED (NULL for `unspecified`). A primitive `[n]` (implicitly tagged by some vendors) is
    /// read as the value itself.
    static func universalFailure(_ choice: BERElement, _ bytes: UnsafeRawBufferPointer)
        throws(CSTADecodeError) -> (category: EnumField, value: EnumField)
    {
        guard choice.tagClass == 0x80, choice.number <= 31 else { throw CSTADecodeError(.unexpectedTag, at: choice.start) }
        let category = EnumField(code: Int32(choice.number))
        guard choice.isConstructed else {
            return (category, choice.contentCount == 0 ? .absent : EnumField(code: try choice.int32(bytes)))
        }
        var inner = BERCursor(bytes: bytes, start: choice.contentStart, end: choice.contentEnd, depth: choice.depth &+ 1)
        var value = EnumField.absent
        if let v = try inner.next() {
            switch v.tag {
            case Tag.enumerated, Tag.integer: value = EnumField(code: try v.int32(bytes))
            case Tag.null: break
            default: throw CSTADecodeError(.unexpectedTag, at: v.start)
            }
        }
        guard inner.isAtEnd else { throw CSTADecodeError(.unexpectedTag, at: inner.position) }
        return (category, value)
    }

    /// `reject [4] { invokeId INTEGER | NULL, problem CHOICE { general [0], invoke [1], returnResult [2],
    /// returnError [3] } }`.
    static func reject(_ apdu: BERElement, _ bytes: UnsafeRawBufferPointer, _ fields: inout CSTAFields)
        throws(CSTADecodeError)
    {
        fields.pdu = .reject
        var c = BERCursor(bytes: bytes, start: apdu.contentStart, end: apdu.contentEnd, depth: 1)
        guard let id = try c.next() else { throw CSTADecodeError(.missingField, at: apdu.contentStart) }
        switch id.tag {
        case Tag.integer: fields.invokeId = try id.integer(bytes)
        case Tag.null: break
        default: throw CSTADecodeError(.unexpectedTag, at: id.start)
        }
        guard let problem = try c.next() else { throw CSTADecodeError(.missingField, at: apdu.contentEnd) }
        guard problem.tagClass == 0x80, !problem.isConstructed, problem.number <= 3 else {
            throw CSTADecodeError(.unexpectedTag, at: problem.start)
        }
        fields.rejectProblem = Int32(problem.number)
        fields.rejectValue = try problem.int32(bytes)
        guard c.isAtEnd else { throw CSTADecodeError(.unexpectedTag, at: c.position) }
    }
}
