/// Name tables shared by both encodings: operation codes, event tags, and the ENUMERATED types the key set renders by
/// name. Sources: ECMA-285 module texts in `../shared/asn1/ecma-285/` and the notes' opcode table.
public enum CSTANames {
    // MARK: Operations

    /// ROSE local operation code → service name (the ECMA-323 element name without `Response`/`Event`).
    public static func serviceName(forOperation op: Int32) -> String? {
        operationTable.first(where: { $0.op == op })?.name
    }

    /// Service name (or an ECMA-323 element alias such as `RouteSelect`) → operation code.
    public static func operation(forService name: some StringProtocol) -> Int32? {
        if let entry = operationTable.first(where: { $0.name == name }) { return entry.op }
        return xmlServiceAliases.first(where: { $0.element == name })?.op
    }

    /// (opcode, canonical service name). The canonical name is the ECMA-323 element name; where ECMA-323 spells the
    /// request element differently, ``xmlServiceAliases`` holds that spelling.
    public static let operationTable: [(op: Int32, name: String)] = [
        (1, "AlternateCall"), (2, "AnswerCall"), (3, "CallCompletion"), (4, "ClearCall"), (5, "ClearConnection"),
        (6, "ConferenceCall"), (7, "ConsultationCall"), (218, "DeflectCall"), (9, "HoldCall"), (10, "MakeCall"),
        (11, "MakePredictiveCall"), (13, "ReconnectCall"), (14, "RetrieveCall"), (16, "TransferCall"),
        (21, "CSTAEventReport"), (31, "RouteRequest"), (32, "ReRouteRequest"), (33, "RouteSelectRequest"),
        (34, "RouteUsedRequest"), (35, "RouteEndRequest"), (50, "SingleStepTransferCall"), (51, "Escape"),
        (52, "SystemStatus"), (71, "MonitorStart"), (72, "ChangeMonitorFilter"), (73, "MonitorStop"),
        (74, "SnapshotDevice"), (75, "SnapshotCall"), (207, "SystemRegister"), (211, "SystemStatus"),
        (274, "SetDisplay"), (304, "GetAgentState"), (312, "SetAgentState"),
    ]

    /// ECMA-323 request element spellings that differ from the canonical service name.
    public static let xmlServiceAliases: [(element: String, op: Int32)] = [
        ("RouteSelect", 33), ("RouteEnd", 35), ("RouteUsed", 34), ("ReRoute", 32),
    ]

    /// The preferred operation for a service name that several editions numbered differently (SystemStatus: 211).
    public static func preferredOperation(forService name: some StringProtocol) -> Int32? {
        if name == "SystemStatus" { return 211 }
        return operation(forService: name)
    }

    // MARK: Events

    /// ECMA-285 `EventSpecificInfo` alternatives, per group, by context tag.
    public static let eventNames: [EventClass: [String]] = [
        .callControl: [
            "bridged", "callCleared", "conferenced", "connectionCleared", "delivered", "digitsDialed", "diverted",
            "established", "failed", "held", "networkCapabilitiesChanged", "networkReached", "offered", "originated",
            "queued", "retrieved", "serviceInitiated", "transferred",
        ],
        .callAssociated: [
            "callInformation", "charging", "digitsGenerated", "telephonyTonesGenerated", "serviceCompletionFailure",
        ],
        .mediaAttachment: ["mediaAttached", "mediaDetached"],
        .physicalDeviceFeature: [
            "buttonInformation", "buttonPress", "displayUpdated", "hookswitch", "lampMode", "messageWaiting",
            "microphoneGain", "microphoneMute", "ringerStatus", "speakerMute", "speakerVolume",
        ],
        .logicalDeviceFeature: [
            "agentBusy", "agentLoggedOn", "agentLoggedOff", "agentNotReady", "agentReady", "agentWorkingAfterCall",
            "autoAnswer", "autoWorkMode", "callBack", "callBackMessage", "callerIDStatus", "doNotDisturb",
            "forwarding", "routeingMode", "presenceState",
        ],
        .deviceMaintenance: ["backInService", "deviceCapabilityChanged", "outOfService", "partiallyInService"],
        .voiceUnit: ["play", "record", "review", "stop", "suspendPlay", "suspendRecord", "voiceAttributesChange"],
        .vendorSpecific: ["privateEvent"],
    ]

    /// The ECMA-285 name of an event, or `nil` for a tag outside the tables.
    public static func eventName(_ type: EventType) -> String? {
        guard let names = eventNames[type.eventClass], Int(type.tag) < names.count else { return nil }
        return names[Int(type.tag)]
    }

    /// The event with that ECMA-285 name.
    public static func eventType(named name: some StringProtocol) -> EventType? {
        for eventClass in EventClass.allCases {
            if let tag = eventNames[eventClass]?.firstIndex(where: { $0 == name }) {
                return EventType(eventClass, UInt16(tag))
            }
        }
        return nil
    }

    /// The ECMA-323 element of an event: `DeliveredEvent`, … and the standard's own spelling `TransferedEvent`.
    public static func xmlEventElement(_ type: EventType) -> String? {
        guard let name = eventName(type) else { return nil }
        if name == "transferred" { return "TransferedEvent" }
        return name.prefix(1).uppercased() + name.dropFirst() + "Event"
    }

