import CSTA
import Logging
import Metrics
import NIOCore
import NIOPosix

/// An answer to a request: the decoded returnResult (or positive response) and its key-set record.
public struct CSTAResult: Sendable {
    /// The decoded answer (spans into its payload).
    public var message: CSTAMessage
    /// The answer's key-set record (`callID`, `monitorCrossRefID`, `snapshotCallIDs`, …).
    public var record: CSTARecord
}

/// One CTI link to one switch, TSAPI-style: requests are `async` methods that return the switch's answer or throw
/// ``CSTAServiceError`` / ``CSTALinkError``; everything unsolicited arrives on ``events``.
///
/// The link dials (or accepts) the switch, brings the association up the way the flavour expects, answers the
/// switch's SystemStatus at any time, sends keep-alives when idle, declares the link dead after
/// ``LinkConfiguration/effectiveDeadLinkInterval`` of silence, and reconnects with exponential back-off. After each
/// (re)connect it restarts every monitor (pipelined; the new cross-reference ids map to the same devices), sends
/// SnapshotDevice for each, and only then publishes link-up.
///
/// ```swift
/// let link = CSTALinkClient(configuration: config)
/// await link.addMonitors(["4001", "4002"])
/// await link.start()
/// for await event in link.events { … }
/// ```
public actor CSTALinkClient {
    /// The configuration the link was made with.
    public nonisolated let configuration: LinkConfiguration
    /// Link events: CSTA messages from the switch (with their monitored device), snapshots, link up/down.
    public nonisolated let events: AsyncStream<LinkEvent>
    let sink: AsyncStream<LinkEvent>.Continuation
    let logger: Logger
    let group: any EventLoopGroup
    let clock = ContinuousClock()
    /// Frames the framing rejected (garbage, lengths out of bounds) and frames whose message did not decode.
    let frameErrors = Counter(label: "ctibridge_csta_frame_errors_total")
    let decodeErrors = Counter(label: "ctibridge_csta_decode_errors_total")

    struct Pending {
        var continuation: CheckedContinuation<CSTAResult, any Error>
        var service: String?
        var serial: UInt64
        var timeout: Task<Void, Never>
        /// MonitorStart: the device being monitored, so the answer's cross-reference id is mapped when the answer
        /// arrives — before any event on it that the switch sends right after is handled.
        var monitoredDevice: String? = nil
    }

    struct Connection {
        var channel: any Channel
        var out: AsyncStream<ByteBuffer>.Continuation
        var generation: Int
        /// The session has decided the connection is over; nothing more is sent on it.
        var ending = false
    }

    // Connection state.
    var connection: Connection?
    var generation = 0
    var attempt = 0
    var isUp = false
    var allocator: InvokeIdAllocator
    var pending: [Int: Pending] = [:]
    /// Invoke ids of requests the switch does not answer (RouteSelect, RouteEnd), kept for a request timeout so a
    /// returnError still finds its service and no new request reuses the id meanwhile.
    var unanswered: [Int: String] = [:]
    var serial: UInt64 = 0
    var slotsUsed = 0
    var slotWaiters: [CheckedContinuation<Void, any Error>] = []
    var association: CheckedContinuation<CSTARecord, any Error>?
    var switchStatusSeen = false
    var lastInbound: ContinuousClock.Instant
    var lastKeepAlive: ContinuousClock.Instant
    /// A keep-alive was sent by the supervisor (not just the connection's start): its silence counts.
    var keepAliveOutstanding = false
    var upWaiters: [CheckedContinuation<Void, Never>] = []
    var runTask: Task<Void, Never>?
    var stopped = false
    var boundPort: Int?

    // Monitors: the devices the application wants monitored, in order, and the current cross-reference ids.
    var monitorOrder: [String] = []
    var crossRefByDevice: [String: String] = [:]
    var deviceByCrossRef: [String: String] = [:]
    var dmccDeviceIds: [String: String] = [:]

    // Session data.
    /// The DMCC session id, while a session is up.
    public internal(set) var sessionID: String?
    var sessionDuration: Int = 180
    var lastSessionReset: ContinuousClock.Instant
    /// The id SystemRegister returned, if the link registered.
    public internal(set) var sysStatRegisterID: String?
    /// The most requests that were in flight at once (pipelining at work).
    public internal(set) var peakRequestsInFlight = 0
    /// The CSTA versions the switch accepted in its AARE.
    public internal(set) var acceptedVersions: [String] = []
    /// Why the last start-up failed (``CSTALinkError/Code/authenticationFailed`` for a refused DMCC log-in, …);
    /// cleared when the link comes up.
    public internal(set) var lastStartUpError: CSTALinkError?
    /// The start-up error of the connection that is ending, for its link-down event.
    var endingError: CSTALinkError?

    /// Creates a link; nothing happens until ``start()``.
    /// - Parameters:
    ///   - configuration: where and how to connect.
    ///   - eventLoopGroup: NIO threads (the shared singleton by default).
    ///   - logger: swift-log logger; numbers are masked unless ``LinkConfiguration/maskNumbersInLogs`` is off.
    public init(
        configuration: LinkConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "ctibridge.link")
    ) {
        self.configuration = configuration
        self.group = eventLoopGroup
        self.logger = logger
        (events, sink) = AsyncStream.makeStream(of: LinkEvent.self, bufferingPolicy: .unbounded)
        allocator = InvokeIdAllocator(range: configuration.invokeIdRange)
        let now = ContinuousClock().now
        lastInbound = now
        lastKeepAlive = now
        lastSessionReset = now
    }

    /// Whether the link is up (associated, monitors restored).
    public var linkIsUp: Bool { isUp }

    /// The port the link listens on (server role), once bound.
    public var listeningPort: Int? { boundPort }

    /// Devices monitored on every link-up, in order.
    public var monitoredDevices: [String] { monitorOrder }

    /// The current cross-reference id of a monitored device (`nil` while the link is down).
    public func crossReference(for device: String) -> String? { crossRefByDevice[device] }

    /// Starts connecting (client) or listening (server); returns at once. Idempotent.
    public func start() {
        guard runTask == nil, !stopped else { return }
        runTask = Task { await self.run() }
    }

    /// Stops the link: closes the connection, fails every request in flight and finishes ``events``.
    public func shutdown() async {
        stopped = true
        runTask?.cancel()
        connection?.channel.close(promise: nil)
        let task = runTask
        await task?.value
        connectionGone(reason: "shutdown", publish: false)
        for w in upWaiters { w.resume() }
        upWaiters.removeAll()
        sink.finish()
    }

    /// Waits until the link is up, or `timeout` passes.
    /// - Returns: whether the link is up.
    @discardableResult
    public func waitUntilUp(timeout: Duration) async -> Bool {
        if isUp { return true }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            await self?.wakeUpWaiters()
        }
        await withCheckedContinuation { upWaiters.append($0) }
        timer.cancel()
        return isUp
    }

    func wakeUpWaiters() {
        for w in upWaiters { w.resume() }
        upWaiters.removeAll()
    }

    // MARK: Life cycle

    func run() async {
        switch configuration.role {
        case .client: await runClient()
        case .server: await runServer()
        }
    }

    func runClient() async {
        var failures = 0
        while !Task.isCancelled && !stopped {
            attempt += 1
            let reason: String
            do {
                let channel = try await LinkTransport.connect(configuration, group: group)
                let (r, wasUp) = try await session(channel)
                reason = r
                if wasUp { failures = 0 }
            } catch {
                reason = "connect failed: \(error)"
            }
            connectionGone(reason: stopped ? "shutdown" : reason, publish: true)
            if Task.isCancelled || stopped { return }
            let delay = configuration.backoff.delay(attempt: failures, random: Double.random(in: 0...1))
            failures += 1
            logger.info("reconnecting", metadata: ["in": "\(delay)", "after": "\(reason)"])
            try? await Task.sleep(for: delay)
        }
    }

    func runServer() async {
        do {
            let server = try await LinkTransport.listen(configuration, group: group)
            boundPort = server.channel.localAddress?.port
            logger.info("listening", metadata: ["port": "\(boundPort ?? -1)"])
            try await server.executeThenClose { inbound in
                for try await channel in inbound {
                    if Task.isCancelled || stopped { break }
                    attempt += 1
                    let reason: String
                    do { reason = try await session(channel).0 } catch { reason = "\(error)" }
                    connectionGone(reason: stopped ? "shutdown" : reason, publish: true)
                }
            }
        } catch {
            logger.error("listener failed", metadata: ["error": "\(error)"])
            sink.yield(.state(LinkStateChange(state: .down, reason: "listen failed: \(error)", attempt: attempt)))
        }
    }

    /// Runs one connection to its end: reader, writer, start-up and supervision. Returns why it ended and whether the
    /// link came up on it.
    func session(_ channel: FrameChannel) async throws -> (String, Bool) {
        try await channel.executeThenClose { inbound, outbound in
            generation += 1
            let gen = generation
            let (outStream, out) = AsyncStream.makeStream(of: ByteBuffer.self)
            connection = Connection(channel: channel.channel, out: out, generation: gen)
            allocator = InvokeIdAllocator(range: configuration.invokeIdRange)
            unanswered.removeAll()
            switchStatusSeen = false
            lastInbound = clock.now
            lastKeepAlive = clock.now
            keepAliveOutstanding = false
            logger.info("connected", metadata: ["peer": "\(channel.channel.remoteAddress.map { "\($0)" } ?? "?")"])
            // Each task ends with why the connection is over; the start-up watchdog ends with `nil` once the link is up.
            let reason = await withTaskGroup(of: String?.self) { tasks in
                tasks.addTask {
                    do {
                        for try await frame in inbound { await self.receive(frame, generation: gen) }
                        return "closed by peer"
                    } catch {
                        return "read failed: \(error)"
                    }
                }
                tasks.addTask {
                    for await buffer in outStream {
                        do { try await outbound.write(buffer) } catch { return "write failed: \(error)" }
                    }
                    return "closed"
                }
                tasks.addTask {
                    do {
                        try await self.startUp(generation: gen)
                        return await self.supervise(generation: gen)
                    } catch {
                        return await self.startUpFailed(error)
                    }
                }
                tasks.addTask { await self.watchStartUp(generation: gen) }
                var first = "closed"
                while let next = await tasks.next() {
                    if let next {
                        first = next
                        break
                    }
                }
                out.finish()
                channel.channel.close(promise: nil)
                tasks.cancelAll()
                // Requests in flight (a start-up's MonitorStarts, say) would otherwise hold the session until they
                // time out.
                self.connectionEnding(generation: gen, reason: first)
                return first
            }
            return (reason, isUp)
        }
    }

    /// The session is over: nothing more is sent, and whatever waits for an answer fails now.
    func connectionEnding(generation gen: Int, reason: String) {
        guard connection?.generation == gen else { return }
        connection?.ending = true
        failAll(CSTALinkError(.linkDown, reason))
        association?.resume(throwing: CSTALinkError(.linkDown, reason))
        association = nil
    }

    /// Whether `gen` is the connection in use (not ended, not being ended).
    func isCurrent(_ gen: Int) -> Bool { connection.map { $0.generation == gen && !$0.ending } ?? false }

    /// Remembers why start-up failed (for ``lastStartUpError`` and the link-down event) and says so in words.
    func startUpFailed(_ error: any Error) -> String {
        guard let linkError = error as? CSTALinkError else { return "start-up failed: \(error)" }
        // A start-up cut short by the connection's end is not why the connection ended.
        if linkError.code != .linkDown && linkError.code != .shutdown {
            lastStartUpError = linkError
            endingError = linkError
        }
        if linkError.code == .authenticationFailed {
            logger.error("authentication failed", metadata: ["error": "\(linkError.message)"])
            return "authentication failed: \(linkError.message)"
        }
        return "start-up failed: \(linkError)"
    }

    /// Clears everything that belonged to the connection and publishes link-down if it had been up or tried.
    func connectionGone(reason: String, publish: Bool) {
        let wasConnected = connection != nil || isUp
        connection?.out.finish()
        connection = nil
        isUp = false
        sessionID = nil
        failAll(CSTALinkError(.linkDown, reason))
        association?.resume(throwing: CSTALinkError(.linkDown, reason))
        association = nil
        crossRefByDevice.removeAll()
        deviceByCrossRef.removeAll()
        if publish {
            logger.log(level: stopped ? .info : .warning, "link down", metadata: ["reason": "\(reason)", "attempt": "\(attempt)"])
            if wasConnected || attempt == 1 {
                sink.yield(.state(LinkStateChange(state: .down, reason: reason, attempt: attempt, error: endingError?.code)))
            }
        }
        endingError = nil
    }

    /// Association, registration, monitor restart and snapshots; then link-up.
    func startUp(generation gen: Int) async throws {
        switch configuration.flavour {
        case .hipathBER, .genericBER:
            try await associate()
            if configuration.systemRegister { try await register() }
        case .openScapeXML:
            // The switch speaks first (SystemStatus, answered in `receive`); wait for it a while, then register.
            let deadline = clock.now + configuration.requestTimeout
            while !switchStatusSeen && clock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            try await register()
        case .dmccXML:
            try await startApplicationSession()
        }
        guard isCurrent(gen) else { throw CSTALinkError(.linkDown) }
        let (started, failed) = await restartMonitors()
        guard isCurrent(gen) else { throw CSTALinkError(.linkDown) }
        await snapshotMonitoredDevices()
        guard isCurrent(gen) else { throw CSTALinkError(.linkDown) }
        isUp = true
        lastStartUpError = nil
        logger.info("link up", metadata: ["monitors": "\(started)", "failed": "\(failed)"])
        sink.yield(.state(LinkStateChange(state: .up, reason: "associated", attempt: attempt, monitors: started, failedMonitors: failed)))
        wakeUpWaiters()
    }

    /// Dead-link detection while the link is coming up (``supervise(generation:)`` takes over at link-up): a switch
    /// that answers nothing for ``LinkConfiguration/effectiveDeadLinkInterval`` during start-up — half-open between
    /// the association and the last snapshot, say — ends the connection then, instead of after every start-up request
    /// has timed out. Returns `nil` once the link is up.
    func watchStartUp(generation gen: Int) async -> String? {
        let dead = configuration.effectiveDeadLinkInterval
        while !Task.isCancelled, isCurrent(gen), !isUp {
            let silence = clock.now - lastInbound
            if silence >= dead { return "dead link during start-up: no answer for \(silence)" }
            try? await Task.sleep(for: max(.milliseconds(1), min(dead - silence, .milliseconds(100))))
        }
        return nil
    }

    /// Keep-alives when idle, dead-link detection, DMCC session timer resets. Returns why the link is dead.
    func supervise(generation gen: Int) async -> String {
        let heartbeat = configuration.heartbeatInterval
        let dead = configuration.effectiveDeadLinkInterval
        let tick = min(max(min(heartbeat, dead) / 10, .milliseconds(10)), .seconds(1))
        while !Task.isCancelled {
            // Wake at the dead-link deadline itself, so silence is detected within the configured interval.
            let untilDead = lastInbound + dead - clock.now
            try? await Task.sleep(for: max(.milliseconds(1), min(tick, untilDead)))
            guard connection?.generation == gen else { return "closed" }
            let now = clock.now
            if now - lastInbound >= dead {
                return "dead link: no traffic for \(now - lastInbound)"
            }
            // A keep-alive went out and nothing at all came back since: a half-open link answers nothing.
            if keepAliveOutstanding, lastKeepAlive > lastInbound, now - lastKeepAlive >= configuration.effectiveKeepAliveTimeout {
                return "dead link: keep-alive unanswered for \(now - lastKeepAlive)"
            }
            if configuration.flavour == .dmccXML, sessionID != nil,
                now - lastSessionReset >= .milliseconds(max(200, sessionDuration * 1000 / 3))
            {
                lastSessionReset = now
                lastKeepAlive = now
                Task { try? await self.resetSessionTimer() }
            } else if now - lastInbound >= heartbeat && now - lastKeepAlive >= heartbeat {
                lastKeepAlive = now
                keepAliveOutstanding = true
                Task { try? await self.keepAlive() }
            }
        }
        return "cancelled"
    }
}
