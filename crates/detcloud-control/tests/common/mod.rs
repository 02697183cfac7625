//! What the control plane's engine tests share: the store run on a runtime of its own.
//!
//! The engines' tests run on tokio's paused clock (the fake's Aurora takes eight virtual
//! minutes). sqlx's pool keeps real timeouts and its SQLite connections work on threads of their
//! own, so on a paused runtime an idle wait for the database would let the clock jump to the
//! pool's timeout. [`RealTime`] runs every store call on a second runtime with the real clock
//! and hands back the result: the engines see virtual time, the database real time.
#![allow(dead_code)] // Each test file uses a part.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use detcloud_control::store::{
    Account, AccountInput, Clock, ClusterInput, ClusterRecord, ClusterStatus, ClusterView, Dialect, Event, Fence,
    Lease, Millis, NewEvent, Page, Phase, PutOutcome, Result, TokenInfo,
};
use detcloud_control::{SqlStore, Store};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("a runtime")
    })
}

/// A clock the test moves by hand.
#[derive(Clone)]
pub(crate) struct Hand(Arc<AtomicI64>);

impl Hand {
    pub(crate) fn new() -> Hand {
        Hand(Arc::new(AtomicI64::new(1_800_000_000_000)))
    }
    pub(crate) fn clock(&self) -> Clock {
        let t = Arc::clone(&self.0);
        Arc::new(move || t.load(Ordering::SeqCst))
    }
    pub(crate) fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

/// A store whose calls run on the real-time runtime.
#[derive(Debug, Clone)]
pub(crate) struct RealTime(Arc<dyn Store>);

impl RealTime {
    /// Opens the SQLite store at `path` on the real-time runtime.
    pub(crate) async fn open(path: &str) -> Arc<dyn Store> {
        let path = path.to_string();
        let store = runtime().spawn(async move { SqlStore::open(&path).await }).await.unwrap().unwrap();
        Arc::new(RealTime(Arc::new(store)))
    }

