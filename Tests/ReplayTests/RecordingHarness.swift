import CSTA
import CSTALink
import Foundation
import Logging
import NIOCore
import NIOPosix
import Replay
import Simulator
import Synchronization

/// Loops of their own, so other suites' work cannot delay these tests' timers.
let recordingTestGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

/// A TCP proxy on loopback between the link and the simulator that keeps what went each way, per connection: the
/// truth a recording is compared with, seen on the wire and not through the link's tap. Bytes are kept once they
/// have been written on, so a connection the proxy drops keeps only what really passed.
final class WireProxy: Sendable {
    struct Conversation: Sendable {
        var toSwitch: [UInt8] = []
        var fromSwitch: [UInt8] = []
    }

    /// The conversations and the open channels, shared with the glue handlers.
    final class State: Sendable {
        let conversations = Mutex<[Conversation]>([])
        let channels = Mutex<[any Channel]>([])

        func add(_ bytes: [UInt8], index: Int, towardsSwitch: Bool) {
            conversations.withLock {
                if towardsSwitch { $0[index].toSwitch += bytes } else { $0[index].fromSwitch += bytes }
            }
        }
    }

    let port: Int
    private let state: State
    private let server: any Channel

    private init(port: Int, server: any Channel, state: State) {
        self.port = port
        self.server = server
        self.state = state
    }

    /// What passed, one entry per accepted connection, in order.
    var recorded: [Conversation] { state.conversations.withLock { $0 } }

    static func start(upstreamPort: Int) async throws -> WireProxy {
        let state = State()
        let server = try await ServerBootstrap(group: recordingTestGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false) // reads wait until the upstream side is glued on
            .childChannelInitializer { client in
                ClientBootstrap(group: client.eventLoop).connect(host: "127.0.0.1", port: upstreamPort)
                    .flatMapThrowing { upstream in
                        let index = state.conversations.withLock { $0.append(Conversation()); return $0.count - 1 }
                        state.channels.withLock { $0 += [client, upstream] }
                        let (toSwitch, fromSwitch) = GlueHandler.pair(index: index, state: state)
                        try client.pipeline.syncOperations.addHandler(toSwitch)
                        try upstream.pipeline.syncOperations.addHandler(fromSwitch)
                    }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return WireProxy(port: server.localAddress?.port ?? 0, server: server, state: state)
    }

    /// Closes every proxied connection (both sides), as a network fault would.
    func dropConnections() {
        let open = state.channels.withLock { all in
            defer { all.removeAll() }
            return all
        }
        for channel in open { channel.close(promise: nil) }
    }

    func shutdown() async {
        dropConnections()
        try? await server.close()
    }
}

/// One side of the proxy: writes what it reads to its partner and keeps it once written. Both channels of a pair
/// live on the client's event loop, so the partners may call each other directly.
private final class GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let index: Int
    /// This handler's channel leads to the switch (it writes what the link sent).
    private let writesToSwitch: Bool
    private let state: WireProxy.State
    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?

    private init(index: Int, writesToSwitch: Bool, state: WireProxy.State) {
        self.index = index
        self.writesToSwitch = writesToSwitch
        self.state = state
    }

