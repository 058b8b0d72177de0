//! Versioned schema migrations, applied in order at start-up inside one
//! transaction each; `schema_version` records how far a database has come.

use rusqlite::Connection;

/// Migrations, in order. Never edit one that has shipped: add another.
const MIGRATIONS: &[&str] = &[
    // 1: the pipeline's records.
    r#"
    CREATE TABLE messages (
        message_id      TEXT PRIMARY KEY,
        source          TEXT NOT NULL,
        kind            TEXT NOT NULL,
        content_type    TEXT NOT NULL,
        headers         TEXT NOT NULL,
        body            BLOB NOT NULL,
        correlation_id  TEXT NOT NULL,
        idempotency_key TEXT,
        received_at     INTEGER NOT NULL,
        state           TEXT NOT NULL
    );
    CREATE INDEX messages_state ON messages(state);
    CREATE INDEX messages_correlation ON messages(correlation_id);

    CREATE TABLE idempotency_keys (
        source          TEXT NOT NULL,
        key             TEXT NOT NULL,
        message_id      TEXT NOT NULL,
        correlation_id  TEXT NOT NULL,
        body_sha256     TEXT NOT NULL,
        created_at      INTEGER NOT NULL,
        expires_at      INTEGER NOT NULL,
        PRIMARY KEY (source, key)
    );
    CREATE INDEX idempotency_expiry ON idempotency_keys(expires_at);

    CREATE TABLE processing (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id      TEXT NOT NULL,
        correlation_id  TEXT NOT NULL,
        route           TEXT NOT NULL,
        stage           TEXT NOT NULL,
        plugin          TEXT NOT NULL,
        plugin_sha256   TEXT NOT NULL,
        ok              INTEGER NOT NULL,
        result          TEXT NOT NULL,
        elapsed_us      INTEGER NOT NULL,
        created_at      INTEGER NOT NULL
    );
    CREATE INDEX processing_correlation ON processing(correlation_id);

    CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id      TEXT NOT NULL,
        correlation_id  TEXT NOT NULL,
        route           TEXT NOT NULL,
        target          TEXT NOT NULL,
        business_key    TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        body            BLOB NOT NULL,
        content_type    TEXT NOT NULL,
        plugin          TEXT NOT NULL,
        plugin_sha256   TEXT NOT NULL,
        schema_id       TEXT NOT NULL,
        state           TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_response   TEXT,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL
    );
    CREATE INDEX outbox_due ON outbox(target, state, next_attempt_at);
    CREATE INDEX outbox_order ON outbox(target, business_key, id);
    CREATE INDEX outbox_correlation ON outbox(correlation_id);

    CREATE TABLE attempts (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        delivery_id     INTEGER NOT NULL,
        attempt         INTEGER NOT NULL,
        started_at      INTEGER NOT NULL,
        elapsed_ms      INTEGER NOT NULL,
        status          INTEGER,
        response        TEXT NOT NULL
    );
    CREATE INDEX attempts_delivery ON attempts(delivery_id);

    CREATE TABLE dead_letters (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id      TEXT NOT NULL,
        correlation_id  TEXT NOT NULL,
        source          TEXT NOT NULL,
        route           TEXT,
        target          TEXT,
        delivery_id     INTEGER,
        reason          TEXT NOT NULL,
        detail          TEXT NOT NULL,
        attempts        INTEGER NOT NULL,
        last_response   TEXT,
        plugin          TEXT,
        plugin_sha256   TEXT,
        created_at      INTEGER NOT NULL,
        replayed_at     INTEGER
    );
    CREATE INDEX dead_letters_correlation ON dead_letters(correlation_id);
    "#,
    // 2: the per-key ordering check only looks at undelivered entries.
    r#"
    CREATE INDEX outbox_open ON outbox(target, business_key, id) WHERE state IN ('pending', 'inflight');
    "#,
    // 3: the sync patterns: commands, exceptions with their audit trail,
    // out-of-order watermarks, duplicate-line fingerprints, the state each
    // system confirmed, reference-data hashes and reconciliation runs.
    r#"
    ALTER TABLE outbox ADD COLUMN canonical TEXT;
    ALTER TABLE outbox ADD COLUMN confirm TEXT;
    ALTER TABLE outbox ADD COLUMN command INTEGER NOT NULL DEFAULT 0;

    CREATE TABLE commands (
        message_id      TEXT PRIMARY KEY,
        route           TEXT NOT NULL,
        correlation_id  TEXT NOT NULL,
        state           TEXT NOT NULL,
        status          INTEGER,
        response        TEXT,
        created_at      INTEGER NOT NULL,
        completed_at    INTEGER
    );

    CREATE TABLE exceptions (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        dedupe_key      TEXT UNIQUE,
        reason          TEXT NOT NULL,
        state           TEXT NOT NULL,
        message_id      TEXT,
        correlation_id  TEXT,
        route           TEXT,
        target          TEXT,
        business_key    TEXT NOT NULL,
        schema_id       TEXT,
        document        TEXT,
        violations      TEXT NOT NULL,
        plugins         TEXT NOT NULL,
        detail          TEXT NOT NULL,
        occurrences     INTEGER NOT NULL DEFAULT 1,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL
    );
    CREATE INDEX exceptions_state ON exceptions(state, reason);
    CREATE INDEX exceptions_correlation ON exceptions(correlation_id);

    CREATE TABLE exception_audit (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        exception_id    INTEGER NOT NULL,
        at              INTEGER NOT NULL,
        actor           TEXT NOT NULL,
        action          TEXT NOT NULL,
        note            TEXT,
        detail          TEXT NOT NULL
    );
    CREATE INDEX exception_audit_exception ON exception_audit(exception_id);

    CREATE TABLE watermarks (
        target          TEXT NOT NULL,
        business_key    TEXT NOT NULL,
        event_at        INTEGER NOT NULL,
        PRIMARY KEY (target, business_key)
    );

    CREATE TABLE fingerprints (
        target          TEXT NOT NULL,
        fingerprint     TEXT NOT NULL,
        message_id      TEXT NOT NULL,
        created_at      INTEGER NOT NULL,
        PRIMARY KEY (target, fingerprint)
    );

    CREATE TABLE entity_state (
        system          TEXT NOT NULL,
        entity          TEXT NOT NULL,
        business_id     TEXT NOT NULL,
        schema_id       TEXT NOT NULL,
        document        TEXT NOT NULL,
        confirmed_at    INTEGER NOT NULL,
        PRIMARY KEY (system, entity, business_id)
    );

    CREATE TABLE sync_hashes (
        job             TEXT NOT NULL,
        record_key      TEXT NOT NULL,
        hash            TEXT NOT NULL,
        updated_at      INTEGER NOT NULL,
        PRIMARY KEY (job, record_key)
    );

    CREATE TABLE recon_runs (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        finished_at     INTEGER NOT NULL,
        report          TEXT NOT NULL
    );
    "#,
    // 4: delivery leases, host-side failure counts (poison messages), and
    // the indexes retention deletes by.
    r#"
    ALTER TABLE outbox ADD COLUMN claimed_at INTEGER;
    ALTER TABLE messages ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX messages_received ON messages(received_at);
    CREATE INDEX outbox_message ON outbox(message_id);
    CREATE INDEX processing_message ON processing(message_id);
    CREATE INDEX dead_letters_message ON dead_letters(message_id);
    CREATE INDEX exceptions_message ON exceptions(message_id);
    CREATE INDEX commands_created ON commands(created_at);
    CREATE INDEX recon_runs_finished ON recon_runs(finished_at);
    "#,
    // 5: the HTTP status of the last attempt as its own column (it was
    // only inside `last_response`, as its first word); older rows get it
    // from there.
    r#"
    ALTER TABLE outbox ADD COLUMN last_status INTEGER;
    ALTER TABLE dead_letters ADD COLUMN last_status INTEGER;
    UPDATE outbox SET last_status = CAST(substr(last_response, 1, 3) AS INTEGER)
        WHERE last_response GLOB '[1-5][0-9][0-9] *' OR last_response GLOB '[1-5][0-9][0-9]';
    UPDATE dead_letters SET last_status = CAST(substr(last_response, 1, 3) AS INTEGER)
        WHERE last_response GLOB '[1-5][0-9][0-9] *' OR last_response GLOB '[1-5][0-9][0-9]';
    "#,
    // 6: host-internal message metadata (command route, business key of a
    // sync record, the quotes approval read) in its own column instead of
    // partner headers; the old header forms are carried over.
    r#"
    ALTER TABLE messages ADD COLUMN context TEXT;
    UPDATE messages SET context = json_object('command_route', (SELECT route FROM commands WHERE commands.message_id = messages.message_id))
     WHERE message_id IN (SELECT message_id FROM commands);
    UPDATE messages SET context = json_set(COALESCE(context, '{}'), '$.business_key',
        (SELECT json_extract(h.value, '$[1]') FROM json_each(messages.headers) h WHERE json_extract(h.value, '$[0]') = 'x-waybill-business-key'))
     WHERE source LIKE 'sync.%'
       AND EXISTS (SELECT 1 FROM json_each(messages.headers) h WHERE json_extract(h.value, '$[0]') = 'x-waybill-business-key');
    "#,
    // 7: a command repeated without an idempotency key, found a duplicate
    // by its derived key, names the command whose answer it gets.
    r#"
    ALTER TABLE commands ADD COLUMN duplicate_of TEXT;
    CREATE INDEX commands_duplicate_of ON commands (duplicate_of) WHERE duplicate_of IS NOT NULL;
    "#,
    // 8: the write path for throughput. Indexes that every state change
    // had to maintain give way to partial ones holding only open work (the
    // unprocessed messages, the undelivered entries); the plugin runs are
    // found through their message; the last attempt of a delivery lives in
    // its outbox row (written by the same update that settles it), the
    // attempts table keeps the earlier ones.
    r#"
    DROP INDEX messages_state;
    CREATE INDEX messages_unprocessed ON messages(state) WHERE state = 'received';
    DROP INDEX outbox_due;
    DROP INDEX outbox_order;
    CREATE INDEX outbox_ready ON outbox(target, id) WHERE state IN ('pending', 'inflight');
    DROP INDEX processing_correlation;
    ALTER TABLE outbox ADD COLUMN last_started_at INTEGER;
    ALTER TABLE outbox ADD COLUMN last_elapsed_ms INTEGER;
    "#,
    // 9: bodies in tables of their own, written once. A message row is
    // updated as it is processed and an outbox row at its claim and at each
    // attempt; with the body inside, every update rewrote it and every
    // commit wrote its pages to the WAL again.
    r#"
    CREATE TABLE message_bodies (
        message_id      TEXT PRIMARY KEY,
        body            BLOB NOT NULL
    );
    INSERT INTO message_bodies (message_id, body) SELECT message_id, body FROM messages ORDER BY rowid;
    ALTER TABLE messages DROP COLUMN body;
    CREATE TABLE outbox_bodies (
        id              INTEGER PRIMARY KEY,
        body            BLOB NOT NULL
    );
    INSERT INTO outbox_bodies (id, body) SELECT id, body FROM outbox ORDER BY id;
    ALTER TABLE outbox DROP COLUMN body;
    "#,
    // 10: when each periodic job (a sync job, reconciliation) last
    // started, so a restart or a second host does not run it again early.
    r#"
    CREATE TABLE schedules (
        name            TEXT PRIMARY KEY,
        last_started_at INTEGER NOT NULL,
        started_by      TEXT NOT NULL
    );
    "#,
    // 11: which host had the file open from when: the timeline names the
    // host of each step from it (one host uses the file at a time).
    r#"
    CREATE TABLE host_epochs (
        started_at      INTEGER NOT NULL,
        host            TEXT NOT NULL
    );
    CREATE INDEX host_epochs_started ON host_epochs (started_at);
    "#,
    // plugin distribution: versions pushed into the store (by sha256,
    // with their fixtures), the log of store-wide decisions every host
    // follows, and each host's state of each plugin.
    r#"
    CREATE TABLE plugin_versions (
        sha256          TEXT PRIMARY KEY,
        name            TEXT NOT NULL,
        version         TEXT NOT NULL,
        component       BLOB NOT NULL,
        pushed_by       TEXT NOT NULL,
        pushed_at       INTEGER NOT NULL
    );
    CREATE INDEX plugin_versions_name ON plugin_versions(name);
    CREATE TABLE plugin_fixtures (
        sha256          TEXT NOT NULL REFERENCES plugin_versions(sha256),
        path            TEXT NOT NULL,
        body            BLOB NOT NULL,
        PRIMARY KEY (sha256, path)
    );
    CREATE TABLE plugin_decisions (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        name            TEXT NOT NULL,
        sha256          TEXT NOT NULL REFERENCES plugin_versions(sha256),
        action          TEXT NOT NULL,
        host            TEXT NOT NULL,
        decided_at      INTEGER NOT NULL
    );
    CREATE INDEX plugin_decisions_name ON plugin_decisions(name, seq);
    CREATE TABLE plugin_hosts (
        host            TEXT NOT NULL,
        name            TEXT NOT NULL,
        sha256          TEXT NOT NULL,
        state           TEXT NOT NULL,
        detail          TEXT NOT NULL,
        updated_at      INTEGER NOT NULL,
        PRIMARY KEY (host, name)
    );
    "#,
    // plugin canaries: store-wide decisions sending a share of business
    // keys to a candidate version; at most one runs per plugin.
    r#"
    CREATE TABLE plugin_canaries (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        name            TEXT NOT NULL,
        sha256          TEXT NOT NULL REFERENCES plugin_versions(sha256),
        percent         REAL NOT NULL,
        active_sha256   TEXT NOT NULL,
        decision_seq    INTEGER NOT NULL,
        started_by      TEXT NOT NULL,
        started_at      INTEGER NOT NULL,
        outcome         TEXT,
        ended_by        TEXT,
        reason          TEXT,
        automatic       INTEGER,
        ended_at        INTEGER
    );
    CREATE UNIQUE INDEX plugin_canaries_running ON plugin_canaries(name) WHERE ended_at IS NULL;
    CREATE INDEX plugin_canaries_name ON plugin_canaries(name, seq);
    "#,
    // shadow runs: a stored candidate shadows its plugin on every host
    // until stopped (one running per plugin), each host's report per run;
    // a recorded replay finds a route's messages by time.
    r#"
    CREATE TABLE plugin_shadows (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        name            TEXT NOT NULL,
        sha256          TEXT NOT NULL REFERENCES plugin_versions(sha256),
        ignore          TEXT NOT NULL,
        examples        INTEGER NOT NULL,
        started_by      TEXT NOT NULL,
        started_at      INTEGER NOT NULL,
        stopped_by      TEXT,
        stopped_at      INTEGER
    );
    CREATE UNIQUE INDEX plugin_shadows_running ON plugin_shadows(name) WHERE stopped_at IS NULL;
    CREATE TABLE plugin_shadow_reports (
        run_id          INTEGER NOT NULL REFERENCES plugin_shadows(id),
        host            TEXT NOT NULL,
        report          TEXT NOT NULL,
        updated_at      INTEGER NOT NULL,
        PRIMARY KEY (run_id, host)
    );
    CREATE INDEX IF NOT EXISTS messages_received ON messages(received_at);
    CREATE INDEX IF NOT EXISTS processing_message ON processing(message_id, route);
    "#,
];