    /// Opens the store at `url` with `clock` on the real-time runtime.
    pub(crate) async fn open_with_clock(url: &str, clock: Clock) -> Arc<dyn Store> {
        let url = url.to_string();
        let store =
            runtime().spawn(async move { SqlStore::open_with_clock(&url, clock).await }).await.unwrap().unwrap();
        Arc::new(RealTime(Arc::new(store)))
    }
}

/// A place for one test's store: a SQLite file in a temp dir, or a new database on the server.
pub(crate) struct Place {
    pub(crate) url: String,
    _dir: Option<tempfile::TempDir>,
}

pub(crate) async fn places(test: &str) -> Vec<Place> {
    let dir = tempfile::tempdir().unwrap();
    let mut out = vec![Place { url: format!("sqlite://{}", dir.path().join("control.db").display()), _dir: Some(dir) }];
    match std::env::var("DETCLOUD_TEST_POSTGRES_URL") {
        Ok(admin) if !admin.is_empty() => out.push(Place { url: postgres_database(&admin, test).await, _dir: None }),
        _ => assert!(
            std::env::var_os("DETCLOUD_REQUIRE_POSTGRES").is_none(),
            "DETCLOUD_REQUIRE_POSTGRES is set but DETCLOUD_TEST_POSTGRES_URL names no server"
        ),
    }
    out
}

/// A fresh database named after the test on the server at `admin` (dropped first if a previous
/// run left it).
pub(crate) async fn postgres_database(admin: &str, test: &str) -> String {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(admin).await.expect("the test PostgreSQL server answers");
    let name = format!("detcloud_{test}");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    let (base, _) = admin.rsplit_once('/').expect("the URL names a database");
    format!("{base}/{name}")
}

/// Runs `$call` on the inner store, on the real-time runtime.
macro_rules! real {
    ($self:ident, |$s:ident| $call:expr) => {{
        let $s = Arc::clone(&$self.0);
        runtime().spawn(async move { $call.await }).await.expect("the store call panicked")
    }};
}

#[async_trait]
impl Store for RealTime {
    fn dialect(&self) -> Dialect {
        self.0.dialect()
    }
    fn now(&self) -> Millis {
        self.0.now()
    }
    async fn ping(&self) -> Result<()> {
        real!(self, |s| s.ping())
    }
    async fn put_account(&self, id: &str, input: &AccountInput, actor: &str) -> Result<(Account, bool)> {
        let (id, input, actor) = (id.to_string(), input.clone(), actor.to_string());
        real!(self, |s| async move { s.put_account(&id, &input, &actor).await })
    }
    async fn account(&self, id: &str) -> Result<Account> {
        let id = id.to_string();
        real!(self, |s| async move { s.account(&id).await })
    }
    async fn accounts(&self) -> Result<Vec<Account>> {
        real!(self, |s| s.accounts())
    }
    async fn delete_account(&self, id: &str, actor: &str) -> Result<()> {
        let (id, actor) = (id.to_string(), actor.to_string());
        real!(self, |s| async move { s.delete_account(&id, &actor).await })
    }
    async fn put_cluster(
        &self,
        account: &str,
        name: &str,
        input: &ClusterInput,
        if_match: Option<i64>,
        actor: &str,
    ) -> Result<PutOutcome> {
        let (account, name, input, actor) = (account.to_string(), name.to_string(), input.clone(), actor.to_string());
        real!(self, |s| async move { s.put_cluster(&account, &name, &input, if_match, &actor).await })
    }
    async fn cluster(&self, account: &str, name: &str) -> Result<ClusterView> {
        let (account, name) = (account.to_string(), name.to_string());
        real!(self, |s| async move { s.cluster(&account, &name).await })
    }
    async fn clusters(&self, account: &str, after: Option<&str>, limit: usize) -> Result<Page<ClusterView>> {
        let (account, after) = (account.to_string(), after.map(str::to_string));
        real!(self, |s| async move { s.clusters(&account, after.as_deref(), limit).await })
    }
    async fn phase_counts(&self) -> Result<Vec<(Phase, u64)>> {
        real!(self, |s| async move { s.phase_counts().await })
    }
    async fn request_deletion(&self, account: &str, name: &str, purge: bool, actor: &str) -> Result<ClusterRecord> {
        let (account, name, actor) = (account.to_string(), name.to_string(), actor.to_string());
        real!(self, |s| async move { s.request_deletion(&account, &name, purge, &actor).await })
    }
    async fn put_status(&self, fence: &Fence, name: &str, status: &ClusterStatus) -> Result<()> {
        let (fence, name, status) = (fence.clone(), name.to_string(), status.clone());
        real!(self, |s| async move { s.put_status(&fence, &name, &status).await })
    }
    async fn remove_cluster(&self, fence: &Fence, name: &str, event: NewEvent) -> Result<()> {
        let (fence, name) = (fence.clone(), name.to_string());
        real!(self, |s| async move { s.remove_cluster(&fence, &name, event).await })
    }
    async fn append_events(&self, fence: &Fence, events: Vec<NewEvent>) -> Result<()> {
        let fence = fence.clone();
        real!(self, |s| async move { s.append_events(&fence, events).await })
    }
    async fn events(&self, after: i64, limit: usize) -> Result<Vec<Event>> {
        real!(self, |s| async move { s.events(after, limit).await })
    }
    async fn heartbeat(&self, replica: &str, ttl_ms: Millis) -> Result<usize> {
        let replica = replica.to_string();
        real!(self, |s| async move { s.heartbeat(&replica, ttl_ms).await })
    }
    async fn claim_leases(&self, holder: &str, ttl_ms: Millis, limit: usize) -> Result<Vec<Lease>> {
        let holder = holder.to_string();
        real!(self, |s| async move { s.claim_leases(&holder, ttl_ms, limit).await })
    }
    async fn release_leases(&self, holder: &str) -> Result<()> {
        let holder = holder.to_string();
        real!(self, |s| async move { s.release_leases(&holder).await })
    }
    async fn leases(&self) -> Result<Vec<Lease>> {
        real!(self, |s| s.leases())
    }
    async fn create_token(&self, name: &str, hash: &str) -> Result<TokenInfo> {
        let (name, hash) = (name.to_string(), hash.to_string());
        real!(self, |s| async move { s.create_token(&name, &hash).await })
    }
    async fn authenticate(&self, hash: &str) -> Result<Option<String>> {
        let hash = hash.to_string();
        real!(self, |s| async move { s.authenticate(&hash).await })
    }
    async fn tokens(&self) -> Result<Vec<TokenInfo>> {
        real!(self, |s| s.tokens())
    }
    async fn revoke_token(&self, name: &str) -> Result<()> {
        let name = name.to_string();
        real!(self, |s| async move { s.revoke_token(&name).await })
    }
}
