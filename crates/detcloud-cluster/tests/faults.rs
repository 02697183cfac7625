//! The reliability campaign, on the fake and its virtual clock, as the cross-account role with
//! exactly the catalog's policy:
//!
//! - **Fault schedules** (a property test): random throttling, 5xx, timeouts, latency, eventual
//!   consistency, quota exhaustion, access denied and not-ready errors across the calls of create,
//!   modify and delete, over random pre-existing customer resources. After each schedule: every
//!   operation completed, or its documented recovery (run it again) did; after delete, nothing the
//!   cluster owned is left but the retained bucket and final snapshot; and the rest of the world —
//!   the customer's resources, IAM, another detcloud cluster — is byte-for-byte what it was.
//!   `DETCLOUD_FAULT_SCHEDULES` sets the number of schedules (default 1,000; `cargo xtask soak`
//!   runs 10,000), `DETCLOUD_FAULT_SEED` the seed.
//! - **Crash and resume**: the engine stopped (its future dropped) after every call of create and
//!   of delete in turn, then run again, converges to the same world as an uninterrupted run.
//! - **Throttling storm**: half of all calls throttled; create and delete finish, and the call
//!   count relative to a fault-free run is reported.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use detcloud_cluster::operate::{keep_current, modify, Explicit};
use detcloud_cluster::{create, delete, prepare, ClusterSpec, CreateOptions, DeleteOptions};
use detcloud_fake::FakeCloud;
use detcloud_provider::{Cloud, CreateSubnet, Error, PutParameter, Tags};
use detcloud_retry::Retrying;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;

const CLUSTER: &str = "ml-prod";

mod common;

use common::{connect, instance, vendor_session, CUSTOMER, SSH_KEY};

// ---------------------------------------------------------------------------------------------
// The world: a connected account, the vendor's retrying session as the cross-account role.

/// A customer account connected with `connect aws` (the admin's view), and the vendor's session
/// as its cross-account role, wrapped in the retry layer every detcloud client uses.
async fn connected() -> (FakeCloud, Arc<Retrying>) {
    let cloud = FakeCloud::new(CUSTOMER);
    connect(&cloud, Some("tenant-1")).await;
    let xacct = session(&cloud).await;
    (cloud, xacct)
}

/// A new session of the vendor as the cross-account role (each run of a command starts one).
async fn session(cloud: &FakeCloud) -> Arc<Retrying> {
    Arc::new(Retrying::new(Arc::new(vendor_session(cloud, CUSTOMER, Some("tenant-1")).await)))
}

fn spec() -> ClusterSpec {
    common::spec(CLUSTER)
}

/// Pre-existing resources of the customer's (and of another detcloud cluster), generated at random.
#[derive(Debug, Clone)]
struct Customer {
    /// VPCs, each with this many instances in its one subnet.
    vpcs: Vec<u8>,
    /// Buckets, each with one object.
    buckets: u8,
    /// Names that look like ours but are not: `/detcloud/ml-prod-old`, `detcloud-ml-prod-x`.
    lookalikes: bool,
    /// Another cluster managed by detcloud in the same account.
    other_cluster: bool,
    /// SSM parameters.
    parameters: u8,
}

fn customer_strategy() -> impl Strategy<Value = Customer> {
    (prop::collection::vec(0u8..3, 0..3), 0u8..3, any::<bool>(), any::<bool>(), 0u8..3).prop_map(
        |(vpcs, buckets, lookalikes, other_cluster, parameters)| Customer {
            vpcs,
            buckets,
            lookalikes,
            other_cluster,
            parameters,
        },
    )
}

