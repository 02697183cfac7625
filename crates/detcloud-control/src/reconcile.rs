//! The reconciler: makes each leased account's clusters what the store declares.
//!
//! One [`Reconciler::sweep`] sends this replica's heartbeat, renews and claims its share of the
//! account leases (the accounts divided by the live replicas), and then, per leased account,
//! assumes the account's cross-account role with its external id and converges every cluster:
//!
//! | declared | observed | action |
//! | --- | --- | --- |
//! | deletion requested | anything | `delete` (data kept unless purge), then the row goes |
//! | a generation not yet observed | anything | `create` (which completes or converges), then status |
//! | observed | a resource missing or unhealthy | `create` again, which recreates what is gone; a `DriftRepaired` event names it |
//! | observed | healthy | nothing (status refreshed) |
//!
//! A cluster whose step fails is retried after an exponential backoff (30 s doubling to 15
//! minutes), shown in its status (`Failed`, `last_error`, `next_attempt`); one account's failure
//! never stops the others. Every write is fenced by the account's lease, so a replica that lost
//! its lease mid-step writes nothing and leaves the account to its new holder.

use std::sync::Arc;
use std::time::Duration;

use detcloud_cluster::fleet::{AccountReading, ClusterResources, CpuMemory};
use detcloud_cluster::status::ClusterStatus as Observed;
use detcloud_cluster::{
    create, delete, prepare, status, ClusterSpec, CreateOptions, DeleteOptions, RateLimit, TokenBucket,
};
use detcloud_provider::{tags, AssumeRoleRequest, Cloud, Filter};
use detcloud_retry::Retrying;

use crate::metrics::Metrics;

use crate::store::{
    Account, ClusterStatus, ClusterView, Condition, Fence, Lease, MasterEndpoint, Millis, NewEvent, Phase,
    ResourceState, Store, StoreError,
};

/// How the reconciler works.
#[derive(Debug, Clone)]
pub struct ReconcileOptions {
    /// This replica's id (unique among the replicas sharing a store).
    pub replica: String,
    /// How long a lease lasts unless renewed.
    pub lease_ttl: Duration,
    /// The SSH public key installed on masters the control plane creates.
    pub ssh_public_key: String,
    /// The first retry's delay after a failure; it doubles with each failure in a row.
    pub backoff_base: Duration,
    /// The longest delay between retries.
    pub backoff_max: Duration,
    /// How long one resource may take (create and delete).
    pub resource_timeout: Duration,
    /// How long a new master may take to answer.
    pub ready_timeout: Duration,
    /// Accounts reconciled at the same time (each account's clusters go one after another).
    pub concurrency: usize,
    /// Each account's rate of reads (the sweep's reading waits rather than exceed it).
    pub rate: RateLimit,
}

impl ReconcileOptions {
    /// Defaults: 30 s leases, backoff from 30 s to 15 minutes, the engines' timeouts.
    pub fn new(replica: impl Into<String>, ssh_public_key: impl Into<String>) -> Self {
        let create = CreateOptions::new("");
        ReconcileOptions {
            replica: replica.into(),
            lease_ttl: Duration::from_secs(30),
            ssh_public_key: ssh_public_key.into(),
            backoff_base: Duration::from_secs(30),
            backoff_max: Duration::from_secs(15 * 60),
            resource_timeout: create.timeout,
            ready_timeout: create.ready_timeout,
            concurrency: 16,
            rate: RateLimit::EC2_DESCRIBE,
        }
    }
}

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Accounts this replica held and reconciled.
    pub accounts: usize,
    /// Clusters looked at.
    pub clusters: usize,
    /// Clusters created or converged to a new generation.
    pub converged: usize,
    /// Clusters whose drift was repaired.
    pub repaired: usize,
    /// Clusters deleted (and forgotten).
    pub deleted: usize,
    /// Clusters whose step failed (retried later).
    pub failed: usize,
    /// Clusters skipped: backing off, or their account paused.
    pub skipped: usize,
    /// Accounts whose role could not be assumed.
    pub unreachable_accounts: usize,
}

