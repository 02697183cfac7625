//! [`Store`] on SQLite and PostgreSQL: one implementation, through sqlx's `Any` driver.
//!
//! The SQL is written once, in the subset both databases speak (`$1` parameters, `ON CONFLICT`,
//! `RETURNING`); the three places where they differ branch on [`Dialect`]:
//! - **Write transactions.** SQLite has one writer at a time: a transaction that reads before it
//!   writes could find, at its first write, that another process committed since its read, and
//!   fail at once instead of waiting. Every SQLite write transaction therefore starts with a
//!   write (an update that changes nothing), which takes the database's write lock up front and
//!   waits for it (`busy_timeout`). PostgreSQL locks rows instead: the account's row
//!   (`SELECT ... FOR UPDATE`) serialises the writes that concern one account.
//! - **Claiming leases.** PostgreSQL claims rows with `FOR UPDATE SKIP LOCKED`, so replicas
//!   claiming at the same moment take different accounts instead of waiting for each other.
//! - **Migrations** take an advisory lock on PostgreSQL (the write lock on SQLite), so replicas
//!   starting together migrate once.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::ConnectOptions as _;
use sqlx::{Any, AnyConnection, AnyPool, Row, Transaction};

use super::migrations::{self, MIGRATIONS};
use super::{
    system_clock, Account, AccountInput, Clock, ClusterInput, ClusterRecord, ClusterStatus, ClusterView, Dialect,
    Event, Fence, Lease, Millis, NewEvent, Page, Phase, PutOutcome, Result, Store, StoreError, TokenInfo,
};

/// The store on a SQLite file or a PostgreSQL server.
pub struct SqlStore {
    pool: AnyPool,
    dialect: Dialect,
    clock: Clock,
    /// The database, for messages: the file, or the server without user and password.
    location: String,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore").field("dialect", &self.dialect).field("location", &self.location).finish()
    }
}

/// Every SQLite connection: wait up to 15 s for another process's write to finish, enforce
/// foreign keys, and sync at checkpoints only (safe with WAL).
const SQLITE_PRAGMAS: &[&str] =
    &["PRAGMA busy_timeout = 15000", "PRAGMA foreign_keys = ON", "PRAGMA synchronous = NORMAL"];

/// The advisory lock key under which PostgreSQL migrations run ("detcloud" in ASCII).
const MIGRATION_LOCK: i64 = 0x6465_7463_6c6f_7564;

/// Columns of a cluster joined with its status (`c` and `s`).
const CLUSTER_COLUMNS: &str = "c.account_id, c.name, c.region, c.spec, c.generation, c.deletion_requested, \
     c.purge, c.created_at, c.updated_at, s.observed_generation, s.phase, s.conditions, s.resources, s.master, \
     s.last_reconciled, s.last_error, s.next_attempt, s.failures";

impl SqlStore {
    /// Opens (creating and migrating when needed) the store at `url`: `postgres://...` or
    /// `postgresql://...` for PostgreSQL; `sqlite://PATH`, `sqlite:PATH` or a plain path for a
    /// SQLite file.
    pub async fn open(url: &str) -> Result<SqlStore> {
        SqlStore::open_with_clock(url, system_clock()).await
    }

