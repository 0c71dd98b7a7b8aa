/// How hard SQLite pushes a commit to disk (`PRAGMA synchronous` on the writer connection, WAL mode).
///
/// | policy | a commit survives a process crash (`kill -9`) | survives power loss / OS crash | cost per commit |
/// |---|---|---|---|
/// | ``full`` | yes | yes | one `fsync` of the WAL |
/// | ``normal`` | yes | the last transactions may roll back; the file stays consistent | none (fsync at checkpoints) |
/// | ``off`` | yes | no: the file can be corrupted | none |
///
/// ``normal`` is the usual daemon choice with WAL and the default: the journal survives the bridge crashing, and a
/// power cut can only lose the newest few batches (the switch's snapshot resync covers calls that were up). Choose
/// ``full`` when a call record that was reported to a consumer must survive a power cut as well; the event bus commits
/// in batches, so this costs one `fsync` per batch, not per event. ``off`` is for tests and throwaway benchmarks.
public enum JournalSync: String, Sendable, Hashable, CaseIterable {
    /// `PRAGMA synchronous = FULL`: every commit is on disk before it returns.
    case full
    /// `PRAGMA synchronous = NORMAL`: WAL is synced at checkpoints only.
    case normal
    /// `PRAGMA synchronous = OFF`: SQLite never syncs.
    case off

    var pragmaValue: String {
        switch self {
        case .full: "FULL"
        case .normal: "NORMAL"
        case .off: "OFF"
        }
    }
}
