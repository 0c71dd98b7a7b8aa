/// Everything a decoder extracted from one CSTA message, as spans into the frame.
///
/// This is the CSTA Phase III message model in its allocation-free form: one flat value that covers the ROSE and ACSE
/// envelopes, every service's arguments, results and errors, and every event's fields the key set names (plus a few
/// more). Both encodings fill the same fields, so the link and the call model need not care whether the switch spoke
/// BER or XML. Text is produced on demand by ``CSTAMessage``.
///
/// Field meanings follow the key set (`../shared/docs/contracts.md` §1 and the peers' README): `device` is the event's
/// subject device, `otherDevice` the transferred-to/added/new-destination device, `callID`/`connDevice` the primary
/// connection, and so on. Services reuse the same fields for their ConnectionID and DeviceID arguments
/// (`callToBeHeld` → `callID`/`connDevice`, `newDestination` → `otherDevice`, …).
public struct CSTAFields: Sendable, Hashable {
    // MARK: Envelope
    public var pdu: PDUKind? = nil
    /// ROSE local operation code; `nil` for XML elements that have none (ECMA-354 sessions, Avaya `GetDeviceId`).
    public var op: Int32? = nil
    /// ROSE invoke id (BER) or the frame header's invoke id (XML over TCP).
    public var invokeId: Int64? = nil
    /// XML: the root element's local name when it is not a known service or event (vendor elements keep their name),
    /// and for every XML service element (so `RouteSelect` and `RouteSelectRequest` both round-trip).
    public var serviceName: FieldSpan = .absent
    public var event: EventType? = nil
    /// XML: an event element that is not in the tables (kept, never dropped).
    public var eventName: FieldSpan = .absent
    /// Set when the envelope decoded but the event or service body did not; the other envelope fields stay valid.
    public var eventError: CSTADecodeError? = nil

    // MARK: Events and services
    public var monitorCrossRefID: FieldSpan = .absent
    public var callID: FieldSpan = .absent
    public var connDevice: DeviceField = .absent
    public var device: DeviceField = .absent
    public var otherDevice: DeviceField = .absent
    public var calling: DeviceField = .absent
    public var called: DeviceField = .absent
    public var lastRedirection: DeviceField = .absent
    public var cause: EnumField = .absent
    public var localConnectionInfo: EnumField = .absent
    public var secondaryCallID: FieldSpan = .absent
    /// Transferred/conferenced events and the transfer/conference results: the new connections' call ids.
    public var newCallIDs: ListField = .absent
    public var numberQueued: Int32? = nil
    public var agentID: FieldSpan = .absent
    public var acdGroup: DeviceField = .absent
    /// Agent state (GetAgentState result), rendered by name (`agentReady`, …).
    public var agentState: EnumField = .absent
    /// SetAgentState `requestedAgentState` — its own enumeration (`loggedOn`, `ready`, …).
    public var requestedAgentState: EnumField = .absent
    /// The first `CSTAPrivateData` `string` (BER octets → hex; XML text as sent).
    public var privateData: FieldSpan = .absent
    /// Whose private data it is: the XML namespace of `<private>` content, or a BER vendor OID when one is carried.
    public var privateDataVendor: FieldSpan = .absent
    /// The whole private-data content when it is not a `string` (XML `<private>…</private>`, BER `[n]` vendor blocks).
    public var privateDataRaw: FieldSpan = .absent

    public var monitorObject: DeviceField = .absent
    public var routeingCrossRefID: FieldSpan = .absent
    public var currentRoute: DeviceField = .absent
    public var routeSelected: DeviceField = .absent
    public var systemStatus: EnumField = .absent
    public var sysStatRegisterID: FieldSpan = .absent
    public var snapshotCallIDs: ListField = .absent
    /// SnapshotCall result: the devices on the call.
    public var snapshotDevices: ListField = .absent
    /// Free-form reason or code carried by some services (ClearConnection `reason`, RouteEnd `errorValue`).
    public var reason: EnumField = .absent

    // MARK: ROSE errors and rejects
    /// ROSE returnError `errcode` (CSTA: 1 = universalFailure).
    public var errorCode: Int32? = nil
    /// The UniversalFailure CHOICE alternative (operation 0, security 1, stateIncompatibility 2, systemResource 3,
    /// subscribedResource 4, performanceManagement 5, privateData 6, unspecified 7), or an XML `CSTAErrorCode` child.
    public var errorCategory: EnumField = .absent
    /// The error value within that category.
    public var errorValue: EnumField = .absent
    /// ROSE reject: problem CHOICE alternative (general 0, invoke 1, returnResult 2, returnError 3) and its value.
    public var rejectProblem: Int32? = nil
    public var rejectValue: Int32? = nil

    // MARK: ACSE and ECMA-354 sessions
    public var applicationContext: FieldSpan = .absent
    /// AARE `result`: 0 accepted, 1 rejectedPermanent, 2 rejectedTransient.
    public var acseResult: Int32? = nil
    /// `cSTAVersion` BIT STRING content (BER) — rendered as the list of version names.
    public var cstaVersions: FieldSpan = .absent
    /// Authentication: the name (AARQ calling-authentication-value, DMCC `userName`). The password is kept in
    /// `authenticationPassword` and never rendered to JSON.
    public var authenticationName: FieldSpan = .absent
    public var authenticationPassword: FieldSpan = .absent
    /// ABRT source / RLRQ-RLRE reason.
    public var acseReason: Int32? = nil
    public var sessionID: FieldSpan = .absent
    public var protocolVersion: FieldSpan = .absent
    public var sessionDuration: Int32? = nil
    /// ECMA-354 application id (StartApplicationSession `applicationID`).
    public var applicationID: FieldSpan = .absent
    /// DMCC `SessionLoginInfo/sessionCleanupDelay`, seconds (how long AES keeps a dropped session's monitors).
    public var sessionCleanupDelay: Int32? = nil

    public init() {}

    /// An empty value to reset with (`fields = .empty` copies a constant instead of re-running every initialiser).
    public static let empty = CSTAFields()
}
