import CSTA

/// Everything one link needs to reach and keep talking to one switch. A value type: build it, then hand it to
/// ``CSTALinkClient``.
///
/// ```swift
/// var config = LinkConfiguration(host: "10.0.0.5", port: 1040, flavour: .hipathBER)
/// config.credentials.aarqName = "AMHOST"
/// config.tls = nil  // plain TCP, explicitly
/// ```
public struct LinkConfiguration: Sendable {
    /// Who dials whom.
    public enum Role: String, Sendable, Hashable {
        /// The application dials the switch.
        case client
        /// The switch dials in: the link listens on `host:port` and serves one connection at a time.
        case server
    }

    /// How the link comes up and stays up (`csta-notes.md` §5).
    public enum Flavour: String, Sendable, Hashable, CaseIterable {
        /// Siemens HiPath, BER: AARQ → AARE, then the switch's SystemStatus is answered.
        case hipathBER
        /// Any other BER switch: AARQ → AARE without HiPath's authentication defaults.
        case genericBER
        /// OpenScape Voice, XML: the switch's SystemStatus is answered, then SystemRegister.
        case openScapeXML
        /// Avaya AES DMCC, XML: StartApplicationSession, ResetApplicationSessionTimer, GetDeviceId per device.
        case dmccXML

        /// The encoding the flavour speaks.
        public var encoding: CSTAEncoding {
            switch self {
            case .hipathBER, .genericBER: .ber
            case .openScapeXML, .dmccXML: .xml
            }
        }

        /// The framing the flavour's switches use.
        public var defaultFraming: CSTAFraming {
            switch self {
            case .hipathBER: .hipath
            case .genericBER: .u16
            case .openScapeXML, .dmccXML: .ecma323
            }
        }
    }

    /// Log-in data for the association (BER) or the application session (DMCC).
    ///
    /// Passwords never appear in logs: `description`, `debugDescription` and the mirror (`dump`, `"\(config)"`) show
    /// `***` instead.
    public struct Credentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
        /// AARQ calling-authentication name (HiPath: `AMHOST`); `nil` sends no authentication.
        public var aarqName: String?
        /// AARQ password (HiPath: `77777`).
        public var aarqPassword: String?
        /// DMCC `SessionLoginInfo/userName`.
        public var dmccUser: String?
        /// DMCC `SessionLoginInfo/password`, sent in StartApplicationSession.
        public var dmccPassword: String?
        /// DMCC `applicationID`.
        public var applicationID: String = "ctibridge"

        /// Credentials; all optional.
        public init(aarqName: String? = nil, aarqPassword: String? = nil, dmccUser: String? = nil, dmccPassword: String? = nil) {
            self.aarqName = aarqName
            self.aarqPassword = aarqPassword
            self.dmccUser = dmccUser
            self.dmccPassword = dmccPassword
        }

        public var description: String {
            func show(_ v: String?) -> String { v.map { "\"\($0)\"" } ?? "nil" }
            func hide(_ v: String?) -> String { v == nil ? "nil" : "***" }
            return "Credentials(aarqName: \(show(aarqName)), aarqPassword: \(hide(aarqPassword)), "
                + "dmccUser: \(show(dmccUser)), dmccPassword: \(hide(dmccPassword)), applicationID: \(show(applicationID)))"
        }

        public var debugDescription: String { description }

