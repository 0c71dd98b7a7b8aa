import CSTALink
import CallModel
import EventBus
import Foundation
import Logging
import Replay
import Store

/// `ctibridge replay --into-db`: a captured link pushed through the daemon's own path — ``BridgePipeline`` (call
/// model), the event bus and its journal, ``CallRecordConsumer`` — into a scratch database, stamped with the capture's
/// times, so its call records can be compared with the live run's.
public enum TraceIngest {
    public struct Outcome: Sendable {
        public var summary: ReplaySummary
        public var counters: ReplayCounters
        public var follower: TraceLink.Counts
        /// Call records in the database, and the journal's last sequence number.
        public var calls: Int
        public var journalEvents: Int64
    }

    /// Refuses a database that holds anything: a replay's records must not mix with another run's.
    public static func checkScratch(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        if isDirectory.boolValue || size > 0 {
            throw BridgeConfigurationError(
                "\(path) exists: --into-db writes a new scratch database; remove it or name another file")
        }
    }

    /// Runs the trace to its end. `progress` is called now and then with the reader's counters.
    public static func run(
        trace: TraceLink, databasePath: String, model: CallModelEngine.Configuration, logger: Logger,
        progress: (@Sendable (ReplayCounters) async -> Void)? = nil
    ) async throws -> Outcome {
        let store = try CTIStore(path: databasePath, configuration: .init(sync: .normal), logger: logger)
        let bus = try await EventBus(store: store, configuration: .init(), logger: logger)
        let pipeline = BridgePipeline(
            queries: trace, clock: trace.clock, bus: bus, model: model, checkpointInterval: 5,
            staleCallAge: 12 * 3600, restoredOpenCalls: [:], logger: logger)
        let consumer = CallRecordConsumer(bus: bus, store: store, logger: logger)
        let consumerTask = Task { try await consumer.run() }
        var handled = 0
        while let next = await trace.next() {
            let (event, time) = next
            if case .state(let change) = event, change.state == .up {
                await pipeline.addMonitoredDevices(await trace.monitoredDevices)
            }
            await pipeline.handle(event, at: time)
            handled += 1
            if handled % 4096 == 0, let progress { await progress(await trace.counters) }
        }
        await pipeline.flush()
        try await bus.shutdown()
        try await consumerTask.value
        if let progress { await progress(await trace.counters) }
        return Outcome(
            summary: await trace.summary, counters: await trace.counters, follower: await trace.counts,
            calls: try await store.callCount(), journalEvents: try await store.lastJournalSeq())
    }
}
