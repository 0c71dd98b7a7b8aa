import CSTA
import Logging
import NIOCore
import NIOPosix

/// Plays a captured link's switch side towards a live bridge (`ctibridge replay --to`): the switch's unsolicited
/// messages (events, SystemStatus, RouteRequest…) go out in trace order at the captured pace (scaled); each request
/// the application sent in the trace is waited for from the live bridge, and the trace's answer to it goes back with
/// the live request's invoke id. So a new build meets the traffic a site's switch produced, answers included.
///
/// Matching: a live request matches the trace's next unmatched request with the same service and subject (device,
/// monitored object or call id); the bridge may ask in another order. Heartbeats (SystemStatus, session timer
/// resets) are answered at once and not waited for. A trace request the bridge does not send within
/// ``Options/requestTimeout`` is skipped with its answer; a live request the trace does not hold gets a CSTA error
/// after the same time, so the bridge is never left waiting.
public struct TraceSwitchPlayer: Sendable {
    public struct Options: Sendable {
        /// Captured speed multiplier (`nil`: as fast as the matching allows).
        public var speed: Double?
        /// Follow only this connection of the capture (`nil`: the first that carries CSTA).
        public var connection: Int?
        public var requestTimeout: Duration
        /// How long to wait after the trace's last message before closing.
        public var linger: Duration

        public init(speed: Double? = nil, connection: Int? = nil, requestTimeout: Duration = .seconds(5), linger: Duration = .seconds(1)) {
            self.speed = speed
            self.connection = connection
            self.requestTimeout = requestTimeout
            self.linger = linger
        }
    }

    /// What the replay did.
    public struct Report: Sendable, CustomStringConvertible {
        /// Unsolicited messages sent (events and the switch's own requests).
        public var sent = 0
        /// Answers sent to requests the bridge made as the trace did.
        public var answered = 0
        /// Trace requests the bridge did not make (their answers skipped).
        public var notAsked = 0
        /// Live requests the trace does not hold (answered with an error).
        public var unknownRequests = 0
        /// Heartbeats answered without the trace.
        public var heartbeats = 0
        /// Messages of other connections, skipped.
        public var otherConnections = 0
        public var gaps = 0

        public var json: String {
            "{\"type\": \"played\", \"sent\": \(sent), \"answered\": \(answered), \"notAsked\": \(notAsked), "
                + "\"unknownRequests\": \(unknownRequests), \"heartbeats\": \(heartbeats), "
                + "\"otherConnections\": \(otherConnections), \"gaps\": \(gaps)}"
        }

        public var description: String { json }
    }

    public let options: Options
    let logger: Logger

    public init(options: Options = .init(), logger: Logger = Logger(label: "ctibridge.replay.player")) {
        self.options = options
        self.logger = logger
    }

    /// Connects to a bridge that listens at `host:port` and plays `reader`'s switch side to it. When the trace moves
    /// on to a new connection (the live bridge reconnected), the player closes its connection and connects again, as
    /// the switch's side of that reconnect.
    public func play(_ reader: ReplayReader, toHost host: String, port: Int) async throws -> Report {
        var report = Report()
        var carried: ReplayItem? = nil
        var connections = 0
        repeat {
            let channel = try await connect(host: host, port: port, retryFor: connections == 0 ? .zero : .seconds(10))
            connections += 1
            carried = try await play(reader, over: channel, first: carried, report: &report)
        } while carried != nil
        return report
    }

