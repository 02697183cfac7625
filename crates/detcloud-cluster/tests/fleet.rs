//! The fleet status sweep on the fake, as each account's cross-account role, on tokio's paused
//! clock: calls per account do not grow with the number of clusters, every cluster's status is
//! what `status` says, and the sweep stays under each account's request rate.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

mod common;

use common::{connect, spec, vendor_session, SSH_KEY};
use detcloud_cluster::seed::{quotas_for, seed_cluster};
use detcloud_cluster::{create, prepare, status, CreateOptions, Fleet, FleetOptions, RateLimit};
use detcloud_fake::FakeCloud;
use detcloud_provider::Cloud;

const HOME: &str = "100000000000";

fn account(i: usize) -> String {
    format!("{:012}", 200_000_000_000u64 + i as u64)
}

/// Account `id` of `world`, connected, with quotas for `clusters` seeded clusters; its admin and
/// the vendor's session as its cross-account role.
async fn connected(world: &FakeCloud, id: &str, clusters: usize) -> (FakeCloud, Arc<dyn Cloud>) {
    let admin = world.admin_of(id);
    connect(&admin, None).await;
    for (service, code, value) in quotas_for(clusters) {
        admin.set_quota(service, code, value);
    }
    (admin, Arc::new(vendor_session(world, id, None).await))
}

/// A world with one account per entry of `clusters`, each with that many seeded clusters, settled
/// (every resource available).
async fn fleet_of(clusters: &[usize], options: FleetOptions) -> (FakeCloud, Fleet) {
    let world = FakeCloud::new(HOME);
    let mut fleet = Fleet::new(options);
    for (i, &n) in clusters.iter().enumerate() {
        let id = account(i);
        let (admin, xacct) = connected(&world, &id, n).await;
        for c in 0..n {
            seed_cluster(&admin, &spec(&format!("c{c}")), &id).await.unwrap();
        }
        fleet.add(id, xacct);
    }
    tokio::time::sleep(Duration::from_secs(1500)).await;
    (world, fleet)
}

/// Calls in the world's log made by each account's cross-account session, by account.
fn session_calls(world: &FakeCloud) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for c in world.calls() {
        if c.principal.contains(":assumed-role/") {
            let account = c.principal.split(':').nth(4).unwrap_or_default().to_string();
            *out.entry(account).or_default() += 1;
        }
    }
    out
}

#[tokio::test(start_paused = true)]
async fn calls_per_account_are_the_same_for_one_and_fifty_clusters() {
    let (world, fleet) = fleet_of(&[1, 50, 0], FleetOptions::default()).await;
    world.clear_calls();
    let swept = fleet.sweep().await;

    let found: Vec<usize> = swept.iter().map(|a| a.clusters.as_ref().unwrap().len()).collect();
    assert_eq!(found, [1, 50, 0]);
    for a in &swept {
        for (name, st) in a.clusters.as_ref().unwrap() {
            assert!(st.as_ref().unwrap().healthy, "{name} in {}: {st:#?}", a.account);
        }
    }
    let logged = session_calls(&world);
    let (one, fifty) = (logged[&account(0)], logged[&account(1)]);
    assert_eq!(one, fifty, "calls per account grew with the clusters: {logged:?}");
    // One describe per kind (8), the masters' status checks and their CPU.
    assert_eq!(one, 10, "{logged:?}");
    // An account without clusters needs no status checks and no CPU.
    assert_eq!(logged[&account(2)], 8, "{logged:?}");
    // The sweep counts its calls as the fake does.
    let counted: Vec<u64> = swept.iter().map(|a| a.calls).collect();
    assert_eq!(counted, [10, 10, 8]);
}

