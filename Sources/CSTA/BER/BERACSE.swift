/// ACSE (X.227) APDUs as CSTA links carry them directly in the frames: AARQ, AARE, RLRQ, RLRE, ABRT.
enum BERACSE {
    /// AARQ `[APPLICATION 0]` and AARE `[APPLICATION 1]`.
    static func associate(_ apdu: BERElement, _ bytes: UnsafeRawBufferPointer, _ fields: inout CSTAFields)
        throws(CSTADecodeError)
    {
        let isRequest = apdu.tag == Tag.applicationC(0)
        fields.pdu = isRequest ? .aarq : .aare
        var c = BERCursor(bytes: bytes, start: apdu.contentStart, end: apdu.contentEnd, depth: 1)
        while let part = try c.next() {
            switch part.tag {
            case Tag.contextC(1):
                // application-context-name [1] OBJECT IDENTIFIER (explicit).
                var inner = try c.children(of: part)
                fields.applicationContext = try inner.expect(Tag.oid).oidSpan(bytes)
            case Tag.contextC(2) where !isRequest:
                // result [2] Associate-result (explicit INTEGER).
                var inner = try c.children(of: part)
                fields.acseResult = try inner.expect(Tag.integer).int32(bytes)
            case Tag.contextC(12) where isRequest:
                // calling-authentication-value [12] Authentication-value: HiPath nests external → [0] → [0] {name,
                // password}; a plain `charstring [0]` has only the name. Take the first two string leaves.
                var found = 0
                try stringLeaves(part, bytes, found: &found, fields: &fields)
            case Tag.contextC(30):
                // user-information [30] → EXTERNAL → … → cSTAVersion BIT STRING.
                if let bits = try firstLeaf(Tag.bitString, in: part, bytes) {
                    guard bits.contentCount >= 1, bytes[bits.contentStart] <= 7 else {
                        throw CSTADecodeError(.invalidLength, at: bits.start)
                    }
                    fields.cstaVersions = bits.span(.berBits)
                }
            default:
                continue
            }
        }
    }

    /// RLRQ `[APPLICATION 2]` / RLRE `[APPLICATION 3]` (`reason [0] IMPLICIT INTEGER OPTIONAL`) and ABRT
    /// `[APPLICATION 4]` (`abort-source [0] IMPLICIT INTEGER`).
    static func release(_ apdu: BERElement, _ bytes: UnsafeRawBufferPointer, _ fields: inout CSTAFields)
        throws(CSTADecodeError)
    {
        switch apdu.tag {
        case Tag.applicationC(2): fields.pdu = .rlrq
        case Tag.applicationC(3): fields.pdu = .rlre
        default: fields.pdu = .abrt
        }
        var c = BERCursor(bytes: bytes, start: apdu.contentStart, end: apdu.contentEnd, depth: 1)
        while let part = try c.next() {
            if part.tag == Tag.context(0) { fields.acseReason = try part.int32(bytes) }
        }
        if fields.pdu == .abrt && fields.acseReason == nil {
            throw CSTADecodeError(.missingField, at: apdu.contentStart)
        }
    }

    /// Depth-first search for the first primitive with `tag` inside `element`.
    static func firstLeaf(_ tag: BERTag, in element: BERElement, _ bytes: UnsafeRawBufferPointer)
        throws(CSTADecodeError) -> BERElement?
    {
        guard element.isConstructed else { return nil }
        var c = BERCursor(bytes: bytes, start: element.contentStart, end: element.contentEnd, depth: element.depth &+ 1)
        while let child = try c.next() {
            if child.tag == tag { return child }
            if child.isConstructed, let found = try firstLeaf(tag, in: child, bytes) { return found }
        }
        return nil
    }

    /// Fills the authentication name and password from the first two primitive string leaves.
    static func stringLeaves(
        _ element: BERElement, _ bytes: UnsafeRawBufferPointer, found: inout Int, fields: inout CSTAFields
    ) throws(CSTADecodeError) {
        var c = BERCursor(bytes: bytes, start: element.contentStart, end: element.contentEnd, depth: element.depth &+ 1)
        while found < 2, let child = try c.next() {
            if child.isConstructed {
                try stringLeaves(child, bytes, found: &found, fields: &fields)
            } else if child.tag == Tag.octetString || child.tagClass == 0x80 || child.number == 25 || child.number == 27 {
                if found == 0 { fields.authenticationName = child.span(.text) } else {
                    fields.authenticationPassword = child.span(.text)
                }
                found &+= 1
            }
        }
    }
}
