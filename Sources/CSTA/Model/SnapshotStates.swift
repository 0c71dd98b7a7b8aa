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
        let start = min(Int(list.content.start), bytes.count)
        let end = min(start &+ Int(list.content.count), bytes.count)
        var items = BERCursor(bytes: bytes, start: start, end: end, depth: 1)
        var states: [String?] = []
        while let item = try? items.next() {
            guard item.tag == Tag.sequence else { break }
            var parts = BERCursor(bytes: bytes, start: item.contentStart, end: item.contentEnd, depth: item.depth &+ 1)
            var state: String? = nil
            while let part = try? parts.next() {
                if part.tag == Tag.contextC(0) {
                    // compoundCallState: SEQUENCE OF [APPLICATION 14] ENUMERATED — the device's own state first.
                    var inner = BERCursor(bytes: bytes, start: part.contentStart, end: part.contentEnd, depth: part.depth &+ 1)
                    if let first = try? inner.next(), let value = try? first.integer(bytes) {
                        state = name(value)
                    }
                    break
                } else if part.tag == Tag.context(1) {
                    if let value = try? part.integer(bytes) { state = name(value >> 4) }
                    break
                } else if part.tag == Tag.context(2) {
                    break
                }
            }
            states.append(state)
        }
        return states
    }

    /// One state name (or `nil`) per item of a BER `SnapshotCallData`: each party's `localConnectionState`
    /// (`[APPLICATION 14]`).
    static func berCall(_ list: ListField, in bytes: UnsafeRawBufferPointer) -> [String?] {
        guard list.kind == .berSnapshotCallData else { return [] }
        let start = min(Int(list.content.start), bytes.count)
        let end = min(start &+ Int(list.content.count), bytes.count)
        var items = BERCursor(bytes: bytes, start: start, end: end, depth: 1)
        var states: [String?] = []
        while let item = try? items.next() {
            guard item.tag == Tag.sequence else { break }
            var parts = BERCursor(bytes: bytes, start: item.contentStart, end: item.contentEnd, depth: item.depth &+ 1)
            var state: String? = nil
            while let part = try? parts.next() {
                if part.tag == Tag.application(14), let value = try? part.integer(bytes) {
                    state = name(value)
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