        public var customMirror: Mirror {
            Mirror(
                self,
                children: [
                    "aarqName": aarqName as Any, "aarqPassword": (aarqPassword == nil ? nil : "***") as Any,
                    "dmccUser": dmccUser as Any, "dmccPassword": (dmccPassword == nil ? nil : "***") as Any,
                    "applicationID": applicationID,
                ], displayStyle: .struct)
        }
    }

    /// Exponential back-off between reconnect attempts: `initial · 2ⁿ`, capped at `maximum`, then ± `jitter` (a
    /// fraction, 0.2 = ±20 %).
    public struct Backoff: Sendable, Hashable {
        /// The first delay.
        public var initial: Duration
        /// The largest delay.
        public var maximum: Duration
        /// ± fraction of the delay chosen at random.
        public var jitter: Double

        /// A back-off policy (defaults: 0.5 s doubling up to 30 s, ±20 %).
        public init(initial: Duration = .milliseconds(500), maximum: Duration = .seconds(30), jitter: Double = 0.2) {
            self.initial = initial
            self.maximum = maximum
            self.jitter = jitter
        }

        /// The delay before attempt `attempt` (0 = the first retry), with `random` in 0…1 choosing the jitter.
        public func delay(attempt: Int, random: Double) -> Duration {
            let factor = Double(1 << min(max(attempt, 0), 30))
            let base = min(initial.seconds * factor, maximum.seconds)
            let spread = base * jitter * (2 * min(max(random, 0), 1) - 1)
            return .nanoseconds(Int64(max(0, base + spread) * 1e9))
        }
    }

    /// TLS through swift-nio-ssl. `nil` on ``LinkConfiguration/tls`` means plain TCP, which must be chosen on purpose.
    public struct TLS: Sendable, Hashable {
        /// PEM file with the CA certificates that sign the switch's certificate.
        public var caFile: String
        /// PEM client certificate chain and key, for switches that want mutual TLS (server role: the link's own).
        public var certificateFile: String?
        /// PEM private key for `certificateFile`.
        public var privateKeyFile: String?
        /// Check that the certificate names the host (on by default).
        public var verifyHostname: Bool = true
        /// The name to check and send as SNI; defaults to the configured host.
        public var serverName: String?

        /// TLS with a CA file and, optionally, a client certificate and key.
        public init(caFile: String, certificateFile: String? = nil, privateKeyFile: String? = nil, verifyHostname: Bool = true) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
            self.verifyHostname = verifyHostname
        }
    }

    /// When the bound on requests in flight is reached.
    public enum WhenFull: Sendable, Hashable {
        /// The caller waits for a free slot.
        case wait
        /// The caller gets ``CSTALinkError/Code/tooManyRequests`` at once.
        case fail
    }

    /// Dial the switch (`client`) or let it dial in (`server`).
    public var role: Role = .client
    /// The switch's host (client) or the address to listen on (server).
    public var host: String
    /// The switch's port (client) or the port to listen on (server; 0 picks a free one).
    public var port: Int
    /// How the link comes up.
    public var flavour: Flavour
    /// BER or XML (defaults to the flavour's).
    public var encoding: CSTAEncoding
    /// The TCP framing (defaults to the flavour's).
    public var framing: CSTAFraming
    /// AARQ and DMCC log-in data.
    public var credentials = Credentials()
    /// CSTA versions offered in the AARQ (HiPath offers `versionFour`).
    public var cstaVersions: [String] = ["versionFour"]
    /// ACSE application context (HiPath and ECMA-285: 1.3.12.0.218).
    public var applicationContext = "1.3.12.0.218"
    /// Send SystemRegister after the association (always done for OpenScape Voice).
    public var systemRegister = false
    /// DMCC requested session duration, in seconds. The switch may grant another (`actualSessionDuration`); the link
    /// resets the session timer every third of the granted duration (not more often than every 200 ms).
    public var sessionDuration = 180
    /// DMCC `SessionLoginInfo/sessionCleanupDelay`, seconds: how long AES keeps a dropped session's monitors and
    /// calls for a reconnect. `nil` sends none (AES's default applies).
    public var sessionCleanupDelay: Int?
    /// DMCC switch connection name for GetDeviceId; when `nil` devices are monitored by their plain number.
    public var dmccSwitchName: String?
    /// How long a TCP (and TLS) connect and the association may take.
    public var connectTimeout: Duration = .seconds(5)
    /// The default time a request waits for its answer.
    public var requestTimeout: Duration = .seconds(5)
    /// Idle time after which the link sends a keep-alive (SystemStatus, or DMCC's session timer reset).
    public var heartbeatInterval: Duration = .seconds(20)
    /// Silence after which the link is declared dead; `nil` = twice the heartbeat.
    public var deadLinkInterval: Duration?
    /// How long a keep-alive may stay unanswered before the link is declared dead (never later than the dead-link
    /// interval); `nil` = half the heartbeat. This is what finds a half-open link early enough to be back up within
    /// twice the heartbeat.
    public var keepAliveTimeout: Duration?
    /// Reconnect back-off.
    public var backoff = Backoff()
    /// The bound on requests in flight (monitor starts are pipelined up to this many).
    public var maxRequestsInFlight = 512
    /// What a request does when the bound is reached.
    public var whenFull: WhenFull = .wait
    /// `nil`: plain TCP.
    public var tls: TLS?
    /// Mask phone numbers in logs (`40**`): on by default.
    public var maskNumbersInLogs = true
    /// Largest frame payload accepted from the switch.
    public var maximumFrameLength = 1 << 20
    /// Sees every connection's traffic (CSTA bytes above TLS, whole frames); `nil`, the default, costs nothing.
    /// `ctibridge --record` sets a pcapng recorder here.
    public var tap: (any LinkTap)?

    /// A configuration with the flavour's encoding and framing.
    public init(host: String, port: Int, flavour: Flavour, role: Role = .client) {
        self.host = host
        self.port = port
        self.flavour = flavour
        self.role = role
        self.encoding = flavour.encoding
        self.framing = flavour.defaultFraming
    }

    /// The silence that declares the link dead.
    public var effectiveDeadLinkInterval: Duration { deadLinkInterval ?? heartbeatInterval * 2 }

    /// How long an unanswered keep-alive is tolerated.
    public var effectiveKeepAliveTimeout: Duration { keepAliveTimeout ?? heartbeatInterval / 2 }

    /// The invoke ids this link may use: BER 1–32767, XML 1–9998 (9999 is the event id).
    public var invokeIdRange: ClosedRange<Int> { encoding == .ber ? 1...32767 : 1...9998 }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
