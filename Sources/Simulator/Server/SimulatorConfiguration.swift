import CSTA
import NIOCore

/// How an application brings the link up (`../shared/docs/csta-notes.md` §5).
public enum SessionFlavor: String, Sendable, Hashable, CaseIterable {
    /// HiPath BER: AARQ → AARE, then the switch sends SystemStatus invokes the application answers.
    case hipath
    /// OpenScape Voice XML: the switch sends SystemStatus on connect; the application answers and registers.
    case osv
    /// Avaya AES DMCC XML: StartApplicationSession, ResetApplicationSessionTimer, GetDeviceId, MonitorStart.
    case dmcc

    /// The flavour an encoding implies when none is given.
    public static func `default`(for encoding: CSTAEncoding) -> Self { encoding == .ber ? .hipath : .osv }
}

/// One fault and how often it strikes (`--fault KIND:EVERY`).
public enum FaultSchedule: Sendable, Hashable, CustomStringConvertible {
    /// Close the connection every interval (at most `times` times; `nil`: no limit).
    case drop(every: TimeAmount, times: Int? = nil)
    /// Stop reading and writing without closing, once the interval has passed (at most `times` times).
    case halfOpen(every: TimeAmount, times: Int? = nil)
    /// Send bytes that are not a frame every interval (at most `times` times).
    case garbage(every: TimeAmount, times: Int? = nil)
    /// Write every frame in pieces of this many bytes.
    case split(bytes: Int)
    /// Answer every request this much later.
    case slow(delay: TimeAmount)
    /// Answer this share (0…1) of requests with a returnError (systemResourceAvailability/serviceBusy).
    case reject(share: Double)

    public var description: String {
        switch self {
        case .drop(let t, let n): "drop:\(Self.text(t))" + (n.map { "*\($0)" } ?? "")
        case .halfOpen(let t, let n): "halfopen:\(Self.text(t))" + (n.map { "*\($0)" } ?? "")
        case .garbage(let t, let n): "garbage:\(Self.text(t))" + (n.map { "*\($0)" } ?? "")
        case .split(let n): "split:\(n)"
        case .slow(let t): "slow:\(Self.text(t))"
        case .reject(let p): "reject:\(p)"
        }
    }

    static func text(_ t: TimeAmount) -> String { "\(t.nanoseconds / 1_000_000)ms" }

    /// Parses `drop:15s`, `halfopen:40s`, `garbage:30s`, `split:1`, `slow:200ms`, `reject:0.1`; the timed faults take
    /// a limit: `drop:13s*3` drops three times, 13 s apart.
    public init?(parsing text: String) {
        var parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        var times: Int? = nil
        if let star = parts[1].firstIndex(of: "*") {
            guard let n = Int(parts[1][parts[1].index(after: star)...]), n > 0 else { return nil }
            times = n
            parts[1] = String(parts[1][..<star])
        }
        switch parts[0].lowercased() {
        case "drop": guard let t = Self.duration(parts[1]) else { return nil }; self = .drop(every: t, times: times)
        case "halfopen", "half-open":
            guard let t = Self.duration(parts[1]) else { return nil }
            self = .halfOpen(every: t, times: times)
        case "garbage": guard let t = Self.duration(parts[1]) else { return nil }; self = .garbage(every: t, times: times)
        case "slow":
            guard times == nil, let t = Self.duration(parts[1]) else { return nil }
            self = .slow(delay: t)
        case "split": guard times == nil, let n = Int(parts[1]), n > 0 else { return nil }; self = .split(bytes: n)
        case "reject":
            guard times == nil, let p = Double(parts[1]), (0...1).contains(p) else { return nil }
            self = .reject(share: p)
        default: return nil
        }
    }

    /// `250ms`, `15s`, `2m` or a plain number of seconds.
    public static func duration(_ text: String) -> TimeAmount? {
        func value(_ suffix: String) -> Double? { text.hasSuffix(suffix) ? Double(text.dropLast(suffix.count)) : nil }
        let nanoseconds: Double
        if let v = value("ms") { nanoseconds = v * 1e6 }
        else if let v = value("s") { nanoseconds = v * 1e9 }
        else if let v = value("m") { nanoseconds = v * 60e9 }
        else if let v = Double(text) { nanoseconds = v * 1e9 }
        else { return nil }
        guard nanoseconds > 0, nanoseconds < 1e15 else { return nil }
        return .nanoseconds(Int64(nanoseconds))
    }
}

/// The DMCC log-in the switch accepts (`SessionLoginInfo` `userName` and `password`). Its description hides the
/// password.
public struct DMCCLogin: Sendable, Hashable, CustomStringConvertible {
    public var user: String
    public var password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    public var description: String { "DMCCLogin(user: \"\(user)\", password: ***)" }

    /// Whether a StartApplicationSession's user name and password match.
    public func accepts(user: String?, password: String?) -> Bool { user == self.user && password == self.password }
}

/// Everything the switch needs to know to listen and behave.
public struct SimulatorConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var encoding: CSTAEncoding
    public var framing: CSTAFraming
    public var flavor: SessionFlavor
    public var numbering: SwitchNumbering
    /// How often the switch sends SystemStatus on an associated link (`nil`: only once, at start-up).
    public var systemStatusInterval: TimeAmount?
    /// Unanswered SystemStatus invokes in a row after which the switch closes the link.
    public var systemStatusMissesAllowed: Int
    /// After-call work for ACD agents (the load generator ends it).
    public var afterCallWork: Bool
    /// Agents start logged on and ready.
    public var agentsReady: Bool
    public var faults: [FaultSchedule]
    /// Seeds the fault injector's random choices (`reject`, garbage bytes).
    public var seed: UInt64
    /// DMCC: the one log-in StartApplicationSession must carry; `nil` accepts any (or none).
    public var dmccLogin: DMCCLogin?

    public init(
        host: String = "127.0.0.1", port: Int = 0, encoding: CSTAEncoding = .ber, framing: CSTAFraming? = nil,
        flavor: SessionFlavor? = nil, numbering: SwitchNumbering = SwitchNumbering(),
        systemStatusInterval: TimeAmount? = .seconds(10), systemStatusMissesAllowed: Int = 3,
        afterCallWork: Bool = false, agentsReady: Bool = false, faults: [FaultSchedule] = [], seed: UInt64 = 1,
        dmccLogin: DMCCLogin? = nil
    ) {
        self.host = host
        self.port = port
        self.encoding = encoding
        self.framing = framing ?? (encoding == .ber ? .hipath : .ecma323)
        self.flavor = flavor ?? .default(for: encoding)
        self.numbering = numbering
        self.systemStatusInterval = systemStatusInterval
        self.systemStatusMissesAllowed = systemStatusMissesAllowed
        self.afterCallWork = afterCallWork
        self.agentsReady = agentsReady
        self.faults = faults
        self.seed = seed
        self.dmccLogin = dmccLogin
    }
}

/// SplitMix64: a small seeded generator, so one seed gives one run.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Phone numbers in logs: internal extensions stay, longer numbers keep only their last two digits.
public enum NumberMask {
    public static func mask(_ number: String, enabled: Bool = true) -> String {
        guard enabled, number.count > 5 else { return number }
        return String(repeating: "*", count: number.count - 2) + number.suffix(2)
    }
}
