//! The store's schema, as numbered migrations that both databases run.
//!
//! Each migration is one SQL text for SQLite and PostgreSQL alike; the few words the two spell
//! differently are written as `{{PLACEHOLDERS}}` and filled in per dialect. A database records
//! every migration it ran in `schema_migrations`; one that records a version this binary does not
//! know was written by a newer detcloud and is refused (`StoreError::SchemaTooNew`) before
//! anything is read or written.

use super::Dialect;

/// One schema step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) name: &'static str,
    sql: &'static str,
}

impl Migration {
    /// The statements of this migration for `dialect`, in order.
    pub(crate) fn statements(&self, dialect: Dialect) -> Vec<String> {
        let sql = match dialect {
            Dialect::Sqlite => self.sql.replace("{{SERIAL_KEY}}", "INTEGER PRIMARY KEY AUTOINCREMENT"),
            Dialect::Postgres => self.sql.replace("{{SERIAL_KEY}}", "BIGSERIAL PRIMARY KEY"),
        };
        sql.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
    }
}

/// Every migration, oldest first. Append only: a released migration never changes.
pub(crate) const MIGRATIONS: &[Migration] = &[Migration { version: 1, name: "initial schema", sql: INITIAL }];

/// The newest schema version this binary knows.
pub(crate) fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Times are milliseconds since the Unix epoch (BIGINT); booleans are 0 or 1 (BIGINT); lists
/// and specs are JSON text. Those three types read the same from both databases.
const INITIAL: &str = "
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    role_arn TEXT NOT NULL,
    external_id TEXT NOT NULL,
    regions TEXT NOT NULL,
    paused BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE clusters (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    name TEXT NOT NULL,
    region TEXT NOT NULL,
    spec TEXT NOT NULL,
    generation BIGINT NOT NULL,
    deletion_requested BIGINT NOT NULL DEFAULT 0,
    purge BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, name)
);
CREATE TABLE cluster_status (
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    observed_generation BIGINT NOT NULL,
    phase TEXT NOT NULL,
    conditions TEXT NOT NULL,
    resources TEXT NOT NULL,
    master TEXT,
    last_reconciled BIGINT,
    last_error TEXT,
    next_attempt BIGINT,
    failures BIGINT NOT NULL,
    PRIMARY KEY (account_id, name),
    FOREIGN KEY (account_id, name) REFERENCES clusters (account_id, name)
);
CREATE TABLE events (
    id {{SERIAL_KEY}},
    at BIGINT NOT NULL,
    account_id TEXT,
    cluster TEXT,
    reason TEXT NOT NULL,
    message TEXT NOT NULL,
    actor TEXT NOT NULL
);
CREATE INDEX events_by_cluster ON events (account_id, cluster, id);
CREATE TABLE leases (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id),
    holder TEXT,
    epoch BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE TABLE replicas (
    id TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);
CREATE TABLE tokens (
    name TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
)
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_increase_by_one_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
        }
        assert_eq!(latest(), MIGRATIONS.len() as i64);
    }

    #[test]
    fn every_placeholder_is_filled_for_both_dialects() {
        for m in MIGRATIONS {
            for dialect in [Dialect::Sqlite, Dialect::Postgres] {
                let statements = m.statements(dialect);
                assert!(!statements.is_empty());
                assert!(statements.iter().all(|s| !s.contains("{{")), "{} {dialect:?}", m.name);
            }
        }
        let events = |d| MIGRATIONS[0].statements(d).into_iter().find(|s| s.contains("CREATE TABLE events")).unwrap();
        assert!(events(Dialect::Sqlite).contains("AUTOINCREMENT"));
        assert!(events(Dialect::Postgres).contains("BIGSERIAL"));
    }
}
