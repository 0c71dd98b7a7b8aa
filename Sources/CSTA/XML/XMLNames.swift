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
/// while reading the name and compare with `memcmp`, so the decode path allocates nothing. Built once, never mutated,
/// never freed (hence `@unchecked Sendable`).
final class XMLNameTable: @unchecked Sendable {
    private struct Entry {
        var offset: UInt32
        var count: UInt16
        var id: UInt16
    }

    private static let slotCount = 1024
    private let text: UnsafeMutablePointer<UInt8>
    private let entries: UnsafeMutablePointer<Entry>
    /// Slot → entry index + 1 (0 = empty).
    private let slots: UnsafeMutablePointer<UInt16>

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
        text = .allocate(capacity: max(1, textCount))
        entries = .allocate(capacity: names.count)
        slots = .allocate(capacity: Self.slotCount)
        slots.initialize(repeating: 0, count: Self.slotCount)
        var used = 0
        var count = 0
        for (name, id) in names {
            let bytes = Array(name.utf8)
            if lookup(bytes) != 0 { continue }
            var slot = Int(Self.hash(bytes)) & (Self.slotCount - 1)
            while slots[slot] != 0 { slot = (slot + 1) & (Self.slotCount - 1) }
            (text + used).initialize(from: bytes, count: bytes.count)
            (entries + count).initialize(to: Entry(offset: UInt32(used), count: UInt16(bytes.count), id: id))
            used += bytes.count
            count += 1
            slots[slot] = UInt16(count)
        }
    }

    private func lookup(_ bytes: [UInt8]) -> UInt16 {
        bytes.withUnsafeBytes { lookup($0, 0, $0.count) }
    }

    static func hash(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        for c in bytes { h = (h ^ UInt32(c)) &* 16_777_619 }
        return h
    }

    /// The id of the name `b[start..<start+count]`, or 0.
    func lookup(_ b: UnsafeRawBufferPointer, _ start: Int, _ count: Int) -> UInt16 {
        guard count > 0, start >= 0, start + count <= b.count else { return 0 }
        return lookup(b, start, count, hash: Self.hash(UnsafeRawBufferPointer(rebasing: b[start..<start + count])))
    }

    /// The id of the name `b[start..<start+count]` whose FNV-1a hash is `hash`, or 0.
    @inline(__always)
    func lookup(_ b: UnsafeRawBufferPointer, _ start: Int, _ count: Int, hash: UInt32) -> UInt16 {
        guard count > 0, count <= 64, start >= 0, start + count <= b.count, let base = b.baseAddress else { return 0 }
        var slot = Int(hash) & (Self.slotCount - 1)
        while true {
            let s = slots[slot]
            if s == 0 { return 0 }
            let e = entries[Int(s) - 1]
            if Int(e.count) == count && XMLScanner.equalBytes(text + Int(e.offset), base + start, count) { return e.id }
            slot = (slot + 1) & (Self.slotCount - 1)
        }
    }
}
