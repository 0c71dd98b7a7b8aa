import CSTA
import Foundation
import Logging
import NIOCore
import NIOPosix

/// The simulated switch listening on TCP: every accepted connection is one application link with the configured
/// encoding, framing and start-up flavour. All links and the switch model share one event loop.
public final class SimulatorServer: Sendable {
    /// Where the switch listens (the real port when the configuration asked for port 0).
    public let localAddress: SocketAddress
    public let configuration: SimulatorConfiguration
    let eventLoop: any EventLoop
    let core: NIOLoopBound<SwitchCore>
    private let serverChannel: any Channel

    private init(localAddress: SocketAddress, configuration: SimulatorConfiguration, eventLoop: any EventLoop,
                 core: NIOLoopBound<SwitchCore>, serverChannel: any Channel) {
        self.localAddress = localAddress
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.core = core
        self.serverChannel = serverChannel
    }

    /// Binds and starts accepting links on one loop of `group`.
    /// - Parameter truthSink: called on the switch's loop with each finished call.
    public static func start(
        configuration: SimulatorConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "ctibridge.simulator"),
        truthSink: (@Sendable (CallTruthRecord) -> Void)? = nil
    ) async throws -> SimulatorServer {
        let loop = group.next()
        let core = try await loop.submit {
            let core = SwitchCore(configuration: configuration, logger: logger, eventLoop: loop)
            core.truthSink = truthSink
            core.startFaultSchedule()
            return NIOLoopBound(core, eventLoop: loop)
        }.get()
        let channel = try await ServerBootstrap(group: loop)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let decoder = CSTAFrameDecoder(framing: configuration.framing, encoding: configuration.encoding)
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(decoder))
                    try channel.pipeline.syncOperations.addHandler(SwitchSessionHandler(core: core.value, logger: logger))
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        guard let address = channel.localAddress else {
            try? await channel.close()
            throw SimulatorServerError(message: "the listening socket has no local address")
        }
        logger.info(
            "switch listening",
            metadata: [
                "address": "\(address)", "encoding": "\(configuration.encoding.rawValue)",
                "framing": "\(configuration.framing.rawValue)", "flavor": "\(configuration.flavor.rawValue)",
                "agents": "\(configuration.numbering.agentCount)",
            ])
        return SimulatorServer(localAddress: address, configuration: configuration, eventLoop: loop, core: core, serverChannel: channel)
    }

    /// Runs `operation` on the switch model at the current time (on the switch's loop) and delivers its events to
    /// the monitors — what a caller or a phone does on its own.
    public func perform<T: Sendable>(
        _ operation: @escaping @Sendable (inout SwitchModel, Date) throws(SwitchError) -> T
    ) async throws -> T {
        try await eventLoop.submit { [core] () throws -> T in
            try core.value.perform { (model, now) throws(SwitchError) in try operation(&model, now) }
        }.get()
    }

    /// A copy of the switch model as it is now.
    public func snapshot() async throws -> SwitchModel {
        try await eventLoop.submit { [core] in core.value.model }.get()
    }

    /// How many links are connected and how many monitors they hold.
    public func linkStatistics() async throws -> (links: Int, monitors: Int) {
        try await eventLoop.submit { [core] in (core.value.sessions.count, core.value.monitors.count) }.get()
    }

    /// Starts the load generator with `scenario` on the switch's loop.
    public func startLoad(_ scenario: LoadScenario) async throws {
        try await eventLoop.submit { [core] in
            core.value.stopLoad()
            let generator = LoadGenerator(core: core.value, scenario: scenario)
            core.value.loadGenerator = generator
            generator.start()
        }.get()
    }

    /// Stops the load generator (calls under way are left as they are).
    public func stopLoad() async throws {
        try await eventLoop.submit { [core] in core.value.stopLoad() }.get()
    }

    /// Stops listening and closes every link.
    public func shutdown() async throws {
        try await serverChannel.close()
        try await eventLoop.submit { [core] in
            core.value.stopFaultSchedule()
            for session in core.value.sessions.values { session.close() }
            core.value.stopLoad()
        }.get()
    }
}

/// The switch could not start.
public struct SimulatorServerError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
