//! The reconciler on the fake, as the customer's cross-account role (with exactly its policy),
//! on tokio's paused clock, with the store on a SQLite file: a declared cluster becomes Ready, a
//! resource deleted behind its back is recreated within one sweep with an event, a deletion
//! removes the cluster (keeping its bucket unless purged), an account whose role cannot be
//! assumed backs off without stalling the others, and two replicas share the accounts.

mod common;

use std::sync::Arc;

use detcloud_connect::{apply, plan, Catalog, Component, ConnectOptions, Planned};
use detcloud_control::reconcile::{ReconcileOptions, Reconciler};
use detcloud_control::store::{AccountInput, ClusterInput, Phase};
use detcloud_control::{Store, StoreError};
use detcloud_fake::FakeCloud;
use detcloud_provider::{Cloud, RouteTarget};
use serde_json::json;

const CUSTOMER: &str = "123456789012";
const VENDOR: &str = "arn:aws:iam::544296492693:role/det-cloud-internal-global-mgmt-role";
const SSH_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl detcloud-test";

/// The customer's account connected with `connect aws` (external id `tenant-1`).
async fn connected() -> FakeCloud {
    let cloud = FakeCloud::new(CUSTOMER);
    let options = ConnectOptions { external_id: Some("tenant-1".into()), ..ConnectOptions::default() };
    let catalog = Catalog::new(&options, CUSTOMER);
    let Planned::Ready(p) = plan(&cloud, catalog, false).await.unwrap() else { panic!("connect is blocked") };
    apply(&cloud, &p).await.unwrap();
    cloud
}

fn account(id: &str, external_id: &str) -> AccountInput {
    AccountInput {
        role_arn: Catalog::new(&ConnectOptions::default(), id).role(Component::Xacct).role_arn.clone(),
        external_id: external_id.into(),
        regions: vec!["us-west-2".into()],
        paused: false,
    }
}

fn cluster(name: &str) -> ClusterInput {
    ClusterInput {
        region: "us-west-2".into(),
        spec: json!({"name": name, "master": {"inbound_cidrs": ["203.0.113.0/24"]}}),
    }
}

struct Setup {
    world: FakeCloud,
    store: Arc<dyn Store>,
    reconciler: Reconciler,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let world = connected().await;
    let dir = tempfile::tempdir().unwrap();
    let store = common::RealTime::open(dir.path().join("control.db").to_str().unwrap()).await;
    store.put_account(CUSTOMER, &account(CUSTOMER, "tenant-1"), "token:ops").await.unwrap();
    let vendor: Arc<dyn Cloud> = Arc::new(world.as_principal(VENDOR));
    let reconciler = Reconciler::new(Arc::clone(&store), vendor, ReconcileOptions::new("a", SSH_KEY));
    Setup { world, store, reconciler, _dir: dir }
}

fn reasons(events: &[detcloud_control::store::Event]) -> Vec<&str> {
    events.iter().map(|e| e.reason.as_str()).collect()
}

#[tokio::test(start_paused = true)]
async fn a_declared_cluster_becomes_ready_and_a_second_sweep_changes_nothing() {
    let s = setup().await;
    s.store.put_cluster(CUSTOMER, "ml-demo", &cluster("ml-demo"), None, "token:ops").await.unwrap();
    let report = s.reconciler.sweep().await.unwrap();
    assert_eq!((report.accounts, report.clusters, report.converged, report.failed), (1, 1, 1, 0), "{report:?}");
    let view = s.store.cluster(CUSTOMER, "ml-demo").await.unwrap();
    assert_eq!(view.status.phase, Phase::Ready, "{:?}", view.status);
    assert_eq!(view.status.observed_generation, 1);
    let url = view.status.master.as_ref().and_then(|m| m.url.clone()).unwrap();
    assert!(url.starts_with("http://") && url.ends_with(":8080"), "{url}");
    assert!(view.status.resources.iter().any(|r| r.kind == "NAT gateway" && r.healthy), "{:?}", view.status.resources);
    assert!(view.status.conditions.iter().any(|c| c.kind == "Ready" && c.status == "True"));
    // Everything exists: the next sweep only reads.
    let creates_before = s.world.calls().iter().filter(|c| c.action.contains(":Create")).count();
    let report = s.reconciler.sweep().await.unwrap();
    assert_eq!((report.converged, report.repaired, report.failed), (0, 0, 0), "{report:?}");
    let creates_after = s.world.calls().iter().filter(|c| c.action.contains(":Create")).count();
    assert_eq!(creates_before, creates_after, "a converged cluster gets no create call");
    let events = s.store.events(0, 100).await.unwrap();
    assert_eq!(reasons(&events), ["AccountRegistered", "ClusterDeclared", "ClusterConverged"]);
    assert_eq!(events[2].actor, "replica:a");
}

