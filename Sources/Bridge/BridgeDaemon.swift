import CSTALink
import CallModel
import EventBus
import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import Replay
import ServiceLifecycle
import UnixSignals
import Store

/// Where a running daemon can be reached (the HTTP port is known once the server is up, which matters for port 0).
public struct BridgeEndpoints: Sendable {
    public var httpHost: String
    public var httpPort: Int
    public var databasePath: String
}

/// What the daemon is doing, as the demo prints it.
public struct BridgeStatus: Sendable {
    public var link: LinkStateChange?
    public var openCalls: Int
    public var finishedCalls: Int
    public var journalSeq: Int64
}

/// The daemon: the store, the event bus, the link, the call pipeline, the call-record consumer and the HTTP side,
/// run as one service group that stops cleanly on SIGINT/SIGTERM (or when `stop` is triggered).
public enum BridgeDaemon {
    /// Runs until a stop signal; `onReady` is called once HTTP listens (with the bound port).
    public static func run(
        configuration: BridgeConfiguration, registry: PrometheusCollectorRegistry, logger: Logger,
        extraServices: [any Service] = [], onReady: (@Sendable (BridgeEndpoints) async -> Void)? = nil,
        onStatus: (@Sendable (BridgeStatus) async -> Void)? = nil
    ) async throws {
        let store = try CTIStore(
            path: configuration.database.path,
            configuration: .init(sync: JournalSync(rawValue: configuration.database.sync) ?? .normal), logger: logger)
        let bus = try await EventBus(
            store: store,
            configuration: .init(
                batchSize: configuration.journal.batchSize,
                flushInterval: .microseconds(Int64(configuration.journal.flushMilliseconds * 1000))),
            logger: logger)
        // Open calls of the previous run, less any whose end the journal already holds (a checkpoint row can outlive
        // its call when a crash splits a large batch).
        var openCalls = try await store.openCalls()
        let alreadyEnded = try store.interactionsEnded(among: Array(openCalls.keys))
        if !alreadyEnded.isEmpty {
            openCalls = openCalls.filter { !alreadyEnded.contains($0.key) }
            try await bus.publish([], openCalls: OpenCallsDelta(deletes: alreadyEnded))
            logger.notice("dropped checkpoints of calls that had ended", metadata: ["count": "\(alreadyEnded.count)"])
        }
        var linkConfiguration = configuration.linkConfiguration()
        let recorder = await startRecorder(configuration.record, logger: logger)
        linkConfiguration.tap = recorder
        let link = CSTALinkClient(configuration: linkConfiguration, logger: logger)
        let pipeline = BridgePipeline(
            link: link, bus: bus, model: configuration.callModelConfiguration(),
            checkpointInterval: configuration.journal.checkpointSeconds,
            staleCallAge: configuration.journal.staleCallHours * 3600, restoredOpenCalls: openCalls,
            logger: logger)
        let bridge = BridgeService(
            link: link, devices: configuration.monitoredDevices(), pipeline: pipeline, bus: bus, store: store,
            consumer: CallRecordConsumer(bus: bus, store: store, logger: logger),
            tickInterval: configuration.journal.checkpointSeconds, logger: logger,
            status: onStatus.map { report in
                { @Sendable in
                    await report(
                        BridgeStatus(
                            link: await pipeline.linkState, openCalls: await pipeline.activeInteractions().count,
                            finishedCalls: (try? await store.callCount()) ?? 0, journalSeq: (try? await store.lastJournalSeq()) ?? 0))
                }
            })

        var services: [any Service] = [bridge]
        if let (host, port) = BridgeConfiguration.hostPort(configuration.http.listen) {
            let router = BridgeHTTP.router(
                .init(pipeline: pipeline, store: store, registry: registry, startedAt: Date()))
            let databasePath = configuration.database.path
            let app = Application(
                router: router, configuration: .init(address: .hostname(host, port: port), serverName: "ctibridge"),
                onServerRunning: { channel in
                    let bound = channel.localAddress?.port ?? port
                    await onReady?(BridgeEndpoints(httpHost: host, httpPort: bound, databasePath: databasePath))
                },
                logger: logger)
            services.append(app)
        } else {
            await onReady?(BridgeEndpoints(httpHost: "", httpPort: 0, databasePath: configuration.database.path))
        }
        services += extraServices
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup) },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            await recorder?.finish()
            throw error
        }
        await recorder?.finish()
    }

    /// The link's recorder, if the configuration asks for one. A file that cannot be created is logged and the daemon
    /// runs unrecorded: recording is a diagnostic and must not keep the bridge down.
    public static func startRecorder(_ record: BridgeConfiguration.Record?, logger: Logger) async -> LinkCaptureRecorder? {
        guard let record else { return nil }
        do {
            return try await LinkCaptureRecorder.start(record.recorderOptions, logger: logger)
        } catch {
            logger.error("the link is not recorded", metadata: ["error": "\(error)"])
            return nil
        }
    }
}

/// Runs the link, the pipeline, the consumer and the periodic tick; on graceful shutdown it stops the link first, lets
/// the pipeline publish what the link delivered, flushes the journal, and lets the consumer catch up.
struct BridgeService: Service {
    let link: CSTALinkClient
    let devices: [String]
    let pipeline: BridgePipeline
    let bus: EventBus
    let store: CTIStore
    let consumer: CallRecordConsumer
    let tickInterval: TimeInterval
    let logger: Logger
    let status: (@Sendable () async -> Void)?

    func run() async throws {
        await link.addMonitors(devices)
        logger.info("bridge starting", metadata: ["monitors": "\(devices.count)"])
        let consumerTask = Task { try await consumer.run() }
        let ticker = Task { [pipeline, store, tickInterval, status] in
            let databaseBytes = Gauge(label: "ctibridge_database_bytes")
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int64(tickInterval * 1000)))
                if Task.isCancelled { break }
                await pipeline.tick()
                if let bytes = try? store.databaseBytes() { databaseBytes.record(bytes) }
                await status?()
            }
        }
        await withGracefulShutdownHandler {
            await link.start()
            await pipeline.run()  // returns once the link has shut down and its events are published
        } onGracefulShutdown: { [link, logger] in
            logger.info("stopping: closing the link")
            Task { await link.shutdown() }
        }
        ticker.cancel()
        do {
            try await bus.shutdown()
        } catch {
            logger.error("the journal could not be flushed", metadata: ["error": "\(error)"])
        }
        do {
            try await consumerTask.value
        } catch {
            logger.error("call-record consumer failed", metadata: ["error": "\(error)"])
            throw error
        }
        logger.info("bridge stopped")
    }
}