    /// [`open`](Self::open), with the store's time taken from `clock`.
    pub async fn open_with_clock(url: &str, clock: Clock) -> Result<SqlStore> {
        sqlx::any::install_default_drivers();
        let (dialect, connect_url, location) = parse_url(url)?;
        let options = AnyConnectOptions::from_str(&connect_url).map_err(|e| StoreError::Url(e.to_string()))?;
        // One connection first, so that an unreachable server or a wrong password fails at once
        // with its own error, instead of after the pool's retries.
        let cannot_open = |e: sqlx::Error| StoreError::Database(format!("cannot open {location}: {e}"));
        sqlx::Connection::close(options.connect().await.map_err(cannot_open)?).await.map_err(cannot_open)?;
        let pool = match dialect {
            Dialect::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            for pragma in SQLITE_PRAGMAS {
                                sqlx::Executor::execute(&mut *conn, *pragma).await?;
                            }
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await
            }
            Dialect::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(options)
                    .await
            }
        }
        .map_err(cannot_open)?;
        let store = SqlStore { pool, dialect, clock, location };
        if dialect == Dialect::Sqlite {
            // WAL lets readers (the API) go on while the reconciler writes; it is a property of
            // the file, so setting it once is enough.
            sqlx::query("PRAGMA journal_mode = WAL").fetch_all(&store.pool).await?;
        }
        store.migrate().await?;
        Ok(store)
    }

    /// The default store: `$XDG_STATE_HOME/detcloud/control.db` (else
    /// `~/.local/state/detcloud/control.db`).
    pub fn default_path() -> Option<PathBuf> {
        let state = std::env::var_os("XDG_STATE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".local").join("state")))?;
        Some(state.join("detcloud").join("control.db"))
    }

    /// Where the database is (a file, or a server without its credentials).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The schema version the database is at.
    pub async fn schema_version(&self) -> Result<i64> {
        let row = sqlx::query("SELECT MAX(version) AS v FROM schema_migrations").fetch_one(&self.pool).await?;
        Ok(row.try_get::<Option<i64>, _>("v")?.unwrap_or(0))
    }

    /// Closes the pool (waits for connections in use to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn migrate(&self) -> Result<()> {
        const CREATE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, \
             name TEXT NOT NULL, applied_at BIGINT NOT NULL)";
        let mut tx = match self.dialect {
            Dialect::Sqlite => {
                sqlx::query(CREATE).execute(&self.pool).await?;
                let mut tx = self.pool.begin().await?;
                lock_sqlite(&mut tx).await?;
                tx
            }
            Dialect::Postgres => {
                let mut tx = self.pool.begin().await?;
                // pg_advisory_xact_lock returns void, which the Any driver cannot carry: select
                // a constant beside it.
                sqlx::query("SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock($1)) AS l")
                    .bind(MIGRATION_LOCK)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(CREATE).execute(&mut *tx).await?;
                tx
            }
        };
        let result: Result<()> = async {
            let found = sqlx::query("SELECT MAX(version) AS v FROM schema_migrations")
                .fetch_one(&mut *tx)
                .await?
                .try_get::<Option<i64>, _>("v")?
                .unwrap_or(0);
            let known = migrations::latest();
            if found > known {
                return Err(StoreError::SchemaTooNew { found, known });
            }
            for migration in MIGRATIONS.iter().filter(|m| m.version > found) {
                for statement in migration.statements(self.dialect) {
                    sqlx::query(&statement).execute(&mut *tx).await?;
                }
                sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                    .bind(migration.version)
                    .bind(migration.name)
                    .bind(self.now())
                    .execute(&mut *tx)
                    .await?;
                tracing::info!(version = migration.version, name = migration.name, "store migrated");
            }
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    /// A write transaction (see the module's documentation).
    async fn write(&self) -> Result<Transaction<'static, Any>> {
        let mut tx = self.pool.begin().await?;
        if self.dialect == Dialect::Sqlite {
            lock_sqlite(&mut tx).await?;
        }
        Ok(tx)
    }

    /// Locks the account's row for this transaction (PostgreSQL; SQLite's write lock already
    /// covers it); NotFound when there is no such account.
    async fn lock_account(&self, tx: &mut Transaction<'static, Any>, id: &str) -> Result<()> {
        let sql = match self.dialect {
            Dialect::Sqlite => "SELECT id FROM accounts WHERE id = $1",
            Dialect::Postgres => "SELECT id FROM accounts WHERE id = $1 FOR UPDATE",
        };
        match sqlx::query(sql).bind(id).fetch_optional(&mut **tx).await? {
            Some(_) => Ok(()),
            None => Err(StoreError::NotFound { what: format!("account {id}") }),
        }
    }

    /// Fails with LeaseLost unless `fence` is the account's current, unexpired lease.
    async fn check_fence(&self, tx: &mut Transaction<'static, Any>, fence: &Fence) -> Result<()> {
        let sql = match self.dialect {
            Dialect::Sqlite => {
                "SELECT epoch FROM leases WHERE account_id = $1 AND holder = $2 AND epoch = $3 AND expires_at > $4"
            }
            Dialect::Postgres => {
                "SELECT epoch FROM leases WHERE account_id = $1 AND holder = $2 AND epoch = $3 AND expires_at > $4 \
                 FOR SHARE"
            }
        };
        let held = sqlx::query(sql)
            .bind(&fence.account_id)
            .bind(&fence.holder)
            .bind(fence.epoch)
            .bind(self.now())
            .fetch_optional(&mut **tx)
            .await?;
        match held {
            Some(_) => Ok(()),
            None => Err(StoreError::LeaseLost {
                account: fence.account_id.clone(),
                holder: fence.holder.clone(),
                epoch: fence.epoch,
            }),
        }
    }

    async fn append(&self, tx: &mut Transaction<'static, Any>, event: &NewEvent) -> Result<()> {
        sqlx::query(
            "INSERT INTO events (at, account_id, cluster, reason, message, actor) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(self.now())
        .bind(event.account_id.as_deref())
        .bind(event.cluster.as_deref())
        .bind(&event.reason)
        .bind(&event.message)
        .bind(&event.actor)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn cluster_record(
        &self,
        tx: &mut Transaction<'static, Any>,
        account: &str,
        name: &str,
    ) -> Result<Option<ClusterRecord>> {
        Ok(fetch_cluster(tx, account, name).await?.map(|v| v.record))
    }
}

/// The cluster `name` of `account` with its status, on `conn` (the pool's or a transaction's).
async fn fetch_cluster(conn: &mut AnyConnection, account: &str, name: &str) -> Result<Option<ClusterView>> {
    let row = sqlx::query(&format!(
        "SELECT {CLUSTER_COLUMNS} FROM clusters c LEFT JOIN cluster_status s \
         ON s.account_id = c.account_id AND s.name = c.name WHERE c.account_id = $1 AND c.name = $2"
    ))
    .bind(account)
    .bind(name)
    .fetch_optional(conn)
    .await?;
    row.map(|r| cluster_view(&r)).transpose()
}

/// Commits `tx` when `result` is Ok, else rolls it back at once. (A transaction merely dropped
/// would be rolled back only when its connection is next used: until then, on PostgreSQL, it
/// would keep its row locks, and claims that skip locked rows would pass over them.)
async fn finish<T>(tx: Transaction<'static, Any>, result: Result<T>) -> Result<T> {
    match result {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) = tx.rollback().await {
                tracing::warn!(error = %rollback, "rollback failed; the connection is discarded");
            }
            Err(e)
        }
    }
}

