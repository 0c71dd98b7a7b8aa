import GRDB

extension CTIStore {
    /// `PRAGMA application_id` of a ctibridge database: ASCII `CTIB`. Set by the first migration, checked on open.
    public static let applicationID: Int32 = 0x4354_4942

    /// The newest migration this binary knows.
    public static var schemaVersion: String { migrator.migrations.last ?? "" }

    /// The schema, one registered migration per version. Never edit a migration that shipped: add a new one.
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: "PRAGMA application_id = \(CTIStore.applicationID)")
            try db.execute(
                sql: """
                    -- The event bus's journal: one row per normalized call event, seq strictly increasing.
                    -- payload is the event's JSON (CallEvent; `at` in seconds since 2001-01-01, exact);
                    -- at_ms is the same time in Unix milliseconds for SQL readers.
                    CREATE TABLE journal (
                        seq INTEGER PRIMARY KEY,
                        at_ms INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        interaction_id TEXT,
                        payload TEXT NOT NULL
                    );
                    CREATE INDEX journal_interaction_id ON journal(interaction_id);

                    -- How far each durable consumer has applied the journal.
                    CREATE TABLE consumer_offsets (
                        consumer TEXT PRIMARY KEY,
                        seq INTEGER NOT NULL,
                        updated_at_ms INTEGER NOT NULL
                    );

                    -- Finished interactions (contract §5); record is the call record's JSON, the columns are for queries.
                    CREATE TABLE calls (
                        interaction_id TEXT PRIMARY KEY,
                        started_at_ms INTEGER,
                        ended_at_ms INTEGER,
                        answered_at_ms INTEGER,
                        calling TEXT,
                        called TEXT,
                        direction TEXT,
                        outcome TEXT,
                        queue TEXT,
                        answered_by TEXT,
                        answered_device TEXT,
                        wait_s REAL,
                        talk_s REAL,
                        hold_s REAL,
                        resynced INTEGER,
                        journal_seq INTEGER NOT NULL,
                        record TEXT NOT NULL
                    );
                    CREATE INDEX calls_started_at_ms ON calls(started_at_ms);
                    CREATE INDEX calls_calling ON calls(calling);

                    -- Every call id of an interaction's legs.
                    CREATE TABLE call_ids (
                        call_id TEXT,
                        interaction_id TEXT,
                        PRIMARY KEY (call_id, interaction_id)
                    );

                    -- The record's segments: which device (and agent) was in which state when.
                    CREATE TABLE segments (
                        interaction_id TEXT,
                        idx INTEGER,
                        device TEXT,
                        agent_id TEXT,
                        from_ms INTEGER,
                        to_ms INTEGER,
                        state TEXT,
                        PRIMARY KEY (interaction_id, idx)
                    );
                    CREATE INDEX segments_device ON segments(device);
                    CREATE INDEX segments_agent_id ON segments(agent_id);

                    -- Last known state of each agent and device.
                    CREATE TABLE agents (
                        agent_id TEXT PRIMARY KEY,
                        device TEXT,
                        state TEXT,
                        reason TEXT,
                        updated_at_ms INTEGER
                    );
                    CREATE TABLE devices (
                        device TEXT PRIMARY KEY,
                        kind TEXT,
                        monitored INTEGER,
                        updated_at_ms INTEGER
                    );

                    -- The call model's open interactions (opaque JSON per interaction), written in the same
                    -- transaction as the journal events they reflect, so a restarted daemon continues them.
                    CREATE TABLE open_calls (
                        interaction_id TEXT PRIMARY KEY,
                        state TEXT NOT NULL
                    );
                    """
            )
        }
        // Screen pops: customers found by their (normalized) numbers, an index to find calls by called number, and the
        // desktop agents who log in to receive pops.
        migrator.registerMigration("v2") { db in
            try CTIStore.createCustomerTables(db)
            try CTIStore.createDesktopAgentTables(db)
        }
        // Later migrations ("v3", …) add work orders (with their history) and recordings here. Register them after
        // "v2"; a file migrated by a newer binary is refused with `schemaTooNew`.
        return migrator
    }()
}
