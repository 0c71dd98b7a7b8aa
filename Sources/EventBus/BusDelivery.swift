import CallModel

/// What a live subscriber (``EventBus/subscribe(bufferSize:name:)``) receives.
public enum BusDelivery: Sendable, Hashable {
    /// A committed event.
    case event(SequencedEvent)
    /// The subscriber's buffer was full: the events with sequence numbers `from ... to` were dropped for it. The
    /// next event delivered after the gap is `to + 1`. Read them from the journal (`CTIStore.readJournal(after:limit:)`)
    /// when they matter.
    case gap(from: Int64, to: Int64)
}
