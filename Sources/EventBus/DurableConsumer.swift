import CallModel
import Store

/// The committed events of the journal after a consumer's stored offset, then the live ones: see
/// ``EventBus/durableConsumer(name:)``.
///
/// ```swift
/// for try await item in bus.durableConsumer(name: "calls") {
///     if let record = item.event.record {
///         try await store.recordCall(record, journalSeq: item.seq, consumer: "calls")  // effect + offset, one txn
///     }
/// }
/// ```
///
/// The sequence ends after ``EventBus/shutdown()`` once everything committed was read, or when the reading task is
/// cancelled. It throws ``Store/CTIStoreError`` when the journal cannot be read.
public struct DurableConsumer: AsyncSequence, Sendable {
    public typealias Element = SequencedEvent

    /// The consumer's name: the key of its offset in the store.
    public let name: String
    let bus: EventBus

    init(name: String, bus: EventBus) {
        self.name = name
        self.bus = bus
    }

    /// Stores `seq` as the consumer's offset (it never moves backwards): after a restart, iteration resumes at
    /// `seq + 1`.
    public func commit(_ seq: Int64) async throws {
        try await bus.store.setOffset(seq, for: name)
    }

    /// The consumer's stored offset, 0 when it never committed.
    public func committedOffset() async throws -> Int64 {
        try await bus.store.offset(of: name)
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(name: name, bus: bus)
    }

    /// Reads pages of committed events; starts after the stored offset on the first ``next()``.
    public struct Iterator: AsyncIteratorProtocol {
        let name: String
        let bus: EventBus
        /// The last sequence number delivered (or the stored offset before the first delivery).
        var position: Int64?
        var page: [SequencedEvent] = []
        var index = 0

        /// The next committed event; waits for one when the consumer has caught up. `nil` when the bus is shut
        /// down and everything committed was read, or when the task is cancelled.
        public mutating func next() async throws -> SequencedEvent? {
            if index < page.count {
                let item = page[index]
                index += 1
                position = item.seq
                return item
            }
            if Task.isCancelled { return nil }
            let after: Int64
            if let position {
                after = position
            } else {
                after = try await bus.store.offset(of: name)
                position = after
            }
            let limit = bus.configuration.consumerPageSize
            switch await bus.nextStep(consumer: name, after: after, limit: limit) {
            case .events(let events):
                page = events
            case .readJournal:
                page = try await bus.store.readJournal(after: after, limit: limit)
                if page.isEmpty {
                    throw EventBusError(
                        .journalInconsistent, "the journal holds nothing after seq \(after) though the bus committed more"
                    )
                }
            case .finished:
                page = []
                index = 0
                return nil
            }
            index = 1
            position = page[0].seq
            return page[0]
        }
    }
}
