//! The desired and observed state of the fleet, in a database.
//!
//! [`Store`] is the one interface the reconciler and the HTTP API use. [`SqlStore`] implements it
//! on both databases with the same SQL and the same [migrations](migrations): embedded SQLite (a
//! file in WAL mode, shared safely by several processes) and PostgreSQL (for replicas on several
//! machines). Every write is one transaction that also appends its [`Event`], so the event log
//! says exactly what changed; a failed write stores nothing.
//!
//! Writes the reconciler makes for an account carry a [`Fence`]: the lease (holder and epoch)
//! under which it acts. The store refuses a fenced write whose lease has expired or passed to
//! another replica ([`StoreError::LeaseLost`]), so a replica that was paused past its lease's end
//! cannot overwrite what its successor observed.

mod migrations;
mod sql;

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use sql::SqlStore;

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// Where the store's time comes from: the wall clock in production (leases are shared between
/// processes, so they need a time all of them agree on), a hand-moved clock in tests.
pub type Clock = Arc<dyn Fn() -> Millis + Send + Sync>;

/// The wall clock, in milliseconds since the Unix epoch.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    })
}

/// The two databases the store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Embedded SQLite, one file (WAL mode).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// An error of the store. Messages never hold a token or a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The thing named does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for, e.g. `cluster ml-demo in account 123456789012`.
        what: String,
    },
    /// The request conflicts with the stored state (the message says how).
    #[error("{0}")]
    Conflict(String),
    /// A conditional write named a generation that is no longer current.
    #[error("the {what} is at generation {current}, not {expected}: read it again and retry")]
    PreconditionFailed {
        /// What was written.
        what: String,
        /// The generation the writer expected.
        expected: i64,
        /// The stored generation (0 when the record does not exist).
        current: i64,
    },
    /// A fenced write whose lease has expired or moved to another replica.
    #[error("the lease on account {account} is no longer held by {holder} (epoch {epoch})")]
    LeaseLost {
        /// The account.
        account: String,
        /// Who wrote.
        holder: String,
        /// The epoch it wrote under.
        epoch: i64,
    },
    /// The database holds a schema written by a newer detcloud.
    #[error(
        "the database's schema is at version {found}, newer than the {known} this detcloud knows: \
         upgrade detcloud (never downgrade a store)"
    )]
    SchemaTooNew {
        /// The newest version recorded in the database.
        found: i64,
        /// The newest version this binary knows.
        known: i64,
    },
    /// The database URL cannot be used.
    #[error("--database: {0}")]
    Url(String),
    /// A stored value that cannot be read back (a corrupted or hand-edited row).
    #[error("stored {what} is not valid: {reason}")]
    Corrupt {
        /// The value.
        what: String,
        /// Why it cannot be read.
        reason: String,
    },
    /// The database failed or could not be reached.
    #[error("database: {0}")]
    Database(String),
}

impl StoreError {
    /// True for errors worth retrying as they are (the database unreachable or busy).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Database(_))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

/// Results of the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A connected AWS account: the role the control plane assumes in it, and where it works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The 12-digit account id.
    pub id: String,
    /// The cross-account role that `detcloud connect aws` created.
    pub role_arn: String,
    /// The external id that role's trust policy requires.
    pub external_id: String,
    /// Regions where clusters of this account may live.
    pub regions: Vec<String>,
    /// A paused account is not reconciled (its clusters are left as they are).
    pub paused: bool,
    /// When it was registered.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
}

/// What a caller declares about an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInput {
    /// See [`Account::role_arn`].
    pub role_arn: String,
    /// See [`Account::external_id`].
    pub external_id: String,
    /// See [`Account::regions`].
    pub regions: Vec<String>,
    /// See [`Account::paused`].
    pub paused: bool,
}

/// A declared cluster: its spec (the JSON of `cluster create --spec`) and where it lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterRecord {
    /// The account it lives in.
    pub account_id: String,
    /// The cluster's name.
    pub name: String,
    /// Its region.
    pub region: String,
    /// The cluster spec as JSON.
    pub spec: serde_json::Value,
    /// Increases by one with every change of the spec (and with a deletion request).
    pub generation: i64,
    /// The cluster is to be deleted.
    pub deletion_requested: bool,
    /// With the deletion: delete the data-bearing resources too.
    pub purge: bool,
    /// When it was declared.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
}

/// What a caller declares about a cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterInput {
    /// The region.
    pub region: String,
    /// The spec as JSON.
    pub spec: serde_json::Value,
}

