import Bridge
import CSTA
import CallModel
import Foundation
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import Simulator
import Store
import Testing
import Synchronization

/// The simulator with load, and the daemon on it over loopback with a real SQLite file: what `ctibridge demo` runs,
/// stoppable from a test.
final class BridgeHarness: Sendable {
    let server: SimulatorServer
    let directory: String
    let configuration: BridgeConfiguration
    let truth = Locked<[CallRecord]>([])
    let endpoints = Locked<BridgeEndpoints?>(nil)
    let stop = StopTrigger()
    let daemon = Locked<Task<Void, any Error>?>(nil)
    static let registry = PrometheusCollectorRegistry()

    init(encoding: CSTAEncoding, agents: Int = 40, faults: [FaultSchedule] = []) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ctibridge-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var simulator = SimulatorConfiguration(host: "127.0.0.1", port: 0, encoding: encoding)
        simulator.numbering = SwitchNumbering(agentCount: agents)
        simulator.faults = faults
        let truth = self.truth
        server = try await SimulatorServer.start(
            configuration: simulator, logger: Logger(label: "test.switch") { _ in SwiftLogNoOpLogHandler() }
        ) { record in truth.withLock { $0.append(record) } }
        let numbering = simulator.numbering
        var configuration = BridgeConfiguration(
            switch: .init(host: "127.0.0.1", port: server.localAddress.port ?? 0),
            monitor: .init(devices: "\(numbering.agentExtensions.first!)-\(numbering.agentExtensions.last!),8001,8100"))
        configuration.switch.flavour = encoding == .ber ? "hipathBER" : "openScapeXML"
        configuration.switch.heartbeatSeconds = 2
        configuration.switch.reconnectInitialSeconds = 0.05
        configuration.switch.reconnectMaximumSeconds = 0.5
        configuration.monitor.queues = "8001,8100"
        configuration.monitor.internalNumbers = [numbering.hotline]
        configuration.database.path = directory + "/ctibridge.sqlite"
        configuration.http.listen = "127.0.0.1:0"
        configuration.journal.checkpointSeconds = 0.2
        self.configuration = configuration
    }

    /// Starts the daemon; returns once its HTTP side listens.
    func startDaemon() async throws {
        let configuration = self.configuration
        let endpoints = self.endpoints
        let stop = self.stop
        let ready = AsyncStream<Void>.makeStream()
        let task = Task {
            try await BridgeDaemon.run(
                configuration: configuration, registry: Self.registry,
                logger: Logger(label: "test.bridge") { _ in SwiftLogNoOpLogHandler() }, extraServices: [stop],
                onReady: { found in
                    endpoints.withLock { $0 = found }
                    ready.continuation.yield()
                })
        }
        daemon.withLock { $0 = task }
        for await _ in ready.stream { break }
    }

    /// Stops the daemon the way SIGTERM does and waits for it.
    func stopDaemon() async throws {
        stop.fire()
        try await daemon.withLock { $0 }?.value
    }

    func startLoad(
        calls: Int, rate: Double, seed: UInt64 = 1, timeScale: Double = 0.03, kind: LoadScenario.Kind = .mixed
    ) async throws {
        var load = LoadScenario(kind: kind, rate: rate, calls: calls, seed: seed)
        load.timeScale = timeScale
        load.agentBreakEverySeconds = 0
        try await server.startLoad(load)
    }

    /// Waits until the daemon has journalled its first link-up (monitors started, snapshots taken), so load started
    /// after it is seen from its first event whatever the machine's load.
    func waitUntilLinkUp(timeout: Duration = .seconds(20)) async throws {
        let store = try CTIStore(path: configuration.database.path, logger: Logger(label: "test.store"))
        defer { try? store.close() }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let journal = try await store.readJournal(after: 0, limit: 10_000)
            if journal.contains(where: { $0.event.kind == .link && $0.event.linkState == "up" }) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the daemon's link did not come up within \(timeout)")
    }

    /// Waits until the switch has no call left and the store holds as many records as the truth (or `timeout`).
    func waitUntilSettled(timeout: Duration) async throws -> (truth: [CallRecord], records: [CallRecord]) {
        let store = try CTIStore(path: configuration.database.path, logger: Logger(label: "test.store"))
        defer { try? store.close() }
        let deadline = ContinuousClock.now + timeout
        var stableSince = ContinuousClock.now
        var lastCount = -1
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            let switchIdle = try await server.snapshot().calls.isEmpty
            let truthCount = truth.withLock { $0.count }
            let records = try await store.calls(since: nil, until: nil, limit: nil)
            if truthCount != lastCount {
                lastCount = truthCount
                stableSince = .now
            }
            if switchIdle, records.count >= truthCount, ContinuousClock.now - stableSince > .seconds(1) {
                return (truth.withLock { $0 }, records)
            }
        }
        return (truth.withLock { $0 }, try await store.calls(since: nil, until: nil, limit: nil))
    }

    func shutdown() async {
        try? await stopDaemon()
        try? await server.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A service that ends when fired; the daemon's group then shuts down gracefully, as on SIGTERM.
final class StopTrigger: Service, Sendable {
    private let stream = AsyncStream<Void>.makeStream()

    func fire() { stream.continuation.yield() }

    func run() async throws {
        await withGracefulShutdownHandler {
            for await _ in stream.stream { break }
        } onGracefulShutdown: { [stream] in
            stream.continuation.finish()
        }
    }
}

/// A value behind a mutex that closures can share.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T { try mutex.withLock { try body(&$0) } }
}