#[tokio::test(start_paused = true)]
async fn every_cluster_s_status_is_what_status_says() {
    let (world, fleet) = fleet_of(&[3], FleetOptions::default()).await;
    // One more cluster made by the engine itself (route tables, rules, bucket, ...), one only half
    // made (a VPC and nothing else) and one whose master was stopped.
    let id = account(0);
    let admin = world.admin_of(&id);
    let xacct: Arc<dyn Cloud> = Arc::new(vendor_session(&world, &id, None).await);
    let prepared = prepare(xacct.as_ref(), &spec("engine-made"), &id).await.unwrap();
    create(xacct.as_ref(), &prepared, &CreateOptions::new(SSH_KEY)).await.unwrap();
    let half = detcloud_cluster::context::node_tags(&spec("half"), detcloud_cluster::Node::Vpc);
    admin.network().create_vpc("10.9.0.0/16", &half).await.unwrap();
    let c1 = status(xacct.as_ref(), "c1", "us-west-2", &id).await.unwrap();
    let master = c1.resources.iter().find(|r| r.resource == "master instance").unwrap().id.clone().unwrap();
    admin.compute().terminate_instances(&[master]).await.unwrap();

    let swept = fleet.sweep().await;
    let clusters = swept[0].clusters.as_ref().unwrap();
    let names: Vec<&str> = clusters.keys().map(String::as_str).collect();
    assert_eq!(names, ["c0", "c1", "c2", "engine-made", "half"]);
    // The sweep reads what `status` reads, without asking each master for its /info.
    for (name, st) in clusters {
        let one = detcloud_cluster::status::status_with(xacct.as_ref(), name, "us-west-2", false).await.unwrap();
        assert_eq!(st.as_ref().unwrap(), &one, "{name}");
    }
    // Asked, the master the engine made answers; a seeded master (no bootstrap) does not.
    let engine_made = status(xacct.as_ref(), "engine-made", "us-west-2", &id).await.unwrap();
    let master = engine_made.master.clone().unwrap();
    assert_eq!((master.health.as_str(), master.version.as_deref()), ("answering", Some("0.32.1")), "{master:?}");
    assert!(engine_made.healthy);
    let seeded = status(xacct.as_ref(), "c0", "us-west-2", &id).await.unwrap();
    assert_eq!(seeded.master.unwrap().health, "not answering");
    assert!(!seeded.healthy, "a master that does not answer makes the cluster unhealthy");
    assert!(clusters["c0"].as_ref().unwrap().healthy);
    assert!(clusters["engine-made"].as_ref().unwrap().healthy);
    assert!(!clusters["c1"].as_ref().unwrap().healthy, "a cluster without its master is not healthy");
    assert!(!clusters["half"].as_ref().unwrap().healthy);
}

