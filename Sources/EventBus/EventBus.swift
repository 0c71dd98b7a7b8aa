import CallModel
import Logging
import Metrics
import Store

/// Normalized call events with a strictly increasing sequence number, a durable journal, and fan-out.
///
/// ```
///  publish ──▶ buffer ──seal──▶ pending batches ──writer (GRDB queue)──▶ journal commit ──▶ live subscribers
///              (batchSize or        (seq numbers                          (events + open-call       durable consumers
///               flushInterval)       assigned)                              checkpoint, one txn)
/// ```
///
/// - Ordering: sequence numbers are assigned when a batch is sealed, and batches are committed one transaction at a
///   time in that order, so the journal is gap-free and every subscriber sees events in sequence order.
/// - Durability: a subscriber sees an event only after the transaction that journalled it committed (under the
///   store's ``Store/JournalSync`` policy), so nothing a consumer saw can be lost by a crash. Events still buffered or
///   being written when the process dies are lost, and nobody saw them.
/// - Back-pressure: ``publish(_:openCalls:)`` returns as soon as the events are buffered. When
///   ``Configuration/maxPendingBatches`` sealed batches (64 by default, about 32,000 events) wait for the journal, it
///   awaits until the writer gets below that: the producer is slowed to the disk's pace instead of memory growing.
/// - Failure: fail-stop. When a journal append fails, the bus stops: that batch and everything buffered after it are
///   dropped (never delivered), live streams end, and ``publish(_:openCalls:)``, ``flush()`` and ``shutdown()``
///   throw ``EventBusError/Code/journalFailed``. The daemon restarts and continues from the journal and the open-call
///   checkpoint, which are consistent with each other.
///
/// Subscribers: ``subscribe(bufferSize:name:)`` for live subscribers with a bounded buffer that drops and reports a
/// ``BusDelivery/gap(from:to:)``, ``durableConsumer(name:)`` for consumers that must see every event exactly once.
public actor EventBus {
    /// Batching and back-pressure. The sync policy is the store's (``Store/CTIStore/Configuration/sync``).
    public struct Configuration: Sendable {
        /// A batch is sealed when it holds this many events.
        public var batchSize: Int
        /// … or this long after its first event was published.
        public var flushInterval: Duration
        /// ``EventBus/publish(_:openCalls:)`` awaits while this many sealed batches are not yet committed.
        public var maxPendingBatches: Int
        /// At most this many waiting batches are committed in one transaction when the writer is behind.
        public var maxBatchesPerTransaction: Int
        /// Durable consumers read the journal in pages of this many events while catching up.
        public var consumerPageSize: Int

        /// A configuration; the defaults suit the daemon.
        public init(
            batchSize: Int = 512, flushInterval: Duration = .milliseconds(5), maxPendingBatches: Int = 64,
            maxBatchesPerTransaction: Int = 8, consumerPageSize: Int = 1024
        ) {
            self.batchSize = batchSize
            self.flushInterval = flushInterval
            self.maxPendingBatches = maxPendingBatches
            self.maxBatchesPerTransaction = maxBatchesPerTransaction
            self.consumerPageSize = consumerPageSize
        }
    }

    struct Batch {
        var ordinal: Int64
        var firstSeq: Int64
        var events: [CallEvent]
        var openCalls: OpenCallsDelta
    }

    enum Phase {
        case running
        case shuttingDown
        case shutDown
        case failed(EventBusError)
    }

    /// The store whose journal the bus writes.
    public nonisolated let store: CTIStore
    /// The bus's configuration (sizes clamped to at least 1).
    public nonisolated let configuration: Configuration
    let logger: Logger
    let metrics = BusMetrics()

    var phase = Phase.running
    /// The last sequence number assigned to a sealed batch.
    var assignedSeq: Int64
    /// The last sequence number committed to the journal.
    var committedSeq: Int64
    var sealedBatches: Int64 = 0
    var committedBatches: Int64 = 0
    var buffer: [CallEvent] = []
    var bufferDelta = OpenCallsDelta()
    var timerGeneration: UInt64 = 0
    var timerArmed = false
    var pending: [Batch] = []
    var writing = false
    /// The newest committed events, so durable consumers that keep up read them from memory instead of the journal.
    var recent: [SequencedEvent] = []
    let recentCapacity: Int
    var flushWaiters: [(batch: Int64, continuation: CheckedContinuation<Void, any Error>)] = []
    var pressureWaiters: [CheckedContinuation<Void, Never>] = []

    // Subscribers (EventBus+Subscribers.swift).
    var live: [Int: LiveSubscriber] = [:]
    var nextSubscriberID = 0
    var consumerWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
    var nextWaiterID = 0
    var durable: [String: DurableState] = [:]

    /// Starts a bus on `store`, continuing after the journal's last sequence number.
    ///
    /// - Parameters:
    ///   - store: The store that holds the journal.
    ///   - configuration: Batching and back-pressure.
    ///   - logger: Where the bus logs journal failures and dropped events.
    /// - Throws: ``Store/CTIStoreError`` when the journal cannot be read.
    public init(store: CTIStore, configuration: Configuration = Configuration(), logger: Logger) async throws {
        let last = try await store.lastJournalSeq()
        var configuration = configuration
        configuration.batchSize = max(1, configuration.batchSize)
        configuration.maxPendingBatches = max(1, configuration.maxPendingBatches)
        configuration.maxBatchesPerTransaction = max(1, configuration.maxBatchesPerTransaction)
        configuration.consumerPageSize = max(1, configuration.consumerPageSize)
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.assignedSeq = last
        self.committedSeq = last
        self.recentCapacity = max(4 * configuration.batchSize, configuration.consumerPageSize)
        buffer.reserveCapacity(configuration.batchSize)
        metrics.lastSeq.record(last)
        metrics.pendingBatches.record(0)
        logger.debug("event bus started", metadata: ["lastSeq": "\(last)"])
    }

    /// A bus dropped without ``shutdown()`` (its buffered events are lost, as in a crash) still ends its live
    /// streams, so no reader waits forever. Durable consumers keep the bus alive while they iterate.
    deinit {
        for subscriber in live.values { subscriber.subscription?.finish() }
    }

    /// The last sequence number committed to the journal (what subscribers have been offered so far).
    public var lastCommittedSeq: Int64 { committedSeq }

    /// Sealed batches not yet committed (what back-pressure bounds).
    var pendingBatchCount: Int { pending.count }

    // MARK: - Publishing

    /// Publishes events in order, with the open-call checkpoint change that goes with them.
    ///
    /// The events get their sequence numbers when their batch is sealed and reach subscribers after it committed.
    /// `openCalls` is committed in the same transaction as the last of these events.
    ///
    /// Back-pressure: returns once the events are buffered, unless ``Configuration/maxPendingBatches`` batches wait
    /// for the journal; then it awaits until the writer gets below that. It does not wait for its own events to be
    /// committed: call ``flush()`` for that.
    ///
    /// - Throws: ``EventBusError`` (``EventBusError/Code/shutDown`` after ``shutdown()``,
    ///   ``EventBusError/Code/journalFailed`` once the journal failed).
    public func publish(_ events: [CallEvent], openCalls: OpenCallsDelta = .none) async throws {
        try checkAccepting()
        guard !events.isEmpty || !openCalls.isEmpty else { return }
        // One publish stays in one batch when it fits, so its open-call change commits with every one of its events
        // (a call's end and the deletion of its checkpoint must not straddle a crash).
        if !buffer.isEmpty, buffer.count + events.count > configuration.batchSize { seal() }
        for event in events {
            if buffer.count >= configuration.batchSize { seal() }
            buffer.append(event)
        }
        bufferDelta.merge(openCalls)
        if buffer.count >= configuration.batchSize {
            seal()
        } else if !timerArmed {
            armTimer()
        }
        while pending.count >= configuration.maxPendingBatches, case .running = phase {
            await withCheckedContinuation { pressureWaiters.append($0) }
        }
        if case .failed(let error) = phase { throw error }
    }

    /// Publishes one event (see `publish(_:openCalls:)`).
    public func publish(_ event: CallEvent, openCalls: OpenCallsDelta = .none) async throws {
        try await publish([event], openCalls: openCalls)
    }

    /// Seals the buffered events into a batch and waits until everything published before this call is committed.
    ///
    /// - Throws: ``EventBusError/Code/journalFailed`` when the journal failed.
    public func flush() async throws {
        if case .failed(let error) = phase { throw error }
        seal()
        try await waitForCommit(of: sealedBatches)
    }

    /// Flushes, then ends every live stream (after the deliveries they hold) and lets durable consumers finish once
    /// they have read everything committed. Later ``publish(_:openCalls:)`` calls throw
    /// ``EventBusError/Code/shutDown``. Calling it again returns at once.
    ///
    /// - Throws: ``EventBusError/Code/journalFailed`` when the final flush failed.
    public func shutdown() async throws {
        switch phase {
        case .shutDown:
            return
        case .failed(let error):
            finishSubscribers()
            throw error
        case .running, .shuttingDown:
            break
        }
        phase = .shuttingDown
        seal()
        do {
            try await waitForCommit(of: sealedBatches)
        } catch {
            finishSubscribers()
            throw error
        }
        if case .shuttingDown = phase { phase = .shutDown }
        finishSubscribers()
        resumePressureWaiters(all: true)
        logger.debug("event bus shut down", metadata: ["lastSeq": "\(committedSeq)"])
    }

    private func checkAccepting() throws {
        switch phase {
        case .running: return
        case .shuttingDown, .shutDown: throw EventBusError(.shutDown)
        case .failed(let error): throw error
        }
    }

    private func waitForCommit(of batch: Int64) async throws {
        if committedBatches >= batch { return }
        if case .failed(let error) = phase { throw error }
        try await withCheckedThrowingContinuation { flushWaiters.append((batch, $0)) }
    }

    // MARK: - Batches

    /// Arms the flush timer for the buffer's first event; ``seal()`` disarms it.
    private func armTimer() {
        timerArmed = true
        timerGeneration &+= 1
        let generation = timerGeneration
        let interval = configuration.flushInterval
        Task { [weak self] in
            try? await Task.sleep(for: interval)
            await self?.timerFired(generation)
        }
    }

    private func timerFired(_ generation: UInt64) {
        guard generation == timerGeneration else { return }
        seal()
    }

    /// Turns the buffer into a batch with the next sequence numbers and hands it to the writer.
    private func seal() {
        guard !buffer.isEmpty || !bufferDelta.isEmpty else { return }
        timerGeneration &+= 1
        timerArmed = false
        sealedBatches += 1
        let batch = Batch(ordinal: sealedBatches, firstSeq: assignedSeq + 1, events: buffer, openCalls: bufferDelta)
        assignedSeq += Int64(buffer.count)
        pending.append(batch)
        buffer = []
        buffer.reserveCapacity(configuration.batchSize)
        bufferDelta = OpenCallsDelta()
        metrics.pendingBatches.record(pending.count)
        if !writing {
            writing = true
            Task { await self.drain() }
        }
    }

    /// The writer: commits pending batches one transaction at a time, in order, on GRDB's writer queue (the actor
    /// keeps taking events meanwhile). Batches that queued up while a transaction ran are committed together.
    private func drain() async {
        while !pending.isEmpty {
            if case .failed = phase { break }
            var take = 1
            var count = pending[0].events.count
            while take < pending.count, take < configuration.maxBatchesPerTransaction {
                count += pending[take].events.count
                take += 1
            }
            let firstSeq = pending[0].firstSeq
            let lastOrdinal = pending[take - 1].ordinal
            var events = pending[0].events
            var delta = pending[0].openCalls
            if take > 1 {
                events.reserveCapacity(count)
                for batch in pending[1..<take] {
                    events.append(contentsOf: batch.events)
                    delta.merge(batch.openCalls)
                }
            }
            let started = ContinuousClock.now
            do {
                try await store.appendJournal(events, firstSeq: firstSeq, openCalls: delta)
            } catch {
                fail(error, firstSeq: firstSeq, count: events.count)
                break
            }
            metrics.commitLatency.record(duration: ContinuousClock.now - started)
            metrics.batchEvents.record(events.count)
            pending.removeFirst(take)
            committedBatches = lastOrdinal
            didCommit(events, firstSeq: firstSeq)
        }
        writing = false
    }

    private func didCommit(_ events: [CallEvent], firstSeq: Int64) {
        if !events.isEmpty {
            var sequenced: [SequencedEvent] = []
            sequenced.reserveCapacity(events.count)
            var seq = firstSeq
            for event in events {
                sequenced.append(SequencedEvent(seq: seq, event: event))
                seq += 1
            }
            committedSeq = seq - 1
            metrics.events.increment(by: events.count)
            metrics.lastSeq.record(committedSeq)
            remember(sequenced)
            fanOut(sequenced)
            wakeConsumers()
        }
        metrics.pendingBatches.record(pending.count)
        resumeFlushWaiters()
        resumePressureWaiters(all: false)
    }

    private func remember(_ events: [SequencedEvent]) {
        recent.append(contentsOf: events)
        if recent.count > 2 * recentCapacity {
            recent.removeFirst(recent.count - recentCapacity)
        }
    }

    private func resumeFlushWaiters() {
        guard !flushWaiters.isEmpty else { return }
        var waiting: [(batch: Int64, continuation: CheckedContinuation<Void, any Error>)] = []
        for waiter in flushWaiters {
            if waiter.batch <= committedBatches {
                waiter.continuation.resume()
            } else {
                waiting.append(waiter)
            }
        }
        flushWaiters = waiting
    }

    private func resumePressureWaiters(all: Bool) {
        guard all || pending.count < configuration.maxPendingBatches else { return }
        let waiters = pressureWaiters
        pressureWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    private func fail(_ error: any Error, firstSeq: Int64, count: Int) {
        let storeError = error as? CTIStoreError
        let failure = EventBusError(
            .journalFailed, "appending seq \(firstSeq)...\(firstSeq + Int64(count) - 1): \(error)",
            storeError: storeError
        )
        logger.error(
            "journal append failed; the event bus stops",
            metadata: ["firstSeq": "\(firstSeq)", "events": "\(count)", "error": "\(error)"]
        )
        phase = .failed(failure)
        let lost = pending.reduce(0) { $0 + $1.events.count } + buffer.count
        if lost > 0 { logger.error("events not journalled", metadata: ["count": "\(lost)"]) }
        pending.removeAll()
        buffer.removeAll()
        bufferDelta = OpenCallsDelta()
        metrics.pendingBatches.record(0)
        let waiters = flushWaiters
        flushWaiters = []
        for waiter in waiters { waiter.continuation.resume(throwing: failure) }
        resumePressureWaiters(all: true)
        finishSubscribers()
    }
}
