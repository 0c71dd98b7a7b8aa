import CallModel
import EventBus
import Foundation
import Logging
import Store

/// A fresh folder under the system's temporary directory, removed by ``remove()``.
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("ctibridge-bus-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

let quietLogger = Logger(label: "ctibridge.tests", factory: { _ in SwiftLogNoOpLogHandler() })

func openStore(_ path: String) throws -> CTIStore {
    try CTIStore(path: path, logger: quietLogger)
}

func makeBus(
    _ store: CTIStore, batchSize: Int = 512, flushInterval: Duration = .milliseconds(5), maxPendingBatches: Int = 64,
    maxBatchesPerTransaction: Int = 8, consumerPageSize: Int = 1024
) async throws -> EventBus {
    try await EventBus(
        store: store,
        configuration: .init(
            batchSize: batchSize, flushInterval: flushInterval, maxPendingBatches: maxPendingBatches,
            maxBatchesPerTransaction: maxBatchesPerTransaction, consumerPageSize: consumerPageSize
        ),
        logger: quietLogger
    )
}

/// Event number `n`: its fields say which it is, so tests can check identity as well as order.
func event(_ n: Int) -> CallEvent {
    CallEvent(
        kind: .ringing, at: Date(timeIntervalSinceReferenceDate: 800_000_000 + Double(n) / 1000),
        interactionID: "I-\(n)", callID: "\(n)", device: "\(4000 + n % 100)"
    )
}

func events(_ range: ClosedRange<Int>) -> [CallEvent] { range.map(event) }

func time(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_790_000_000 + seconds) }

func record(_ id: String, start: Double) -> CallRecord {
    CallRecord(
        interactionID: id, callIDs: ["c-\(id)"], calling: "+4989123456", called: "96510", direction: "inbound",
        startedAt: time(start), answeredAt: time(start + 3), endedAt: time(start + 30), outcome: "answered",
        queue: "8001", waitSeconds: 3, talkSeconds: 27, holdSeconds: 0,
        segments: [.init(device: "4001", agentID: "A1", from: time(start + 3), to: time(start + 30), state: "talking")]
    )
}

/// The next `count` deliveries of a live stream (fewer if it ends).
func take(_ count: Int, from iterator: inout AsyncStream<BusDelivery>.Iterator) async -> [BusDelivery] {
    var deliveries: [BusDelivery] = []
    while deliveries.count < count, let delivery = await iterator.next() {
        deliveries.append(delivery)
    }
    return deliveries
}

func delivered(_ range: ClosedRange<Int>) -> [BusDelivery] {
    range.map { .event(SequencedEvent(seq: Int64($0), event: event($0))) }
}
