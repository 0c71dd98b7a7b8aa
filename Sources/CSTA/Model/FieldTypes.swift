/// A device identifier as decoded, not yet rendered: which alternative of the ASN.1 CHOICE (or which XML form) and where
/// its value lies.
///
/// Rendering follows the key set (`../shared/docs/contracts.md` §1): a dialling number is its text; other alternatives
/// are `deviceNumber:100123`, `explicitPublic:international:4989…`; dynamic ids `dynamic:<hex>`; NULL alternatives
/// `<notKnown>`, `<restricted>`, `<notRequired>`, `<notSpecified>`. XML: `typeOfNumber` (when not `dialingNumber`)
/// prefixes the text; `dynamicID` gives `dynamic:<text>`.
public struct DeviceField: Sendable, Hashable {
    public var kind: DeviceKind
    /// BER `explicitPublic` / `explicitPrivate`: the type-of-number alternative number (PublicTON / PrivateTON tag).
    public var typeOfNumber: UInt8
    public var value: FieldSpan
    /// XML only: the raw `typeOfNumber` attribute value, when present.
    public var xmlTypeOfNumber: FieldSpan

    @inlinable
    public init(kind: DeviceKind, value: FieldSpan, typeOfNumber: UInt8 = 0, xmlTypeOfNumber: FieldSpan = .absent) {
        self.kind = kind
        self.value = value
        self.typeOfNumber = typeOfNumber
        self.xmlTypeOfNumber = xmlTypeOfNumber
    }

    public static let absent = DeviceField(kind: .absent, value: .absent)
    @inlinable public var isPresent: Bool { kind != .absent }
}

public enum DeviceKind: UInt8, Sendable, Hashable {
    case absent
    case dialingNumber, deviceNumber, implicitPublic, explicitPublic, implicitPrivate, explicitPrivate, other
    /// `LocalDeviceID.dynamicID` (BER octets, rendered hex) or XML `typeOfNumber="dynamicID"`.
    case dynamic
    case notKnown, restricted, notRequired, notSpecified
    /// An XML device string: rendered from `xmlTypeOfNumber` and `value`.
    case xml
}

/// An ENUMERATED value: BER gives its number, XML its name.
public struct EnumField: Sendable, Hashable {
    /// The number (BER); `Int32.min` when the value came as text.
    public var code: Int32
    /// The text (XML), absent for BER.
    public var text: FieldSpan

    @inlinable public init(code: Int32) { self.code = code; self.text = .absent }
    @inlinable public init(text: FieldSpan) { self.code = .min; self.text = text }

    public static let absent = EnumField(text: .absent)
    @inlinable public var isPresent: Bool { code != .min || text.isPresent }
}

/// A list whose items are read again from the frame when rendered (so decoding allocates nothing).
public struct ListField: Sendable, Hashable {
    public var kind: ListKind
    /// The content bytes of the container (BER: inside the SEQUENCE OF; XML: inside the container element).
    public var content: FieldSpan
    /// Number of items the decoder counted.
    public var count: UInt16

    @inlinable
    public init(kind: ListKind, content: FieldSpan, count: Int) {
        self.kind = kind
        self.content = content
        self.count = UInt16(truncatingIfNeeded: min(count, Int(UInt16.max)))
    }

    public static let absent = ListField(kind: .absent, content: .absent, count: 0)
    @inlinable public var isPresent: Bool { kind != .absent }
}

public enum ListKind: UInt8, Sendable, Hashable {
    case absent
    /// ECMA-285 `ConnectionList` (SEQUENCE OF { newConnection [0], oldConnection [1], endpoint [2], … }): new call ids.
    case berConnectionList
    /// `SnapshotDeviceData` ([APPLICATION 22] SEQUENCE OF SnapshotDeviceResponseInfo): the connections' call ids.
    case berSnapshotDeviceData
    /// `SnapshotCallData` ([APPLICATION 23] SEQUENCE OF SnapshotCallResponseInfo): the devices on the call.
    case berSnapshotCallData
    /// XML `<connectionListItem>` elements: `newConnection/callID`.
    case xmlConnectionList
    /// XML `<snapshotDeviceResponseInfo>` elements: `connectionIdentifier/callID`.
    case xmlSnapshotDeviceData
    /// XML `<snapshotCallResponseInfo>` elements: `deviceOnCall`.
    case xmlSnapshotCallData
}

/// The kind of protocol data unit: ROSE APDUs and ACSE APDUs.
public enum PDUKind: UInt8, Sendable, Hashable, CaseIterable {
    case invoke, returnResult, returnError, reject
    case aarq, aare, abrt, rlrq, rlre

    public var name: String {
        switch self {
        case .invoke: "invoke"
        case .returnResult: "returnResult"
        case .returnError: "returnError"
        case .reject: "reject"
        case .aarq: "aarq"
        case .aare: "aare"
        case .abrt: "abrt"
        case .rlrq: "rlrq"
        case .rlre: "rlre"
        }
    }

    public init?(name: some StringProtocol) {
        guard let kind = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = kind
    }
}

/// The event groups of `EventSpecificInfo` (ECMA-285 event-report-definitions), by their context tag.
public enum EventClass: UInt8, Sendable, Hashable, CaseIterable {
    case callControl = 0, callAssociated, mediaAttachment, physicalDeviceFeature, logicalDeviceFeature,
        deviceMaintenance, voiceUnit, vendorSpecific

    public var name: String {
        switch self {
        case .callControl: "callControl"
        case .callAssociated: "callAssociated"
        case .mediaAttachment: "mediaAttachment"
        case .physicalDeviceFeature: "physicalDeviceFeature"
        case .logicalDeviceFeature: "logicalDeviceFeature"
        case .deviceMaintenance: "deviceMaintenance"
        case .voiceUnit: "voiceUnit"
        case .vendorSpecific: "vendorSpecific"
        }
    }
}

/// An event: its group and its context tag within the group's CHOICE. Unknown tags are kept, never dropped.
public struct EventType: Sendable, Hashable {
    public var eventClass: EventClass
    public var tag: UInt16

    @inlinable public init(_ eventClass: EventClass, _ tag: UInt16) {
        self.eventClass = eventClass
        self.tag = tag
    }
}