impl SweepReport {
    fn add(&mut self, other: &SweepReport) {
        self.accounts += other.accounts;
        self.clusters += other.clusters;
        self.converged += other.converged;
        self.repaired += other.repaired;
        self.deleted += other.deleted;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.unreachable_accounts += other.unreachable_accounts;
    }
}

/// The reconciler of one replica.
#[derive(Debug)]
pub struct Reconciler {
    store: Arc<dyn Store>,
    vendor: Arc<dyn Cloud>,
    options: ReconcileOptions,
    stop: Arc<tokio::sync::watch::Sender<bool>>,
    metrics: Arc<Metrics>,
    buckets: std::sync::Mutex<std::collections::HashMap<String, Arc<TokenBucket>>>,
    /// Each account's assumed session, kept across sweeps (see [`SESSION_REUSE`]).
    sessions: std::sync::Mutex<std::collections::HashMap<String, Session>>,
}

/// Asks a [`Reconciler::run`] to stop: it finishes the cluster step in flight, releases its
/// leases and returns (what `detcloud serve` does on SIGTERM).
#[derive(Debug, Clone)]
pub struct StopHandle(Arc<tokio::sync::watch::Sender<bool>>);

impl StopHandle {
    /// Stops the reconciler after its step in flight.
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

/// What happened to one cluster.
enum Outcome {
    Converged,
    Repaired,
    Deleted,
    Unchanged,
    Failed,
}

/// How long an account's assumed session serves sweeps before the role is assumed again. Under
/// the hour STS gives a session by default, so that no session in use expires; the AWS backend
/// also renews its credentials itself.
pub const SESSION_REUSE: Duration = Duration::from_secs(45 * 60);

/// An account's assumed session, and what it was assumed with.
#[derive(Debug)]
struct Session {
    role_arn: String,
    external_id: String,
    cloud: Arc<dyn Cloud>,
    since: tokio::time::Instant,
}

impl Reconciler {
    /// A reconciler acting from `vendor` (the control plane's own credentials), which assumes
    /// each account's cross-account role.
    pub fn new(store: Arc<dyn Store>, vendor: Arc<dyn Cloud>, options: ReconcileOptions) -> Self {
        Reconciler {
            store,
            vendor,
            options,
            stop: Arc::new(tokio::sync::watch::channel(false).0),
            metrics: Arc::default(),
            buckets: std::sync::Mutex::default(),
            sessions: std::sync::Mutex::default(),
        }
    }