/// Takes SQLite's write lock now (see the module's documentation).
async fn lock_sqlite(tx: &mut Transaction<'static, Any>) -> Result<()> {
    sqlx::query("UPDATE schema_migrations SET version = version WHERE version < 0").execute(&mut **tx).await?;
    Ok(())
}

/// The dialect, the URL to connect with, and the location to show for `url`.
fn parse_url(url: &str) -> Result<(Dialect, String, String)> {
    let url = url.trim();
    if url.is_empty() {
        return Err(StoreError::Url("must not be empty".into()));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Dialect::Postgres, url.to_string(), redact_url(url)));
    }
    if let Some((scheme, _)) = url.split_once("://") {
        if scheme != "sqlite" {
            return Err(StoreError::Url(format!(
                "unsupported scheme {scheme}:// (use postgres://..., sqlite://PATH or a file path)"
            )));
        }
    }
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::Url(
            "an in-memory SQLite database is not shared between connections: name a file".into(),
        ));
    }
    let path = Path::new(path);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| StoreError::Url(format!("cannot create the directory {}: {e}", parent.display())))?;
    }
    Ok((Dialect::Sqlite, format!("sqlite://{}?mode=rwc", path.display()), path.display().to_string()))
}

/// `url` without the user's password.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    match rest.split_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or("");
            format!("{scheme}://{user}@{host}")
        }
        None => url.to_string(),
    }
}

fn flag(value: bool) -> i64 {
    i64::from(value)
}

fn json_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt { what: what.into(), reason: e.to_string() })
}

fn account_row(row: &AnyRow) -> Result<Account> {
    let id: String = row.try_get("id")?;
    Ok(Account {
        regions: from_json(&format!("regions of account {id}"), &row.try_get::<String, _>("regions")?)?,
        role_arn: row.try_get("role_arn")?,
        external_id: row.try_get("external_id")?,
        paused: row.try_get::<i64, _>("paused")? != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        id,
    })
}

