import Metrics

/// The bus's swift-metrics instruments. The library never bootstraps a metrics backend: with none, they cost nothing.
///
/// | name | kind | meaning |
/// |---|---|---|
/// | `ctibridge_bus_events_total` | counter | events committed to the journal |
/// | `ctibridge_bus_last_seq` | gauge | last committed sequence number |
/// | `ctibridge_journal_batches_pending` | gauge | sealed batches not yet committed (back-pressure at 64) |
/// | `ctibridge_journal_commit_seconds` | timer | time to append and commit one journal transaction |
/// | `ctibridge_journal_batch_events` | recorder | events per journal transaction |
/// | `ctibridge_bus_subscriber_lag` | gauge, `subscriber` | live: events buffered; durable: committed seq − read position |
/// | `ctibridge_bus_dropped_total` | counter | events dropped for live subscribers whose buffer was full |
struct BusMetrics: Sendable {
    let events = Counter(label: "ctibridge_bus_events_total")
    let lastSeq = Gauge(label: "ctibridge_bus_last_seq")
    let pendingBatches = Gauge(label: "ctibridge_journal_batches_pending")
    let commitLatency = Metrics.Timer(label: "ctibridge_journal_commit_seconds")
    let batchEvents = Recorder(label: "ctibridge_journal_batch_events")
    let dropped = Counter(label: "ctibridge_bus_dropped_total")

    func lag(subscriber: String) -> Gauge {
        Gauge(label: "ctibridge_bus_subscriber_lag", dimensions: [("subscriber", subscriber)])
    }
}
