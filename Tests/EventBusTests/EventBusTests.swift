import CallModel
import Foundation
import Store
import Testing

@testable import EventBus

@Suite(.timeLimit(.minutes(1))) struct EventBusTests {
    @Test func sequenceNumbersIncreaseAndContinueAfterReopening() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("bus.sqlite")
        do {
            let store = try openStore(path)
            let bus = try await makeBus(store, batchSize: 3)
            #expect(await bus.lastCommittedSeq == 0)
            try await bus.publish(event(1))
            try await bus.publish(events(2...8))
            // Concurrent producers: each one's events stay in its order, and the journal has no gaps.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for producer in 0..<4 {
                    group.addTask {
                        for n in 0..<50 { try await bus.publish(event(1000 * (producer + 1) + n)) }
                    }
                }
                try await group.waitForAll()
            }
            try await bus.flush()
            #expect(await bus.lastCommittedSeq == 208)
            let journal = try await store.readJournal(after: 0, limit: 1000)
            #expect(journal.map(\.seq) == Array(1...208))
            #expect(journal.prefix(8).map(\.event) == events(1...8))
            for producer in 1...4 {
                let mine = journal.compactMap { Int($0.event.callID!) }.filter { $0 / 1000 == producer }
                #expect(mine == Array(1000 * producer..<1000 * producer + 50))
            }
            try await bus.shutdown()
        }
        let store = try openStore(path)
        let bus = try await makeBus(store)
        #expect(await bus.lastCommittedSeq == 208)
        try await bus.publish(events(300...304))
        try await bus.flush()
        let tail = try await store.readJournal(after: 208, limit: 10)
        #expect(tail.map(\.seq) == Array(209...213))
        #expect(tail.map(\.event) == events(300...304))
        #expect(try store.journalGaps().isEmpty)
        try await bus.shutdown()
    }

    @Test func liveSubscriberSeesOnlyCommittedEventsInOrder() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try openStore(directory.path("live.sqlite"))
        let bus = try await makeBus(store, batchSize: 1000, flushInterval: .seconds(60))
        let stream = await bus.subscribe(bufferSize: 10_000)
        let reader = Task {
            var iterator = stream.makeAsyncIterator()
            let first = await iterator.next()
            let journalAtFirst = try store.journalCount()
            let rest = await take(1099, from: &iterator)
            return ([first].compactMap { $0 } + rest, journalAtFirst)
        }
        try await bus.publish(events(1...5))
        try await Task.sleep(for: .milliseconds(100))
        #expect(try store.journalCount() == 0)  // neither the timer (60 s) nor the size (1000) sealed the batch
        try await bus.flush()
        for start in stride(from: 6, through: 1100, by: 73) {
            try await bus.publish(events(start...min(start + 72, 1100)))
        }
        try await bus.flush()
        let (deliveries, journalAtFirst) = try await reader.value
        #expect(journalAtFirst == 5)  // the first delivery came after its batch committed
        #expect(deliveries == delivered(1...1100))
        try await bus.shutdown()
    }

    @Test func theFlushIntervalSealsAPartialBatch() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try openStore(directory.path("timer.sqlite"))
        let bus = try await makeBus(store, batchSize: 512, flushInterval: .milliseconds(5))
        var iterator = await bus.subscribe(bufferSize: 16).makeAsyncIterator()
        try await bus.publish(event(1))
        #expect(await iterator.next() == delivered(1...1)[0])
        try await bus.publish(events(2...3))
        #expect(await take(2, from: &iterator) == delivered(2...3))
        #expect(try await store.lastJournalSeq() == 3)
        try await bus.shutdown()
    }

    @Test func aSlowLiveSubscriberGetsOneGapWithTheExactDroppedRange() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try openStore(directory.path("gap.sqlite"))
        let bus = try await makeBus(store, batchSize: 100, flushInterval: .seconds(60))
        var slow = await bus.subscribe(bufferSize: 4, name: "slow").makeAsyncIterator()
        var fast = await bus.subscribe(bufferSize: 1000).makeAsyncIterator()

        try await bus.publish(events(1...10))
        try await bus.flush()
        #expect(await take(2, from: &slow) == delivered(1...2))
        try await bus.publish(events(11...15))
        try await bus.flush()
        #expect(
            await take(6, from: &slow)
                == delivered(3...4) + [.gap(from: 5, to: 10)] + delivered(11...12) + [.gap(from: 13, to: 15)]
        )
        try await bus.publish(event(16))
        try await bus.flush()
        #expect(await take(1, from: &slow) == delivered(16...16))
        // The other subscriber lost nothing.
        #expect(await take(16, from: &fast) == delivered(1...16))
        try await bus.shutdown()
        #expect(await slow.next() == nil)
        #expect(await fast.next() == nil)
    }

    @Test func aDroppedOrCancelledStreamUnsubscribes() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try openStore(directory.path("unsubscribe.sqlite"))
        let bus = try await makeBus(store)
        do {
            _ = await bus.subscribe(bufferSize: 4)
        }
        let stream = await bus.subscribe(bufferSize: 4)
        let reader = Task { for await _ in stream {} }
        try await bus.publish(events(1...3))
        try await bus.flush()
        reader.cancel()
        await reader.value
        try await bus.publish(events(4...6))
        try await bus.flush()
        #expect(await bus.live.isEmpty)
        try await bus.shutdown()
    }

    @Test func droppingTheBusEndsItsLiveStreams() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try openStore(directory.path("dropped.sqlite"))
        var iterator: AsyncStream<BusDelivery>.Iterator
        do {
            let bus = try await makeBus(store)
            iterator = await bus.subscribe().makeAsyncIterator()
            try await bus.publish(event(1))
            try await bus.flush()
        }
        #expect(await iterator.next() == delivered(1...1)[0])
        #expect(await iterator.next() == nil)
    }

    @Test func durableConsumerCatchesUpFollowsLiveAndResumesAfterItsOffset() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("durable.sqlite")
        do {
            let store = try openStore(path)
            // A small window of recent events, so the catch-up has to read the journal in pages.
            let bus = try await makeBus(store, batchSize: 64, consumerPageSize: 100)
            try await bus.publish(events(1...2000))
            try await bus.flush()

            let consumer = bus.durableConsumer(name: "screen-pop")
            #expect(try await consumer.committedOffset() == 0)
            var iterator = consumer.makeAsyncIterator()
            var seen: [SequencedEvent] = []
            for _ in 0..<2000 { seen.append(try #require(try await iterator.next())) }
            #expect(seen.map(\.seq) == Array(1...2000))
            #expect(seen.map(\.event) == events(1...2000))

            let producer = Task {
                for start in stride(from: 2001, through: 2500, by: 50) {
                    try await bus.publish(events(start...start + 49))
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
            for _ in 0..<300 {
                let item = try #require(try await iterator.next())
                seen.append(item)
                if item.seq % 50 == 0 { try await consumer.commit(item.seq) }
            }
            try await producer.value
            #expect(seen.map(\.seq) == Array(1...2300))
            #expect(seen.suffix(300).map(\.event) == events(2001...2300))
            #expect(try await consumer.committedOffset() == 2300)
            try await bus.shutdown()
            // After shutdown the iterator still delivers what was committed, then ends.
            var rest: [Int64] = []
            while let item = try await iterator.next() { rest.append(item.seq) }
            #expect(rest == Array(2301...2500))
        }

        let store = try openStore(path)
        let bus = try await makeBus(store, batchSize: 64, consumerPageSize: 100)
        #expect(await bus.lastCommittedSeq == 2500)
        try await bus.publish(events(2501...2600))
        try await bus.flush()
        var iterator = bus.durableConsumer(name: "screen-pop").makeAsyncIterator()
        var resumed: [SequencedEvent] = []
        for _ in 0..<300 { resumed.append(try #require(try await iterator.next())) }
        #expect(resumed.map(\.seq) == Array(2301...2600))
        #expect(resumed.map(\.event) == events(2301...2600))
        try await bus.shutdown()
        #expect(try await iterator.next() == nil)
    }

    @Test func aCrashLosesOnlyWhatNobodySawAndTheConsumerResumesExactly() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("crash.sqlite")
        let consumerName = "call-records"
        var appliedBeforeCrash = 0

        // Interaction k: ringing (opens it in the checkpoint), answered, callEnded with its record (closes it).
        func publishCall(_ k: Int, on bus: EventBus) async throws {
            let id = "I-\(k)"
            let at = time(Double(k))
            try await bus.publish(
                CallEvent(kind: .ringing, at: at, interactionID: id, device: "4001"),
                openCalls: OpenCallsDelta(upserts: [id: #"{"state":"ringing"}"#])
            )
            try await bus.publish(
                CallEvent(kind: .answered, at: at, interactionID: id, device: "4001"),
                openCalls: OpenCallsDelta(upserts: [id: #"{"state":"talking"}"#])
            )
            try await bus.publish(
                CallEvent(kind: .callEnded, at: at, interactionID: id, record: record(id, start: Double(k))),
                openCalls: OpenCallsDelta(deletes: [id])
            )
        }

        do {
            let store = try openStore(path)
            let bus = try await makeBus(store, batchSize: 40, flushInterval: .seconds(60))
            for k in 0..<30 { try await publishCall(k, on: bus) }
            try await bus.flush()  // seq 1...90

            // The consumer applies records exactly once (record + offset in one transaction) and stops at seq 45.
            var iterator = bus.durableConsumer(name: consumerName).makeAsyncIterator()
            while let item = try await iterator.next() {
                if let record = item.event.record,
                    try await store.recordCall(record, journalSeq: item.seq, consumer: consumerName)
                {
                    appliedBeforeCrash += 1
                }
                if item.seq == 45 { break }
            }

            for k in 30..<40 { try await publishCall(k, on: bus) }
            try await bus.publish(
                [CallEvent(kind: .ringing, at: time(41), interactionID: "I-41")],
                openCalls: OpenCallsDelta(upserts: ["I-41": "open"])
            )
            try await bus.publish(
                [CallEvent(kind: .ringing, at: time(42), interactionID: "I-42")],
                openCalls: OpenCallsDelta(upserts: ["I-42": "open"])
            )
            try await bus.flush()  // seq 91...122 committed
            // Buffered but never committed: a crash now loses them, and no subscriber saw them.
            for k in 50..<55 {
                try await bus.publish(
                    CallEvent(kind: .ringing, at: time(Double(k)), interactionID: "I-\(k)"),
                    openCalls: OpenCallsDelta(upserts: ["I-\(k)": "open"])
                )
            }
            #expect(try await store.lastJournalSeq() == 122)
            // "Crash": the bus, its consumer and the store are dropped without shutdown.
        }
        #expect(appliedBeforeCrash == 15)

        let store = try openStore(path)
        #expect(try store.integrityCheck() == ["ok"])
        #expect(try store.journalGaps().isEmpty)
        #expect(try store.journalCount() == 122)
        #expect(try await store.readJournal(after: 0, limit: 1).first?.seq == 1)
        #expect(try await store.openCalls() == ["I-41": "open", "I-42": "open"])
        #expect(try await store.offset(of: consumerName) == 45)

        let bus = try await makeBus(store, batchSize: 40, flushInterval: .milliseconds(5))
        #expect(await bus.lastCommittedSeq == 122)
        var iterator = bus.durableConsumer(name: consumerName).makeAsyncIterator()
        var seqs: [Int64] = []
        var appliedAfterCrash = 0
        var skipped = 0
        while let item = try await iterator.next() {
            seqs.append(item.seq)
            if let record = item.event.record {
                if try await store.recordCall(record, journalSeq: item.seq, consumer: consumerName) {
                    appliedAfterCrash += 1
                } else {
                    skipped += 1
                }
            }
            if item.seq == 122 { break }
        }
        #expect(seqs == Array(46...122))
        #expect(appliedAfterCrash == 25 && skipped == 0)
        let calls = try await store.calls(since: nil, until: nil, limit: nil)
        #expect(calls.map(\.interactionID) == (0..<40).map { "I-\($0)" })
        #expect(try await store.offset(of: consumerName) == 120)

        try await bus.publish(event(1))
        try await bus.flush()
        #expect(try await store.lastJournalSeq() == 123)
        try await bus.shutdown()
    }

    @Test func backPressureKeepsThePendingBatchesBounded() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try openStore(directory.path("pressure.sqlite"))
        let bus = try await makeBus(store, batchSize: 1, maxPendingBatches: 2, maxBatchesPerTransaction: 1)
        var iterator = await bus.subscribe(bufferSize: 1000).makeAsyncIterator()
        var maximum = 0
        for n in 1...300 {
            try await bus.publish(event(n))
            maximum = max(maximum, await bus.pendingBatchCount)
        }
        try await bus.flush()
        #expect(maximum <= 2)
        #expect(await take(300, from: &iterator) == delivered(1...300))
        #expect(try await store.readJournal(after: 0, limit: 1000).map(\.event) == events(1...300))
        try await bus.shutdown()
    }

    @Test func shutdownFlushesEndsStreamsAndRefusesEvents() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try openStore(directory.path("shutdown.sqlite"))
        let bus = try await makeBus(store, batchSize: 100, flushInterval: .seconds(60))
        var live = await bus.subscribe(bufferSize: 100).makeAsyncIterator()
        try await bus.publish(events(1...10), openCalls: OpenCallsDelta(upserts: ["I-1": "open"]))
        try await bus.shutdown()
        #expect(try await store.lastJournalSeq() == 10)
        #expect(try await store.openCalls() == ["I-1": "open"])
        #expect(await take(11, from: &live) == delivered(1...10))
        await #expect(throws: EventBusError(.shutDown)) { try await bus.publish(event(11)) }
        var late = await bus.subscribe().makeAsyncIterator()
        #expect(await late.next() == nil)
        var durable = bus.durableConsumer(name: "late").makeAsyncIterator()
        var seqs: [Int64] = []
        while let item = try await durable.next() { seqs.append(item.seq) }
        #expect(seqs == Array(1...10))
        try await bus.shutdown()
    }

    @Test func aJournalFailureStopsTheBus() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try openStore(directory.path("failure.sqlite"))
        let bus = try await makeBus(store, batchSize: 100, flushInterval: .seconds(60))
        var live = await bus.subscribe(bufferSize: 100).makeAsyncIterator()
        try await bus.publish(events(1...3))
        try await bus.flush()
        try store.close()
        try await bus.publish(events(4...6))
        let error = await #expect(throws: EventBusError.self) { try await bus.flush() }
        #expect(error?.code == .journalFailed)
        #expect(error?.storeError?.code == .databaseError)
        #expect(await take(4, from: &live) == delivered(1...3))
        await #expect(throws: EventBusError(.journalFailed)) { try await bus.publish(event(7)) }
        await #expect(throws: EventBusError(.journalFailed)) { try await bus.shutdown() }
    }
}