fn cluster_view(row: &AnyRow) -> Result<ClusterView> {
    let account_id: String = row.try_get("account_id")?;
    let name: String = row.try_get("name")?;
    let what = |field: &str| format!("{field} of cluster {name} in account {account_id}");
    let record = ClusterRecord {
        region: row.try_get("region")?,
        spec: from_json(&what("spec"), &row.try_get::<String, _>("spec")?)?,
        generation: row.try_get("generation")?,
        deletion_requested: row.try_get::<i64, _>("deletion_requested")? != 0,
        purge: row.try_get::<i64, _>("purge")? != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        account_id: account_id.clone(),
        name: name.clone(),
    };
    let status = match row.try_get::<Option<String>, _>("phase")? {
        None => ClusterStatus::pending(),
        Some(phase) => ClusterStatus {
            observed_generation: row.try_get("observed_generation")?,
            phase: Phase::parse(&phase)
                .ok_or_else(|| StoreError::Corrupt { what: what("phase"), reason: format!("unknown phase {phase}") })?,
            conditions: from_json(&what("conditions"), &row.try_get::<String, _>("conditions")?)?,
            resources: from_json(&what("resources"), &row.try_get::<String, _>("resources")?)?,
            master: row.try_get::<Option<String>, _>("master")?.map(|m| from_json(&what("master"), &m)).transpose()?,
            last_reconciled: row.try_get("last_reconciled")?,
            last_error: row.try_get("last_error")?,
            next_attempt: row.try_get("next_attempt")?,
            failures: u32::try_from(row.try_get::<i64, _>("failures")?).unwrap_or(u32::MAX),
        },
    };
    Ok(ClusterView { record, status })
}

fn lease_row(row: &AnyRow) -> Result<Lease> {
    Ok(Lease {
        account_id: row.try_get("account_id")?,
        holder: row.try_get::<Option<String>, _>("holder")?.unwrap_or_default(),
        epoch: row.try_get("epoch")?,
        expires_at: row.try_get("expires_at")?,
    })
}

