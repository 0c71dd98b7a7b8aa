import CallModel
import Logging
import Metrics

/// A live subscription as the bus holds it: weakly, so a subscriber that drops its stream is forgotten.
struct LiveSubscriber {
    weak var subscription: LiveSubscription?
    let lag: Gauge
}

/// What the bus knows of a durable consumer: how far it has read, for the lag gauge.
struct DurableState {
    var position: Int64
    let lag: Gauge
}

/// What a durable consumer's iterator does next.
enum ConsumerStep: Sendable {
    /// These committed events, from memory.
    case events([SequencedEvent])
    /// Read the next page from the journal (the events are committed but no longer in memory).
    case readJournal
    /// The bus is shut down (or failed) and the consumer has read everything committed.
    case finished
}

extension EventBus {
    // MARK: - Live subscribers

    /// A live stream of committed events with a bounded buffer.
    ///
    /// The stream starts with the first batch committed after this call. Overflow policy: while `bufferSize`
    /// events wait unread, further events are dropped for this subscriber only (the bus and other subscribers never
    /// wait for it); the next delivery after a run of drops is one ``BusDelivery/gap(from:to:)`` naming exactly the
    /// dropped sequence numbers, then delivery continues. Drops count in `ctibridge_bus_dropped_total`.
    ///
    /// The stream ends after ``shutdown()`` (once its buffer is read) or when the journal fails. Cancelling the
    /// reading task, or dropping the stream, unsubscribes.
    ///
    /// - Parameters:
    ///   - bufferSize: Events buffered before dropping (at least 1).
    ///   - name: The `subscriber` dimension of its lag gauge; `live-N` by default.
    public func subscribe(bufferSize: Int = 1024, name: String? = nil) -> AsyncStream<BusDelivery> {
        let id = nextSubscriberID
        nextSubscriberID += 1
        let subscription = LiveSubscription(capacity: max(1, bufferSize), name: name ?? "live-\(id)")
        switch phase {
        case .running, .shuttingDown:
            live[id] = LiveSubscriber(subscription: subscription, lag: metrics.lag(subscriber: subscription.name))
        case .shutDown, .failed:
            subscription.finish()
        }
        return subscription.stream()
    }

    /// Offers committed events to every live subscriber; forgets those that went away.
    func fanOut(_ events: [SequencedEvent]) {
        guard !live.isEmpty else { return }
        var gone: [Int] = []
        for (id, subscriber) in live {
            guard let subscription = subscriber.subscription, let result = subscription.deliver(events[...]) else {
                gone.append(id)
                continue
            }
            subscriber.lag.record(result.buffered)
            if result.dropped > 0 {
                metrics.dropped.increment(by: result.dropped)
                logger.debug(
                    "live subscriber behind; events dropped",
                    metadata: ["subscriber": "\(subscription.name)", "dropped": "\(result.dropped)"]
                )
            }
        }
        for id in gone {
            live[id]?.lag.destroy()
            live[id] = nil
        }
    }

    /// Ends every live stream (after its buffer) and wakes durable consumers so they can finish.
    func finishSubscribers() {
        for subscriber in live.values {
            subscriber.subscription?.finish()
            subscriber.lag.destroy()
        }
        live.removeAll()
        wakeConsumers()
    }

    // MARK: - Durable consumers

    /// A consumer that sees every committed event exactly once across restarts, when it commits its progress.
    ///
    /// Iterating starts after the consumer's stored offset (`CTIStore.offset(of:)`): it reads the
    /// journal in pages (``Configuration/consumerPageSize``) until it has caught up, then follows newly committed
    /// events. It never drops anything; it only reads as fast as the consumer pulls, so it needs no buffer.
    ///
    /// Commit progress either with ``DurableConsumer/commit(_:)`` (at-least-once: effects made before a crash and
    /// after the last commit are made again), or exactly once by writing the effects and the offset in one
    /// transaction: `CTIStore.recordCall(_:journalSeq:consumer:)` or
    /// `CTIStore.applyExactlyOnce(consumer:seq:_:)` with the consumer's `name`.
    /// Use one iterator per name at a time.
    ///
    /// - Parameter name: The consumer's name, the key of its offset in the store.
    public nonisolated func durableConsumer(name: String) -> DurableConsumer {
        DurableConsumer(name: name, bus: self)
    }

    /// The durable iterator's next step after `position`: events from memory, a journal read, a wait for the next
    /// commit, or the end.
    func nextStep(consumer name: String, after position: Int64, limit: Int) async -> ConsumerStep {
        while true {
            track(consumer: name, position: position)
            if committedSeq > position {
                if let first = recent.first?.seq, position + 1 >= first {
                    let start = Int(position + 1 - first)
                    return .events(Array(recent[start..<min(recent.count, start + limit)]))
                }
                return .readJournal
            }
            switch phase {
            case .shutDown, .failed: return .finished
            case .running, .shuttingDown: break
            }
            if Task.isCancelled { return .finished }
            let id = nextWaiterID
            nextWaiterID += 1
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    if Task.isCancelled {
                        continuation.resume()
                    } else {
                        consumerWaiters[id] = continuation
                    }
                }
            } onCancel: {
                Task { await self.cancelWaiter(id) }
            }
        }
    }

    private func cancelWaiter(_ id: Int) {
        consumerWaiters.removeValue(forKey: id)?.resume()
    }

    private func track(consumer name: String, position: Int64) {
        if durable[name] == nil {
            durable[name] = DurableState(position: position, lag: metrics.lag(subscriber: name))
        }
        durable[name]?.position = position
        durable[name]?.lag.record(max(0, committedSeq - position))
    }

    /// Wakes every waiting durable consumer and updates their lag.
    func wakeConsumers() {
        for state in durable.values {
            state.lag.record(max(0, committedSeq - state.position))
        }
        guard !consumerWaiters.isEmpty else { return }
        let waiters = consumerWaiters
        consumerWaiters.removeAll()
        for waiter in waiters.values { waiter.resume() }
    }
}
