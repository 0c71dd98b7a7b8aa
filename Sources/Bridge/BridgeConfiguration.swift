import CSTA
import CSTALink
import CallModel
import Foundation
import Logging
import Replay
import Store
import Yams

/// The daemon's configuration file (YAML). Every key has a default except `switch.host`/`switch.port`; an example with
/// every key is `deploy/ctibridge.yaml`.
public struct BridgeConfiguration: Sendable, Codable, Hashable {
    public struct Switch: Sendable, Codable, Hashable {
        /// The switch's address (client role) or the address to listen on (server role).
        public var host: String
        public var port: Int
        /// `hipathBER`, `genericBER`, `openScapeXML` or `dmccXML`.
        public var flavour: String = "hipathBER"
        /// Overrides the flavour's encoding (`ber`, `xml`).
        public var encoding: String?
        /// Overrides the flavour's framing (`hipath`, `u16`, `tpkt`, `ecma323`).
        public var framing: String?
        /// `client` (dial the switch) or `server` (the switch dials in).
        public var role: String = "client"
        public var heartbeatSeconds: Double = 10
        public var requestTimeoutSeconds: Double = 5
        public var reconnectInitialSeconds: Double = 0.05
        public var reconnectMaximumSeconds: Double = 30
        public var systemRegister: Bool = false
        public var aarqName: String?
        public var aarqPassword: String?
        public var dmccUser: String?
        public var dmccPassword: String?
        public var dmccSwitchName: String?
        public var tls: TLS?

        public struct TLS: Sendable, Codable, Hashable {
            public var caFile: String
            public var certificateFile: String?
            public var privateKeyFile: String?
            public var verifyHostname: Bool = true
            public var serverName: String?

            enum CodingKeys: String, CodingKey, CaseIterable {
                case caFile, certificateFile, privateKeyFile, verifyHostname, serverName
            }