fn token_row(row: &AnyRow) -> Result<TokenInfo> {
    Ok(TokenInfo {
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A token's last use is written at most this often.
const LAST_USED_RESOLUTION_MS: Millis = 60_000;

#[async_trait::async_trait]
impl Store for SqlStore {
    fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn now(&self) -> Millis {
        (self.clock)()
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
        Ok(())
    }

    async fn put_account(&self, id: &str, input: &AccountInput, actor: &str) -> Result<(Account, bool)> {
        let mut tx = self.write().await?;
        let result: Result<_> = async {
            let now = self.now();
            let lock = match self.dialect {
                Dialect::Sqlite => "SELECT * FROM accounts WHERE id = $1",
                Dialect::Postgres => "SELECT * FROM accounts WHERE id = $1 FOR UPDATE",
            };
            let existing =
                sqlx::query(lock).bind(id).fetch_optional(&mut *tx).await?.map(|r| account_row(&r)).transpose()?;
            let regions = json_text(&input.regions);
            let (account, created) = match existing {
                Some(old) => {
                    let account = Account {
                        role_arn: input.role_arn.clone(),
                        external_id: input.external_id.clone(),
                        regions: input.regions.clone(),
                        paused: input.paused,
                        updated_at: now,
                        ..old.clone()
                    };
                    if account == (Account { updated_at: now, ..old.clone() }) {
                        return Ok((old, false));
                    }
                    sqlx::query(
                    "UPDATE accounts SET role_arn = $2, external_id = $3, regions = $4, paused = $5, updated_at = $6 \
                     WHERE id = $1",
                )
                .bind(id)
                .bind(&input.role_arn)
                .bind(&input.external_id)
                .bind(&regions)
                .bind(flag(input.paused))
                .bind(now)
                .execute(&mut *tx)
                .await?;
                    let mut changes = Vec::new();
                    if old.role_arn != account.role_arn {
                        changes.push(format!("role {} -> {}", old.role_arn, account.role_arn));
                    }
                    if old.external_id != account.external_id {
                        changes.push("external id changed".to_string());
                    }
                    if old.regions != account.regions {
                        changes.push(format!("regions {} -> {}", old.regions.join(","), account.regions.join(",")));
                    }
                    if old.paused != account.paused {
                        changes.push(if account.paused { "paused" } else { "resumed" }.to_string());
                    }
                    let event = NewEvent {
                        account_id: Some(id.into()),
                        cluster: None,
                        reason: "AccountUpdated".into(),
                        message: format!("account {id}: {}", changes.join("; ")),
                        actor: actor.into(),
                    };
                    self.append(&mut tx, &event).await?;
                    (account, false)
                }
                None => {
                    let inserted = sqlx::query(
                        "INSERT INTO accounts (id, role_arn, external_id, regions, paused, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(id)
                    .bind(&input.role_arn)
                    .bind(&input.external_id)
                    .bind(&regions)
                    .bind(flag(input.paused))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    if inserted.rows_affected() == 0 {
                        return Err(StoreError::Conflict(format!(
                            "account {id} was registered at the same moment by another request: retry"
                        )));
                    }
                    sqlx::query("INSERT INTO leases (account_id, holder, epoch, expires_at) VALUES ($1, NULL, 0, 0)")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    let event = NewEvent {
                        account_id: Some(id.into()),
                        cluster: None,
                        reason: "AccountRegistered".into(),
                        message: format!("account {id} registered with role {}", input.role_arn),
                        actor: actor.into(),
                    };
                    self.append(&mut tx, &event).await?;
                    let account = Account {
                        id: id.into(),
                        role_arn: input.role_arn.clone(),
                        external_id: input.external_id.clone(),
                        regions: input.regions.clone(),
                        paused: input.paused,
                        created_at: now,
                        updated_at: now,
                    };
                    (account, true)
                }
            };
            Ok((account, created))
        }
        .await;
        finish(tx, result).await
    }

    async fn account(&self, id: &str) -> Result<Account> {
        let row = sqlx::query("SELECT * FROM accounts WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        match row {
            Some(r) => account_row(&r),
            None => Err(StoreError::NotFound { what: format!("account {id}") }),
        }
    }

    async fn accounts(&self) -> Result<Vec<Account>> {
        let rows = sqlx::query("SELECT * FROM accounts ORDER BY id").fetch_all(&self.pool).await?;
        rows.iter().map(account_row).collect()
    }

    async fn delete_account(&self, id: &str, actor: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let result: Result<_> = async {
            self.lock_account(&mut tx, id).await?;
            let remaining: i64 = sqlx::query("SELECT COUNT(*) AS n FROM clusters WHERE account_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
            if remaining > 0 {
                return Err(StoreError::Conflict(format!(
                    "account {id} still has {remaining} cluster(s): delete them first"
                )));
            }
            sqlx::query("DELETE FROM leases WHERE account_id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM accounts WHERE id = $1").bind(id).execute(&mut *tx).await?;
            let event = NewEvent {
                account_id: Some(id.into()),
                cluster: None,
                reason: "AccountRemoved".into(),
                message: format!("account {id} removed"),
                actor: actor.into(),
            };
            self.append(&mut tx, &event).await?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn put_cluster(
        &self,
        account: &str,
        name: &str,
        input: &ClusterInput,
        if_match: Option<i64>,
        actor: &str,
    ) -> Result<PutOutcome> {
        let mut tx = self.write().await?;
        let result: Result<_> = async {
        self.lock_account(&mut tx, account).await?;
        let now = self.now();
        let existing = self.cluster_record(&mut tx, account, name).await?;
        let what = || format!("cluster {name} in account {account}");
        if let Some(expected) = if_match {
            let current = existing.as_ref().map_or(0, |r| r.generation);
            if current != expected {
                return Err(StoreError::PreconditionFailed { what: what(), expected, current });
            }
        }
        let spec = json_text(&input.spec);
        let outcome = match existing {
            Some(old) if old.deletion_requested => {
                return Err(StoreError::Conflict(format!(
                    "{} is being deleted: wait until it is gone, then declare it again",
                    what()
                )));
            }
            Some(old) if old.spec == input.spec && old.region == input.region => {
                PutOutcome { record: old, created: false, changed: false }
            }
            Some(old) if old.region != input.region => {
                return Err(StoreError::Conflict(format!(
                    "{} lives in {}: a cluster cannot move to {} (delete it and declare it there)",
                    what(),
                    old.region,
                    input.region
                )));
            }
            Some(old) => {
                let generation = old.generation + 1;
                sqlx::query(
                    "UPDATE clusters SET spec = $3, generation = $4, updated_at = $5 WHERE account_id = $1 AND name = $2",
                )
                .bind(account)
                .bind(name)
                .bind(&spec)
                .bind(generation)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let event = NewEvent {
                    account_id: Some(account.into()),
                    cluster: Some(name.into()),
                    reason: "ClusterSpecChanged".into(),
                    message: format!("{}: spec changed (generation {generation})", what()),
                    actor: actor.into(),
                };
                self.append(&mut tx, &event).await?;
                let record = ClusterRecord { spec: input.spec.clone(), generation, updated_at: now, ..old };
                PutOutcome { record, created: false, changed: true }
            }
            None => {
                sqlx::query(
                    "INSERT INTO clusters (account_id, name, region, spec, generation, deletion_requested, purge, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, 1, 0, 0, $5, $5)",
                )
                .bind(account)
                .bind(name)
                .bind(&input.region)
                .bind(&spec)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let event = NewEvent {
                    account_id: Some(account.into()),
                    cluster: Some(name.into()),
                    reason: "ClusterDeclared".into(),
                    message: format!("{} declared in {}", what(), input.region),
                    actor: actor.into(),
                };
                self.append(&mut tx, &event).await?;
                let record = ClusterRecord {
                    account_id: account.into(),
                    name: name.into(),
                    region: input.region.clone(),
                    spec: input.spec.clone(),
                    generation: 1,
                    deletion_requested: false,
                    purge: false,
                    created_at: now,
                    updated_at: now,
                };
                PutOutcome { record, created: true, changed: true }
            }
        };
        Ok(outcome)
        }
        .await;
        finish(tx, result).await
    }

    async fn cluster(&self, account: &str, name: &str) -> Result<ClusterView> {
        let mut conn = self.pool.acquire().await?;
        fetch_cluster(&mut conn, account, name)
            .await?
            .ok_or_else(|| StoreError::NotFound { what: format!("cluster {name} in account {account}") })
    }

    async fn clusters(&self, account: &str, after: Option<&str>, page: usize) -> Result<Page<ClusterView>> {
        let page = page.max(1);
        let rows = sqlx::query(&format!(
            "SELECT {CLUSTER_COLUMNS} FROM clusters c LEFT JOIN cluster_status s \
             ON s.account_id = c.account_id AND s.name = c.name WHERE c.account_id = $1 AND c.name > $2 \
             ORDER BY c.name LIMIT $3"
        ))
        .bind(account)
        .bind(after.unwrap_or(""))
        .bind(limit(page).saturating_add(1))
        .fetch_all(&self.pool)
        .await?;
        let mut items = rows.iter().map(cluster_view).collect::<Result<Vec<_>>>()?;
        let next = if items.len() > page {
            items.truncate(page);
            items.last().map(|v| v.record.name.clone())
        } else {
            None
        };
        Ok(Page { items, next })
    }

    async fn phase_counts(&self) -> Result<Vec<(Phase, u64)>> {
        let rows = sqlx::query(
            "SELECT COALESCE(s.phase, 'Pending') AS phase, COUNT(*) AS n FROM clusters c LEFT JOIN cluster_status s \
             ON s.account_id = c.account_id AND s.name = c.name GROUP BY COALESCE(s.phase, 'Pending')",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut counts: Vec<(Phase, u64)> = Phase::ALL.iter().map(|p| (*p, 0)).collect();
        for row in &rows {
            let name: String = row.try_get("phase")?;
            let n: i64 = row.try_get("n")?;
            let phase = Phase::parse(&name)
                .ok_or_else(|| StoreError::Corrupt { what: "cluster phase".into(), reason: format!("{name:?}") })?;
            if let Some(slot) = counts.iter_mut().find(|(p, _)| *p == phase) {
                slot.1 = u64::try_from(n).unwrap_or(0);
            }
        }
        Ok(counts)
    }

    async fn request_deletion(&self, account: &str, name: &str, purge: bool, actor: &str) -> Result<ClusterRecord> {
        let mut tx = self.write().await?;
        let result: Result<_> = async {
            self.lock_account(&mut tx, account).await?;
            let Some(old) = self.cluster_record(&mut tx, account, name).await? else {
                return Err(StoreError::NotFound { what: format!("cluster {name} in account {account}") });
            };
            let purge = purge || old.purge;
            if old.deletion_requested && old.purge == purge {
                return Ok(old);
            }
            let now = self.now();
            let generation = old.generation + 1;
            sqlx::query(
                "UPDATE clusters SET deletion_requested = 1, purge = $3, generation = $4, updated_at = $5 \
             WHERE account_id = $1 AND name = $2",
            )
            .bind(account)
            .bind(name)
            .bind(flag(purge))
            .bind(generation)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let data = if purge { "its bucket and database purged too" } else { "its bucket and database retained" };
            let event = NewEvent {
                account_id: Some(account.into()),
                cluster: Some(name.into()),
                reason: "ClusterDeletionRequested".into(),
                message: format!("cluster {name} in account {account} to be deleted, {data}"),
                actor: actor.into(),
            };
            self.append(&mut tx, &event).await?;
            Ok(ClusterRecord { deletion_requested: true, purge, generation, updated_at: now, ..old })
        }
        .await;
        finish(tx, result).await
    }

    async fn put_status(&self, fence: &Fence, name: &str, status: &ClusterStatus) -> Result<()> {
        let mut tx = self.write().await?;
        let result: Result<_> = async {
        self.check_fence(&mut tx, fence).await?;
        let exists = sqlx::query("SELECT name FROM clusters WHERE account_id = $1 AND name = $2")
            .bind(&fence.account_id)
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound { what: format!("cluster {name} in account {}", fence.account_id) });
        }
        sqlx::query(
            "INSERT INTO cluster_status (account_id, name, observed_generation, phase, conditions, resources, master, \
             last_reconciled, last_error, next_attempt, failures) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (account_id, name) DO UPDATE SET observed_generation = excluded.observed_generation, \
             phase = excluded.phase, conditions = excluded.conditions, resources = excluded.resources, \
             master = excluded.master, last_reconciled = excluded.last_reconciled, last_error = excluded.last_error, \
             next_attempt = excluded.next_attempt, failures = excluded.failures",
        )
        .bind(&fence.account_id)
        .bind(name)
        .bind(status.observed_generation)
        .bind(status.phase.as_str())
        .bind(json_text(&status.conditions))
        .bind(json_text(&status.resources))
        .bind(status.master.as_ref().map(json_text))
        .bind(status.last_reconciled)
        .bind(status.last_error.as_deref())
        .bind(status.next_attempt)
        .bind(i64::from(status.failures))
        .execute(&mut *tx)
        .await?;
        Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn remove_cluster(&self, fence: &Fence, name: &str, event: NewEvent) -> Result<()> {
        let mut tx = self.write().await?;
        let result: Result<_> = async {
            self.check_fence(&mut tx, fence).await?;
            let account = &fence.account_id;
            let Some(record) = self.cluster_record(&mut tx, account, name).await? else {
                return Err(StoreError::NotFound { what: format!("cluster {name} in account {account}") });
            };
            if !record.deletion_requested {
                return Err(StoreError::Conflict(format!(
                    "cluster {name} in account {account} was not asked to be deleted"
                )));
            }
            sqlx::query("DELETE FROM cluster_status WHERE account_id = $1 AND name = $2")
                .bind(account)
                .bind(name)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM clusters WHERE account_id = $1 AND name = $2")
                .bind(account)
                .bind(name)
                .execute(&mut *tx)
                .await?;
            self.append(&mut tx, &event).await?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn append_events(&self, fence: &Fence, events: Vec<NewEvent>) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut tx = self.write().await?;
        let result: Result<_> = async {
            self.check_fence(&mut tx, fence).await?;
            for event in &events {
                self.append(&mut tx, event).await?;
            }
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn events(&self, after: i64, page: usize) -> Result<Vec<Event>> {
        let rows = sqlx::query(
            "SELECT id, at, account_id, cluster, reason, message, actor FROM events WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit(page))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Event {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    account_id: r.try_get("account_id")?,
                    cluster: r.try_get("cluster")?,
                    reason: r.try_get("reason")?,
                    message: r.try_get("message")?,
                    actor: r.try_get("actor")?,
                })
            })
            .collect()
    }

    async fn heartbeat(&self, replica: &str, ttl_ms: Millis) -> Result<usize> {
        let mut tx = self.write().await?;
        let result: Result<_> = async {
            let now = self.now();
            sqlx::query(
                "INSERT INTO replicas (id, started_at, heartbeat_at) VALUES ($1, $2, $2) \
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
            )
            .bind(replica)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM replicas WHERE heartbeat_at <= $1").bind(now - ttl_ms).execute(&mut *tx).await?;
            let alive: i64 =
                sqlx::query("SELECT COUNT(*) AS n FROM replicas").fetch_one(&mut *tx).await?.try_get("n")?;
            Ok(usize::try_from(alive).unwrap_or(1).max(1))
        }
        .await;
        finish(tx, result).await
    }

    async fn claim_leases(&self, holder: &str, ttl_ms: Millis, wanted: usize) -> Result<Vec<Lease>> {
        let mut tx = self.write().await?;
        let result: Result<_> = async {
            let now = self.now();
            let expires = now.saturating_add(ttl_ms);
            // Renew what is still ours.
            sqlx::query("UPDATE leases SET expires_at = $2 WHERE holder = $1 AND expires_at > $3")
                .bind(holder)
                .bind(expires)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let held: i64 = sqlx::query("SELECT COUNT(*) AS n FROM leases WHERE holder = $1 AND expires_at > $2")
                .bind(holder)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
            let room = limit(wanted).saturating_sub(held);
            if room > 0 {
                // Free or expired leases, the longest expired first; a lease that changes holder
                // starts a new epoch, which fences off the previous holder's writes.
                let skip_locked = match self.dialect {
                    Dialect::Sqlite => "",
                    Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
                };
                sqlx::query(&format!(
                    "UPDATE leases SET holder = $1, expires_at = $2, \
                 epoch = CASE WHEN holder = $1 THEN epoch ELSE epoch + 1 END \
                 WHERE account_id IN (SELECT account_id FROM leases WHERE holder IS NULL OR expires_at <= $3 \
                 ORDER BY expires_at, account_id LIMIT $4{skip_locked})"
                ))
                .bind(holder)
                .bind(expires)
                .bind(now)
                .bind(room)
                .execute(&mut *tx)
                .await?;
            }
            let rows = sqlx::query(
                "SELECT account_id, holder, epoch, expires_at FROM leases WHERE holder = $1 AND expires_at > $2 \
             ORDER BY account_id",
            )
            .bind(holder)
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
            rows.iter().map(lease_row).collect()
        }
        .await;
        finish(tx, result).await
    }

    async fn release_leases(&self, holder: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let result: Result<_> = async {
            sqlx::query("UPDATE leases SET holder = NULL, expires_at = 0 WHERE holder = $1")
                .bind(holder)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM replicas WHERE id = $1").bind(holder).execute(&mut *tx).await?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn leases(&self) -> Result<Vec<Lease>> {
        let rows = sqlx::query(
            "SELECT account_id, holder, epoch, expires_at FROM leases WHERE holder IS NOT NULL AND expires_at > $1 \
             ORDER BY account_id",
        )
        .bind(self.now())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(lease_row).collect()
    }

    async fn create_token(&self, name: &str, hash: &str) -> Result<TokenInfo> {
        let mut tx = self.write().await?;
        let result: Result<_> = async {
            let now = self.now();
            let inserted = sqlx::query(
                "INSERT INTO tokens (name, hash, created_at, last_used_at) VALUES ($1, $2, $3, NULL) \
             ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(hash)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 0 {
                return Err(StoreError::Conflict(format!(
                    "a token named {name} exists: revoke it first or choose another name"
                )));
            }
            let event = NewEvent {
                account_id: None,
                cluster: None,
                reason: "TokenCreated".into(),
                message: format!("API token {name} created"),
                actor: "cli".into(),
            };
            self.append(&mut tx, &event).await?;
            Ok(TokenInfo { name: name.into(), created_at: now, last_used_at: None })
        }
        .await;
        finish(tx, result).await
    }

    async fn authenticate(&self, hash: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT name, last_used_at FROM tokens WHERE hash = $1")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let name: String = row.try_get("name")?;
        let last: Option<Millis> = row.try_get("last_used_at")?;
        let now = self.now();
        if last.is_none_or(|t| now - t >= LAST_USED_RESOLUTION_MS) {
            sqlx::query("UPDATE tokens SET last_used_at = $2 WHERE name = $1")
                .bind(&name)
                .bind(now)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(name))
    }

    async fn tokens(&self) -> Result<Vec<TokenInfo>> {
        let rows = sqlx::query("SELECT name, created_at, last_used_at FROM tokens ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(token_row).collect()
    }

    async fn revoke_token(&self, name: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let result: Result<_> = async {
            let deleted = sqlx::query("DELETE FROM tokens WHERE name = $1").bind(name).execute(&mut *tx).await?;
            if deleted.rows_affected() == 0 {
                return Err(StoreError::NotFound { what: format!("token {name}") });
            }
            let event = NewEvent {
                account_id: None,
                cluster: None,
                reason: "TokenRevoked".into(),
                message: format!("API token {name} revoked"),
                actor: "cli".into(),
            };
            self.append(&mut tx, &event).await?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_database_and_hide_passwords() {
        let (d, url, shown) = parse_url("postgres://detcloud:s3cret@db.internal:5432/fleet").unwrap();
        assert_eq!(d, Dialect::Postgres);
        assert!(url.contains("s3cret"));
        assert_eq!(shown, "postgres://detcloud@db.internal:5432/fleet");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("state").join("control.db");
        let (d, url, shown) = parse_url(&format!("sqlite://{}", file.display())).unwrap();
        assert_eq!(d, Dialect::Sqlite);
        assert_eq!(url, format!("sqlite://{}?mode=rwc", file.display()));
        assert_eq!(shown, file.display().to_string());
        assert!(file.parent().unwrap().is_dir(), "the directory is created");
        assert_eq!(parse_url(file.to_str().unwrap()).unwrap().0, Dialect::Sqlite);
        for bad in ["", "mysql://x/y", "sqlite::memory:", "sqlite://"] {
            let e = parse_url(bad).unwrap_err().to_string();
            assert!(e.starts_with("--database: "), "{bad}: {e}");
        }
    }
}