    /// What this reconciler counts (`GET /metrics` shows it).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// A handle that stops [`run`](Self::run) (and a sweep in progress) after the step in flight.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(Arc::clone(&self.stop))
    }

    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Sweeps every `interval` (jittered by up to a tenth either way, so that replicas started
    /// together spread out), and at once when `wake` is notified (a spec changed), until stopped
    /// through [`stop_handle`](Self::stop_handle); then releases the leases, so that other
    /// replicas take the accounts at once. A sweep that fails (the store unreachable) is logged
    /// and tried again at the next interval.
    pub async fn run(&self, interval: Duration, wake: Arc<tokio::sync::Notify>) -> Result<(), StoreError> {
        let mut stop = self.stop.subscribe();
        while !self.stopping() {
            let started = tokio::time::Instant::now();
            match self.sweep().await {
                Ok(report) => {
                    self.metrics.sweep_done(started.elapsed(), true);
                    tracing::info!(?report, "sweep");
                }
                Err(e) => {
                    self.metrics.sweep_done(started.elapsed(), false);
                    tracing::warn!(error = %e, "sweep failed");
                }
            }
            if self.stopping() {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(jittered(interval)) => {}
                _ = wake.notified() => {}
                _ = stop.changed() => {}
            }
        }
        self.release().await
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    fn ttl_ms(&self) -> Millis {
        Millis::try_from(self.options.lease_ttl.as_millis()).unwrap_or(Millis::MAX)
    }

    /// One pass over this replica's share of the fleet (see the module's documentation).
    pub async fn sweep(&self) -> Result<SweepReport, StoreError> {
        let replicas = self.store.heartbeat(&self.options.replica, self.ttl_ms()).await?;
        let accounts = self.store.accounts().await?;
        let share = accounts.len().div_ceil(replicas.max(1)).max(1);
        let leases = self.store.claim_leases(&self.options.replica, self.ttl_ms(), share).await?;
        // Creating a cluster takes longer than a lease lasts: renew the leases held (and claim
        // no more) every third of their time while the sweep runs.
        let renewal = {
            let (store, replica, ttl, held) =
                (Arc::clone(&self.store), self.options.replica.clone(), self.ttl_ms(), leases.len());
            let every = self.options.lease_ttl / 3;
            let (done, mut finished) = tokio::sync::oneshot::channel::<()>();
            let task = tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = &mut finished => break,
                        _ = tokio::time::sleep(every) => {}
                    }
                    if let Err(e) = store.claim_leases(&replica, ttl, held).await {
                        tracing::warn!(error = %e, "cannot renew the leases");
                    }
                }
            });
            (done, task)
        };
        let result = self.reconcile_leased(&accounts, leases).await;
        // Stop the renewal and wait for it: a renewal still in flight when the sweep returns
        // could otherwise land after a graceful release and take the leases back.
        let (done, task) = renewal;
        let _ = done.send(());
        if let Err(e) = task.await {
            tracing::warn!(error = %e, "the lease renewal task failed");
        }
        result
    }

    async fn reconcile_leased(&self, accounts: &[Account], leases: Vec<Lease>) -> Result<SweepReport, StoreError> {
        use futures::StreamExt;
        let work: Vec<(&Account, Lease)> = leases
            .into_iter()
            .filter_map(|lease| accounts.iter().find(|a| a.id == lease.account_id).map(|a| (a, lease)))
            .collect();
        // Accounts go side by side, at most `concurrency` at a time; one account's failure is
        // its own (logged), except a store that cannot be reached, which ends the sweep.
        let steps: Vec<futures::future::BoxFuture<'_, Result<SweepReport, StoreError>>> = work
            .into_iter()
            .map(|(account, lease)| {
                Box::pin(async move {
                    if self.stopping() {
                        return Ok(SweepReport::default());
                    }
                    let mut report = SweepReport { accounts: 1, ..SweepReport::default() };
                    match self.reconcile_account(account, &lease, &mut report).await {
                        Ok(()) => {}
                        Err(StoreError::LeaseLost { account, .. }) => {
                            tracing::warn!(%account, "lease lost mid-sweep: leaving the account to its new holder");
                        }
                        Err(e) if e.is_transient() => return Err(e),
                        Err(e) => tracing::warn!(account = %account.id, error = %e, "account not reconciled"),
                    }
                    Ok(report)
                }) as futures::future::BoxFuture<'_, _>
            })
            .collect();
        let mut results = futures::stream::iter(steps).buffer_unordered(self.options.concurrency.max(1));
        let mut total = SweepReport::default();
        let mut failure = None;
        while let Some(result) = results.next().await {
            match result {
                Ok(r) => total.add(&r),
                Err(e) => failure = Some(e),
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(total),
        }
    }

    /// Releases this replica's leases (a graceful stop).
    pub async fn release(&self) -> Result<(), StoreError> {
        self.store.release_leases(&self.options.replica).await
    }

    async fn reconcile_account(
        &self,
        account: &Account,
        lease: &Lease,
        report: &mut SweepReport,
    ) -> Result<(), StoreError> {
        let fence = lease.fence();
        let mut clusters = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.store.clusters(&account.id, after.as_deref(), 500).await?;
            clusters.extend(page.items);
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        report.clusters += clusters.len();
        if account.paused {
            report.skipped += clusters.len();
            return Ok(());
        }
        // Clusters backing off after a failure wait for their time (and cost no call).
        let now = self.store.now();
        let (clusters, waiting): (Vec<_>, Vec<_>) = clusters.into_iter().partition(|v| !backing_off(v, now));
        report.skipped += waiting.len();
        if clusters.is_empty() {
            return Ok(());
        }
        // Every call in the account goes through one retrying wrapper: retried when throttled or
        // failing transiently, and counted for `/metrics`.
        let counted = Retrying::new(Arc::clone(&self.vendor));
        let result = self.reconcile_clusters(&counted, account, &fence, &clusters, report).await;
        self.metrics.calls(&account.id, counted.stats().calls);
        result
    }

    async fn reconcile_clusters(
        &self,
        vendor: &Retrying,
        account: &Account,
        fence: &Fence,
        clusters: &[ClusterView],
        report: &mut SweepReport,
    ) -> Result<(), StoreError> {
        let cloud = match self.assume(vendor, account).await {
            Ok(cloud) => cloud,
            Err(e) => {
                report.unreachable_accounts += 1;
                let message = format!("cannot assume {}: {e}", account.role_arn);
                for view in clusters {
                    self.fail(fence, view, &message).await?;
                }
                report.failed += clusters.len();
                return Ok(());
            }
        };
        // One reading of the account, whatever its number of clusters; each cluster's status and
        // drift come from it.
        let region = cloud.region();
        let (here, elsewhere): (Vec<&ClusterView>, Vec<&ClusterView>) =
            clusters.iter().partition(|v| v.record.region == region);
        for view in elsewhere {
            let message = format!(
                "this control plane works in {region} (its --region); cluster {} is in {}: run a replica with --region {}",
                view.record.name, view.record.region, view.record.region
            );
            self.fail(fence, view, &message).await?;
            report.failed += 1;
        }
        if here.is_empty() {
            return Ok(());
        }
        let reading = {
            let bucket = self.bucket(&account.id);
            let memory = std::sync::Mutex::new(CpuMemory::default());
            let filter = Filter::tag(tags::MANAGED_BY, tags::MANAGED_BY_VALUE);
            AccountReading::read_for_drift(cloud.as_ref(), &filter, Some(&bucket), &memory).await
        };
        let reading = match reading {
            Ok(reading) => reading,
            Err(e) => {
                self.forget_session(account);
                let message = format!("reading the account: {e}");
                for view in &here {
                    self.fail(fence, view, &message).await?;
                }
                report.failed += here.len();
                return Ok(());
            }
        };
        for view in here {
            if self.stopping() {
                break;
            }
            let outcome = self.reconcile_cluster(cloud.as_ref(), account, fence, view, &reading).await?;
            self.tally(outcome, report);
        }
        Ok(())
    }

    /// The account's cross-account session, through `vendor` (so that its calls are retried and
    /// counted): the one assumed in an earlier sweep while it is younger than [`SESSION_REUSE`]
    /// and the account's role and external id are the same, else a new one.
    async fn assume(&self, vendor: &Retrying, account: &Account) -> Result<Arc<dyn Cloud>, detcloud_provider::Error> {
        let kept = {
            let mut sessions = crate::lock(&self.sessions);
            match sessions.get(&account.id) {
                Some(s)
                    if s.role_arn == account.role_arn
                        && s.external_id == account.external_id
                        && s.since.elapsed() < SESSION_REUSE =>
                {
                    Some(Arc::clone(&s.cloud))
                }
                Some(_) => {
                    sessions.remove(&account.id);
                    None
                }
                None => None,
            }
        };
        if let Some(cloud) = kept {
            return Ok(Arc::new(vendor.wrap(cloud)));
        }
        let session = format!("detcloud-control-{}", self.options.replica);
        let session: String =
            session.chars().filter(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(*c)).take(64).collect();
        let cloud = vendor
            .assume_role_unwrapped(AssumeRoleRequest {
                role_arn: account.role_arn.clone(),
                session_name: session,
                external_id: Some(account.external_id.clone()),
                duration: None,
            })
            .await?;
        let kept = Session {
            role_arn: account.role_arn.clone(),
            external_id: account.external_id.clone(),
            cloud: Arc::clone(&cloud),
            since: tokio::time::Instant::now(),
        };
        crate::lock(&self.sessions).insert(account.id.clone(), kept);
        Ok(Arc::new(vendor.wrap(cloud)))
    }

    /// Forgets the account's session: the next sweep assumes the role again (after a reading
    /// failed, perhaps because the customer changed the role's trust).
    fn forget_session(&self, account: &Account) {
        crate::lock(&self.sessions).remove(&account.id);
    }

    async fn reconcile_cluster(
        &self,
        cloud: &dyn Cloud,
        account: &Account,
        fence: &Fence,
        view: &ClusterView,
        reading: &AccountReading,
    ) -> Result<Outcome, StoreError> {
        let record = &view.record;
        if record.deletion_requested {
            return self.delete(cloud, account, fence, view).await;
        }
        let spec = match cluster_spec(view) {
            Ok(spec) => spec,
            Err(message) => {
                self.fail(fence, view, &message).await?;
                return Ok(Outcome::Failed);
            }
        };
        let name = &record.name;
        let converge = view.status.observed_generation != record.generation || view.status.phase != Phase::Ready;
        let mut drifted = Vec::new();
        if !converge {
            let observed = match reading.status(name) {
                Ok(observed) => observed,
                Err(e) => {
                    self.fail(fence, view, &format!("status: {e}")).await?;
                    return Ok(Outcome::Failed);
                }
            };
            let empty = ClusterResources::default();
            let resources = reading.clusters.get(name).unwrap_or(&empty);
            let drift = detcloud_cluster::drift::detect(&spec, resources, reading.log_groups_read);
            if observed.healthy && drift.is_empty() {
                let ready = self.observed(view, &observed, Phase::Ready, &[]);
                if !same_observation(&view.status, &ready, self.store.now()) {
                    self.store.put_status(fence, name, &ready).await?;
                }
                return Ok(Outcome::Unchanged);
            }
            drifted = observed
                .resources
                .iter()
                .filter(|r| !r.healthy)
                .map(|r| format!("{} {}", r.resource, r.state))
                .chain(drift.iter().map(ToString::to_string))
                .collect();
            let degraded = self.observed(view, &observed, Phase::Degraded, &drifted);
            self.store.put_status(fence, name, &degraded).await?;
        } else {
            let mut creating = view.status.clone();
            creating.phase = Phase::Creating;
            self.store.put_status(fence, name, &creating).await?;
        }
        let options = CreateOptions {
            timeout: self.options.resource_timeout,
            ready_timeout: self.options.ready_timeout,
            ..CreateOptions::new(self.options.ssh_public_key.clone())
        };
        // A cluster that exists converges through modify (retentions, rules, the master's type,
        // then everything create does); a new one is created.
        let converged = match prepare(cloud, &spec, &account.id).await {
            Ok(prepared) if prepared.inventory.vpc.is_some() => {
                detcloud_cluster::drift::repair(cloud, &prepared, &options).await.map(|_| ()).map_err(|e| e.to_string())
            }
            Ok(prepared) => create(cloud, &prepared, &options).await.map(|_| ()).map_err(|e| e.to_string()),
            Err(e) => Err(format!("preflight: {e}")),
        };
        if let Err(message) = converged {
            self.fail(fence, view, &message).await?;
            return Ok(Outcome::Failed);
        }
        let observed = match status(cloud, name, &record.region, &account.id).await {
            Ok(observed) => observed,
            Err(e) => {
                self.fail(fence, view, &format!("status after create: {e}")).await?;
                return Ok(Outcome::Failed);
            }
        };
        let phase = if observed.healthy { Phase::Ready } else { Phase::Degraded };
        self.store.put_status(fence, name, &self.observed(view, &observed, phase, &[])).await?;
        let (reason, message, outcome) = if drifted.is_empty() {
            let message = format!("cluster {name} converged to generation {} ({phase})", record.generation);
            ("ClusterConverged", message, Outcome::Converged)
        } else {
            let message = format!("cluster {name}: drift repaired: {}", drifted.join("; "));
            ("DriftRepaired", message, Outcome::Repaired)
        };
        self.store.append_events(fence, vec![self.event(view, reason, message)]).await?;
        Ok(outcome)
    }

    /// Counts a cluster's outcome in the sweep's report and in the metrics.
    fn tally(&self, outcome: Outcome, report: &mut SweepReport) {
        match outcome {
            Outcome::Converged => {
                report.converged += 1;
                self.metrics.converged();
            }
            Outcome::Repaired => {
                report.repaired += 1;
                self.metrics.drift_repaired();
            }
            Outcome::Deleted => {
                report.deleted += 1;
                self.metrics.deleted();
            }
            Outcome::Failed => {
                report.failed += 1;
                self.metrics.reconcile_error();
            }
            Outcome::Unchanged => {}
        }
    }

    /// The token bucket of an account's reads, kept from sweep to sweep.
    fn bucket(&self, account: &str) -> Arc<TokenBucket> {
        let mut buckets = crate::lock(&self.buckets);
        Arc::clone(buckets.entry(account.to_string()).or_insert_with(|| Arc::new(TokenBucket::new(self.options.rate))))
    }

    async fn delete(
        &self,
        cloud: &dyn Cloud,
        account: &Account,
        fence: &Fence,
        view: &ClusterView,
    ) -> Result<Outcome, StoreError> {
        let record = &view.record;
        let mut deleting = view.status.clone();
        deleting.phase = Phase::Deleting;
        deleting.observed_generation = record.generation;
        self.store.put_status(fence, &record.name, &deleting).await?;
        let options =
            DeleteOptions { purge: record.purge, timeout: self.options.resource_timeout, ..DeleteOptions::default() };
        match delete(cloud, &record.name, &record.region, &account.id, &options).await {
            Ok(report) => {
                let kept =
                    if report.kept.is_empty() { String::new() } else { format!("; kept: {}", report.kept.join(", ")) };
                let message = format!("cluster {} deleted ({} resources){kept}", record.name, report.deleted.len());
                self.store.remove_cluster(fence, &record.name, self.event(view, "ClusterDeleted", message)).await?;
                Ok(Outcome::Deleted)
            }
            Err(e) => {
                let mut failed = self.backoff(view, &format!("delete: {e}"));
                failed.phase = Phase::Deleting;
                self.store.put_status(fence, &record.name, &failed).await?;
                Ok(Outcome::Failed)
            }
        }
    }

    /// Records a failure with its backoff and an event.
    async fn fail(&self, fence: &Fence, view: &ClusterView, message: &str) -> Result<(), StoreError> {
        let status = self.backoff(view, message);
        self.store.put_status(fence, &view.record.name, &status).await?;
        let event = self.event(view, "ReconcileFailed", format!("cluster {}: {message}", view.record.name));
        self.store.append_events(fence, vec![event]).await
    }

    fn backoff(&self, view: &ClusterView, message: &str) -> ClusterStatus {
        let failures = view.status.failures.saturating_add(1);
        let base = self.options.backoff_base.as_millis() as u64;
        let delay =
            base.saturating_mul(1u64 << (failures - 1).min(20)).min(self.options.backoff_max.as_millis() as u64);
        let now = self.store.now();
        let mut status = view.status.clone();
        status.phase = Phase::Failed;
        status.observed_generation = view.record.generation;
        status.last_error = Some(message.to_string());
        status.failures = failures;
        status.next_attempt = Some(now.saturating_add(Millis::try_from(delay).unwrap_or(Millis::MAX)));
        status.last_reconciled = Some(now);
        status.conditions = vec![self.condition(view, "Ready", "False", "ReconcileFailed", message)];
        status
    }

    fn observed(&self, view: &ClusterView, observed: &Observed, phase: Phase, drifted: &[String]) -> ClusterStatus {
        let message = match (&phase, &observed.master) {
            (Phase::Ready, Some(m)) if m.health != "not checked" => {
                format!("every resource is healthy; the master is {}", m.health)
            }
            (Phase::Ready, _) => "every resource is healthy".to_string(),
            _ if !drifted.is_empty() => format!("drifted: {}", drifted.join("; ")),
            _ => {
                let bad: Vec<_> =
                    observed.resources.iter().filter(|r| !r.healthy).map(|r| r.resource.as_str()).collect();
                format!("unhealthy: {}", bad.join(", "))
            }
        };
        let (status, reason) = if phase == Phase::Ready { ("True", "Converged") } else { ("False", "Drifted") };
        ClusterStatus {
            observed_generation: view.record.generation,
            phase,
            conditions: vec![self.condition(view, "Ready", status, reason, &message)],
            resources: observed
                .resources
                .iter()
                .map(|r| ResourceState {
                    kind: r.resource.clone(),
                    id: r.id.clone().unwrap_or_default(),
                    state: r.state.clone(),
                    healthy: r.healthy,
                })
                .collect(),
            master: observed
                .master
                .as_ref()
                .map(|m| MasterEndpoint { public_ip: m.public_ip.clone(), url: m.url.clone() }),
            last_reconciled: Some(self.store.now()),
            last_error: None,
            next_attempt: None,
            failures: 0,
        }
    }

    /// A condition, keeping its `since` when its status did not change.
    fn condition(&self, view: &ClusterView, kind: &str, status: &str, reason: &str, message: &str) -> Condition {
        let since = view
            .status
            .conditions
            .iter()
            .find(|c| c.kind == kind && c.status == status)
            .map_or_else(|| self.store.now(), |c| c.since);
        Condition { kind: kind.into(), status: status.into(), reason: reason.into(), message: message.into(), since }
    }

    fn event(&self, view: &ClusterView, reason: &str, message: String) -> NewEvent {
        NewEvent {
            account_id: Some(view.record.account_id.clone()),
            cluster: Some(view.record.name.clone()),
            reason: reason.into(),
            message,
            actor: format!("replica:{}", self.options.replica),
        }
    }
}