            public init(from decoder: any Decoder) throws {
                try StrictKeys.check(decoder, CodingKeys.self)
                let c = try decoder.container(keyedBy: CodingKeys.self)
                caFile = try c.decode(String.self, forKey: .caFile)
                certificateFile = try c.decodeIfPresent(String.self, forKey: .certificateFile)
                privateKeyFile = try c.decodeIfPresent(String.self, forKey: .privateKeyFile)
                verifyHostname = try c.decodeIfPresent(Bool.self, forKey: .verifyHostname) ?? true
                serverName = try c.decodeIfPresent(String.self, forKey: .serverName)
            }
        }

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case host, port, flavour, encoding, framing, role, heartbeatSeconds, requestTimeoutSeconds
            case reconnectInitialSeconds, reconnectMaximumSeconds, systemRegister, aarqName, aarqPassword, dmccUser
            case dmccPassword, dmccSwitchName, tls
        }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            host = try c.decode(String.self, forKey: .host)
            port = try c.decode(Int.self, forKey: .port)
            flavour = try c.decodeIfPresent(String.self, forKey: .flavour) ?? flavour
            encoding = try c.decodeIfPresent(String.self, forKey: .encoding)
            framing = try c.decodeIfPresent(String.self, forKey: .framing)
            role = try c.decodeIfPresent(String.self, forKey: .role) ?? role
            heartbeatSeconds = try c.decodeIfPresent(Double.self, forKey: .heartbeatSeconds) ?? heartbeatSeconds
            requestTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .requestTimeoutSeconds) ?? requestTimeoutSeconds
            reconnectInitialSeconds =
                try c.decodeIfPresent(Double.self, forKey: .reconnectInitialSeconds) ?? reconnectInitialSeconds
            reconnectMaximumSeconds =
                try c.decodeIfPresent(Double.self, forKey: .reconnectMaximumSeconds) ?? reconnectMaximumSeconds
            systemRegister = try c.decodeIfPresent(Bool.self, forKey: .systemRegister) ?? systemRegister
            aarqName = try c.decodeIfPresent(String.self, forKey: .aarqName)
            aarqPassword = try c.decodeIfPresent(String.self, forKey: .aarqPassword)
            dmccUser = try c.decodeIfPresent(String.self, forKey: .dmccUser)
            dmccPassword = try c.decodeIfPresent(String.self, forKey: .dmccPassword)
            dmccSwitchName = try c.decodeIfPresent(String.self, forKey: .dmccSwitchName)
            tls = try c.decodeIfPresent(TLS.self, forKey: .tls)
        }
    }

    public struct Monitor: Sendable, Codable, Hashable {
        /// Devices to monitor: comma-separated devices and ranges (`4001-4050,8001,8100`).
        public var devices: String
        /// ACD groups and route points among them (their calls wait rather than ring).
        public var queues: String = ""
        /// Numbers of the switch that are not extensions by their length (hotlines, pilots).
        public var internalNumbers: [String] = []
        /// A number of only digits and at most this long is an extension.
        public var maxExtensionDigits: Int = 6

        public init(devices: String) { self.devices = devices }

        enum CodingKeys: String, CodingKey, CaseIterable { case devices, queues, internalNumbers, maxExtensionDigits }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            devices = try c.decode(String.self, forKey: .devices)
            queues = try c.decodeIfPresent(String.self, forKey: .queues) ?? ""
            internalNumbers = try c.decodeIfPresent([String].self, forKey: .internalNumbers) ?? []
            maxExtensionDigits = try c.decodeIfPresent(Int.self, forKey: .maxExtensionDigits) ?? maxExtensionDigits
        }
    }

    public struct Database: Sendable, Codable, Hashable {
        public var path: String = "/var/lib/ctibridge/ctibridge.sqlite"
        /// `full` (fsync every journal batch), `normal` (WAL: durable across process crashes, the last batches may be
        /// lost on power loss) or `off`.
        public var sync: String = "normal"
        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable { case path, sync }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            path = try c.decodeIfPresent(String.self, forKey: .path) ?? path
            sync = try c.decodeIfPresent(String.self, forKey: .sync) ?? sync
        }
    }

    public struct Journal: Sendable, Codable, Hashable {
        public var batchSize: Int = 512
        public var flushMilliseconds: Double = 5
        /// How often open calls are checkpointed so a restarted daemon continues them.
        public var checkpointSeconds: Double = 1
        /// Calls without any event for this long are closed (a switch that never reported their end).
        public var staleCallHours: Double = 12
        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable { case batchSize, flushMilliseconds, checkpointSeconds, staleCallHours }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? batchSize
            flushMilliseconds = try c.decodeIfPresent(Double.self, forKey: .flushMilliseconds) ?? flushMilliseconds
            checkpointSeconds = try c.decodeIfPresent(Double.self, forKey: .checkpointSeconds) ?? checkpointSeconds
            staleCallHours = try c.decodeIfPresent(Double.self, forKey: .staleCallHours) ?? staleCallHours
        }
    }

    public struct HTTP: Sendable, Codable, Hashable {
        /// `host:port` for `/health`, `/metrics`, `/api/v1/…` and the status page; empty disables HTTP.
        public var listen: String = "127.0.0.1:8080"
        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable { case listen }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            listen = try c.decodeIfPresent(String.self, forKey: .listen) ?? listen
        }
    }

    public struct Log: Sendable, Codable, Hashable {
        /// `trace`, `debug`, `info`, `notice`, `warning`, `error`, `critical`.
        public var level: String = "info"
        /// Phone numbers are masked in logs unless this is set.
        public var showNumbers: Bool = false
        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable { case level, showNumbers }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            level = try c.decodeIfPresent(String.self, forKey: .level) ?? level
            showNumbers = try c.decodeIfPresent(Bool.self, forKey: .showNumbers) ?? showNumbers
        }
    }

    /// Recording the CTI link to pcapng (`ctibridge serve --record` overrides it).
    public struct Record: Sendable, Codable, Hashable {
        /// The first file; rotated files add `.1`, `.2`, … (the highest number is the newest).
        public var path: String
        /// Start a new file after this many megabytes (of 1,048,576 bytes); `nil`: one file, never rotated.
        public var maxMegabytes: Double?
        /// Keep at most this many files, deleting the oldest; `nil`: keep all. Needs `maxMegabytes`.
        public var keep: Int?

        public init(path: String, maxMegabytes: Double? = nil, keep: Int? = nil) {
            self.path = path
            self.maxMegabytes = maxMegabytes
            self.keep = keep
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case path, maxMegabytes, keep }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            path = try c.decode(String.self, forKey: .path)
            maxMegabytes = try c.decodeIfPresent(Double.self, forKey: .maxMegabytes)
            keep = try c.decodeIfPresent(Int.self, forKey: .keep)
        }

        /// What the recorder is started with.
        public var recorderOptions: LinkCaptureRecorder.Options {
            LinkCaptureRecorder.Options(
                path: path, maximumFileBytes: maxMegabytes.map { Int64(($0 * 1_048_576).rounded(.up)) }, keep: keep)
        }

        /// The problem with the values, or `nil`; `names` are how the configuration file or the command line calls them.
        public func problem(names: (path: String, maxMegabytes: String, keep: String)) -> String? {
            if path.isEmpty { return "'\(names.path)' is empty" }
            if let maxMegabytes, !(maxMegabytes > 0) { return "'\(names.maxMegabytes)' must be positive" }
            if let keep {
                guard keep >= 1 else { return "'\(names.keep)' must be at least 1" }
                guard maxMegabytes != nil else { return "'\(names.keep)' needs '\(names.maxMegabytes)' (files rotate by size)" }
            }
            return nil
        }
    }

    public var `switch`: Switch
    public var monitor: Monitor
    public var database = Database()
    public var journal = Journal()
    public var http = HTTP()
    public var log = Log()
    public var record: Record?

    public init(switch: Switch, monitor: Monitor) {
        self.switch = `switch`
        self.monitor = monitor
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case `switch`, monitor, database, journal, http, log, record }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.switch = try c.decode(Switch.self, forKey: .switch)
        monitor = try c.decode(Monitor.self, forKey: .monitor)
        database = try c.decodeIfPresent(Database.self, forKey: .database) ?? Database()
        journal = try c.decodeIfPresent(Journal.self, forKey: .journal) ?? Journal()
        http = try c.decodeIfPresent(HTTP.self, forKey: .http) ?? HTTP()
        log = try c.decodeIfPresent(Log.self, forKey: .log) ?? Log()
        record = try c.decodeIfPresent(Record.self, forKey: .record)
    }

    // MARK: Loading

    /// Reads and validates a configuration file; the error names the file, the line or key, and what is wrong.
    public static func load(path: String) throws(BridgeConfigurationError) -> BridgeConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BridgeConfigurationError("\(path): cannot read the file")
        }
        return try parse(String(decoding: data, as: UTF8.self), source: path)
    }

    /// Parses and validates YAML text (`source` names it in errors).
    public static func parse(_ yaml: String, source: String) throws(BridgeConfigurationError) -> BridgeConfiguration {
        let configuration: BridgeConfiguration
        do {
            configuration = try YAMLDecoder().decode(BridgeConfiguration.self, from: yaml)
        } catch let error as YamlError {
            throw BridgeConfigurationError("\(source): \(error)")
        } catch let error as DecodingError {
            throw BridgeConfigurationError("\(source): \(Self.describe(error))")
        } catch {
            throw BridgeConfigurationError("\(source): \(error)")
        }
        try configuration.validate(source: source)
        return configuration
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "missing key '\(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)'"
        case .typeMismatch(let type, let context):
            return "'\(path(context))' should be \(Self.typeName(type))"
        case .valueNotFound(let type, let context):
            return "'\(path(context))' is empty, expected \(Self.typeName(type))"
        case .dataCorrupted(let context):
            return "'\(path(context))': \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: "a whole number"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is String.Type: "text"
        default: "\(type)"
        }
    }

    /// Checks every value that has a fixed set or range.
    public func validate(source: String = "configuration") throws(BridgeConfigurationError) {
        func fail(_ message: String) -> BridgeConfigurationError { BridgeConfigurationError("\(source): \(message)") }
        guard !self.switch.host.isEmpty else { throw fail("'switch.host' is empty") }
        guard (1...65535).contains(self.switch.port) || (self.switch.role == "server" && self.switch.port == 0) else {
            throw fail("'switch.port' \(self.switch.port) is not a TCP port")
        }
        guard LinkConfiguration.Flavour(rawValue: self.switch.flavour) != nil else {
            throw fail(
                "'switch.flavour' '\(self.switch.flavour)' is not one of "
                    + LinkConfiguration.Flavour.allCases.map(\.rawValue).joined(separator: ", "))
        }
        if let encoding = self.switch.encoding, CSTAEncoding(rawValue: encoding) == nil {
            throw fail("'switch.encoding' '\(encoding)' is not ber or xml")
        }
        if let framing = self.switch.framing, CSTAFraming(rawValue: framing) == nil || framing == "auto" || framing == "none" {
            throw fail("'switch.framing' '\(framing)' is not one of hipath, u16, tpkt, ecma323")
        }
        guard ["client", "server"].contains(self.switch.role) else {
            throw fail("'switch.role' '\(self.switch.role)' is not client or server")
        }
        guard self.switch.heartbeatSeconds > 0, self.switch.requestTimeoutSeconds > 0 else {
            throw fail("'switch.heartbeatSeconds' and 'switch.requestTimeoutSeconds' must be positive")
        }
        guard self.switch.reconnectInitialSeconds > 0, self.switch.reconnectMaximumSeconds >= self.switch.reconnectInitialSeconds
        else {
            throw fail("'switch.reconnectInitialSeconds' must be positive and at most 'switch.reconnectMaximumSeconds'")
        }
        do {
            _ = try DeviceList.parse(monitor.devices)
            _ = try DeviceList.parse(monitor.queues)
        } catch {
            throw fail("'monitor': \(error)")
        }
        guard (1...20).contains(monitor.maxExtensionDigits) else {
            throw fail("'monitor.maxExtensionDigits' must be between 1 and 20")
        }
        guard JournalSync(rawValue: database.sync) != nil else {
            throw fail("'database.sync' '\(database.sync)' is not full, normal or off")
        }
        guard !database.path.isEmpty else { throw fail("'database.path' is empty") }
        guard (1...100_000).contains(journal.batchSize), journal.flushMilliseconds > 0, journal.checkpointSeconds > 0,
            journal.staleCallHours > 0
        else {
            throw fail("'journal' values must be positive (batchSize up to 100000)")
        }
        if !http.listen.isEmpty, Self.hostPort(http.listen) == nil {
            throw fail("'http.listen' '\(http.listen)' is not host:port")
        }
        guard Logger.Level(rawValue: log.level) != nil else {
            throw fail("'log.level' '\(log.level)' is not trace, debug, info, notice, warning, error or critical")
        }
        if let problem = record?.problem(names: ("record.path", "record.maxMegabytes", "record.keep")) {
            throw fail(problem)
        }
    }

    /// `host:port` (IPv6 hosts in brackets) split, or `nil`.
    public static func hostPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    // MARK: What the parts are made with

    /// The link's configuration.
    public func linkConfiguration() -> LinkConfiguration {
        let s = self.switch
        let flavour = LinkConfiguration.Flavour(rawValue: s.flavour) ?? .hipathBER
        var c = LinkConfiguration(host: s.host, port: s.port, flavour: flavour, role: s.role == "server" ? .server : .client)
        if let encoding = s.encoding.flatMap(CSTAEncoding.init(rawValue:)) { c.encoding = encoding }
        if let framing = s.framing.flatMap(CSTAFraming.init(rawValue:)) { c.framing = framing }
        c.heartbeatInterval = .milliseconds(Int64(s.heartbeatSeconds * 1000))
        c.requestTimeout = .milliseconds(Int64(s.requestTimeoutSeconds * 1000))
        c.backoff = .init(
            initial: .milliseconds(Int64(s.reconnectInitialSeconds * 1000)),
            maximum: .milliseconds(Int64(s.reconnectMaximumSeconds * 1000)), jitter: 0.2)
        c.systemRegister = s.systemRegister
        c.credentials.aarqName = s.aarqName
        c.credentials.aarqPassword = s.aarqPassword
        c.credentials.dmccUser = s.dmccUser
        c.credentials.dmccPassword = s.dmccPassword
        c.dmccSwitchName = s.dmccSwitchName
        c.maskNumbersInLogs = !log.showNumbers
        if let tls = s.tls {
            var t = LinkConfiguration.TLS(
                caFile: tls.caFile, certificateFile: tls.certificateFile, privateKeyFile: tls.privateKeyFile,
                verifyHostname: tls.verifyHostname)
            t.serverName = tls.serverName
            c.tls = t
        }
        return c
    }

    /// The monitored devices, in order.
    public func monitoredDevices() -> [String] { (try? DeviceList.parse(monitor.devices)) ?? [] }

    /// The call model's configuration.
    public func callModelConfiguration() -> CallModelEngine.Configuration {
        let queues = (try? DeviceList.parse(monitor.queues)) ?? []
        return CallModelEngine.Configuration(
            dialPlan: DialPlan(
                maxExtensionDigits: monitor.maxExtensionDigits, internalNumbers: Set(monitor.internalNumbers)),
            monitoredDevices: Set(monitoredDevices()), queueDevices: Set(queues))
    }
}

/// A configuration that cannot be used, with what and where.
public struct BridgeConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Rejects keys a section does not know, so a misspelt key is an error rather than a silently ignored line.
enum StrictKeys {
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static func check<Keys: CodingKey & CaseIterable>(_ decoder: any Decoder, _ keys: Keys.Type) throws {
        let known = Set(Keys.allCases.map(\.stringValue))
        let container = try decoder.container(keyedBy: AnyKey.self)
        for key in container.allKeys where !known.contains(key.stringValue) {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath + [key],
                    debugDescription: "unknown key (known: \(known.sorted().joined(separator: ", ")))"))
        }
    }
}
