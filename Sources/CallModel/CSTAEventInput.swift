import CSTA
import Foundation

/// One CSTA event report as the call model reads it: the key-set fields it needs, whichever encoding carried them.
public struct CSTAEventInput: Sendable, Hashable {
    /// The ECMA-285 event name (`delivered`, `transferred`, `agentReady`, …).
    public var event: String
    /// The monitored device whose monitor reported it (`nil` when not known).
    public var monitoredDevice: String?
    public var callID: String?
    public var connDevice: String?
    /// The subject device (alerting, answering, releasing, holding, transferring, queue, agent device, …).
    public var device: String?
    /// Transferred-to, added party, new destination.
    public var otherDevice: String?
    public var calling: String?
    public var called: String?
    public var lastRedirection: String?
    public var cause: String?
    public var localConnectionInfo: String?
    public var secondaryCallID: String?
    public var newCallIDs: [String]
    public var agentID: String?
    public var acdGroup: String?

    public init(
        event: String, monitoredDevice: String? = nil, callID: String? = nil, connDevice: String? = nil,
        device: String? = nil, otherDevice: String? = nil, calling: String? = nil, called: String? = nil,
        lastRedirection: String? = nil, cause: String? = nil, localConnectionInfo: String? = nil,
        secondaryCallID: String? = nil, newCallIDs: [String] = [], agentID: String? = nil, acdGroup: String? = nil
    ) {
        self.event = event
        self.monitoredDevice = monitoredDevice
        self.callID = callID
        self.connDevice = connDevice
        self.device = device
        self.otherDevice = otherDevice
        self.calling = calling
        self.called = called
        self.lastRedirection = lastRedirection
        self.cause = cause
        self.localConnectionInfo = localConnectionInfo
        self.secondaryCallID = secondaryCallID
        self.newCallIDs = newCallIDs
        self.agentID = agentID
        self.acdGroup = acdGroup
    }

    /// The event in a decoded message's key set, or `nil` when the record is not an event report.
    public init?(record: CSTARecord, monitoredDevice: String?) {
        guard let event = record.string("event") else { return nil }
        self.init(
            event: event, monitoredDevice: monitoredDevice, callID: record.string("callID"),
            connDevice: record.string("connDevice"), device: record.string("device"),
            otherDevice: record.string("otherDevice"), calling: record.string("calling"),
            called: record.string("called"), lastRedirection: record.string("lastRedirection"),
            cause: record.string("cause"), localConnectionInfo: record.string("localConnectionInfo"),
            secondaryCallID: record.string("secondaryCallID"), newCallIDs: record.strings("newCallIDs") ?? [],
            agentID: record.string("agentID"), acdGroup: record.string("acdGroup"))
    }
}

/// Which numbers belong to the switch, and how device ids are made comparable.
public struct DialPlan: Sendable, Hashable {
    /// A number of only digits with at most this many digits is an extension of the switch (not a trunk party).
    public var maxExtensionDigits: Int
    /// Numbers that belong to the switch whatever their length (hotlines, pilot numbers).
    public var internalNumbers: Set<String>

    public init(maxExtensionDigits: Int = 6, internalNumbers: Set<String> = []) {
        self.maxExtensionDigits = maxExtensionDigits
        self.internalNumbers = internalNumbers
    }

    /// Whether `device` is a party on the switch rather than beyond a trunk.
    public func isInternal(_ device: String) -> Bool {
        if internalNumbers.contains(device) { return true }
        guard !device.isEmpty, device.utf8.count <= maxExtensionDigits else { return false }
        return device.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// The comparable form of a device id: Avaya's `4711:CM1:10.0.0.1:0` and `other:4711:CM1:10.0.0.1:0` become
    /// `4711`; OpenScape's `N<+498912345>;noa=…` becomes `+498912345`; anything else stays as it is.
    public static func normalize(_ device: String) -> String {
        var text = Substring(device)
        if text.hasPrefix("other:") { text = text.dropFirst(6) }
        if text.hasPrefix("N<"), let close = text.firstIndex(of: ">") {
            return String(text[text.index(text.startIndex, offsetBy: 2)..<close])
        }
        // Avaya DMCC: extension:switchName:switchIP:0
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 4, parts[3] == "0", !parts[0].isEmpty, parts[0].allSatisfy(\.isNumber) {
            return String(parts[0])
        }
        return String(text)
    }
}
