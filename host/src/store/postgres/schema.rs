//! Versioned schema migrations of the PostgreSQL store, recorded in
//! `schema_migrations`. All pending migrations run in one transaction
//! under `pg_advisory_xact_lock`, keyed by the schema they migrate, so two
//! hosts starting at once do not race: the second waits, then finds
//! nothing left to do.
//!
//! The tables mirror the SQLite store's (at its migration 8): integer
//! primary keys (identity columns) for rows only the host names, text ids
//! where a partner sees them (message ids), times as milliseconds since
//! the epoch. JSON values are `jsonb`. One column is PostgreSQL's own:
//! `messages.leased_until` and `leased_by`, the lease of a message handed
//! out for processing and the store instance holding it (several hosts
//! share the queue).

/// Migrations, in order. Never edit one that has shipped: add another.
const MIGRATIONS: &[&str] = &[
    // 1: every record of the pipeline and the sync patterns.
    r#"
    CREATE TABLE messages (
        id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        message_id      TEXT NOT NULL UNIQUE,
        source          TEXT NOT NULL,
        kind            TEXT NOT NULL,
        content_type    TEXT NOT NULL,
        headers         JSONB NOT NULL,
        body            BYTEA NOT NULL,
        correlation_id  TEXT NOT NULL,
        idempotency_key TEXT,
        received_at     BIGINT NOT NULL,
        state           TEXT NOT NULL,
        context         JSONB,
        failures        INTEGER NOT NULL DEFAULT 0,
        leased_until    BIGINT,
        leased_by       TEXT
    );
    CREATE INDEX messages_unprocessed ON messages (id) WHERE state = 'received';
    CREATE INDEX messages_correlation ON messages (correlation_id);
    CREATE INDEX messages_received ON messages (received_at);

    CREATE TABLE idempotency_keys (
        source          TEXT NOT NULL,
        key             TEXT NOT NULL,
        message_id      TEXT NOT NULL,
        correlation_id  TEXT NOT NULL,
        body_sha256     TEXT NOT NULL,
        created_at      BIGINT NOT NULL,
        expires_at      BIGINT NOT NULL,
        PRIMARY KEY (source, key)
    );
    CREATE INDEX idempotency_expiry ON idempotency_keys (expires_at);

    CREATE TABLE processing (
        id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        message_id      TEXT NOT NULL,
        correlation_id  TEXT NOT NULL,
        route           TEXT NOT NULL,
        stage           TEXT NOT NULL,
        plugin          TEXT NOT NULL,
        plugin_sha256   TEXT NOT NULL,
        ok              BOOLEAN NOT NULL,
        result          JSONB NOT NULL,
        elapsed_us      BIGINT NOT NULL,
        created_at      BIGINT NOT NULL
    );
    CREATE INDEX processing_message ON processing (message_id);

    CREATE TABLE outbox (
        id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        message_id      TEXT NOT NULL,
        correlation_id  TEXT NOT NULL,
        route           TEXT NOT NULL,
        target          TEXT NOT NULL,
        business_key    TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        body            BYTEA NOT NULL,
        content_type    TEXT NOT NULL,
        plugin          TEXT NOT NULL,
        plugin_sha256   TEXT NOT NULL,
        schema_id       TEXT NOT NULL,
        state           TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at BIGINT NOT NULL,
        last_response   TEXT,
        last_status     INTEGER,
        last_started_at BIGINT,
        last_elapsed_ms BIGINT,
        canonical       TEXT,
        confirm         TEXT,
        command         BOOLEAN NOT NULL DEFAULT FALSE,
        claimed_at      BIGINT,
        created_at      BIGINT NOT NULL,
        updated_at      BIGINT NOT NULL
    );
    CREATE INDEX outbox_ready ON outbox (target, id) WHERE state IN ('pending', 'inflight');
    CREATE INDEX outbox_open ON outbox (target, business_key, id) WHERE state IN ('pending', 'inflight');
    CREATE INDEX outbox_correlation ON outbox (correlation_id);
    CREATE INDEX outbox_message ON outbox (message_id);

    CREATE TABLE attempts (
        id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        delivery_id     BIGINT NOT NULL,
        attempt         INTEGER NOT NULL,
        started_at      BIGINT NOT NULL,
        elapsed_ms      BIGINT NOT NULL,
        status          INTEGER,
        response        TEXT NOT NULL
    );
    CREATE INDEX attempts_delivery ON attempts (delivery_id);

    CREATE TABLE dead_letters (
        id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        message_id      TEXT NOT NULL,
        correlation_id  TEXT NOT NULL,
        source          TEXT NOT NULL,
        route           TEXT,
        target          TEXT,
        delivery_id     BIGINT,
        reason          TEXT NOT NULL,
        detail          JSONB NOT NULL,
        attempts        INTEGER NOT NULL,
        last_response   TEXT,
        last_status     INTEGER,
        plugin          TEXT,
        plugin_sha256   TEXT,
        created_at      BIGINT NOT NULL,
        replayed_at     BIGINT
    );
    CREATE INDEX dead_letters_correlation ON dead_letters (correlation_id);
    CREATE INDEX dead_letters_message ON dead_letters (message_id);

    CREATE TABLE commands (
        message_id      TEXT PRIMARY KEY,
        route           TEXT NOT NULL,
        correlation_id  TEXT NOT NULL,
        state           TEXT NOT NULL,
        status          INTEGER,
        response        JSONB,
        created_at      BIGINT NOT NULL,
        completed_at    BIGINT,
        duplicate_of    TEXT
    );
    CREATE INDEX commands_created ON commands (created_at);
    CREATE INDEX commands_duplicate_of ON commands (duplicate_of) WHERE duplicate_of IS NOT NULL;

    CREATE TABLE exceptions (
        id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        dedupe_key      TEXT UNIQUE,
        reason          TEXT NOT NULL,
        state           TEXT NOT NULL,
        message_id      TEXT,
        correlation_id  TEXT,
        route           TEXT,
        target          TEXT,
        business_key    TEXT NOT NULL,
        schema_id       TEXT,
        document        JSONB,
        violations      JSONB NOT NULL,
        plugins         JSONB NOT NULL,
        detail          JSONB NOT NULL,
        occurrences     INTEGER NOT NULL DEFAULT 1,
        created_at      BIGINT NOT NULL,
        updated_at      BIGINT NOT NULL
    );
    CREATE INDEX exceptions_state ON exceptions (state, reason);
    CREATE INDEX exceptions_correlation ON exceptions (correlation_id);
    CREATE INDEX exceptions_message ON exceptions (message_id);

    CREATE TABLE exception_audit (
        id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        exception_id    BIGINT NOT NULL,
        at              BIGINT NOT NULL,
        actor           TEXT NOT NULL,
        action          TEXT NOT NULL,
        note            TEXT,
        detail          JSONB NOT NULL
    );
    CREATE INDEX exception_audit_exception ON exception_audit (exception_id);

    CREATE TABLE watermarks (
        target          TEXT NOT NULL,
        business_key    TEXT NOT NULL,
        event_at        BIGINT NOT NULL,
        PRIMARY KEY (target, business_key)
    );

    CREATE TABLE fingerprints (
        target          TEXT NOT NULL,
        fingerprint     TEXT NOT NULL,
        message_id      TEXT NOT NULL,
        created_at      BIGINT NOT NULL,
        PRIMARY KEY (target, fingerprint)
    );

    CREATE TABLE entity_state (
        system          TEXT NOT NULL,
        entity          TEXT NOT NULL,
        business_id     TEXT NOT NULL,
        schema_id       TEXT NOT NULL,
        document        JSONB NOT NULL,
        confirmed_at    BIGINT NOT NULL,
        PRIMARY KEY (system, entity, business_id)
    );

    CREATE TABLE sync_hashes (
        job             TEXT NOT NULL,
        record_key      TEXT NOT NULL,
        hash            TEXT NOT NULL,
        updated_at      BIGINT NOT NULL,
        PRIMARY KEY (job, record_key)
    );

    CREATE TABLE recon_runs (
        id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        finished_at     BIGINT NOT NULL,
        report          JSONB NOT NULL
    );
    CREATE INDEX recon_runs_finished ON recon_runs (finished_at);
    "#,
    // 2: when each periodic job (a sync job, reconciliation) last started,
    // so of several hosts one runs it per period.
    r#"
    CREATE TABLE schedules (
        name            TEXT PRIMARY KEY,
        last_started_at BIGINT NOT NULL,
        started_by      TEXT NOT NULL
    );
    "#,
    // 3: the host of each step, for the timeline: every session carries
    // its host's name (`waybill.host`, set at connect), the rows a step
    // inserts take it by default, the attempt folded into an outbox row
    // sets it. Rows from before stay without one (NULL, not the migrating
    // host's name: the defaults are set after the columns are added).
    r#"
    ALTER TABLE messages ADD COLUMN received_by TEXT;
    ALTER TABLE messages ALTER COLUMN received_by SET DEFAULT current_setting('waybill.host', true);
    ALTER TABLE processing ADD COLUMN host TEXT;
    ALTER TABLE processing ALTER COLUMN host SET DEFAULT current_setting('waybill.host', true);
    ALTER TABLE attempts ADD COLUMN host TEXT;
    ALTER TABLE attempts ALTER COLUMN host SET DEFAULT current_setting('waybill.host', true);
    ALTER TABLE outbox ADD COLUMN last_host TEXT;
    "#,
    // 4: claims in receipt order without joining messages: each outbox
    // row keeps its message's position (`message_seq`), and the index of
    // open entries per key is in that order.
    r#"
    ALTER TABLE outbox ADD COLUMN message_seq BIGINT;
    UPDATE outbox o SET message_seq = m.id FROM messages m WHERE m.message_id = o.message_id;
    UPDATE outbox SET message_seq = 0 WHERE message_seq IS NULL;
    ALTER TABLE outbox ALTER COLUMN message_seq SET NOT NULL;
    DROP INDEX outbox_ready;
    DROP INDEX outbox_open;
    CREATE INDEX outbox_ready ON outbox (target, message_seq, id) WHERE state IN ('pending', 'inflight');
    CREATE INDEX outbox_open ON outbox (target, business_key, message_seq, id) WHERE state IN ('pending', 'inflight');
    "#,
    // plugin distribution: versions pushed into the store (by sha256,
    // with their fixtures), the log of store-wide decisions every host
    // follows, and each host's state of each plugin.
    r#"
    CREATE TABLE plugin_versions (
        sha256          TEXT PRIMARY KEY,
        name            TEXT NOT NULL,
        version         TEXT NOT NULL,
        component       BYTEA NOT NULL,
        pushed_by       TEXT NOT NULL,
        pushed_at       BIGINT NOT NULL,
        id              BIGINT GENERATED ALWAYS AS IDENTITY
    );
    CREATE INDEX plugin_versions_name ON plugin_versions (name, id);
    CREATE TABLE plugin_fixtures (
        sha256          TEXT NOT NULL REFERENCES plugin_versions (sha256),
        path            TEXT NOT NULL,
        body            BYTEA NOT NULL,
        PRIMARY KEY (sha256, path)
    );
    CREATE TABLE plugin_decisions (
        seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name            TEXT NOT NULL,
        sha256          TEXT NOT NULL REFERENCES plugin_versions (sha256),
        action          TEXT NOT NULL,
        host            TEXT NOT NULL,
        decided_at      BIGINT NOT NULL
    );
    CREATE INDEX plugin_decisions_name ON plugin_decisions (name, seq);
    CREATE TABLE plugin_hosts (
        host            TEXT NOT NULL,
        name            TEXT NOT NULL,
        sha256          TEXT NOT NULL,
        state           TEXT NOT NULL,
        detail          TEXT NOT NULL,
        updated_at      BIGINT NOT NULL,
        PRIMARY KEY (host, name)
    );
    "#,
    // plugin canaries: store-wide decisions sending a share of business
    // keys to a candidate version; at most one runs per plugin.
    r#"
    CREATE TABLE plugin_canaries (
        seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name            TEXT NOT NULL,
        sha256          TEXT NOT NULL REFERENCES plugin_versions (sha256),
        percent         DOUBLE PRECISION NOT NULL,
        active_sha256   TEXT NOT NULL,
        decision_seq    BIGINT NOT NULL,
        started_by      TEXT NOT NULL,
        started_at      BIGINT NOT NULL,
        outcome         TEXT,
        ended_by        TEXT,
        reason          TEXT,
        automatic       BOOLEAN,
        ended_at        BIGINT
    );
    CREATE UNIQUE INDEX plugin_canaries_running ON plugin_canaries (name) WHERE ended_at IS NULL;
    CREATE INDEX plugin_canaries_name ON plugin_canaries (name, seq);
    "#,
    // shadow runs: a stored candidate shadows its plugin on every host
    // until stopped (one running per plugin), each host's report per run;
    // a recorded replay finds a route's messages by time.
    r#"
    CREATE TABLE plugin_shadows (
        id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name            TEXT NOT NULL,
        sha256          TEXT NOT NULL REFERENCES plugin_versions (sha256),
        ignore          JSONB NOT NULL,
        examples        INTEGER NOT NULL,
        started_by      TEXT NOT NULL,
        started_at      BIGINT NOT NULL,
        stopped_by      TEXT,
        stopped_at      BIGINT
    );
    CREATE UNIQUE INDEX plugin_shadows_running ON plugin_shadows (name) WHERE stopped_at IS NULL;
    CREATE TABLE plugin_shadow_reports (
        run_id          BIGINT NOT NULL REFERENCES plugin_shadows (id),
        host            TEXT NOT NULL,
        report          JSONB NOT NULL,
        updated_at      BIGINT NOT NULL,
        PRIMARY KEY (run_id, host)
    );
    CREATE INDEX processing_message_route ON processing (message_id, route);
    "#,
];

/// Applies every migration the database has not seen yet, in one
/// transaction holding the migration lock of the current schema; returns
/// how many it applied.
pub(super) async fn migrate(
    client: &mut deadpool_postgres::Object,
) -> Result<usize, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('waybill.migrations.' || COALESCE(current_schema(), '')))",
        &[],
    )
    .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .await?;
    let current: i32 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .await?
        .get(0);
    let mut applied = 0;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i32 + 1;
        if version <= current {
            continue;
        }
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&version],
        )
        .await?;
        applied += 1;
    }
    tx.commit().await?;
    Ok(applied)
}

/// The newest schema version this build knows.
pub(super) fn latest() -> usize {
    MIGRATIONS.len()
}