/// How long a status that did not change stays unwritten (`last_reconciled` is at most this old).
const QUIET_WRITES_MS: Millis = 10 * 60 * 1000;

/// True when `next` says what `stored` says (the times of conditions and of the reconcile
/// aside), and `stored` was written recently: a sweep of a fleet that did not change writes
/// nothing.
fn same_observation(stored: &ClusterStatus, next: &ClusterStatus, now: Millis) -> bool {
    let conditions = |s: &ClusterStatus| -> Vec<(String, String, String, String)> {
        s.conditions.iter().map(|c| (c.kind.clone(), c.status.clone(), c.reason.clone(), c.message.clone())).collect()
    };
    stored.phase == next.phase
        && stored.observed_generation == next.observed_generation
        && stored.resources == next.resources
        && stored.master == next.master
        && stored.last_error == next.last_error
        && stored.failures == next.failures
        && conditions(stored) == conditions(next)
        && stored.last_reconciled.is_some_and(|t| now.saturating_sub(t) < QUIET_WRITES_MS)
}

/// `interval`, up to a tenth longer or shorter, at random.
fn jittered(interval: Duration) -> Duration {
    let mut byte = [0u8; 2];
    let r = if getrandom::fill(&mut byte).is_ok() {
        f64::from(u16::from_le_bytes(byte)) / f64::from(u16::MAX)
    } else {
        0.5
    };
    interval.mul_f64(0.9 + 0.2 * r)
}

/// True while a cluster waits out its backoff: it failed at this generation and its next
/// attempt is later (a new generation, i.e. a changed spec or a deletion, is tried at once).
fn backing_off(view: &ClusterView, now: Millis) -> bool {
    view.status.next_attempt.is_some_and(|t| t > now) && view.status.observed_generation == view.record.generation
}

/// The declared spec as the cluster engine's type, validated; the message names the field.
pub fn cluster_spec(view: &ClusterView) -> Result<ClusterSpec, String> {
    let mut value = view.record.spec.clone();
    if let Some(object) = value.as_object_mut() {
        object.entry("name").or_insert_with(|| view.record.name.clone().into());
        object.entry("region").or_insert_with(|| view.record.region.clone().into());
    }
    let spec: ClusterSpec = serde_json::from_value(value).map_err(|e| format!("spec: {e}"))?;
    if spec.name != view.record.name {
        return Err(format!("spec.name: {} must be the cluster's name, {}", spec.name, view.record.name));
    }
    if spec.region != view.record.region {
        return Err(format!("spec.region: {} must be the cluster's region, {}", spec.region, view.record.region));
    }
    spec.validate().map_err(|e| e.to_string())?;
    Ok(spec)
}