/// The outcome of declaring a cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct PutOutcome {
    /// The record as stored.
    pub record: ClusterRecord,
    /// It did not exist before.
    pub created: bool,
    /// The stored spec changed (a new generation).
    pub changed: bool,
}

/// Where a cluster is in its life, as the reconciler last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// Declared, not yet acted on.
    Pending,
    /// Being created (or converged to a new generation).
    Creating,
    /// Every resource exists as the spec says and the master answers.
    Ready,
    /// It exists but something is unhealthy or drifted and not yet repaired.
    Degraded,
    /// Being deleted.
    Deleting,
    /// The last attempt failed; it is retried with backoff.
    Failed,
}

impl Phase {
    /// Every phase, in the order of a cluster's life.
    pub const ALL: [Phase; 6] =
        [Phase::Pending, Phase::Creating, Phase::Ready, Phase::Degraded, Phase::Deleting, Phase::Failed];

    /// The name, as the API and the database spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::Creating => "Creating",
            Phase::Ready => "Ready",
            Phase::Degraded => "Degraded",
            Phase::Deleting => "Deleting",
            Phase::Failed => "Failed",
        }
    }

    /// The phase named `name`.
    pub fn parse(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One observed fact about a cluster, as Kubernetes conditions are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// What it is about, e.g. `Ready`, `Drifted`, `MasterAnswers`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// A CamelCase reason.
    pub reason: String,
    /// For people.
    pub message: String,
    /// When the status last changed.
    pub since: Millis,
}

/// One resource of a cluster, as observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceState {
    /// Its kind, e.g. `vpc`, `nat-gateway`, `db-cluster`.
    pub kind: String,
    /// Its id in AWS.
    pub id: String,
    /// Its state as AWS reports it.
    pub state: String,
    /// Whether it is as it should be.
    pub healthy: bool,
}

/// Where the cluster's Determined master answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterEndpoint {
    /// The master's public address.
    pub public_ip: Option<String>,
    /// The master's URL.
    pub url: Option<String>,
}

/// What the reconciler last observed of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterStatus {
    /// The generation of the spec it last converged (or tried to).
    pub observed_generation: i64,
    /// The phase.
    pub phase: Phase,
    /// The conditions.
    pub conditions: Vec<Condition>,
    /// The resources.
    pub resources: Vec<ResourceState>,
    /// The master, once it exists.
    pub master: Option<MasterEndpoint>,
    /// When a reconcile last finished.
    pub last_reconciled: Option<Millis>,
    /// The last reconcile's error, if it failed.
    pub last_error: Option<String>,
    /// Not before this time is the cluster attempted again (backoff after failures).
    pub next_attempt: Option<Millis>,
    /// Failures in a row.
    pub failures: u32,
}

impl ClusterStatus {
    /// The status of a cluster no one has looked at yet.
    pub fn pending() -> ClusterStatus {
        ClusterStatus {
            observed_generation: 0,
            phase: Phase::Pending,
            conditions: Vec::new(),
            resources: Vec::new(),
            master: None,
            last_reconciled: None,
            last_error: None,
            next_attempt: None,
            failures: 0,
        }
    }
}

/// A declared cluster with its observed status.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterView {
    /// The declaration.
    pub record: ClusterRecord,
    /// The observation.
    pub status: ClusterStatus,
}

/// One entry of the append-only event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Increasing; `GET /v1/events?after=ID` pages on it.
    pub id: i64,
    /// When.
    pub at: Millis,
    /// The account it is about.
    pub account_id: Option<String>,
    /// The cluster it is about.
    pub cluster: Option<String>,
    /// A CamelCase reason, e.g. `ClusterDeclared`, `DriftRepaired`.
    pub reason: String,
    /// For people.
    pub message: String,
    /// Who: an API token's name, or `replica:<id>` for the reconciler.
    pub actor: String,
}

/// An event to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// See [`Event::account_id`].
    pub account_id: Option<String>,
    /// See [`Event::cluster`].
    pub cluster: Option<String>,
    /// See [`Event::reason`].
    pub reason: String,
    /// See [`Event::message`].
    pub message: String,
    /// See [`Event::actor`].
    pub actor: String,
}

/// A lease on an account: while it lasts, only its holder reconciles the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The account.
    pub account_id: String,
    /// The replica holding it.
    pub holder: String,
    /// Increases each time the lease passes to another holder.
    pub epoch: i64,
    /// When it ends unless renewed.
    pub expires_at: Millis,
}

impl Lease {
    /// The fence for writes made under this lease.
    pub fn fence(&self) -> Fence {
        Fence { account_id: self.account_id.clone(), holder: self.holder.clone(), epoch: self.epoch }
    }
}