#[tokio::test(start_paused = true)]
async fn a_resource_deleted_behind_its_back_is_recreated_within_one_sweep_with_an_event() {
    let s = setup().await;
    s.store.put_cluster(CUSTOMER, "ml-demo", &cluster("ml-demo"), None, "t").await.unwrap();
    s.reconciler.sweep().await.unwrap();
    // The customer's administrator deletes the cluster's NAT gateway.
    let before = s.store.cluster(CUSTOMER, "ml-demo").await.unwrap();
    let nat = before.status.resources.iter().find(|r| r.kind == "NAT gateway").unwrap().id.clone();
    s.world.network().delete_nat_gateway(&nat).await.unwrap();
    let report = s.reconciler.sweep().await.unwrap();
    let failed = s.store.cluster(CUSTOMER, "ml-demo").await.unwrap().status.last_error;
    assert_eq!(report.repaired, 1, "{report:?} {failed:?}");
    let view = s.store.cluster(CUSTOMER, "ml-demo").await.unwrap();
    assert_eq!(view.status.phase, Phase::Ready, "{:?}", view.status);
    let new_nat = view.status.resources.iter().find(|r| r.kind == "NAT gateway").unwrap();
    assert!(new_nat.id != nat && new_nat.healthy, "a new NAT gateway: {new_nat:?}");
    let tables = s.world.network().describe_route_tables(&detcloud_provider::Filter::default()).await.unwrap();
    let targets: Vec<_> = tables.iter().flat_map(|t| &t.routes).map(|r| r.target.clone()).collect();
    assert!(targets.contains(&RouteTarget::NatGateway(new_nat.id.clone())), "the private route goes to the new one");
    assert!(!targets.contains(&RouteTarget::NatGateway(nat.clone())), "no route is left to the deleted one");
    let events = s.store.events(0, 100).await.unwrap();
    let repaired = events.iter().find(|e| e.reason == "DriftRepaired").expect("a DriftRepaired event");
    assert!(repaired.message.contains("NAT gateway"), "{}", repaired.message);
}

