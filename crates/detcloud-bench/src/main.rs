//! `cargo xtask bench`: measures, never asserts. Prints one table and writes
//! `target/bench/report.json`.
//!
//! - Schedule quality: create and delete on the fake with AWS-like durations (virtual clock),
//!   against the critical path of the same graph, and create with concurrency 1.
//! - API economy: calls per create and per delete, by service.
//! - Fake throughput and memory: create + delete lifecycles per second with instant timings, and
//!   bytes of fake state per cluster.
//! - Policy evaluation: decisions per second for the cross-account policy.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use detcloud_cluster::{create, delete, prepare, ClusterSpec, CreateOptions, DeleteOptions, Graph, Node};
use detcloud_connect::{apply, plan, Catalog, Component, ConnectOptions, Planned};
use detcloud_fake::{FakeCloud, Timings};
use detcloud_policy::eval::Request;
use serde_json::json;

const ACCOUNT: &str = "123456789012";
const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl bench";

async fn connected(timings: Timings) -> FakeCloud {
    let cloud = FakeCloud::new(ACCOUNT);
    cloud.set_timings(timings);
    let catalog = Catalog::new(&ConnectOptions::default(), ACCOUNT);
    if let Planned::Ready(p) = plan(&cloud, catalog, false).await.expect("plan") {
        apply(&cloud, &p).await.expect("apply");
    }
    cloud
}

fn spec(name: &str) -> ClusterSpec {
    let mut s = ClusterSpec::new(name, "us-west-2");
    s.master.inbound_cidrs = vec!["203.0.113.0/24".into()];
    s
}

/// Virtual seconds of a create with `concurrency`, and the calls it made by service.
async fn timed_create(concurrency: usize) -> (Duration, BTreeMap<String, usize>, FakeCloud) {
    let cloud = connected(Timings::aws_like()).await;
    cloud.clear_calls();
    let prepared = prepare(&cloud, &spec("bench"), ACCOUNT).await.expect("prepare");
    let mut options = CreateOptions::new(KEY);
    options.concurrency = concurrency;
    let start = tokio::time::Instant::now();
    create(&cloud, &prepared, &options).await.expect("create");
    let elapsed = start.elapsed();
    (elapsed, calls_by_service(&cloud), cloud)
}

fn calls_by_service(cloud: &FakeCloud) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for c in cloud.calls() {
        *out.entry(c.action.split(':').next().unwrap_or("?").to_string()).or_default() += 1;
    }
    out
}

fn total(m: &BTreeMap<String, usize>) -> usize {
    m.values().sum()
}

#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn main() {
    let graph = Graph::new(2);
    let bound = graph.critical_path(Node::typical_duration);
    let (concurrent, create_calls, cloud) = timed_create(usize::MAX).await;
    let (sequential, _, _) = timed_create(1).await;
    cloud.clear_calls();
    let start = tokio::time::Instant::now();
    delete(&cloud, "bench", "us-west-2", ACCOUNT, &DeleteOptions { purge: true, ..Default::default() })
        .await
        .expect("delete");
    let delete_time = start.elapsed();
    let delete_calls = calls_by_service(&cloud);

    // Fake throughput: full lifecycles with instant timings, on one core.
    let cloud = connected(Timings::instant()).await;
    let n = 200;
    let wall = Instant::now();
    for i in 0..n {
        let name = format!("b{i}");
        let prepared = prepare(&cloud, &spec(&name), ACCOUNT).await.expect("prepare");
        create(&cloud, &prepared, &CreateOptions::new(KEY)).await.expect("create");
        delete(&cloud, &name, "us-west-2", ACCOUNT, &DeleteOptions { purge: true, ..Default::default() })
            .await
            .expect("delete");
        cloud.clear_calls();
    }
    let per_second = f64::from(n) / wall.elapsed().as_secs_f64();
    let empty = cloud.to_json().len();
    let prepared = prepare(&cloud, &spec("sized"), ACCOUNT).await.expect("prepare");
    create(&cloud, &prepared, &CreateOptions::new(KEY)).await.expect("create");
    let state_per_cluster = cloud.to_json().len().saturating_sub(empty);

    // Policy evaluation.
    let policy = Catalog::new(&ConnectOptions::default(), ACCOUNT).role(Component::Xacct).permissions.clone();
    let requests: Vec<Request> = ["ec2:RunInstances", "rds:CreateDBCluster", "iam:PassRole", "ec2:CreateSecurityGroup"]
        .iter()
        .map(|a| Request::new(*a, "arn:aws:iam::123456789012:role/det-cloud-customer-master"))
        .collect();
    let rounds = 50_000;
    let wall = Instant::now();
    let mut allowed = 0usize;
    for i in 0..rounds {
        if policy.evaluate(&requests[i % requests.len()]).is_allowed() {
            allowed += 1;
        }
    }
    let per_decision_ns = wall.elapsed().as_nanos() as f64 / rounds as f64;

    let rows = vec![
        ("create, concurrent (virtual s)", format!("{}", concurrent.as_secs())),
        ("create, critical-path bound (s)", format!("{}", bound.as_secs())),
        ("create / bound", format!("{:.3}", concurrent.as_secs_f64() / bound.as_secs_f64())),
        ("create, concurrency 1 (virtual s)", format!("{}", sequential.as_secs())),
        ("speed-up over sequential", format!("{:.2}x", sequential.as_secs_f64() / concurrent.as_secs_f64())),
        ("delete with purge (virtual s)", format!("{}", delete_time.as_secs())),
        ("calls per create", format!("{}", total(&create_calls))),
        ("calls per delete", format!("{}", total(&delete_calls))),
        ("fake lifecycles per second (1 core)", format!("{per_second:.0}")),
        ("fake state per cluster (bytes of JSON)", format!("{state_per_cluster}")),
        ("policy decision, cross-account policy (ns)", format!("{per_decision_ns:.0}")),
    ];
    println!("{:<44} value", "measure");
    for (k, v) in &rows {
        println!("{k:<44} {v}");
    }
    let report = json!({
        "create_virtual_seconds": concurrent.as_secs_f64(),
        "create_bound_seconds": bound.as_secs_f64(),
        "create_sequential_seconds": sequential.as_secs_f64(),
        "delete_virtual_seconds": delete_time.as_secs_f64(),
        "calls_per_create": create_calls,
        "calls_per_delete": delete_calls,
        "fake_lifecycles_per_second": per_second,
        "fake_state_bytes_per_cluster": state_per_cluster,
        "policy_decision_ns": per_decision_ns,
        "policy_decisions_allowed": allowed,
    });
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("report.json"), serde_json::to_string_pretty(&report).unwrap_or_default());
        println!("\nwritten: target/bench/report.json");
    }
}
