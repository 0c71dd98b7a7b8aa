import CSTA

/// SplitMix64: tiny, seedable, the same sequence on every platform and toolchain.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Builds CSTAEventReport records (the key set of `../shared/tools/peers/README.md`) for the event mix a monitored
/// PBX produces: call control events dominated by delivered/established/connectionCleared, some feature traffic
/// (held, retrieved, transferred, conferenced, diverted), and agent state changes.
///
/// Deterministic for a given seed. The values look like a real site: 4- and 5-digit extensions, ACD groups 80xx,
/// external numbers in E.164 and `explicitPublic` form, dynamic connection device ids, 2–8 octet call ids and a
/// handful of monitor cross-reference ids reused across events.
public struct EventGenerator: Sendable {
    /// Relative weights of the events, roughly the shape of a contact-centre trace.
    public static let mix: [(event: String, weight: Int)] = [
        ("delivered", 13), ("established", 13), ("connectionCleared", 14), ("callCleared", 5),
        ("held", 5), ("retrieved", 6), ("transferred", 4), ("conferenced", 3), ("diverted", 5),
        ("originated", 7), ("serviceInitiated", 7), ("failed", 3), ("queued", 4), ("networkReached", 4),
        ("agentLoggedOn", 1), ("agentLoggedOff", 1), ("agentReady", 3), ("agentNotReady", 2),
    ]

    private var rng: SeededGenerator
    private var invokeId: Int64 = 0
    private let monitors: [String]
    private let cumulative: [Int]

    public init(seed: UInt64) {
        rng = SeededGenerator(seed: seed)
        var monitors: [String] = []
        for i in 0..<24 {
            monitors.append(Self.hex(octets: i % 3 == 0 ? 2 : 4, &rng))
        }
        self.monitors = monitors
        var total = 0
        cumulative = Self.mix.map { total += $0.weight; return total }
    }

    /// `count` records, one event each.
    public mutating func records(count: Int) -> [CSTARecord] {
        (0..<count).map { _ in next() }
    }

    /// The next event, in the mix proportions.
    public mutating func next() -> CSTARecord {
        let pick = Int.random(in: 0..<cumulative.last!, using: &rng)
        let index = cumulative.firstIndex { pick < $0 }!
        return event(Self.mix[index].event)
    }