async fn create_customer(cloud: &FakeCloud, c: &Customer) {
    let net = cloud.network();
    for (i, instances) in c.vpcs.iter().enumerate() {
        let mut tags = Tags::new();
        tags.insert("team".into(), format!("data-{i}"));
        if c.other_cluster && i == 0 {
            // Owned by detcloud, but by another cluster: never ours to touch.
            tags.insert("detcloud:managed-by".into(), "detcloud".into());
            tags.insert("detcloud:cluster".into(), "ml-staging".into());
        }
        let vpc = net.create_vpc(&format!("10.{}.0.0/16", 1 + i), &tags).await.unwrap();
        let subnet = net
            .create_subnet(CreateSubnet {
                vpc_id: vpc.id.clone(),
                cidr: format!("10.{}.1.0/24", 1 + i),
                availability_zone: "us-west-2a".into(),
                tags: tags.clone(),
            })
            .await
            .unwrap();
        for _ in 0..*instances {
            cloud.compute().run_instance(instance(&subnet.id, "t3.micro", &tags)).await.unwrap();
        }
    }
    for i in 0..c.buckets {
        let name = format!("their-data-{i}");
        cloud.storage().create_bucket(&name, "us-west-2").await.unwrap();
        cloud.storage().put_object(&name, "checkpoint", b"weights").await.unwrap();
    }
    for i in 0..c.parameters {
        cloud
            .parameters()
            .put_parameter(PutParameter {
                name: format!("/team/setting-{i}"),
                value: detcloud_provider::Secret::new(format!("value-{i}")),
                secure: false,
                kms_key_id: None,
                overwrite: false,
                description: None,
            })
            .await
            .unwrap();
    }
    if c.lookalikes {
        cloud.logs().create_log_group("/detcloud/ml-prod-old", &Tags::new()).await.unwrap();
        cloud.storage().create_bucket("detcloud-ml-prod-x", "us-west-2").await.unwrap();
        cloud
            .parameters()
            .put_parameter(PutParameter {
                name: "/detcloud/ml-prod-old/db-password".into(),
                value: detcloud_provider::Secret::new("not-ours"),
                secure: true,
                kms_key_id: None,
                overwrite: false,
                description: None,
            })
            .await
            .unwrap();
    }
    // Let the customer's instances finish booting: the snapshot compares states, not time.
    tokio::time::sleep(Duration::from_secs(300)).await;
}

// ---------------------------------------------------------------------------------------------
// The world as JSON, without what the cluster is allowed to leave behind.

/// The whole world as JSON, minus: the id counters; SSM command history and metrics (append-only
/// records of what ran); the cluster's retained checkpoint bucket and final snapshots; and the
/// cluster's resources that are gone but still listed for a while (terminated instances, deleted
/// NAT gateways, cancelled spot requests). What remains must not change across a lifecycle.
fn world_without_retained(cloud: &FakeCloud) -> Value {
    let mut v: Value = serde_json::from_str(&cloud.to_json()).unwrap();
    v.as_object_mut().unwrap().remove("ids");
    let bucket = format!("detcloud-{CLUSTER}-{CUSTOMER}-us-west-2");
    for account in v["accounts"].as_object_mut().unwrap().values_mut() {
        if let Some(s3) = account.get_mut("s3").and_then(Value::as_object_mut) {
            s3.remove(&bucket);
        }
        let Some(regions) = account.get_mut("regions").and_then(Value::as_object_mut) else { continue };
        for region in regions.values_mut() {
            let r = region.as_object_mut().unwrap();
            r.remove("metrics");
            if let Some(ssm) = r.get_mut("ssm").and_then(Value::as_object_mut) {
                ssm.remove("commands");
            }
            if let Some(snaps) = r.get_mut("rds").and_then(|x| x.get_mut("snapshots")).and_then(Value::as_object_mut) {
                snaps.retain(|_, s| !s["cluster_id"].as_str().is_some_and(|c| c.starts_with("detcloud-ml-prod")));
            }
            if let Some(ec2) = r.get_mut("ec2").and_then(Value::as_object_mut) {
                for (collection, gone) in
                    [("instances", "terminated"), ("nat_gateways", "deleted"), ("spot_requests", "state")]
                {
                    if let Some(items) = ec2.get_mut(collection).and_then(Value::as_object_mut) {
                        items.retain(|_, item| !(is_ours(item) && is_gone(item, gone)));
                    }
                }
            }
        }
    }
    prune_empty(&mut v);
    v
}

/// Removes empty objects, so that "emptied" and "never had any" compare equal.
fn prune_empty(v: &mut Value) {
    if let Value::Object(m) = v {
        for x in m.values_mut() {
            prune_empty(x);
        }
        m.retain(|_, x| !matches!(x, Value::Object(o) if o.is_empty()));
    }
}

fn is_ours(item: &Value) -> bool {
    item["tags"]["detcloud:cluster"].as_str() == Some(CLUSTER)
}

fn is_gone(item: &Value, field: &str) -> bool {
    match &item[field] {
        Value::Bool(b) => *b,
        Value::String(s) => matches!(s.as_str(), "cancelled" | "closed" | "deleted" | "terminated"),
        Value::Null => item.get("state").and_then(Value::as_str).is_some_and(|s| s == "deleted"),
        _ => false,
    }
}