/// How many clusters of each account a sweep shows the master's CPU of.
fn with_cpu(swept: &[detcloud_cluster::AccountStatus]) -> Vec<usize> {
    swept
        .iter()
        .map(|a| {
            let clusters = a.clusters.as_ref().unwrap().values();
            clusters
                .filter(|st| {
                    let st = st.as_ref().unwrap();
                    let master = st.resources.iter().find(|r| r.resource == "master instance").unwrap();
                    master.detail.as_deref().unwrap_or_default().contains("; CPU ")
                })
                .count()
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_sweep_reads_the_cpu_of_a_bounded_number_of_masters_and_keeps_the_others() {
    // Two CPU figures per sweep (CloudWatch's 500 queries per call, made small).
    let options = FleetOptions { cpu_per_sweep: 2, ..FleetOptions::default() };
    let (world, fleet) = fleet_of(&[5, 1], options).await;
    let mut seen = vec![];
    for _ in 0..4 {
        world.clear_calls();
        let swept = fleet.sweep().await;
        let logged = session_calls(&world);
        assert_eq!(logged.values().copied().collect::<Vec<_>>(), [10, 10], "{logged:?}");
        let metric_calls = world.calls().iter().filter(|c| c.action == "cloudwatch:GetMetricData").count();
        assert_eq!(metric_calls, 2, "one CPU call per account");
        seen.push(with_cpu(&swept));
    }
    // Five masters, two new figures a sweep, the older ones kept.
    assert_eq!(seen, [[2, 1], [4, 1], [5, 1], [5, 1]]);

    // A master that is gone is forgotten: its cluster shows no CPU, the others keep theirs.
    let id = account(0);
    let xacct = vendor_session(&world, &id, None).await;
    let c3 = status(&xacct, "c3", "us-west-2", &id).await.unwrap();
    let master = c3.resources.iter().find(|r| r.resource == "master instance").unwrap().id.clone().unwrap();
    world.admin_of(&id).compute().terminate_instances(&[master]).await.unwrap();
    let swept = fleet.sweep().await;
    assert_eq!(with_cpu(&swept), [4, 1]);
    assert!(!swept[0].clusters.as_ref().unwrap()["c3"].as_ref().unwrap().healthy);
}

#[tokio::test(start_paused = true)]
async fn sweeps_stay_under_each_account_s_request_rate() {
    // EC2-like limits, small enough that three sweeps of five accounts must wait: 8 tokens, 2 a
    // second, per account.
    let limit = RateLimit { burst: 8, per_second: 2.0 };
    let (world, fleet) =
        fleet_of(&[2, 2, 2, 2, 2], FleetOptions { concurrency: 5, rate: limit, ..FleetOptions::default() }).await;
    world.faults().rate_limit(Some((limit.burst, limit.per_second)));
    let started = tokio::time::Instant::now();
    for _ in 0..3 {
        for a in fleet.sweep().await {
            assert!(a.clusters.is_ok(), "{a:?}");
        }
    }
    assert_eq!(world.faults().injected("*"), 0, "the sweep was throttled");
    // 30 calls per account, 8 at once, then 2 a second: at least 11 s of (virtual) waiting.
    assert!(started.elapsed() >= Duration::from_secs(11), "{:?}", started.elapsed());

    // The same sweeps with a bucket larger than the account's are throttled: the limit is real.
    let greedy = {
        let mut f = Fleet::new(FleetOptions {
            concurrency: 5,
            rate: RateLimit { burst: 100, per_second: 100.0 },
            ..FleetOptions::default()
        });
        for i in 0..5 {
            let id = account(i);
            let xacct = vendor_session(&world, &id, None).await;
            f.add(id, Arc::new(xacct));
        }
        f
    };
    let mut failed = 0;
    for _ in 0..3 {
        failed += greedy.sweep().await.iter().filter(|a| a.clusters.is_err()).count();
    }
    assert!(world.faults().injected("*") > 0 && failed > 0, "a sweep above the rate was not throttled");
}

#[test]
fn seeding_raises_the_quotas_the_fake_enforces() {
    use detcloud_fake::quotas;
    let codes: Vec<(&str, &str)> = quotas_for(0).iter().map(|(s, c, _)| (*s, *c)).collect();
    let fake = [
        ("vpc", quotas::VPCS),
        ("vpc", quotas::INTERNET_GATEWAYS),
        ("vpc", quotas::NAT_GATEWAYS_PER_AZ),
        ("ec2", quotas::ELASTIC_IPS),
        ("ec2", quotas::STANDARD_VCPUS),
    ];
    assert_eq!(codes, fake);
}

#[tokio::test(start_paused = true)]
async fn a_drift_reading_of_whole_clusters_takes_ten_calls_and_shows_what_describing_shows() {
    use detcloud_cluster::fleet::{AccountReading, CpuMemory};
    use detcloud_provider::tags::{MANAGED_BY, MANAGED_BY_VALUE};
    use detcloud_provider::Filter;

    let world = FakeCloud::new(HOME);
    let id = account(0);
    let (admin, xacct) = connected(&world, &id, 3).await;
    let names = ["c0", "c1", "c2"];
    for name in names {
        detcloud_cluster::seed::seed_converged_cluster(&admin, &spec(name), &id).await.unwrap();
    }
    tokio::time::sleep(Duration::from_secs(1500)).await;
    let managed = Filter::tag(MANAGED_BY, MANAGED_BY_VALUE);
    let memory = std::sync::Mutex::new(CpuMemory::default());
    let read = || async {
        world.clear_calls();
        let drift = AccountReading::read_for_drift(xacct.as_ref(), &managed, None, &memory).await.unwrap();
        let calls = session_calls(&world)[&id];
        let full = AccountReading::read_with(xacct.as_ref(), &managed, None, &memory, 0).await.unwrap();
        for name in names {
            let (a, b) = (drift.status(name).unwrap(), full.status(name).unwrap());
            assert_eq!((&a.resources, &a.master, a.healthy), (&b.resources, &b.master, b.healthy), "{name}");
        }
        (drift, calls)
    };
    // Whole clusters: the gateways and elastic IPs follow from the routes, NAT gateways and
    // masters, and the status is the one describing them gives.
    let (reading, calls) = read().await;
    assert_eq!(calls, 10);
    assert!(reading.statuses().values().all(|s| s.as_ref().unwrap().healthy));

    // One cluster's public default route deleted: nothing shows its gateway, so both kinds are
    // described (two calls more) and the status is still the described one.
    let tables = admin.network().describe_route_tables(&detcloud_cluster::context::cluster_filter("c1")).await.unwrap();
    let public = tables.iter().find(|t| t.tags["detcloud:resource"] == "public-routes").unwrap();
    admin.network().delete_route(&public.id, "0.0.0.0/0").await.unwrap();
    let (reading, calls) = read().await;
    assert_eq!(calls, 12);
    assert!(reading.clusters["c1"].internet_gateways.iter().all(|g| g.id.starts_with("igw-")));
    assert_eq!(reading.clusters["c1"].internet_gateways.len(), 1);

    // A master no longer running (nothing shows its elastic IP) is described too.
    let master = reading.clusters["c2"].master().unwrap().id.clone();
    admin.compute().terminate_instances(&[master]).await.unwrap();
    let (_, calls) = read().await;
    assert_eq!(calls, 12);
}
