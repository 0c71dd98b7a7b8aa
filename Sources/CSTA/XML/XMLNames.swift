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

/// A read-only open-addressing hash table from element local names to ids: lookups hash the bytes in place and
/// compare with `memcmp`, so the decode path allocates nothing.
struct XMLNameTable: Sendable {
    private var text: [UInt8] = []
    /// Per entry: offset into `text`, length, id.
    private var entries: [(offset: UInt32, count: UInt16, id: UInt16)] = []
    /// Slot → entry index + 1 (0 = empty).
    private var slots: [UInt16]
    private let mask: Int

    static let shared = XMLNameTable()

    private init() {
        slots = [UInt16](repeating: 0, count: 1024)
        mask = 1023
        for n in XN.allCases where n != .unknown { add(n.name, n.rawValue) }
        for (cls, names) in CSTANames.eventNames {
            for (tag, name) in names.enumerated() {
                let id = XN.eventBase + UInt16(cls.rawValue) * 256 + UInt16(tag)
                add(name.prefix(1).uppercased() + name.dropFirst() + "Event", id)
            }
        }
        add("TransferedEvent", XN.eventBase + 17)
        for (op, name) in CSTANames.operationTable where op != 21 && op != 52 {
            add(name, XN.serviceBase + UInt16(op))
        }
        for (element, op) in CSTANames.xmlServiceAliases { add(element, XN.serviceBase + UInt16(op)) }
    }

    private mutating func add(_ name: String, _ id: UInt16) {
        let bytes = Array(name.utf8)
        var slot = Int(Self.hash(bytes)) & mask
        while slots[slot] != 0 {
            let e = entries[Int(slots[slot]) - 1]
            if Int(e.count) == bytes.count && Array(text[Int(e.offset)..<Int(e.offset) + Int(e.count)]) == bytes {
                return
            }
            slot = (slot + 1) & mask
        }
        entries.append((UInt32(text.count), UInt16(bytes.count), id))
        text.append(contentsOf: bytes)
        slots[slot] = UInt16(entries.count)
    }

    @inline(__always) private static func hash(_ bytes: some Collection<UInt8>) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        for c in bytes { h = (h ^ UInt32(c)) &* 16_777_619 }
        return h
    }

    /// The id of the name `b[start..<start+count]`, or 0.
    func lookup(_ b: UnsafeRawBufferPointer, _ start: Int, _ count: Int) -> UInt16 {
        guard count > 0, count <= 64, start >= 0, start + count <= b.count else { return 0 }
        let name = UnsafeRawBufferPointer(rebasing: b[start..<start + count])
        var slot = Int(Self.hash(name)) & mask
        return text.withUnsafeBytes { t in
            while true {
                let s = slots[slot]
                if s == 0 { return 0 }
                let e = entries[Int(s) - 1]
                if Int(e.count) == count && memcmp(t.baseAddress! + Int(e.offset), name.baseAddress!, count) == 0 {
                    return e.id
                }
                slot = (slot + 1) & mask
            }
        }
    }
}
