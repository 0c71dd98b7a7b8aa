import CallModel
import Foundation

/// One open desktop (a WebSocket or SSE stream) of an agent.
public struct DesktopSessionID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "desktop-\(rawValue)" }
}

/// Which agents have a desktop open and at which devices; several desktops per agent are allowed.
struct PopDesktopSessions: Sendable {
    private var sessions: [DesktopSessionID: (agentID: String, devices: Set<String>)] = [:]
    private var nextID: UInt64 = 1
    /// Derived indexes, rebuilt on login and logout (rare next to events).
    private(set) var agentsByDevice: [String: Set<String>] = [:]
    private(set) var devicesByAgent: [String: Set<String>] = [:]

    mutating func login(agentID: String, devices: some Sequence<String>) -> DesktopSessionID {
        let id = DesktopSessionID(rawValue: nextID)
        nextID += 1
        // Events name devices in their normalized form; so must the sessions.
        sessions[id] = (agentID, Set(devices.map(DialPlan.normalize)))
        rebuild()
        return id
    }

    /// Closes one desktop; returns whether it was open.
    @discardableResult
    mutating func logout(_ id: DesktopSessionID) -> Bool {
        guard sessions.removeValue(forKey: id) != nil else { return false }
        rebuild()
        return true
    }

    /// Closes every desktop of `agentID`.
    mutating func logout(agentID: String) {
        let ids = sessions.filter { $0.value.agentID == agentID }.map(\.key)
        for id in ids { sessions[id] = nil }
        rebuild()
    }

    func hasSession(_ agentID: String) -> Bool { devicesByAgent[agentID] != nil }

    func sessions(of agentID: String) -> [DesktopSessionID] {
        sessions.filter { $0.value.agentID == agentID }.map(\.key).sorted()
    }

    private mutating func rebuild() {
        agentsByDevice = [:]
        devicesByAgent = [:]
        for (agentID, devices) in sessions.values {
            devicesByAgent[agentID, default: []].formUnion(devices)
            for device in devices { agentsByDevice[device, default: []].insert(agentID) }
        }
    }
}
