/// Hands out ROSE / ECMA-323 invoke ids: round robin over a range, wrapping at its end and skipping every id still in
/// flight, so a late answer can never be matched to the wrong request. Pure value type; the link keeps one per
/// connection.
///
/// BER uses 1–32767 (TSAPI's LIB_GEN_ID range); XML uses 1–9998 because 9999 is the event id in the frame header
/// (`csta-notes.md` §6: clients that wrap at 9999 collide with events).
public struct InvokeIdAllocator: Sendable, Hashable {
    /// The ids that may be handed out.
    public let range: ClosedRange<Int>
    private var next: Int
    /// Ids handed out and not yet released.
    public private(set) var inFlight: Set<Int> = []

    /// - Parameter range: must not be empty; XML callers pass `1...9998`.
    public init(range: ClosedRange<Int>) {
        self.range = range
        self.next = range.lowerBound
    }

    /// The next free id, or `nil` when every id in the range is in flight.
    public mutating func allocate() -> Int? {
        guard inFlight.count < range.count else { return nil }
        while true {
            let id = next
            next = id == range.upperBound ? range.lowerBound : id + 1
            if !inFlight.contains(id) {
                inFlight.insert(id)
                return id
            }
        }
    }

    /// Frees `id` (answered, timed out or failed). Releasing an id that is not in flight does nothing.
    public mutating func release(_ id: Int) {
        inFlight.remove(id)
    }

    /// Frees every id (the connection is gone).
    public mutating func releaseAll() {
        inFlight.removeAll()
    }
}