    /// The handler for the link's channel and the one for the switch's.
    static func pair(index: Int, state: WireProxy.State) -> (GlueHandler, GlueHandler) {
        let linkSide = GlueHandler(index: index, writesToSwitch: false, state: state)
        let switchSide = GlueHandler(index: index, writesToSwitch: true, state: state)
        linkSide.partner = switchSide
        switchSide.partner = linkSide
        return (linkSide, switchSide)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    /// The link's side is accepted with reads off (nothing may arrive before the glue): on once it is active.
    func channelActive(context: ChannelHandlerContext) {
        context.channel.setOption(.autoRead, value: true).whenComplete { _ in }
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner?.forward(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.context?.close(promise: nil)
        context.fireChannelInactive()
    }

    private func forward(_ buffer: ByteBuffer) {
        guard let context else { return }
        let (index, towardsSwitch, state) = (index, writesToSwitch, state)
        let bytes = Array(buffer.readableBytesView)
        context.writeAndFlush(wrapOutboundOut(buffer)).whenSuccess {
            state.add(bytes, index: index, towardsSwitch: towardsSwitch)
        }
    }
}

/// The names of the events a link delivered, counted as its event stream is consumed.
final class EventTally: Sendable {
    private let names = Mutex<[String]>([])

    init(_ link: CSTALinkClient) {
        let stream = link.events
        Task { [self] in
            for await event in stream {
                if case .message(let m) = event, let name = m.record.string("event") { append(name) }
            }
        }
    }

    private func append(_ name: String) { names.withLock { $0.append(name) } }

    func count(_ name: String) -> Int { names.withLock { $0.filter { $0 == name }.count } }
}

/// The simulator, the proxy in front of it, and a link to the proxy that records into `path`. Nothing is sent on a
/// timer (no SystemStatus from the switch, no keep-alive within a test's time), so once the calls are over the link is
/// idle and what the proxy passed is all the link read.
struct RecordedLink {
    let server: SimulatorServer
    let proxy: WireProxy
    let link: CSTALinkClient
    let recorder: LinkCaptureRecorder
    let events: EventTally

    static let monitors = ["4001", "4002", "4003", "8001"]

    static func start(
        path: String, maximumFileBytes: Int64? = nil, keep: Int? = nil, encoding: CSTAEncoding = .ber,
        framing: CSTAFraming = .hipath
    ) async throws -> RecordedLink {
        let quiet = Logger(label: "test.recording") { _ in SwiftLogNoOpLogHandler() }
        let simConfig = SimulatorConfiguration(
            host: "127.0.0.1", port: 0, encoding: encoding, framing: framing,
            numbering: SwitchNumbering(agentCount: 3), systemStatusInterval: nil, agentsReady: true, seed: 42)
        let server = try await SimulatorServer.start(configuration: simConfig, group: recordingTestGroup, logger: quiet)
        let proxy = try await WireProxy.start(upstreamPort: server.localAddress.port ?? 0)
        let recorder = try await LinkCaptureRecorder.start(
            .init(path: path, maximumFileBytes: maximumFileBytes, keep: keep), logger: quiet)
        var config = LinkConfiguration(
            host: "127.0.0.1", port: proxy.port, flavour: encoding == .ber ? .hipathBER : .openScapeXML)
        config.encoding = encoding
        config.framing = framing
        config.connectTimeout = .seconds(2)
        config.requestTimeout = .seconds(2)
        config.heartbeatInterval = .seconds(60)
        config.backoff = .init(initial: .milliseconds(50), maximum: .milliseconds(200), jitter: 0.2)
        config.tap = recorder
        let link = CSTALinkClient(configuration: config, eventLoopGroup: recordingTestGroup, logger: quiet)
        let events = EventTally(link)
        await link.addMonitors(monitors)
        await link.start()
        let linked = RecordedLink(server: server, proxy: proxy, link: link, recorder: recorder, events: events)
        guard await link.waitUntilUp(timeout: .seconds(10)) else {
            _ = await linked.stop()
            throw RecordingTestError("the link did not come up through the proxy")
        }
        return linked
    }

    /// Inbound calls, answered and hung up, from the simulator's load generator (time-scaled: seconds become ms).
    func placeCalls(_ count: Int, seed: UInt64) async throws {
        var load = LoadScenario(kind: .inbound, rate: 40, calls: count, seed: seed)
        load.timeScale = 0.005
        (load.holdShare, load.transferShare, load.conferenceShare) = (0, 0, 0)
        (load.abandonShare, load.noAnswerShare, load.agentBreakEverySeconds) = (0, 0, 0)
        try await server.startLoad(load)
    }

    /// Waits until the link has delivered `count` connectionCleared events and then the wire has been quiet for a
    /// while: nothing is in flight when the test stops the link. Returns whether both happened in time.
    func waitUntilQuiet(afterClearedEvents count: Int) async -> Bool {
        guard await eventually(within: .seconds(20), { events.count("connectionCleared") >= count }) else { return false }
        var last = -1
        var stableSince = ContinuousClock.now
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let total = proxy.recorded.reduce(0) { $0 + $1.toSwitch.count + $1.fromSwitch.count }
            if total != last {
                (last, stableSince) = (total, .now)
            } else if ContinuousClock.now - stableSince >= .milliseconds(400) {
                return true
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// Link, proxy, recorder and simulator down, in that order; the recording's summary.
    func stop() async -> LinkCaptureRecorder.Summary {
        await link.shutdown()
        await proxy.shutdown()
        let summary = await recorder.finish()
        try? await server.shutdown()
        return summary
    }
}

struct RecordingTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The frames of one direction's bytes, split by the project's splitter (payloads, headers removed).
func framePayloads(_ bytes: [UInt8], framing: CSTAFraming) -> [[UInt8]] {
    var splitter = CSTAFrameSplitter(framing: framing)
    var out: [[UInt8]] = []
    var at = 0
    while at < bytes.count {
        let step = bytes[at...].withUnsafeBytes { splitter.next($0, atEnd: true) }
        switch step {
        case .frame(let header, let length, let consumed, _):
            out.append(Array(bytes[(at + header)..<(at + header + length)]))
            at += consumed
        case .skip(let count, _):
            at += count
        case .needMoreData:
            return out
        }
    }
    return out
}

/// What a recorded file replays to: messages per connection and direction, plus every gap and error.
struct ReplayedFile {
    struct Stream: Equatable {
        var toSwitch: [[UInt8]] = []
        var fromSwitch: [[UInt8]] = []
    }

    var connections: [Int: Stream] = [:]
    /// The switch's and the application's port per connection, as the reader decided them.
    var switchPorts: [Int: UInt16] = [:]
    var applicationPorts: [Int: UInt16] = [:]
    var gaps: [ReplayGap] = []
    var errors: [ReplayError] = []
    var unknownDirections = 0
    var messages = 0

    init(path: String) throws {
        let reader = try ReplaySource.open(path: path)
        while let item = reader.next() {
            switch item {
            case .message(let m):
                messages += 1
                switchPorts[m.connection.id] = m.connection.switchSide?.port
                applicationPorts[m.connection.id] = m.connection.applicationSide?.port
                let bytes = Array(m.payload.readableBytesView)
                switch m.direction {
                case .applicationToSwitch: connections[m.connection.id, default: Stream()].toSwitch.append(bytes)
                case .switchToApplication: connections[m.connection.id, default: Stream()].fromSwitch.append(bytes)
                default: unknownDirections += 1
                }
            case .gap(let g): gaps.append(g)
            case .error(let e): errors.append(e)
            }
        }
    }

    /// The connections in the order they appear.
    var ordered: [Stream] { connections.keys.sorted().map { connections[$0]! } }
}

/// The decoded key-set records of BER or XML payloads (`nil` for one that does not decode).
func records(_ payloads: [[UInt8]], encoding: CSTAEncoding) -> [CSTARecord?] {
    payloads.map { try? CSTAMessage.decode(ByteBuffer(bytes: $0), encoding: encoding).record() }
}

/// Event names among the decoded records.
func eventNames(_ payloads: [[UInt8]], encoding: CSTAEncoding) -> [String] {
    records(payloads, encoding: encoding).compactMap { $0?.string("event") }
}

/// Polls `condition` until it holds or `within` passes.
func eventually(within: Duration, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + within
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}

/// A fresh temporary directory for one test's files.
func temporaryDirectory() throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("ctibridge-record-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.path
}