/// The lease under which a reconciler writes (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// The account.
    pub account_id: String,
    /// The holder.
    pub holder: String,
    /// The epoch of the lease.
    pub epoch: i64,
}

/// An API token, as listed (the token itself is never stored, only its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// Its name.
    pub name: String,
    /// When it was created.
    pub created_at: Millis,
    /// When it last authenticated a request (updated at most once a minute).
    pub last_used_at: Option<Millis>,
}

/// A page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items, in order.
    pub items: Vec<T>,
    /// The cursor for the next page, when there is one.
    pub next: Option<String>,
}

/// The store: desired state, observed status, events, leases and tokens.
#[async_trait::async_trait]
pub trait Store: Send + Sync + fmt::Debug {
    /// Which database this is.
    fn dialect(&self) -> Dialect;
    /// The store's clock.
    fn now(&self) -> Millis;
    /// Fails when the database cannot be reached (`/readyz`).
    async fn ping(&self) -> Result<()>;

    /// Registers or updates an account; true when it is new. Appends an event when it changed.
    async fn put_account(&self, id: &str, input: &AccountInput, actor: &str) -> Result<(Account, bool)>;
    /// The account.
    async fn account(&self, id: &str) -> Result<Account>;
    /// Every account, by id.
    async fn accounts(&self) -> Result<Vec<Account>>;
    /// Removes an account; refused (`Conflict`) while clusters remain in it.
    async fn delete_account(&self, id: &str, actor: &str) -> Result<()>;

    /// Declares a cluster or changes its spec. With `if_match`, only when the stored generation
    /// is that one (0: only when it does not exist yet). Refused while it is being deleted.
    async fn put_cluster(
        &self,
        account: &str,
        name: &str,
        input: &ClusterInput,
        if_match: Option<i64>,
        actor: &str,
    ) -> Result<PutOutcome>;
    /// The cluster with its status.
    async fn cluster(&self, account: &str, name: &str) -> Result<ClusterView>;
    /// A page of an account's clusters, by name, after the cursor `after`.
    async fn clusters(&self, account: &str, after: Option<&str>, limit: usize) -> Result<Page<ClusterView>>;
    /// How many declared clusters are in each phase (a cluster never observed is `Pending`).
    async fn phase_counts(&self) -> Result<Vec<(Phase, u64)>>;
    /// Asks for a cluster's deletion (a new generation); `purge` deletes its data too. Asking
    /// again is a no-op, except that it can turn `purge` on.
    async fn request_deletion(&self, account: &str, name: &str, purge: bool, actor: &str) -> Result<ClusterRecord>;

    /// Records what the reconciler observed, under its lease.
    async fn put_status(&self, fence: &Fence, name: &str, status: &ClusterStatus) -> Result<()>;
    /// Forgets a cluster whose deletion finished, under the lease; appends `event`.
    async fn remove_cluster(&self, fence: &Fence, name: &str, event: NewEvent) -> Result<()>;
    /// Appends events the reconciler made, under its lease.
    async fn append_events(&self, fence: &Fence, events: Vec<NewEvent>) -> Result<()>;
    /// Up to `limit` events after `after`, oldest first.
    async fn events(&self, after: i64, limit: usize) -> Result<Vec<Event>>;

    /// Records that `replica` is alive (and forgets replicas silent for `ttl`); returns how many
    /// replicas are alive, this one included.
    async fn heartbeat(&self, replica: &str, ttl_ms: Millis) -> Result<usize>;
    /// Claims up to `limit` accounts whose lease is free or expired, and renews those `holder`
    /// already holds; returns every lease it holds afterwards (at most `limit`: excess leases are
    /// released, so that replicas share the fleet).
    async fn claim_leases(&self, holder: &str, ttl_ms: Millis, limit: usize) -> Result<Vec<Lease>>;
    /// Releases every lease `holder` holds (at a graceful stop).
    async fn release_leases(&self, holder: &str) -> Result<()>;
    /// Every unexpired lease.
    async fn leases(&self) -> Result<Vec<Lease>>;

    /// Stores a new token's hash under `name` (`Conflict` if the name is taken).
    async fn create_token(&self, name: &str, hash: &str) -> Result<TokenInfo>;
    /// The name of the token with this hash.
    async fn authenticate(&self, hash: &str) -> Result<Option<String>>;
    /// Every token.
    async fn tokens(&self) -> Result<Vec<TokenInfo>>;
    /// Revokes (deletes) a token.
    async fn revoke_token(&self, name: &str) -> Result<()>;
}
