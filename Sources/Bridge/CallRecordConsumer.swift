import CallModel
import EventBus
import Foundation
import Logging
import Metrics
import Store

/// The durable consumer that keeps the store's call records and agent table: it reads the journal from its stored
/// offset, writes each finished call in the same transaction as its new offset (so a crash never applies a record
/// twice or skips one), and upserts agent states (idempotent) with the offset committed every few hundred events.
public struct CallRecordConsumer: Sendable {
    public static let name = "call-records"
    let bus: EventBus
    let store: CTIStore
    let logger: Logger

    public init(bus: EventBus, store: CTIStore, logger: Logger) {
        self.bus = bus
        self.store = store
        self.logger = logger
    }

    /// Runs until the bus shuts down.
    public func run() async throws {
        let records = Counter(label: "ctibridge_call_records_total")
        var uncommitted: Int64? = nil
        var sinceCommit = 0
        let consumer = bus.durableConsumer(name: Self.name)
        for try await item in consumer {
            let event = item.event
            switch event.kind {
            case .callEnded:
                if let record = event.record {
                    _ = try await store.recordCall(record, journalSeq: item.seq, consumer: Self.name)
                    records.increment()
                    uncommitted = nil
                    sinceCommit = 0
                    continue
                }
            case .agentState:
                if let agentID = event.agentID {
                    try await store.upsertAgent(
                        agentID: agentID, device: event.device, state: event.agentState ?? "unknown",
                        reason: event.reason, at: event.at)
                }
            default:
                break
            }
            uncommitted = item.seq
            sinceCommit += 1
            if sinceCommit >= 256 {
                try await consumer.commit(item.seq)
                uncommitted = nil
                sinceCommit = 0
            }
        }
        if let uncommitted { try await consumer.commit(uncommitted) }
        logger.debug("call-record consumer stopped")
    }
}
