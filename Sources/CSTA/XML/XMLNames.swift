#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// ECMA-323 / ECMA-354 / Avaya element names the decoder acts on (the raw value is the element's local name).
enum XN: UInt16, CaseIterable {
    case unknown = 0
    // Roots without an operation code.
    case StartApplicationSession = 1, StopApplicationSession, ResetApplicationSessionTimer
    case ApplicationSessionTerminated, GetDeviceId, CSTAErrorCode
    // Scalars.
    case monitorCrossRefID = 20, callID, deviceID, deviceIdentifier, numberDialed
    case notKnown, restricted, notRequired, notSpecified
    case cause, localConnectionInfo, agentID, numberQueued, crossRefIdentifier, systemStatus, sysStatRegisterID
    case reason, errorValue, agentState, requestedAgentState, sessionID, protocolVersion, actualProtocolVersion
    case requestedSessionDuration, actualSessionDuration, sessionDuration, applicationID, userName, password
    case sessionCleanupDelay
    // Connections (primary unless noted).
    case connection = 60, establishedConnection, droppedConnection, clearedCall, heldConnection, retrievedConnection
    case primaryOldCall, failedConnection, originatedConnection, queuedConnection, initiatedConnection
    case outboundConnection, connectionToBeCleared, callToBeCleared, callToBeAnswered, callToBeHeld
    case callToBeRetrieved, callToBeDiverted, existingCall, heldCall, routedCall, transferredCall, initiatedCall
    case conferenceCall, activeCall, secondaryOldCall
    // Devices.
    case alertingDevice = 100, answeringDevice, releasingDevice, holdingDevice, retrievingDevice, transferringDevice
    case conferencingDevice, divertingDevice, failingDevice, queue, networkInterfaceUsed, agentDevice
    case initiatingDevice, device, snapshotObject, deviceObject, monitorObject, callingDevice, calledDevice
    case calledDirectoryNumber, lastRedirectionDevice, transferredToDevice, addedParty, newDestination
    case consultedDevice, transferredTo, acdGroup, group, currentRoute, routeSelected, `extension`
    // Containers.
    case transferredConnections = 150, conferenceConnections, connections, connectionListItem, newConnection
    case crossRefIDorSnapshotData, snapshotData, snapshotDeviceResponseInfo, snapshotCallResponseInfo
    case connectionIdentifier, deviceOnCall, extensions, privateData, string, `private`, errorCode
    case sessionEndReason, sessionTermReason, applicationInfo, requestedProtocolVersions

    var name: String { String(describing: self) }

    /// Roots that are events carry `eventBase + class * 256 + tag`; services with an opcode `serviceBase + op`.
    static let eventBase: UInt16 = 0x8000
    static let serviceBase: UInt16 = 0x4000

    var isNullDevice: Bool { self == .notKnown || self == .restricted || self == .notRequired || self == .notSpecified }
}

/// A read-only open-addressing hash table from element local names to ids: lookups take the hash the scanner computed
/// after reading the name and compare word by word, so the decode path allocates nothing. Built once, never mutated,
/// never freed (hence `@unchecked Sendable`).
final class XMLNameTable: @unchecked Sendable {
    private static let slotCount = 1024
    private let text: UnsafeMutablePointer<UInt8>
    /// One word per slot (0 = empty): bits 40…63 the name's hash >> 8 (a tag that settles almost every probe without
    /// touching the text), 32…39 its length, 16…31 its offset in `text`, 0…15 its id (never 0).
    private let slots: UnsafeMutablePointer<UInt64>
    /// Element id → ``XN`` for ids below 256 (the generated `init(rawValue:)` is an out-of-line switch).
    private let kinds: UnsafeMutablePointer<XN>

    static let shared = XMLNameTable()