/// The first paths at which two JSON values differ, for a readable failure.
fn differences(before: &Value, after: &Value, path: &str, out: &mut Vec<String>) {
    if out.len() >= 8 {
        return;
    }
    match (before, after) {
        (Value::Object(a), Value::Object(b)) => {
            for k in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => differences(x, y, &format!("{path}/{k}"), out),
                    (Some(_), None) => out.push(format!("{path}/{k}: removed")),
                    (None, Some(y)) => out.push(format!("{path}/{k}: added {}", short(y))),
                    (None, None) => {}
                }
            }
        }
        _ if before != after => out.push(format!("{path}: {} -> {}", short(before), short(after))),
        _ => {}
    }
}

fn short(v: &Value) -> String {
    let mut v = v.clone();
    redact(&mut v);
    let s = v.to_string();
    if s.len() > 300 {
        format!("{}...", &s[..300])
    } else {
        s
    }
}

/// Secrets never reach a test's output either.
fn redact(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "value" || k == "master_password" {
                    *x = Value::String("<redacted>".into());
                } else {
                    redact(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact),
        _ => {}
    }
}

/// Panics with the differences when the world (minus what may remain) changed.
fn assert_unchanged(before: &Value, after: &Value, context: &str) {
    let mut diffs = vec![];
    differences(before, after, "", &mut diffs);
    assert!(diffs.is_empty(), "{context}: leaked or changed:\n  {}", diffs.join("\n  "));
}

// ---------------------------------------------------------------------------------------------
// Fault schedules.

/// Every action the lifecycle calls (the fixture the lifecycle test keeps current).
fn lifecycle_actions() -> Vec<String> {
    let text = include_str!("../../../fixtures/cluster-actions.json");
    serde_json::from_str(text).unwrap()
}

/// An error class a schedule can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Throttled,
    Unavailable,
    Timeout,
    NotReady,
    AccessDenied,
    QuotaExceeded,
}

impl Kind {
    fn error(self, action: &str) -> Error {
        match self {
            Kind::Throttled => Error::Throttled { message: "Rate exceeded (injected)".into() },
            Kind::Unavailable => Error::Unavailable { message: "503 Service Unavailable (injected)".into() },
            Kind::Timeout => Error::Timeout { message: "request timed out (injected)".into() },
            Kind::NotReady => Error::NotReady { message: "IncorrectState (injected)".into() },
            Kind::AccessDenied => {
                Error::AccessDenied { action: Some(action.to_string()), message: "explicit deny (injected)".into() }
            }
            Kind::QuotaExceeded => Error::QuotaExceeded {
                quota_code: Some("L-0263D0A3".into()),
                message: "limit exceeded (injected)".into(),
            },
        }
    }
}

/// One targeted fault: the next `times` calls of an action fail with `kind`.
#[derive(Debug, Clone)]
struct Targeted {
    action: usize,
    kind: Kind,
    times: u32,
}

/// The faults of one phase (create, modify or delete).
#[derive(Debug, Clone)]
struct PhaseFaults {
    /// Share of all calls failing at random with a transient error.
    random_rate: f64,
    seed: u64,
    targeted: Vec<Targeted>,
    /// Extra latency on some actions, in seconds (every call of the action waits that long).
    latency: Vec<(usize, u64)>,
}

#[derive(Debug, Clone)]
struct Schedule {
    customer: Customer,
    /// IAM's propagation delay for instance profiles and roles, in seconds.
    consistency_delay: u64,
    create: PhaseFaults,
    modify: Option<PhaseFaults>,
    delete: PhaseFaults,
    purge: bool,
}

fn kind_strategy() -> impl Strategy<Value = Kind> {
    prop_oneof![
        4 => Just(Kind::Throttled),
        2 => Just(Kind::Unavailable),
        1 => Just(Kind::Timeout),
        1 => Just(Kind::NotReady),
        1 => Just(Kind::AccessDenied),
        1 => Just(Kind::QuotaExceeded),
    ]
}

