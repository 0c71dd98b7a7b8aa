/// The local connection state of each item of a SnapshotDevice (and each party of a SnapshotCall) result, read at rendering time from the list the decoder
/// validated (the decoders themselves do not look at it).
///
/// ECMA-285 `SnapshotDeviceResponseInfo.localCallState` is a `CallState`: `compoundCallState` (the connection states
/// of the call, the snapshot device's first), `simpleCallState` (a two-party code whose high nibble is the device's
/// state: `'23'H` alerting–connected) or `unknown`. ECMA-323 writes the same as
/// `<localCallState><compoundCallState><localConnectionState>connected</…>` or `<simpleCallState>callDelivered</…>`.
enum SnapshotStates {
    static let names = ["null", "initiated", "alerting", "connected", "hold", "queued", "fail"]

    /// Simple call states (ECMA-323 names) → the device's own state.
    static let simple: [String: String] = [
        "callNull": "null", "callPending": "null", "callOriginated": "null", "callDelivered": "alerting",
        "callDeliveredHeld": "alerting", "callReceived": "connected", "callEstablished": "connected",
        "callEstablishedHeld": "connected", "callReceivedOnHold": "hold", "callEstablishedOnHold": "hold",
        "callQueued": "queued", "callQueuedHeld": "queued", "callFailed": "fail", "callFailedHeld": "fail",
        "callBlocked": "fail",
    ]

    /// One state name (or `nil` when unknown) per item of a BER `SnapshotDeviceData`.
    static func ber(_ list: ListField, in bytes: UnsafeRawBufferPointer) -> [String?] {
        guard list.kind == .berSnapshotDeviceData else { return [] }
        return perItem(list, bytes) { part in
            if part.tag == Tag.contextC(0) {
                // compoundCallState: SEQUENCE OF [APPLICATION 14] ENUMERATED — the device's own state first.
                var inner = BERCursor(bytes: bytes, start: part.contentStart, end: part.contentEnd, depth: part.depth &+ 1)
                guard let first = try? inner.next() else { return .found(nil) }
                return .found((try? first.integer(bytes)).flatMap(name))
            }
            if part.tag == Tag.context(1) { return .found((try? part.integer(bytes)).flatMap { name($0 >> 4) }) }
            if part.tag == Tag.context(2) { return .found(nil) }
            return .next
        }
    }

    /// One state name (or `nil`) per item of a BER `SnapshotCallData`: each party's `localConnectionState`
    /// (`[APPLICATION 14]`).
    static func berCall(_ list: ListField, in bytes: UnsafeRawBufferPointer) -> [String?] {
        guard list.kind == .berSnapshotCallData else { return [] }
        return perItem(list, bytes) { part in
            part.tag == Tag.application(14) ? .found((try? part.integer(bytes)).flatMap(name)) : .next
        }
    }

    enum Look { case found(String?), next }

    /// Walks the list's SEQUENCE items and, inside each, the parts until `look` finds the state.
    private static func perItem(
        _ list: ListField, _ bytes: UnsafeRawBufferPointer, _ look: (BERElement) -> Look
    ) -> [String?] {
        let start = min(Int(list.content.start), bytes.count)
        let end = min(start &+ Int(list.content.count), bytes.count)
        var items = BERCursor(bytes: bytes, start: start, end: end, depth: 1)
        var states: [String?] = []
        while let item = try? items.next() {
            guard item.tag == Tag.sequence else { break }
            var parts = BERCursor(bytes: bytes, start: item.contentStart, end: item.contentEnd, depth: item.depth &+ 1)
            var state: String? = nil
            while let part = try? parts.next() {
                if case .found(let found) = look(part) {
                    state = found
                    break
                }
            }
            states.append(state)
        }
        return states
    }

    static func name(_ value: Int64) -> String? {
        value >= 0 && value < names.count ? names[Int(value)] : nil
    }
}