#[tokio::test(start_paused = true)]
async fn drift_status_cannot_see_is_repaired_within_one_sweep_naming_each_change() {
    let s = setup().await;
    s.store.put_cluster(CUSTOMER, "ml-demo", &cluster("ml-demo"), None, "t").await.unwrap();
    s.reconciler.sweep().await.unwrap();
    let net = s.world.network();
    let all = detcloud_provider::Filter::default();
    let tagged = detcloud_provider::Filter::tag("detcloud:cluster", "ml-demo");
    let tables = net.describe_route_tables(&tagged).await.unwrap();
    let public =
        tables.iter().find(|t| t.tags.get("detcloud:resource").map(String::as_str) == Some("public-routes")).unwrap();
    let vpc = net.describe_vpcs(&tagged).await.unwrap().remove(0);
    let group = net
        .describe_security_groups(&all)
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.vpc_id == vpc.id && g.name == "default")
        .unwrap();
    let db = "detcloud-ml-demo".to_string();
    // Behind the control plane's back, the customer's administrator: deletes the public default
    // route, opens PostgreSQL to the world, keeps logs for a day and backups for one day.
    net.delete_route(&public.id, "0.0.0.0/0").await.unwrap();
    let open = detcloud_provider::SecurityRule {
        protocol: "tcp".into(),
        from_port: 5432,
        to_port: 5432,
        cidr: Some("0.0.0.0/0".into()),
        source_group_id: None,
        description: Some("debugging".into()),
    };
    net.authorize_ingress(&group.id, std::slice::from_ref(&open)).await.unwrap();
    s.world.logs().put_retention_policy("/detcloud/ml-demo", 1).await.unwrap();
    s.world
        .database()
        .modify_db_cluster(detcloud_provider::ModifyDbCluster {
            id: db.clone(),
            backup_retention_days: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    // Status sees none of it: the cluster stays healthy to a status read.
    assert!(detcloud_cluster::status(&s.world, "ml-demo", "us-west-2", CUSTOMER).await.unwrap().healthy);

    let report = s.reconciler.sweep().await.unwrap();
    let view = s.store.cluster(CUSTOMER, "ml-demo").await.unwrap();
    assert_eq!(report.repaired, 1, "{report:?} {:?}", view.status.last_error);
    assert_eq!(view.status.phase, Phase::Ready, "{:?}", view.status);
    let events = s.store.events(0, 100).await.unwrap();
    let repaired = events.iter().find(|e| e.reason == "DriftRepaired").expect("a DriftRepaired event");
    for what in [
        "default route 0.0.0.0/0 missing",
        "inbound rule tcp 5432 from 0.0.0.0/0 is not in the spec",
        "logs kept 1 days, not 30 days",
        "backups kept 1 days, not 7",
    ] {
        assert!(repaired.message.contains(what), "{what} not in {}", repaired.message);
    }
    // Repaired: the route, the rule revoked, both retentions.
    let tables = net.describe_route_tables(&tagged).await.unwrap();
    let public = tables.iter().find(|t| t.id == public.id).unwrap();
    assert!(public.routes.iter().any(|r| r.destination_cidr == "0.0.0.0/0"), "{:?}", public.routes);
    let group = net.describe_security_groups(&detcloud_provider::Filter::id(&group.id)).await.unwrap().remove(0);
    assert!(!group.ingress.iter().any(|r| r.cidr.as_deref() == Some("0.0.0.0/0")), "{:?}", group.ingress);
    assert!(
        group.ingress.iter().any(|r| r.from_port == 22 && r.cidr.as_deref() == Some("203.0.113.0/24")),
        "the spec's rules stay"
    );
    let logs = s.world.logs().describe_log_groups("/detcloud/").await.unwrap();
    assert_eq!(logs[0].retention_days, Some(30));
    let dbc = s.world.database().describe_db_clusters(&detcloud_provider::Filter::id(&db)).await.unwrap();
    assert_eq!(dbc[0].backup_retention_days, 7);

    // Converged again: the next sweep reads the account and writes nothing.
    let calls_before = s.world.calls().len();
    let report = s.reconciler.sweep().await.unwrap();
    assert_eq!((report.repaired, report.converged, report.failed), (0, 0, 0), "{report:?}");
    let calls: Vec<_> = s.world.calls().into_iter().skip(calls_before).collect();
    let writes: Vec<_> = calls
        .iter()
        .filter(|c| {
            !c.action.contains(":Describe")
                && !c.action.contains(":Get")
                && !c.action.contains(":List")
                && c.action != "sts:AssumeRole"
        })
        .map(|c| c.action)
        .collect();
    assert!(writes.is_empty(), "a converged account gets no write: {writes:?}");
    // The session assumed by the sweeps before serves this one: ten reads, no assume.
    assert_eq!(
        calls.len(),
        10,
        "one reading per account: {} calls: {:?}",
        calls.len(),
        calls.iter().map(|c| &c.action).collect::<Vec<_>>()
    );
}

#[tokio::test(start_paused = true)]
async fn an_account_s_session_serves_sweeps_until_it_ages_or_its_role_changes() {
    let s = setup().await;
    s.store.put_cluster(CUSTOMER, "ml-demo", &cluster("ml-demo"), None, "t").await.unwrap();
    s.reconciler.sweep().await.unwrap();
    let assumes = |world: &FakeCloud| world.calls().iter().filter(|c| c.action == "sts:AssumeRole").count();
    let first = assumes(&s.world);
    assert!(first >= 1);
    s.reconciler.sweep().await.unwrap();
    assert_eq!(assumes(&s.world), first, "a second sweep assumed the role again");
    // Older than SESSION_REUSE: assumed again, before STS's hour runs out.
    tokio::time::sleep(detcloud_control::reconcile::SESSION_REUSE).await;
    let report = s.reconciler.sweep().await.unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
    assert_eq!(assumes(&s.world), first + 1);
    // A new external id: the kept session is dropped and the new one refused by the role's trust.
    s.store.put_account(CUSTOMER, &account(CUSTOMER, "tenant-2"), "t").await.unwrap();
    let report = s.reconciler.sweep().await.unwrap();
    assert_eq!((report.unreachable_accounts, report.failed), (1, 1), "{report:?}");
    assert_eq!(assumes(&s.world), first + 2);
    let view = s.store.cluster(CUSTOMER, "ml-demo").await.unwrap();
    assert!(view.status.last_error.as_deref().is_some_and(|e| e.contains("cannot assume")), "{:?}", view.status);
}

#[tokio::test(start_paused = true)]
async fn a_changed_spec_is_applied_to_the_running_cluster() {
    let s = setup().await;
    s.store.put_cluster(CUSTOMER, "ml-demo", &cluster("ml-demo"), None, "t").await.unwrap();
    s.reconciler.sweep().await.unwrap();
    let spec = json!({"name": "ml-demo", "master": {"inbound_cidrs": ["198.51.100.0/24"]}, "database": {"backup_retention_days": 14}, "log_retention_days": 90});
    let input = ClusterInput { region: "us-west-2".into(), spec };
    let put = s.store.put_cluster(CUSTOMER, "ml-demo", &input, Some(1), "t").await.unwrap();
    assert_eq!(put.record.generation, 2);
    let report = s.reconciler.sweep().await.unwrap();
    assert_eq!(report.converged, 1, "{report:?}");
    let view = s.store.cluster(CUSTOMER, "ml-demo").await.unwrap();
    assert_eq!((view.status.phase, view.status.observed_generation), (Phase::Ready, 2), "{:?}", view.status);
    let dbc =
        s.world.database().describe_db_clusters(&detcloud_provider::Filter::id("detcloud-ml-demo")).await.unwrap();
    assert_eq!(dbc[0].backup_retention_days, 14);
    assert_eq!(s.world.logs().describe_log_groups("/detcloud/").await.unwrap()[0].retention_days, Some(90));
    let net = s.world.network();
    let vpc =
        net.describe_vpcs(&detcloud_provider::Filter::tag("detcloud:cluster", "ml-demo")).await.unwrap().remove(0);
    let groups = net.describe_security_groups(&detcloud_provider::Filter::default()).await.unwrap();
    let group = groups.iter().find(|g| g.vpc_id == vpc.id && g.name == "default").unwrap();
    let cidrs: Vec<_> = group.ingress.iter().filter(|r| r.from_port == 22).filter_map(|r| r.cidr.clone()).collect();
    assert_eq!(cidrs, ["198.51.100.0/24"], "the old CIDR is revoked, the new one allowed");
    let report = s.reconciler.sweep().await.unwrap();
    assert_eq!((report.converged, report.repaired), (0, 0), "{report:?}");
}

#[tokio::test(start_paused = true)]
async fn deletion_removes_the_cluster_and_keeps_its_bucket_unless_purged() {
    let s = setup().await;
    for name in ["keep", "purge"] {
        s.store.put_cluster(CUSTOMER, name, &cluster(name), None, "t").await.unwrap();
    }
    s.reconciler.sweep().await.unwrap();
    s.store.request_deletion(CUSTOMER, "keep", false, "t").await.unwrap();
    s.store.request_deletion(CUSTOMER, "purge", true, "t").await.unwrap();
    let report = s.reconciler.sweep().await.unwrap();
    assert_eq!(report.deleted, 2, "{report:?}");
    for name in ["keep", "purge"] {
        assert!(matches!(s.store.cluster(CUSTOMER, name).await, Err(StoreError::NotFound { .. })));
    }
    let vpcs = s.world.network().describe_vpcs(&detcloud_provider::Filter::default()).await.unwrap();
    assert!(vpcs.iter().all(|v| v.tags.get("detcloud:cluster").is_none()), "no cluster VPC is left");
    let bucket = |name: &str| format!("detcloud-{name}-{CUSTOMER}-us-west-2");
    assert!(s.world.storage().describe_bucket(&bucket("keep")).await.is_ok(), "the bucket is kept");
    assert!(s.world.storage().describe_bucket(&bucket("purge")).await.is_err(), "the purged bucket is gone");
    let events = s.store.events(0, 100).await.unwrap();
    let deleted: Vec<_> = events.iter().filter(|e| e.reason == "ClusterDeleted").collect();
    assert_eq!(deleted.len(), 2);
    assert!(deleted.iter().any(|e| e.cluster.as_deref() == Some("keep") && e.message.contains("kept")));
}

#[tokio::test(start_paused = true)]
async fn an_account_that_cannot_be_assumed_backs_off_and_the_others_still_converge() {
    let s = setup().await;
    // The same role with a wrong external id: the trust policy refuses it.
    s.store.put_account("210987654321", &account("210987654321", "wrong"), "t").await.unwrap();
    s.store.put_cluster("210987654321", "lost", &cluster("lost"), None, "t").await.unwrap();
    s.store.put_cluster(CUSTOMER, "ml-demo", &cluster("ml-demo"), None, "t").await.unwrap();
    let report = s.reconciler.sweep().await.unwrap();
    assert_eq!((report.accounts, report.unreachable_accounts, report.converged), (2, 1, 1), "{report:?}");
    let lost = s.store.cluster("210987654321", "lost").await.unwrap();
    assert_eq!(lost.status.phase, Phase::Failed);
    assert_eq!(lost.status.failures, 1);
    assert!(lost.status.last_error.as_deref().unwrap().contains("cannot assume"), "{:?}", lost.status.last_error);
    let next = lost.status.next_attempt.unwrap();
    assert!(next > s.store.now(), "a retry is scheduled later");
    assert_eq!(s.store.cluster(CUSTOMER, "ml-demo").await.unwrap().status.phase, Phase::Ready);
    // Within the backoff, the next sweep leaves it alone.
    let report = s.reconciler.sweep().await.unwrap();
    assert_eq!(report.skipped, 1, "{report:?}");
    assert_eq!(s.store.cluster("210987654321", "lost").await.unwrap().status.failures, 1);
}

#[tokio::test(start_paused = true)]
async fn a_bad_spec_fails_with_its_field_and_creates_nothing() {
    let s = setup().await;
    let bad = ClusterInput { region: "us-west-2".into(), spec: json!({"name": "ml-demo", "az_count": 9}) };
    s.store.put_cluster(CUSTOMER, "ml-demo", &bad, None, "t").await.unwrap();
    let report = s.reconciler.sweep().await.unwrap();
    assert_eq!(report.failed, 1);
    let view = s.store.cluster(CUSTOMER, "ml-demo").await.unwrap();
    assert!(view.status.last_error.as_deref().unwrap().contains("az_count"), "{:?}", view.status.last_error);
    assert!(!s.world.calls().iter().any(|c| c.action.starts_with("ec2:Create")), "nothing was created");
}

#[tokio::test(start_paused = true)]
async fn two_replicas_share_the_accounts_and_each_reconciles_only_its_own() {
    let s = setup().await;
    s.store.put_account("210987654321", &account("210987654321", "wrong"), "t").await.unwrap();
    let vendor: Arc<dyn Cloud> = Arc::new(s.world.as_principal(VENDOR));
    let b = Reconciler::new(Arc::clone(&s.store), vendor, ReconcileOptions::new("b", SSH_KEY));
    // Both are alive before either claims, so each takes its share (one account each).
    s.store.heartbeat("a", 30_000).await.unwrap();
    s.store.heartbeat("b", 30_000).await.unwrap();
    let ra = s.reconciler.sweep().await.unwrap();
    let rb = b.sweep().await.unwrap();
    assert_eq!((ra.accounts, rb.accounts), (1, 1), "{ra:?} {rb:?}");
    let holders: Vec<_> = s.store.leases().await.unwrap().into_iter().map(|l| l.holder).collect();
    assert_eq!(holders.len(), 2);
    assert!(holders.contains(&"a".to_string()) && holders.contains(&"b".to_string()));
    // a stops gracefully; b takes its account on its next sweep.
    s.reconciler.release().await.unwrap();
    let rb = b.sweep().await.unwrap();
    assert_eq!(rb.accounts, 2, "{rb:?}");
}

#[tokio::test(start_paused = true)]
async fn run_sweeps_on_its_interval_wakes_on_a_change_and_stops_cleanly_releasing_its_leases() {
    let s = setup().await;
    let reconciler = Arc::new(s.reconciler);
    let wake = Arc::new(tokio::sync::Notify::new());
    let stop = reconciler.stop_handle();
    let running = {
        let (r, w) = (Arc::clone(&reconciler), Arc::clone(&wake));
        tokio::spawn(async move { r.run(std::time::Duration::from_secs(3600), w).await })
    };
    // The first sweep finds nothing; a declared cluster wakes it long before the hour is over.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    s.store.put_cluster(CUSTOMER, "ml-demo", &cluster("ml-demo"), None, "t").await.unwrap();
    wake.notify_one();
    let started = tokio::time::Instant::now();
    loop {
        if s.store.cluster(CUSTOMER, "ml-demo").await.unwrap().status.phase == Phase::Ready {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(3000), "not Ready within the hour");
        tokio::time::sleep(std::time::Duration::from_secs(10)).await;
    }
    assert_eq!(s.store.leases().await.unwrap().len(), 1, "held while running");
    stop.stop();
    running.await.unwrap().unwrap();
    assert!(s.store.leases().await.unwrap().is_empty(), "released at the stop");
}

/// A replica killed (its sweep dropped, no release) in the middle of a create: its lease runs
/// out, another replica takes the account and completes the same cluster, with one of each
/// resource. On SQLite, and on PostgreSQL when the test server is there.
#[tokio::test(start_paused = true)]
async fn a_replica_killed_mid_create_leaves_the_account_to_another_which_completes_it_once() {
    for place in common::places("killed_mid_create").await {
        let world = connected().await;
        let hand = common::Hand::new();
        let store = common::RealTime::open_with_clock(&place.url, hand.clock()).await;
        store.put_account(CUSTOMER, &account(CUSTOMER, "tenant-1"), "t").await.unwrap();
        store.put_cluster(CUSTOMER, "ml-demo", &cluster("ml-demo"), None, "t").await.unwrap();
        let replica = |id: &str| {
            let vendor: Arc<dyn Cloud> = Arc::new(world.as_principal(VENDOR));
            Reconciler::new(Arc::clone(&store), vendor, ReconcileOptions::new(id, SSH_KEY))
        };
        let (a, b) = (Arc::new(replica("a")), replica("b"));
        let vpcs = |w: &FakeCloud| {
            let w = w.clone();
            async move {
                let filter = detcloud_provider::Filter::tag("detcloud:cluster", "ml-demo");
                w.network().describe_vpcs(&filter).await.unwrap().len()
            }
        };
        // a is killed once the network exists and its database is being created.
        let running = {
            let a = Arc::clone(&a);
            tokio::spawn(async move { a.sweep().await })
        };
        let db_filter = detcloud_provider::Filter::tag("detcloud:cluster", "ml-demo");
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            assert!(!running.is_finished(), "{}: the create finished before the kill", place.url);
            if !world.database().describe_db_clusters(&db_filter).await.unwrap().is_empty() {
                break;
            }
        }
        running.abort();
        assert!(running.await.unwrap_err().is_cancelled());
        assert_eq!(vpcs(&world).await, 1, "a got as far as the VPC");
        assert_eq!(store.cluster(CUSTOMER, "ml-demo").await.unwrap().status.phase, Phase::Creating);
        // While a's lease lasts, b leaves the account alone.
        let rb = b.sweep().await.unwrap();
        assert_eq!(rb.accounts, 0, "{}: b took a live lease: {rb:?}", place.url);
        // The lease runs out (a renewed it last just before the kill); b takes over and finishes.
        hand.advance(31_000);
        let rb = b.sweep().await.unwrap();
        assert_eq!((rb.accounts, rb.converged, rb.failed), (1, 1, 0), "{}: {rb:?}", place.url);
        let view = store.cluster(CUSTOMER, "ml-demo").await.unwrap();
        assert_eq!(view.status.phase, Phase::Ready, "{:?}", view.status);
        let leases = store.leases().await.unwrap();
        assert_eq!(leases.len(), 1);
        assert_eq!((leases[0].holder.as_str(), leases[0].epoch > 1), ("b", true), "{leases:?}");
        // One of each: VPC, NAT gateway, master, Aurora cluster.
        assert_eq!(vpcs(&world).await, 1, "VPCs");
        let filter = detcloud_provider::Filter::tag("detcloud:cluster", "ml-demo");
        let nats = world.network().describe_nat_gateways(&filter).await.unwrap();
        let live = nats.iter().filter(|n| n.state != detcloud_provider::NatGatewayState::Deleted).count();
        assert_eq!(live, 1, "NAT gateways: {nats:?}");
        let instances = world.compute().describe_instances(&filter).await.unwrap();
        assert_eq!(instances.iter().filter(|i| !i.state.is_gone()).count(), 1, "instances");
        let dbs = world.database().describe_db_clusters(&filter).await.unwrap();
        assert_eq!(dbs.len(), 1, "Aurora clusters");
        // a, back from the dead with its old lease, can write nothing.
        let stale = detcloud_control::store::Fence { account_id: CUSTOMER.into(), holder: "a".into(), epoch: 1 };
        let err = store.put_status(&stale, "ml-demo", &view.status).await.unwrap_err();
        assert!(matches!(err, StoreError::LeaseLost { .. }), "{err}");
    }
}
