import CallModel
import Foundation

/// The bounded buffer between the bus and one live subscriber, read through a pull-based `AsyncStream` (the stream
/// asks for the next delivery when its consumer does, so the buffer always knows how full it is).
///
/// The bus pushes committed events with ``deliver(_:)``. While fewer than `capacity` events are buffered they are
/// queued; beyond that each event is dropped and recorded in a `.gap` marker at the tail of the queue, which grows
/// while the drops are consecutive. Markers do not count against `capacity` (there is at most one per run of
/// drops), so the consumer sees every queued event, then exactly one `.gap(from:to:)` for the dropped run, then the
/// events queued after it.
///
/// `@unchecked Sendable`: every mutable field lives in `state`, which is read and written only between
/// `lock.lock()` and `lock.unlock()`; the lock is never held across an `await`, I/O, or a continuation resume
/// (continuations are resumed after unlocking).
final class LiveSubscription: @unchecked Sendable {
    private struct State {
        var queue: [BusDelivery] = []
        var head = 0
        var events = 0
        var waiter: CheckedContinuation<BusDelivery?, Never>?
        /// The bus finished the stream: deliver what is queued, then end.
        var finished = false
        /// The consumer went away (its task was cancelled): drop everything.
        var cancelled = false

        mutating func popFirst() -> BusDelivery? {
            guard head < queue.count else { return nil }
            let delivery = queue[head]
            head += 1
            if case .event = delivery { events -= 1 }
            if head == queue.count {
                queue.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 1024 && head * 2 >= queue.count {
                queue.removeFirst(head)
                head = 0
            }
            return delivery
        }
    }

    let capacity: Int
    let name: String
    private let lock = NSLock()
    private var state = State()

    init(capacity: Int, name: String) {
        self.capacity = capacity
        self.name = name
    }

    /// Queues committed events (in sequence order).
    ///
    /// - Returns: How many of them were dropped and how many events are buffered now; `nil` when the consumer is
    ///   gone and the bus should forget this subscription.
    func deliver(_ events: ArraySlice<SequencedEvent>) -> (dropped: Int, buffered: Int)? {
        var dropped = 0
        var wake: (CheckedContinuation<BusDelivery?, Never>, BusDelivery)?
        lock.lock()
        if state.cancelled || state.finished {
            lock.unlock()
            return nil
        }
        for event in events {
            if state.events < capacity {
                state.queue.append(.event(event))
                state.events += 1
                continue
            }
            dropped += 1
            if state.head < state.queue.count, case .gap(let from, let to) = state.queue[state.queue.count - 1],
                to + 1 == event.seq
            {
                state.queue[state.queue.count - 1] = .gap(from: from, to: event.seq)
            } else {
                state.queue.append(.gap(from: event.seq, to: event.seq))
            }
        }
        if let waiter = state.waiter, let first = state.popFirst() {
            state.waiter = nil
            wake = (waiter, first)
        }
        let buffered = state.events
        lock.unlock()
        if let (waiter, delivery) = wake { waiter.resume(returning: delivery) }
        return (dropped, buffered)
    }

    /// Ends the stream after the queued deliveries (bus shutdown).
    func finish() {
        lock.lock()
        state.finished = true
        let waiter = state.queue.count > state.head ? nil : state.waiter
        if waiter != nil { state.waiter = nil }
        lock.unlock()
        waiter?.resume(returning: nil)
    }

    /// The consumer's task was cancelled: end at once and drop the queue.
    func cancel() {
        lock.lock()
        state.cancelled = true
        state.queue.removeAll()
        state.head = 0
        state.events = 0
        let waiter = state.waiter
        state.waiter = nil
        lock.unlock()
        waiter?.resume(returning: nil)
    }

    /// The next delivery, waiting for one; `nil` when the stream ended.
    func next() async -> BusDelivery? {
        switch poll() {
        case .ready(let delivery): return delivery
        case .ended: return nil
        case .empty: break
        }
        return await withCheckedContinuation { (continuation: CheckedContinuation<BusDelivery?, Never>) in
            lock.lock()
            if let delivery = state.popFirst() {
                lock.unlock()
                continuation.resume(returning: delivery)
                return
            }
            if state.finished || state.cancelled {
                lock.unlock()
                continuation.resume(returning: nil)
                return
            }
            // One reader per stream: a second concurrent reader takes over, the first one ends.
            let previous = state.waiter
            state.waiter = continuation
            lock.unlock()
            previous?.resume(returning: nil)
        }
    }

    private enum Poll {
        case ready(BusDelivery)
        case ended
        case empty
    }

    /// A queued delivery, the end of the stream, or nothing yet (synchronous: `NSLock` is not for async contexts).
    private func poll() -> Poll {
        lock.lock()
        defer { lock.unlock() }
        if let delivery = state.popFirst() { return .ready(delivery) }
        return state.finished || state.cancelled ? .ended : .empty
    }

    /// A pull-based stream over this buffer; cancelling the reading task ends it.
    func stream() -> AsyncStream<BusDelivery> {
        AsyncStream(unfolding: { await self.next() }, onCancel: { self.cancel() })
    }
}