fn phase_strategy(actions: usize) -> impl Strategy<Value = PhaseFaults> {
    (
        prop_oneof![2 => Just(0.0), 3 => 0.0..0.3f64],
        any::<u64>(),
        prop::collection::vec(
            (0..actions, kind_strategy(), prop_oneof![3 => 1u32..4, 1 => 4u32..40])
                .prop_map(|(action, kind, times)| Targeted { action, kind, times }),
            0..4,
        ),
        prop::collection::vec((0..actions, 1u64..30), 0..3),
    )
        .prop_map(|(random_rate, seed, targeted, latency)| PhaseFaults { random_rate, seed, targeted, latency })
}

fn schedule_strategy() -> impl Strategy<Value = Schedule> {
    let n = lifecycle_actions().len();
    (
        customer_strategy(),
        prop_oneof![Just(0u64), 1u64..20],
        phase_strategy(n),
        prop::option::of(phase_strategy(n)),
        phase_strategy(n),
        any::<bool>(),
    )
        .prop_map(|(customer, consistency_delay, create, modify, delete, purge)| Schedule {
            customer,
            consistency_delay,
            create,
            modify,
            delete,
            purge,
        })
}

fn arm(cloud: &FakeCloud, faults: &PhaseFaults, actions: &[String]) {
    let f = cloud.faults();
    f.clear();
    f.random(
        faults.random_rate,
        faults.seed,
        vec![
            Error::Throttled { message: "Rate exceeded (injected)".into() },
            Error::Unavailable { message: "503 (injected)".into() },
            Error::Timeout { message: "timed out (injected)".into() },
        ],
    );
    for t in &faults.targeted {
        f.fail(&actions[t.action], t.kind.error(&actions[t.action]), t.times);
    }
    for (action, secs) in &faults.latency {
        f.delay(&actions[*action], Duration::from_secs(*secs));
    }
}

/// What happened over many schedules.
#[derive(Debug, Default)]
struct Tally {
    schedules: u64,
    faults_injected: u64,
    failed_then_recovered: BTreeMap<&'static str, u64>,
    completed_first_time: BTreeMap<&'static str, u64>,
}

impl Tally {
    fn outcome(&mut self, phase: &'static str, first_try_ok: bool) {
        let map = if first_try_ok { &mut self.completed_first_time } else { &mut self.failed_then_recovered };
        *map.entry(phase).or_default() += 1;
    }
}

/// Runs one schedule; panics (with the reason) when an invariant breaks.
async fn run_schedule(s: &Schedule, actions: &[String], tally: &mut Tally) {
    let (cloud, xacct) = connected().await;
    create_customer(&cloud, &s.customer).await;
    let before = world_without_retained(&cloud);
    cloud.set_consistency_delay(Duration::from_secs(s.consistency_delay));
    let spec = spec();

    // Create: the documented recovery is to run it again.
    arm(&cloud, &s.create, actions);
    let first = async {
        let p = prepare(xacct.as_ref(), &spec, CUSTOMER).await?;
        create(xacct.as_ref(), &p, &CreateOptions::new(SSH_KEY)).await.map_err(|e| e.error)
    }
    .await;
    tally.faults_injected += u64::from(cloud.faults().injected("*"));
    cloud.faults().clear();
    if first.is_err() {
        let xacct = session(&cloud).await;
        let p = prepare(xacct.as_ref(), &spec, CUSTOMER).await.expect("prepare after a failed create");
        let report = create(xacct.as_ref(), &p, &CreateOptions::new(SSH_KEY)).await;
        assert!(report.is_ok(), "re-running create did not complete: {:?} (first: {first:?})", report.err());
    }
    tally.outcome("create", first.is_ok());

    // Modify: a new master instance type and backup retention.
    if let Some(faults) = &s.modify {
        let xacct = session(&cloud).await;
        let mut wanted = spec.clone();
        wanted.master.instance_type = "m6i.xlarge".into();
        wanted.database.backup_retention_days = 14;
        let explicit = Explicit { instance_type: true, backup_retention: true, ..Explicit::default() };
        arm(&cloud, faults, actions);
        let first = async {
            let mut p = prepare(xacct.as_ref(), &wanted, CUSTOMER).await?;
            keep_current(&mut p, &explicit);
            modify(xacct.as_ref(), &p, &CreateOptions::new(SSH_KEY)).await
        }
        .await;
        tally.faults_injected += u64::from(cloud.faults().injected("*"));
        cloud.faults().clear();
        if first.is_err() {
            let xacct = session(&cloud).await;
            let mut p = prepare(xacct.as_ref(), &wanted, CUSTOMER).await.expect("prepare after a failed modify");
            keep_current(&mut p, &explicit);
            let again = modify(xacct.as_ref(), &p, &CreateOptions::new(SSH_KEY)).await;
            assert!(again.is_ok(), "re-running modify did not complete: {:?} (first: {first:?})", again.err());
        }
        tally.outcome("modify", first.is_ok());
    }

    // Delete: the documented recovery is to run it again.
    let options = DeleteOptions { purge: s.purge, ..DeleteOptions::default() };
    let xacct = session(&cloud).await;
    arm(&cloud, &s.delete, actions);
    let first = delete(xacct.as_ref(), CLUSTER, "us-west-2", CUSTOMER, &options).await;
    tally.faults_injected += u64::from(cloud.faults().injected("*"));
    cloud.faults().clear();
    if first.is_err() {
        let xacct = session(&cloud).await;
        let again = delete(xacct.as_ref(), CLUSTER, "us-west-2", CUSTOMER, &options).await;
        assert!(again.is_ok(), "re-running delete did not complete: {:?} (first: {first:?})", again.err());
    }
    tally.outcome("delete", first.is_ok());

    // Nothing leaked, nothing of anybody else's changed, nothing lost.
    assert_unchanged(&before, &world_without_retained(&cloud), "after delete");
    let bucket = format!("detcloud-{CLUSTER}-{CUSTOMER}-us-west-2");
    let bucket_kept = cloud.storage().describe_bucket(&bucket).await.is_ok();
    assert_eq!(bucket_kept, !s.purge, "the checkpoint bucket is kept exactly when not purging");
    if !s.purge {
        let snapshots = cloud.database().describe_db_cluster_snapshots("detcloud-ml-prod").await.unwrap();
        assert!(!snapshots.is_empty(), "no final snapshot of the database was kept");
    }
    tally.schedules += 1;
}