    /// ECMA-323 element name (either spelling of the transferred event) → event.
    public static func eventType(xmlElement element: some StringProtocol) -> EventType? {
        guard element.hasSuffix("Event") else { return nil }
        let stem = element.dropLast(5)
        if stem == "Transfered" || stem == "Transferred" { return EventType(.callControl, 17) }
        guard let first = stem.first else { return nil }
        return eventType(named: String(first).lowercased() + stem.dropFirst())
    }

    // MARK: Enumerations

    /// ECMA-285 `EventCause` by number (event-cause.asn); empty strings are unassigned numbers.
    public static let eventCauses: [String] = [
        "", "activeParticipation", "alternate", "busy", "callBack", "callCancelled",
        "callForwardImmediate", "callForwardBusy", "callForwardNoAnswer", "callForward", "callNotAnswered", "callPickup",
        "campOn", "destNotObtainable", "doNotDisturb", "incompatibleDestination", "invalidAccountCode", "keyOperation",
        "lockout", "maintenance", "networkCongestion", "networkNotObtainable", "newCall", "noAvailableAgents",
        "override", "park", "overflow", "recall", "redirected", "reorderTone",
        "resourcesNotAvailable", "silentParticipation", "transfer", "trunksBusy", "", "blocked",
        "characterCountReached", "consultation", "distributed", "dTMFDigitDetected", "durationExceeded", "endOfMessageDetected",
        "enteringDistribution", "forcedPause", "makeCall", "messageSizeExceeded", "networkSignal", "nextMessage",
        "normalClearing", "noSpeechDetected", "numberChanged", "singleStepConference", "singleStepTransfer", "speechDetected",
        "switchingFunctionTerminated", "terminationCharacterReceived", "timeout", "aCDBusy", "aCDForward", "aCDSaturated",
        "alertTimeExpired", "autoWork", "campOnTrunks", "conference", "destDetected", "destOutOfOrder",
        "distributionDelay", "forcedTransition", "intrude", "invalidNumberFormat", "joinCall", "keyOperationInUse",
        "makePredictiveCall", "messageDurationExceeded", "multipleAlerting", "multipleQueuing", "networkDialling", "networkOutOfOrder",
        "normal", "notAvaliableBearerService", "notSupportedBearerService", "numberUnallocated", "queueCleared", "remainsInQueue",
        "reserved", "selectedTrunkBusy", "suspend", "unauthorisedBearerService", "activation", "babble",
        "badAttribute", "badGrammar", "badVoice", "badUri", "busyOverflow", "calendarOverflow",
        "capacityOverflow", "duplicateDTMF", "earlyStop", "emptyQueue", "interDigitTimeout", "invalidConnection",
        "invalidConnectionState", "makeConnection", "maxTimeout", "noAudioSaved", "noQueue", "noRule",
        "outOfGrammar", "pathReplacement", "queueTimeOverflow", "recallBusy", "recallForwarded", "recallNoAnswer",
        "recallResourcesNotAvailable", "unknownOverflow", "callInterception", "callInterceptionBusy", "callInterceptionForwarded", "callInterceptionNoAnswer",
        "callInterceptionResourcesNotAvailable", "lawfulInterception",
    ]

    /// ECMA-285 `LocalConnectionState`.
    public static let localConnectionStates = ["null", "initiated", "alerting", "connected", "hold", "queued", "fail"]

    /// ECMA-285 `SystemStatus` (device-feature-types.asn); by number.
    public static let systemStatuses = [
        "initializing", "enabled", "normal", "messagesLost", "disabled", "overloadImminent", "overloadReached",
        "overloadRelieved", "partiallyDisabled",
    ]

    /// ECMA-285 `AgentState` (device-feature-types.asn).
    public static let agentStates = ["agentNotReady", "agentNull", "agentReady", "agentBusy", "agentWorkingAfterCall"]

    /// ECMA-285 `ReqAgentState` (SetAgentState's requested state).
    public static let requestedAgentStates = ["loggedOn", "loggedOff", "notReady", "ready", "workingAfterCall"]

    /// UniversalFailure CHOICE alternatives (error-definition), by context tag.
    public static let errorCategories = [
        "operation", "security", "stateIncompatibility", "systemResourceAvailability", "subscribedResourceAvailability",
        "performanceManagement", "privateData", "unspecified",
    ]

    /// AARE `result` (X.227 Associate-result).
    public static let acseResults = ["accepted", "rejectedPermanent", "rejectedTransient"]

    /// `CSTAVersion` bits (acse_user_info_csta.asn), bit 0 first.
    public static let cstaVersionNames = [
        "versionOne", "versionTwo", "versionThree", "versionFour", "versionFive", "versionSix",
        "versionSeven", "versionEight", "versionNine", "versionTen", "versionEleven", "versionTwelve",
        "versionThirteen", "versionFourteen", "versionFifteen", "versionSixteen", "versionSeventeen", "versionEighteen",
        "versionNineteen", "versionTwenty", "versionTwentyone", "versionTwentytwo", "versionTwentythree", "versionTwentyfour",
    ]

    /// Name of an ENUMERATED number in `table`, or the number as text when it has none.
    public static func name(_ code: Int32, in table: [String]) -> String {
        if code >= 0, Int(code) < table.count, !table[Int(code)].isEmpty { return table[Int(code)] }
        return String(code)
    }

    /// Number of `name` in `table`.
    public static func code(of name: some StringProtocol, in table: [String]) -> Int32? {
        table.firstIndex(where: { !$0.isEmpty && $0 == name }).map { Int32($0) }
    }
}
