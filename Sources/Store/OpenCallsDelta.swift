/// A change to the open-call checkpoint (the `open_calls` table): the call model's state of each open interaction,
/// as an opaque string (its JSON), keyed by interaction id.
///
/// The event bus stores a delta in the same transaction as the events it goes with, so after a crash the checkpoint
/// matches the journal exactly: a restarted daemon loads ``CTIStore/openCalls()`` and continues from the journal's
/// last sequence number.
///
/// ``upserts`` and ``deletes`` are kept disjoint by ``upsert(_:state:)``, ``delete(_:)`` and ``merge(_:)``. A delta
/// built by hand with a key in both sets is applied deletes first, so the upsert wins.
public struct OpenCallsDelta: Sendable, Hashable {
    /// Interactions to insert or replace: interaction id → checkpoint state.
    public var upserts: [String: String]
    /// Interactions that ended: their checkpoint rows are removed.
    public var deletes: Set<String>

    /// A delta with the given changes (none by default).
    public init(upserts: [String: String] = [:], deletes: Set<String> = []) {
        self.upserts = upserts
        self.deletes = deletes
    }

    /// No change.
    public static var none: OpenCallsDelta { OpenCallsDelta() }

    /// True when applying the delta changes nothing.
    public var isEmpty: Bool { upserts.isEmpty && deletes.isEmpty }

    /// Records that `interactionID` is open with `state` (replacing an earlier upsert or delete of it).
    public mutating func upsert(_ interactionID: String, state: String) {
        deletes.remove(interactionID)
        upserts[interactionID] = state
    }

    /// Records that `interactionID` ended (dropping an earlier upsert of it).
    public mutating func delete(_ interactionID: String) {
        upserts[interactionID] = nil
        deletes.insert(interactionID)
    }

    /// Folds a later delta into this one, as if both were applied in order: a later upsert wins over an earlier
    /// upsert or delete of the same interaction, and a later delete removes an earlier upsert.
    public mutating func merge(_ later: OpenCallsDelta) {
        for id in later.deletes { delete(id) }
        for (id, state) in later.upserts { upsert(id, state: state) }
    }

    /// This delta followed by `later` (see ``merge(_:)``).
    public func merging(_ later: OpenCallsDelta) -> OpenCallsDelta {
        var result = self
        result.merge(later)
        return result
    }
}