    private init() {
        var names: [(String, UInt16)] = []
        for n in XN.allCases where n != .unknown { names.append((n.name, n.rawValue)) }
        for (cls, list) in CSTANames.eventNames {
            for (tag, name) in list.enumerated() {
                let id = XN.eventBase + UInt16(cls.rawValue) * 256 + UInt16(tag)
                names.append((name.prefix(1).uppercased() + name.dropFirst() + "Event", id))
            }
        }
        names.append(("TransferedEvent", XN.eventBase + 17))
        for (op, name) in CSTANames.operationTable where op != 21 && op != 52 {
            names.append((name, XN.serviceBase + UInt16(op)))
        }
        for (element, op) in CSTANames.xmlServiceAliases { names.append((element, XN.serviceBase + UInt16(op))) }

        let textCount = names.reduce(0) { $0 + $1.0.utf8.count }
        precondition(textCount <= 0xFFFF && names.count < Self.slotCount / 2)
        text = .allocate(capacity: max(1, textCount))
        slots = .allocate(capacity: Self.slotCount)
        slots.initialize(repeating: 0, count: Self.slotCount)
        kinds = .allocate(capacity: 256)
        kinds.initialize(repeating: .unknown, count: 256)
        for n in XN.allCases {
            precondition(n.rawValue < 256)
            kinds[Int(n.rawValue)] = n
        }
        var used = 0
        for (name, id) in names {
            let bytes = Array(name.utf8)
            precondition(id != 0 && bytes.count > 0 && bytes.count <= 64)
            if lookup(bytes) != 0 { continue }
            let h = Self.hash(bytes)
            var slot = Int(h) & (Self.slotCount - 1)
            while slots[slot] != 0 { slot = (slot + 1) & (Self.slotCount - 1) }
            (text + used).initialize(from: bytes, count: bytes.count)
            slots[slot] = Self.tag(h, bytes.count) | UInt64(used) << 16 | UInt64(id)
            used += bytes.count
        }
    }

    /// The ``XN`` of an element id (`.unknown` for roots, which carry event and service codes, and for 0).
    @inline(__always) func kind(_ id: UInt16) -> XN {
        id < 256 ? kinds[Int(id)] : .unknown
    }

    /// The slot bits a name with hash `h` and length `n` must match (tag and length).
    @inline(__always) private static func tag(_ h: UInt32, _ n: Int) -> UInt64 {
        UInt64(h >> 8) << 40 | UInt64(truncatingIfNeeded: n & 0xFF) << 32
    }

    private func lookup(_ bytes: [UInt8]) -> UInt16 {
        bytes.withUnsafeBytes { lookup($0, 0, $0.count) }
    }

    static func hash(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { hash($0.baseAddress!, $0.count) }
    }

    /// The hash of the `n` (≥ 1) bytes at `p`: the first and last eight (or four, or each of fewer) bytes and the
    /// length, multiplied together. Reads only inside the name; collisions are settled by comparing the bytes.
    @inline(__always)
    static func hash(_ p: UnsafeRawPointer, _ n: Int) -> UInt32 {
        var a: UInt64
        var c: UInt64
        if n >= 8 {
            a = p.loadUnaligned(as: UInt64.self)
            c = p.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
        } else if n >= 4 {
            a = UInt64(p.loadUnaligned(as: UInt32.self))
            c = UInt64(p.loadUnaligned(fromByteOffset: n &- 4, as: UInt32.self))
        } else {
            a = UInt64(p.load(as: UInt8.self))
            if n > 1 { a |= UInt64(p.load(fromByteOffset: 1, as: UInt8.self)) << 8 }
            if n > 2 { a |= UInt64(p.load(fromByteOffset: 2, as: UInt8.self)) << 16 }
            c = 0
        }
        let h = (a ^ (c &* 0xC2B2_AE3D_27D4_EB4F) ^ UInt64(truncatingIfNeeded: n)) &* 0x9E37_79B9_7F4A_7C15
        return UInt32(truncatingIfNeeded: h >> 32)
    }

    /// The id of the name `b[start..<start+count]`, or 0.
    func lookup(_ b: UnsafeRawBufferPointer, _ start: Int, _ count: Int) -> UInt16 {
        guard count > 0, start >= 0, start + count <= b.count else { return 0 }
        return lookup(b, start, count, hash: Self.hash(b.baseAddress! + start, count))
    }

    /// The id of the name `b[start..<start+count]` whose ``hash(_:_:)`` is `hash`, or 0.
    @inline(__always)
    func lookup(_ b: UnsafeRawBufferPointer, _ start: Int, _ count: Int, hash: UInt32) -> UInt16 {
        guard count > 0, count <= 64, start >= 0, start + count <= b.count, let base = b.baseAddress else { return 0 }
        let want = Self.tag(hash, count)
        var slot = Int(hash) & (Self.slotCount - 1)
        while true {
            let s = slots[slot]
            if s == 0 { return 0 }
            if s & 0xFFFF_FFFF_0000_0000 == want
                && XMLScanner.equalBytes(text + Int(truncatingIfNeeded: (s >> 16) & 0xFFFF), base + start, count)
            {
                return UInt16(truncatingIfNeeded: s)
            }
            slot = (slot + 1) & (Self.slotCount - 1)
        }
    }
}