    /// Listens at `host:port` (port 0: any free port, reported through `onListening`) and plays `reader`'s switch
    /// side to the bridge that dials in; each connection of the trace is played to the next connection the bridge
    /// makes (its reconnects).
    public func play(
        _ reader: ReplayReader, listeningOn host: String, port: Int,
        onListening: @Sendable (Int) async -> Void = { _ in }
    ) async throws -> Report {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(CSTAFrameDecoder(framing: .auto)))
                    return try NIOAsyncChannel<CSTAFrame, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        await onListening(server.channel.localAddress?.port ?? port)
        var report = Report()
        try await server.executeThenClose { connections in
            var carried: ReplayItem? = nil
            for try await channel in connections {
                carried = try await play(reader, over: channel, first: carried, report: &report)
                if carried == nil { break }
            }
        }
        return report
    }

    private func connect(host: String, port: Int, retryFor patience: Duration) async throws
        -> NIOAsyncChannel<CSTAFrame, ByteBuffer>
    {
        let deadline = ContinuousClock.now + patience
        while true {
            do {
                return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                    .connect(host: host, port: port) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                ByteToMessageHandler(CSTAFrameDecoder(framing: .auto)))
                            return try NIOAsyncChannel<CSTAFrame, ByteBuffer>(wrappingChannelSynchronously: channel)
                        }
                    }
            } catch {
                // A bridge that listens again after the previous connection closed needs a moment.
                guard ContinuousClock.now < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Plays until the trace ends (`nil`) or moves to another connection (that connection's first item).
    private func play(
        _ reader: ReplayReader, over channel: NIOAsyncChannel<CSTAFrame, ByteBuffer>, first: ReplayItem?,
        report: inout Report
    ) async throws -> ReplayItem? {
        let start = report
        let (next, finished) = try await channel.executeThenClose { inbound, outbound -> (ReplayItem?, Report) in
            let inbox = LiveRequests()
            let reading = Task {
                do {
                    for try await frame in inbound {
                        guard let message = try? frame.decode() else { continue }
                        let record = message.record()
                        // Only requests wait for an answer; the bridge's answers to the switch's own invokes do not.
                        guard ["invoke", "aarq", "rlrq"].contains(record.string("pdu") ?? "") else { continue }
                        await inbox.add(LiveRequest(message: message, record: record))
                    }
                } catch {}
                await inbox.close()
            }
            defer { reading.cancel() }
            var session = PlayerSession(options: options, outbound: outbound, inbox: inbox, logger: logger, report: start)
            var item = first ?? reader.next()
            while let current = item {
                if session.isAnotherConnection(current) {
                    try await session.linger(upTo: .milliseconds(200))
                    return (current, session.report)
                }
                try await session.handle(current)
                try await session.answerHeartbeatsAndStrays()
                item = reader.next()
            }
            try await session.linger(upTo: options.linger)
            return (nil, session.report)
        }
        report = finished
        return next
    }
}

/// A request the live bridge sent.
struct LiveRequest: Sendable {
    var message: CSTAMessage
    var record: CSTARecord
    var received = ContinuousClock.now

    var service: String { record.string("service") ?? record.string("pdu") ?? "" }
    var invokeId: Int64? { record.int("invokeId") }
    var key: String { PlayerSession.key(service, record) }
}

/// The live bridge's requests, as they arrive.
actor LiveRequests {
    private(set) var waiting: [LiveRequest] = []
    private(set) var closed = false

    func add(_ request: LiveRequest) { waiting.append(request) }
    func close() { closed = true }

    /// Takes the oldest request with `key`.
    func take(key: String) -> LiveRequest? {
        guard let index = waiting.firstIndex(where: { $0.key == key }) else { return nil }
        return waiting.remove(at: index)
    }

    /// Takes every request that `predicate` selects.
    func takeAll(where predicate: @Sendable (LiveRequest) -> Bool) -> [LiveRequest] {
        let taken = waiting.filter(predicate)
        waiting.removeAll(where: predicate)
        return taken
    }
}

/// The player's state while it walks the trace.
struct PlayerSession {
    let options: TraceSwitchPlayer.Options
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let inbox: LiveRequests
    let logger: Logger
    var report = TraceSwitchPlayer.Report()
    private var followed: Int?
    /// Trace invoke id of a request the bridge made → the live request.
    private var matched: [Int64: LiveRequest] = [:]
    private var paceOrigin: (capture: Double, wall: ContinuousClock.Instant)?
    private var framing: CSTAFraming = .u16

    static let heartbeats: Set<String> = ["SystemStatus", "ResetApplicationSessionTimer"]

    init(
        options: TraceSwitchPlayer.Options, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, inbox: LiveRequests,
        logger: Logger, report: TraceSwitchPlayer.Report
    ) {
        self.options = options
        self.outbound = outbound
        self.inbox = inbox
        self.logger = logger
        self.report = report
    }

    /// A message of a later connection than the one played (the live bridge reconnected), when no connection was
    /// chosen.
    func isAnotherConnection(_ item: ReplayItem) -> Bool {
        guard options.connection == nil, let followed, case .message(let message) = item else { return false }
        return message.connection.id > followed
    }

    static func key(_ service: String, _ record: CSTARecord) -> String {
        let subject =
            switch service {
            case "MonitorStart": record.string("monitorObject")
            case "SnapshotCall", "AnswerCall", "ClearConnection", "HoldCall", "RetrieveCall": record.string("callID")
            default: record.string("device") ?? record.string("callID")
            }
        return service + "|" + (subject ?? "")
    }

    mutating func handle(_ item: ReplayItem) async throws {
        switch item {
        case .gap(let gap):
            if gap.connection.id == followed { report.gaps += 1 }
        case .error:
            break
        case .message(let message):
            if let only = options.connection, only != message.connection.id {
                report.otherConnections += 1
                return
            }
            if followed == nil { followed = message.connection.id }
            guard followed == message.connection.id else {
                // An earlier connection's late bytes.
                report.otherConnections += 1
                return
            }
            guard let decoded = try? message.decode().get() else { return }
            let record = decoded.record()
            let pdu = record.string("pdu") ?? ""
            let service = record.string("service") ?? pdu
            if message.direction == .applicationToSwitch {
                guard pdu == "invoke" || pdu == "aarq" || pdu == "rlrq", !Self.heartbeats.contains(service) else { return }
                if let live = try await waitForLive(Self.key(service, record)) {
                    matched[record.int("invokeId") ?? -1] = live
                } else {
                    report.notAsked += 1
                    logger.warning(
                        "the bridge did not send a request the trace's application sent; its answer is skipped",
                        metadata: ["request": "\(Self.key(service, record))", "traceInvokeId": "\(record.int("invokeId") ?? -1)"])
                }
                return
            }
            framing = message.framing
            switch pdu {
            case "returnResult", "returnError", "reject", "aare", "rlre":
                let traceInvokeId = record.int("invokeId") ?? -1
                guard let live = matched.removeValue(forKey: traceInvokeId) else { return }
                try await send(message, invokeId: live.invokeId)
                report.answered += 1
            default:
                // Events and the switch's own requests (its SystemStatus heartbeat too): sent as captured; the bridge's
                // answers to them are not waited for.
                await pace(message.epochSeconds)
                try await send(message, invokeId: nil)
                report.sent += 1
            }
        }
    }

    /// Waits for the bridge to send a request with `key`; `nil` after the timeout or when the bridge has gone.
    private mutating func waitForLive(_ key: String) async throws -> LiveRequest? {
        let deadline = ContinuousClock.now + options.requestTimeout
        while true {
            if let live = await inbox.take(key: key) { return live }
            try await answerHeartbeatsAndStrays()
            if ContinuousClock.now >= deadline { return nil }
            if await inbox.closed { return nil }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Answers the bridge's heartbeats at once, and requests that waited past the timeout (the trace does not hold
    /// them) with an error.
    mutating func answerHeartbeatsAndStrays() async throws {
        let timeout = options.requestTimeout
        let now = ContinuousClock.now
        let due = await inbox.takeAll { request in
            PlayerSession.heartbeats.contains(request.service) || now - request.received > timeout
        }
        for request in due {
            var answer = CSTARecord()
            answer["invokeId"] = request.record["invokeId"]
            if PlayerSession.heartbeats.contains(request.service) {
                answer["pdu"] = .string("returnResult")
                answer["service"] = .string(request.service)
                if let op = request.record["op"] { answer["op"] = op }
                report.heartbeats += 1
            } else {
                answer["pdu"] = .string("returnError")
                answer["service"] = .string(request.service)
                if let op = request.record["op"] { answer["op"] = op }
                answer["errorCode"] = .string("operation:invalidServiceType")
                report.unknownRequests += 1
                logger.notice("the trace holds no answer to the bridge's request", metadata: ["service": "\(request.service)"])
            }
            try await sendEncoded(answer, like: request.message)
        }
    }

    mutating func linger(upTo duration: Duration) async throws {
        let end = ContinuousClock.now + duration
        while ContinuousClock.now < end {
            if await inbox.closed { break }
            try await answerHeartbeatsAndStrays()
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    private mutating func pace(_ captureSeconds: Double?) async {
        guard let speed = options.speed, let captureSeconds else { return }
        guard let origin = paceOrigin else {
            paceOrigin = (captureSeconds, ContinuousClock.now)
            return
        }
        let due = origin.wall + .microseconds(Int64((captureSeconds - origin.capture) / speed * 1_000_000))
        if due > ContinuousClock.now { try? await Task.sleep(until: due) }
    }

    /// Sends a captured message, its invoke id replaced by the live request's when it answers one.
    private func send(_ message: ReplayMessage, invokeId: Int64?) async throws {
        var payload = Array(message.payload.readableBytesView)
        var headerInvokeId = Int(message.headerInvokeId ?? 9999)
        if let invokeId {
            if message.encoding == .ber {
                payload = BERInvokeIdPatch.replacingInvokeId(in: payload, with: invokeId) ?? payload
            }
            headerInvokeId = Int(invokeId)
        }
        var out: [UInt8] = []
        try CSTAFrameWriter.write(payload, framing: message.framing, invokeId: headerInvokeId, to: &out)
        try await outbound.write(ByteBuffer(bytes: out))
    }

    private func sendEncoded(_ record: CSTARecord, like request: CSTAMessage) async throws {
        let payload = request.encoding == .ber ? try BERCodec.encode(record) : try XMLCodec.encode(record)
        var out: [UInt8] = []
        try CSTAFrameWriter.write(
            payload, framing: framing, invokeId: Int(request.fields.invokeId ?? 0) % 10_000, to: &out)
        try await outbound.write(ByteBuffer(bytes: out))
    }
}

/// Rewrites the invoke id of a ROSE APDU (`[1]`–`[4]` IMPLICIT SEQUENCE whose first element is the INTEGER invoke id)
/// in place, so an answer goes back byte for byte as captured except for the id.
enum BERInvokeIdPatch {
    static func replacingInvokeId(in apdu: [UInt8], with invokeId: Int64) -> [UInt8]? {
        guard apdu.count >= 2, [0xA1, 0xA2, 0xA3, 0xA4].contains(apdu[0]),
            let (outerLength, outerHeader) = length(apdu, at: 1), outerHeader + outerLength <= apdu.count,
            apdu.count > outerHeader, apdu[outerHeader] == 0x02,
            let (idLength, idStart) = length(apdu, at: outerHeader + 1), idStart + idLength <= outerHeader + outerLength
        else { return nil }
        var id: [UInt8] = []
        var v = invokeId
        repeat {
            id.insert(UInt8(truncatingIfNeeded: v), at: 0)
            v >>= 8
        } while v != 0 && v != -1
        if (id[0] & 0x80 != 0) != (invokeId < 0) { id.insert(invokeId < 0 ? 0xFF : 0x00, at: 0) }
        let rest = apdu[(idStart + idLength)..<(outerHeader + outerLength)]
        let content = [0x02, UInt8(id.count)] + id + rest
        return [apdu[0]] + encodeLength(content.count) + content
    }

    /// The length at `index` and where the content starts (absolute).
    private static func length(_ bytes: [UInt8], at index: Int) -> (Int, Int)? {
        guard index < bytes.count else { return nil }
        let first = bytes[index]
        if first < 0x80 { return (Int(first), index + 1) }
        let count = Int(first & 0x7F)
        guard count >= 1, count <= 4, index + count < bytes.count else { return nil }
        var n = 0
        for k in 1...count { n = n << 8 | Int(bytes[index + k]) }
        return (n, index + 1 + count)
    }

    private static func encodeLength(_ n: Int) -> [UInt8] {
        if n < 0x80 { return [UInt8(n)] }
        var bytes: [UInt8] = []
        var v = n
        while v > 0 {
            bytes.insert(UInt8(v & 0xFF), at: 0)
            v >>= 8
        }
        return [0x80 | UInt8(bytes.count)] + bytes
    }
}