    /// One event of the given kind (an ECMA-285 EventSpecificInfo alternative name).
    public mutating func event(_ name: String) -> CSTARecord {
        invokeId = invokeId % 32_000 + 1
        var r = CSTARecord()
        r["pdu"] = .string("invoke")
        r["op"] = .int(21)
        r["invokeId"] = .int(invokeId)
        r["service"] = .string("CSTAEventReport")
        r["event"] = .string(name)
        r["monitorCrossRefID"] = .string(monitors.randomElement(using: &rng)!)

        let isAgent = name.hasPrefix("agent")
        r["eventClass"] = .string(isAgent ? "logicalDeviceFeature" : "callControl")
        if isAgent {
            r["device"] = .string(extensionNumber())
            r["acdGroup"] = .string(acdGroup())
            if name != "agentReady" || chance(50) { r["agentID"] = .string(String(Int.random(in: 10_000...99_999, using: &rng))) }
            if name == "agentLoggedOn" || name == "agentLoggedOff" { r["cause"] = .string("normal") }
            return r
        }

        let callID = Self.hex(octets: [1, 2, 2, 2, 3, 4, 4, 8].randomElement(using: &rng)!, &rng)
        r["callID"] = .string(callID)
        let me = extensionNumber()
        func connection(_ device: String) {
            r["connDevice"] = .string(chance(20) ? "dynamic:" + Self.hex(octets: 4, &rng) : device)
        }

        switch name {
        case "delivered", "established":
            let inbound = chance(60)
            let other = inbound ? externalNumber() : extensionNumber()
            connection(me)
            r["device"] = .string(me)
            r["calling"] = .string(inbound ? other : me)
            r["called"] = .string(inbound ? me : other)
            r["lastRedirection"] = .string(chance(70) ? "<notRequired>" : chance(50) ? "<notKnown>" : extensionNumber())
            r["cause"] = .string(name == "delivered" ? "newCall" : "normal")
            if name == "established" { r["localConnectionInfo"] = .string("connected") }
            else if chance(50) { r["localConnectionInfo"] = .string("alerting") }
        case "connectionCleared":
            connection(me)
            r["device"] = .string(me)
            r["cause"] = .string(["normalClearing", "normal", "transfer", "callCancelled"].randomElement(using: &rng)!)
            r["localConnectionInfo"] = .string("null")
        case "callCleared":
            r["cause"] = .string(["normalClearing", "callCancelled", "normal"].randomElement(using: &rng)!)
        case "held", "retrieved":
            connection(me)
            r["device"] = .string(me)
            r["cause"] = .string(name == "held" ? (chance(50) ? "consultation" : "normal") : "normal")
            r["localConnectionInfo"] = .string(name == "held" ? "hold" : "connected")
        case "transferred", "conferenced":
            connection(me)
            r["device"] = .string(me)
            r["otherDevice"] = .string(chance(30) ? externalNumber() : extensionNumber())
            r["cause"] = .string(name == "transferred"
                ? (chance(50) ? "transfer" : "singleStepTransfer")
                : (chance(50) ? "conference" : "singleStepConference"))
            r["newCallIDs"] = .strings((0..<Int.random(in: 1...3, using: &rng)).map { _ in
                Self.hex(octets: [2, 3, 4].randomElement(using: &rng)!, &rng)
            })
            if name == "conferenced" { r["localConnectionInfo"] = .string("connected") }
            if chance(25) { r["privateData"] = .string(Self.hex(octets: 6, &rng)) }
        case "diverted":
            connection(me)
            r["device"] = .string(me)
            r["otherDevice"] = .string(extensionNumber())
            r["calling"] = .string(externalNumber())
            r["called"] = .string(me)
            r["lastRedirection"] = .string("<notRequired>")
            r["cause"] = .string(["callForwardImmediate", "callForwardBusy", "callForwardNoAnswer"].randomElement(using: &rng)!)
            r["localConnectionInfo"] = .string("null")
        case "originated", "serviceInitiated":
            connection(me)
            r["device"] = .string(me)
            if name == "originated" {
                r["called"] = .string(externalNumber())
                r["cause"] = .string("newCall")
                r["localConnectionInfo"] = .string("connected")
            } else {
                r["cause"] = .string(chance(50) ? "makeCall" : "newCall")
                r["localConnectionInfo"] = .string("initiated")
            }
        case "failed":
            connection(me)
            r["device"] = .string(me)
            r["calling"] = .string(me)
            r["called"] = .string(chance(50) ? extensionNumber() : externalNumber())
            r["lastRedirection"] = .string("<notKnown>")
            r["cause"] = .string(["callNotAnswered", "busy", "blocked", "destNotObtainable"].randomElement(using: &rng)!)
            r["localConnectionInfo"] = .string("fail")
        case "queued":
            connection(me)
            r["device"] = .string(acdGroup())
            r["calling"] = .string(externalNumber())
            r["called"] = .string(me)
            r["lastRedirection"] = .string(acdGroup())
            r["cause"] = .string("normal")
            if chance(50) { r["numberQueued"] = .int(Int64(Int.random(in: 1...12, using: &rng))) }
        case "networkReached":
            let trunk = "deviceNumber:" + String(Int.random(in: 100_000...100_999, using: &rng))
            connection(trunk)
            r["device"] = .string(trunk)
            r["calling"] = .string(me)
            r["called"] = .string(externalNumber())
            r["lastRedirection"] = .string("<notRequired>")
            r["cause"] = .string("normal")
            r["localConnectionInfo"] = .string("connected")
        default:
            break
        }
        return r
    }

    // MARK: Values

    private mutating func chance(_ percent: Int) -> Bool {
        Int.random(in: 0..<100, using: &rng) < percent
    }

    private mutating func extensionNumber() -> String {
        chance(80) ? String(Int.random(in: 2000...5999, using: &rng)) : String(Int.random(in: 31_000...31_999, using: &rng))
    }

    private mutating func acdGroup() -> String {
        String(Int.random(in: 8001...8020, using: &rng))
    }

    private mutating func externalNumber() -> String {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return "+49897003" + String(Int.random(in: 1000...9999, using: &rng))
        case 1: return "+86138" + String(Int.random(in: 10_000_000...99_999_999, using: &rng))
        case 2: return "explicitPublic:international:1212555" + String(Int.random(in: 1000...9999, using: &rng))
        default: return "0" + String(Int.random(in: 800_000_000...899_999_999, using: &rng))
        }
    }

    static func hex(octets: Int, _ rng: inout SeededGenerator) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(octets * 2)
        for _ in 0..<octets {
            let b = UInt8.random(in: 0...255, using: &rng)
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