/// Applies every migration the database has not seen yet.
pub(crate) fn migrate(conn: &mut Connection) -> rusqlite::Result<usize> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    let current: i64 = conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_version",
        [],
        |r| r.get(0),
    )?;
    let mut applied = 0;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        if version <= current {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [version],
        )?;
        tx.commit()?;
        applied += 1;
    }
    Ok(applied)
}

/// The newest schema version this build knows.
pub(crate) fn latest() -> usize {
    MIGRATIONS.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_of_version_4_gets_the_last_status_column_from_its_responses() {
        let mut conn = Connection::open_in_memory().expect("open");
        conn.execute_batch("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            .expect("version table");
        for (i, sql) in MIGRATIONS[..4].iter().enumerate() {
            conn.execute_batch(sql).expect("old migration");
            conn.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                [i as i64 + 1],
            )
            .expect("version");
        }
        for (id, response) in [
            (1, Some("503 busy")),
            (2, Some("connection refused")),
            (3, None),
        ] {
            conn.execute(
                "INSERT INTO outbox (id, message_id, correlation_id, route, target, business_key, idempotency_key,
                                     body, content_type, plugin, plugin_sha256, schema_id, state, next_attempt_at,
                                     last_response, created_at, updated_at)
                 VALUES (?1, 'm', 'c', 'r', 't', 'k', 'i', x'', 'application/json', 'p', 's', 'x@1', 'pending', 0, ?2, 0, 0)",
                rusqlite::params![id, response],
            )
            .expect("old row");
        }
        conn.execute(
            "INSERT INTO dead_letters (message_id, correlation_id, source, reason, detail, attempts, last_response, created_at)
             VALUES ('m', 'c', 's', 'delivery-rejected', '{}', 1, '422 unprocessable', 0)",
            [],
        )
        .expect("old dead letter");

        assert_eq!(migrate(&mut conn).expect("migrate"), latest() - 4);
        let statuses: Vec<Option<u16>> = conn
            .prepare("SELECT last_status FROM outbox ORDER BY id")
            .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
            .expect("read");
        assert_eq!(statuses, [Some(503), None, None]);
        let dead: Option<u16> = conn
            .query_row("SELECT last_status FROM dead_letters", [], |r| r.get(0))
            .expect("read");
        assert_eq!(dead, Some(422));
        assert_eq!(migrate(&mut conn).expect("again"), 0, "nothing twice");
    }

    /// Migration 6 carries the old header forms of host metadata over into
    /// the context column: a command's route, a sync record's business key
    /// (never a partner message's header).
    #[test]
    fn host_metadata_moves_from_headers_into_the_context() {
        let mut conn = Connection::open_in_memory().expect("db");
        conn.execute_batch("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            .expect("version table");
        for (i, sql) in MIGRATIONS[..5].iter().enumerate() {
            conn.execute_batch(sql).expect("old migration");
            conn.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                [i as i64 + 1],
            )
            .expect("version");
        }
        let insert = |id: &str, source: &str, headers: &str| {
            conn.execute(
                "INSERT INTO messages (message_id, source, kind, content_type, headers, body, correlation_id, received_at, state)
                 VALUES (?1, ?2, 'k', 'application/json', ?3, x'7b7d', 'c', 0, 'processed')",
                [id, source, headers],
            )
            .expect("legacy message");
        };
        insert("cmd", "erp", r#"[["x-waybill-command","order-release"]]"#);
        insert(
            "sync",
            "sync.master-data",
            r#"[["x-waybill-business-key","CUST-1"]]"#,
        );
        insert("partner", "erp", r#"[["x-waybill-business-key","FORGED"]]"#);
        conn.execute(
            "INSERT INTO commands (message_id, route, correlation_id, state, created_at) VALUES ('cmd', 'order-release', 'c', 'completed', 0)",
            [],
        )
        .expect("legacy command");
        assert_eq!(migrate(&mut conn).expect("migrate"), latest() - 5);
        let context = |id: &str| -> Option<String> {
            conn.query_row(
                "SELECT context FROM messages WHERE message_id = ?1",
                [id],
                |r| r.get(0),
            )
            .expect("row")
        };
        assert_eq!(
            context("cmd").as_deref(),
            Some(r#"{"command_route":"order-release"}"#)
        );
        assert_eq!(
            context("sync").as_deref(),
            Some(r#"{"business_key":"CUST-1"}"#)
        );
        assert_eq!(context("partner"), None);
    }

    #[test]
    fn a_database_of_version_8_keeps_its_bodies_in_the_body_tables() {
        let mut conn = Connection::open_in_memory().expect("open");
        conn.execute_batch("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            .expect("version table");
        for (i, sql) in MIGRATIONS[..8].iter().enumerate() {
            conn.execute_batch(sql).expect("old migration");
            conn.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                [i as i64 + 1],
            )
            .expect("version");
        }
        for (id, body) in [("m1", b"{\"a\":1}".as_slice()), ("m2", b"<x12>".as_slice())] {
            conn.execute(
                "INSERT INTO messages (message_id, source, kind, content_type, headers, body, correlation_id, received_at, state)
                 VALUES (?1, 's', 'k', 'application/json', '[]', ?2, 'c', 0, 'received')",
                rusqlite::params![id, body],
            )
            .expect("old message");
        }
        conn.execute(
            "INSERT INTO outbox (id, message_id, correlation_id, route, target, business_key, idempotency_key,
                                 body, content_type, plugin, plugin_sha256, schema_id, state, next_attempt_at,
                                 created_at, updated_at)
             VALUES (7, 'm1', 'c', 'r', 't', 'k', 'i', x'6f7574', 'application/json', 'p', 's', 'x@1', 'pending', 0, 0, 0)",
            [],
        )
        .expect("old delivery");

        assert_eq!(migrate(&mut conn).expect("migrate"), latest() - 8);
        let bodies: Vec<(String, Vec<u8>)> = conn
            .prepare("SELECT message_id, body FROM message_bodies ORDER BY message_id")
            .and_then(|mut st| {
                st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()
            })
            .expect("message bodies");
        assert_eq!(
            bodies,
            vec![
                ("m1".to_string(), b"{\"a\":1}".to_vec()),
                ("m2".to_string(), b"<x12>".to_vec())
            ]
        );
        let out: (i64, Vec<u8>) = conn
            .query_row("SELECT id, body FROM outbox_bodies", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .expect("outbox body");
        assert_eq!(out, (7, b"out".to_vec()));
        for table in ["messages", "outbox"] {
            let has_body: i64 = conn
                .query_row(
                    &format!(
                        "SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = 'body'"
                    ),
                    [],
                    |r| r.get(0),
                )
                .expect("table info");
            assert_eq!(has_body, 0, "{table} still has its body column");
        }
    }
}