fn schedules_from_env() -> u32 {
    std::env::var("DETCLOUD_FAULT_SCHEDULES").ok().and_then(|n| n.parse().ok()).unwrap_or(1000)
}

#[test]
fn fault_schedules_complete_or_recover_leak_nothing_and_touch_nothing_else() {
    let cases = schedules_from_env();
    let seed: u64 = std::env::var("DETCLOUD_FAULT_SEED").ok().and_then(|n| n.parse().ok()).unwrap_or(0x5eed);
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes));
    let actions = lifecycle_actions();
    let tally = std::cell::RefCell::new(Tally::default());
    let result = runner.run(&schedule_strategy(), |s| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
        rt.block_on(run_schedule(&s, &actions, &mut tally.borrow_mut()));
        Ok(())
    });
    let tally = tally.into_inner();
    println!(
        "fault schedules: {} run (seed {seed}), {} faults injected; completed first time: {:?}; failed, then \
         completed by a re-run: {:?}; leaks: 0; changes to others' resources: 0",
        tally.schedules, tally.faults_injected, tally.completed_first_time, tally.failed_then_recovered
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(tally.schedules >= u64::from(cases), "only {} of {cases} schedules ran", tally.schedules);
    // The schedules really do fault: most runs see failures, and some need their recovery.
    assert!(tally.faults_injected > u64::from(cases), "{tally:?}");
    if cases >= 100 {
        assert!(tally.failed_then_recovered.values().sum::<u64>() > 0, "no schedule needed a recovery: {tally:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Crash and resume at every await point.

/// Polls `future` on tokio's paused clock until the fake has seen `calls` more calls, then drops
/// it; returns true when it finished first.
async fn run_until_calls<F: Future>(cloud: &FakeCloud, future: F, calls: usize) -> bool {
    let start = cloud.calls().len();
    let mut future = pin!(future);
    std::future::poll_fn(|cx: &mut Context<'_>| {
        if cloud.calls().len() - start >= calls {
            return Poll::Ready(false);
        }
        match future.as_mut().poll(cx) {
            Poll::Ready(_) => Poll::Ready(true),
            Poll::Pending => {
                if cloud.calls().len() - start >= calls {
                    Poll::Ready(false)
                } else {
                    Poll::Pending
                }
            }
        }
    })
    .await
}

/// The world after create (or delete), without what differs between equivalent worlds: ids and
/// timestamps are renamed in order of appearance.
fn canonical(cloud: &FakeCloud) -> String {
    let mut v = world_without_retained(cloud);
    let accounts = v["accounts"].as_object_mut().unwrap();
    for account in accounts.values_mut() {
        // IAM is connect's, unchanged by the cluster; a crash does not touch it.
        account.as_object_mut().unwrap().remove("iam");
        if let Some(regions) = account.get_mut("regions").and_then(Value::as_object_mut) {
            for region in regions.values_mut() {
                // Key pairs are imported with the same key; their fingerprints are equal.
                if let Some(ssm) = region.get_mut("ssm").and_then(Value::as_object_mut) {
                    ssm.remove("parameters");
                }
            }
        }
    }
    let text = v.to_string();
    // Rename every generated id (vpc-…, subnet-…, i-…, eipalloc-…) in order of appearance.
    let mut renamed = BTreeMap::new();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    let id = generated_id_finder();
    while let Some((start, end)) = id(rest) {
        out.push_str(&rest[..start]);
        let n = renamed.len();
        let name = renamed.entry(rest[start..end].to_string()).or_insert_with(|| format!("<id{n}>"));
        out.push_str(name);
        rest = &rest[end..];
    }
    out.push_str(rest);
    // Timestamps differ with when the crash happened.
    strip_times(&out)
}

/// A finder of generated ids: a known prefix, a dash, then 8 or more hex digits.
fn generated_id_finder() -> impl Fn(&str) -> Option<(usize, usize)> {
    const PREFIXES: [&str; 14] = [
        "vpc-",
        "subnet-",
        "igw-",
        "eipalloc-",
        "eipassoc-",
        "nat-",
        "rtb-",
        "rtbassoc-",
        "sg-",
        "eni-",
        "i-",
        "key-",
        "sir-",
        "r-",
    ];
    move |s: &str| {
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if i == 0 || !bytes[i - 1].is_ascii_alphanumeric() {
                for p in PREFIXES {
                    if s[i..].starts_with(p) {
                        let hex = s[i + p.len()..].bytes().take_while(u8::is_ascii_hexdigit).count();
                        if hex >= 8 {
                            return Some((i, i + p.len() + hex));
                        }
                    }
                }
            }
            i += 1;
        }
        None
    }
}

/// Replaces RFC 3339 timestamps and IP addresses (drawn in order) with placeholders.
fn strip_times(text: &str) -> String {
    let mut v: Value = serde_json::from_str(text).unwrap();
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if k.ends_with("_at")
                        || k.ends_with("time")
                        || k == "since"
                        || k.ends_with("_ip")
                        || k == "fingerprint"
                        || k == "created"
                        || k == "master_password"
                    {
                        *x = Value::Null;
                    } else {
                        walk(x);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    serde_json::to_string_pretty(&v).unwrap()
}

/// The world after an uninterrupted create, and the number of calls it made.
async fn reference_create() -> (String, usize) {
    let (cloud, xacct) = connected().await;
    // Every call waits a moment, as a real one does: each is an await point to stop at.
    cloud.faults().delay("*", Duration::from_millis(1));
    let start = cloud.calls().len();
    let p = prepare(xacct.as_ref(), &spec(), CUSTOMER).await.unwrap();
    create(xacct.as_ref(), &p, &CreateOptions::new(SSH_KEY)).await.unwrap();
    (canonical(&cloud), cloud.calls().len() - start)
}

#[tokio::test(start_paused = true)]
async fn a_crash_after_any_call_of_create_resumes_to_the_same_cluster() {
    let (reference, calls) = reference_create().await;
    assert!(calls > 50, "{calls}");
    let mut crashes = 0;
    for stop_after in 1..calls {
        let (cloud, xacct) = connected().await;
        cloud.faults().delay("*", Duration::from_millis(1));
        let spec = spec();
        let finished = run_until_calls(
            &cloud,
            async {
                let p = prepare(xacct.as_ref(), &spec, CUSTOMER).await.unwrap();
                create(xacct.as_ref(), &p, &CreateOptions::new(SSH_KEY)).await.unwrap();
            },
            stop_after,
        )
        .await;
        if finished {
            break;
        }
        crashes += 1;
        let p = prepare(xacct.as_ref(), &spec, CUSTOMER).await.unwrap();
        create(xacct.as_ref(), &p, &CreateOptions::new(SSH_KEY)).await.unwrap();
        let resumed = canonical(&cloud);
        if resumed != reference {
            let a: Value = serde_json::from_str(&reference).unwrap();
            let b: Value = serde_json::from_str(&resumed).unwrap();
            assert_unchanged(&a, &b, &format!("create stopped after call {stop_after}, then run again"));
        }
    }
    assert_eq!(crashes, calls - 1, "every call but the last is a crash point");
}

#[tokio::test(start_paused = true)]
async fn a_crash_after_any_call_of_delete_resumes_to_the_same_end() {
    // The reference: create, then an uninterrupted delete.
    let (cloud, xacct) = connected().await;
    let before = world_without_retained(&cloud);
    let p = prepare(xacct.as_ref(), &spec(), CUSTOMER).await.unwrap();
    create(xacct.as_ref(), &p, &CreateOptions::new(SSH_KEY)).await.unwrap();
    let created = cloud.to_json();
    drop((cloud, xacct));
    // The same created cluster each time, loaded from its snapshot.
    async fn load(created: &str) -> (FakeCloud, Arc<Retrying>) {
        let world = FakeCloud::from_json(created).unwrap();
        let xacct = session(&world).await;
        // Every call waits a moment, as a real one does: each is an await point to stop at.
        world.faults().delay("*", Duration::from_millis(1));
        (world, xacct)
    }
    let (world, xacct) = load(&created).await;
    let start = world.calls().len();
    delete(xacct.as_ref(), CLUSTER, "us-west-2", CUSTOMER, &DeleteOptions::default()).await.unwrap();
    let calls = world.calls().len() - start;
    assert_unchanged(&before, &world_without_retained(&world), "after an uninterrupted delete");
    assert!(calls > 20, "{calls}");

    let mut crashes = 0;
    for stop_after in 1..calls {
        let (world, xacct) = load(&created).await;
        let finished = run_until_calls(
            &world,
            async {
                delete(xacct.as_ref(), CLUSTER, "us-west-2", CUSTOMER, &DeleteOptions::default()).await.unwrap();
            },
            stop_after,
        )
        .await;
        if finished {
            break;
        }
        crashes += 1;
        delete(xacct.as_ref(), CLUSTER, "us-west-2", CUSTOMER, &DeleteOptions::default()).await.unwrap();
        assert_unchanged(
            &before,
            &world_without_retained(&world),
            &format!("delete stopped after call {stop_after}, then run again"),
        );
        let snapshots = world.database().describe_db_cluster_snapshots("detcloud-ml-prod").await.unwrap();
        assert_eq!(snapshots.len(), 1, "after a crash at call {stop_after}: {snapshots:?}");
    }
    assert_eq!(crashes, calls - 1, "every call but the last is a crash point");
}

// ---------------------------------------------------------------------------------------------
// Throttling storm.

#[tokio::test(start_paused = true)]
async fn create_and_delete_ride_out_a_throttling_storm() {
    async fn lifecycle(rate: f64) -> (usize, usize, Duration) {
        let (cloud, xacct) = connected().await;
        let before = world_without_retained(&cloud);
        cloud.faults().random(rate, 42, vec![]);
        let start = (cloud.calls().len(), tokio::time::Instant::now());
        let p = prepare(xacct.as_ref(), &spec(), CUSTOMER).await.unwrap();
        create(xacct.as_ref(), &p, &CreateOptions::new(SSH_KEY)).await.unwrap();
        let created = cloud.calls().len() - start.0;
        delete(xacct.as_ref(), CLUSTER, "us-west-2", CUSTOMER, &DeleteOptions::default()).await.unwrap();
        let all = cloud.calls().len() - start.0;
        cloud.faults().random(0.0, 0, vec![]);
        assert_unchanged(&before, &world_without_retained(&cloud), "after the storm");
        (created, all - created, start.1.elapsed())
    }
    let (create_calm, delete_calm, calm) = lifecycle(0.0).await;
    let (create_storm, delete_storm, storm) = lifecycle(0.5).await;
    println!(
        "throttling storm (50% of calls throttled): create {create_storm} calls vs {create_calm} calm ({:.2}x), \
         delete {delete_storm} vs {delete_calm} ({:.2}x); virtual time {}s vs {}s",
        create_storm as f64 / create_calm as f64,
        delete_storm as f64 / delete_calm as f64,
        storm.as_secs(),
        calm.as_secs()
    );
    // Each call needs two attempts on average; polling waits absorb some of them.
    assert!(create_storm > create_calm && delete_storm > delete_calm);
    assert!(create_storm < create_calm * 4, "{create_storm} vs {create_calm}");
}
