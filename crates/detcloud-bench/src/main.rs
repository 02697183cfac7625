//! `cargo xtask bench`: measures, never asserts. Prints one table and writes
//! `target/bench/report.json`.
//!
//! - Schedule quality: create and delete on the fake with AWS-like durations (virtual clock),
//!   against the critical path of the same graph (create) or of the fake's transitions (delete),
//!   and with concurrency 1.
//! - API economy: calls per create, delete and status, in all and by operation; the fleet status sweep's calls per account for
//!   1 to 1000 clusters over 1, 10 and 50 accounts, under EC2's request rate (throttles: must be 0).
//! - Fake throughput and memory: create + delete lifecycles per second with instant timings, and
//!   bytes of fake state per cluster.
//! - Policy evaluation: one decision for the cross-account policy, compiled and as a document.
//! - The CLI: `detcloud --help` start-up time and the release binary's size (when `cargo xtask
//!   bench` built it next to this binary).
//! - The AWS backend against moto (when `DETCLOUD_BENCH_ENDPOINT` names a server, as `cargo xtask
//!   bench` does): the same lifecycle's wall time against the fake's, and `connect aws`'s apply
//!   at full concurrency and one component at a time.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use detcloud_aws::{AwsCloud, AwsOptions};
use detcloud_bench::{connect, connected, purge, spec, throughput, vendor_session, ACCOUNT, KEY};
use detcloud_cluster::seed::{quotas_for, seed_cluster};
use detcloud_cluster::{create, delete, prepare, status, CreateOptions, Fleet, FleetOptions, Graph, Node, RateLimit};
use detcloud_connect::{apply, apply_with, plan, Catalog, Component, ConnectOptions, Planned};
use detcloud_fake::{FakeCloud, Timings};
use detcloud_policy::eval::{CompiledPolicy, Decision, Request};
use detcloud_provider::Cloud;
use serde_json::{json, Value};

/// The benchmark's allocator: a lifecycle on the fake allocates and frees about 2,300 small
/// values, which mimalloc serves in a fraction of the system allocator's time (a third of a
/// lifecycle's instructions go to glibc's malloc and free). `detcloud-bench-system-alloc` measures
/// the same lifecycles with the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// Virtual seconds of a delete (with purge) of the cluster `cloud` holds, and its calls.
async fn timed_delete(cloud: &FakeCloud, sequential: bool) -> (Duration, BTreeMap<String, usize>) {
    cloud.clear_calls();
    let start = tokio::time::Instant::now();
    delete(cloud, "bench", "us-west-2", ACCOUNT, &purge(sequential)).await.expect("delete");
    (start.elapsed(), calls_by_service(cloud))
}

fn calls_by_service(cloud: &FakeCloud) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (action, n) in calls_by_operation(cloud) {
        *out.entry(action.split(':').next().unwrap_or("?").to_string()).or_default() += n;
    }
    out
}

/// Calls by IAM action (`ec2:DescribeVpcs`), failed ones included.
fn calls_by_operation(cloud: &FakeCloud) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for c in cloud.calls() {
        *out.entry(c.action.to_string()).or_default() += 1;
    }
    out
}

fn total(m: &BTreeMap<String, usize>) -> usize {
    m.values().sum()
}

/// One fleet sweep of `clusters` seeded clusters spread over `accounts` accounts, under EC2's
/// describe rate on the fake. Returns a row of the report.
async fn fleet_sweep(clusters: usize, accounts: usize) -> Value {
    let home = "100000000000";
    let world = FakeCloud::new(home);
    world.set_timings(Timings::instant());
    let mut fleet =
        Fleet::new(FleetOptions { concurrency: 16, rate: RateLimit::EC2_DESCRIBE, ..FleetOptions::default() });
    let per_account = clusters.div_ceil(accounts);
    for a in 0..accounts {
        let id = format!("{:012}", 200_000_000_000u64 + a as u64);
        let admin = world.admin_of(&id);
        connect(&admin, &id).await;
        for (service, code, value) in quotas_for(per_account) {
            admin.set_quota(service, code, value);
        }
        for c in (a..clusters).step_by(accounts) {
            seed_cluster(&admin, &spec(&format!("c{c}")), &id).await.expect("seed");
        }
        let xacct = vendor_session(&world, &id, "fleet").await;
        fleet.add(id, Arc::new(xacct));
    }
    let limit = RateLimit::EC2_DESCRIBE;
    world.faults().rate_limit(Some((limit.burst, limit.per_second)));
    world.clear_calls();
    let start = tokio::time::Instant::now();
    let wall = Instant::now();
    let swept = fleet.sweep().await;
    let first_ms = wall.elapsed().as_secs_f64() * 1000.0;
    let virtual_s = start.elapsed().as_secs_f64();
    let found: usize = swept.iter().map(|a| a.clusters.as_ref().map(|c| c.len()).unwrap_or(0)).sum();
    let failed = swept.iter().filter(|a| a.clusters.is_err()).count();
    let max_calls = swept.iter().map(|a| a.calls).max().unwrap_or(0);
    let min_calls = swept.iter().filter(|a| a.clusters.as_ref().is_ok_and(|c| !c.is_empty())).map(|a| a.calls).min();
    let throttles = world.faults().injected("*");
    // The first sweeps of a big account can take up to three times a warm sweep's wall time, the
    // difference spent in the kernel (fresh memory for the heap: 0.1 s of system time against
    // 0.01 s in a run whose first sweep was fast). A control plane repeats its sweeps: five more
    // give the steady state's median. Calls and throttles are the first sweep's.
    let mut wall_ms = vec![];
    for _ in 0..5 {
        let wall = Instant::now();
        fleet.sweep().await;
        wall_ms.push(wall.elapsed().as_secs_f64() * 1000.0);
    }
    wall_ms.sort_by(f64::total_cmp);
    let wall_ms = wall_ms[wall_ms.len() / 2];
    json!({
        "clusters": clusters,
        "accounts": accounts,
        "clusters_found": found,
        "accounts_failed": failed,
        "calls_per_account_max": max_calls,
        "calls_per_account_min_with_clusters": min_calls,
        "throttles": throttles,
        "sweep_virtual_seconds": virtual_s,
        "sweep_wall_ms_first": first_ms,
        "sweep_wall_ms": wall_ms,
    })
}

/// The throughput measured by `detcloud-bench-system-alloc` (built beside this binary), if any.
fn system_allocator_throughput() -> Option<Value> {
    let exe = std::env::current_exe().ok()?.with_file_name("detcloud-bench-system-alloc");
    let out = std::process::Command::new(exe).arg("5").output().ok()?;
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

/// Median wall time of `detcloud --help` (spawned `runs` times) and the binary's size, when the
/// release binary sits next to this one.
fn cli_startup(runs: usize) -> Option<(f64, u64)> {
    let exe = std::env::current_exe().ok()?.with_file_name("detcloud");
    let size = std::fs::metadata(&exe).ok()?.len();
    let mut times = vec![];
    for _ in 0..runs {
        let start = Instant::now();
        let status = std::process::Command::new(&exe)
            .arg("--help")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        if !status.success() {
            return None;
        }
    }
    times.sort_by(f64::total_cmp);
    Some((times[times.len() / 2], size))
}

/// Wall seconds of a create + delete (purge) of `name` through `cloud`.
async fn lifecycle_wall(cloud: &dyn Cloud, account: &str, name: &str) -> Result<f64, String> {
    let start = Instant::now();
    let prepared = prepare(cloud, &spec(name), account).await.map_err(|e| format!("prepare: {e}"))?;
    create(cloud, &prepared, &CreateOptions::new(KEY)).await.map_err(|e| format!("create: {e}"))?;
    delete(cloud, name, "us-west-2", account, &purge(false)).await.map_err(|e| format!("delete: {e}"))?;
    Ok(start.elapsed().as_secs_f64())
}

/// Wall seconds of `connect aws`'s apply with `concurrency` for roles named with `suffix`.
async fn connect_wall(cloud: &dyn Cloud, account: &str, suffix: &str, concurrency: usize) -> Result<f64, String> {
    let options = ConnectOptions {
        xacct_role_name: format!("bench-{suffix}-xacct"),
        master_instance_profile_name: format!("bench-{suffix}-master"),
        agent_instance_profile_name: format!("bench-{suffix}-agent"),
        ..ConnectOptions::default()
    };
    let catalog = Catalog::new(&options, account);
    let Planned::Ready(p) = plan(cloud, catalog, false).await.map_err(|e| format!("plan: {e}"))? else {
        return Err("plan blocked".into());
    };
    let start = Instant::now();
    apply_with(cloud, &p, concurrency).await.map_err(|e| format!("apply: {}", e.error))?;
    Ok(start.elapsed().as_secs_f64())
}

/// IAM calls of the same apply on the fake (the calls do not depend on the backend).
async fn connect_calls() -> usize {
    let cloud = FakeCloud::new(ACCOUNT);
    let catalog = Catalog::new(&ConnectOptions::default(), ACCOUNT);
    let Planned::Ready(p) = plan(&cloud, catalog, false).await.expect("plan") else { return 0 };
    cloud.clear_calls();
    apply(&cloud, &p).await.expect("apply");
    cloud.calls().iter().filter(|c| c.action.starts_with("iam:")).count()
}

/// The AWS backend against the moto server at `url`.
async fn against_moto(url: &str, fake_lifecycle_s: f64) -> Result<Value, String> {
    let options =
        AwsOptions { region: Some("us-west-2".into()), endpoint_url: Some(url.to_string()), ..AwsOptions::default() };
    let cloud = AwsCloud::load(&options).await;
    let account = cloud.identity().caller_identity().await.map_err(|e| e.to_string())?.account;
    // Connect with the default names (the master profile a cluster needs), all components at once.
    let catalog = Catalog::new(&ConnectOptions::default(), &account);
    let start = Instant::now();
    if let Planned::Ready(p) = plan(&cloud, catalog, false).await.map_err(|e| e.to_string())? {
        apply(&cloud, &p).await.map_err(|e| e.error.to_string())?;
    }
    let first_connect = start.elapsed().as_secs_f64();
    let concurrent = connect_wall(&cloud, &account, "c", usize::MAX).await?;
    let sequential = connect_wall(&cloud, &account, "s", 1).await?;
    let mut lifecycles = vec![];
    for i in 0..2 {
        lifecycles.push(lifecycle_wall(&cloud, &account, &format!("moto{i}")).await?);
    }
    lifecycles.sort_by(f64::total_cmp);
    let moto = lifecycles[0];
    Ok(json!({
        "endpoint": url,
        "lifecycle_wall_seconds": lifecycles,
        "lifecycle_wall_seconds_best": moto,
        "fake_lifecycle_wall_seconds": fake_lifecycle_s,
        "moto_over_fake": moto / fake_lifecycle_s,
        "connect_first_apply_seconds": first_connect,
        "connect_apply_concurrent_seconds": concurrent,
        "connect_apply_sequential_seconds": sequential,
        "connect_iam_calls": connect_calls().await,
    }))
}

fn main() {
    // Fake throughput first, on a fresh heap: five rounds of 1,000 lifecycles each way, with this
    // binary's allocator and, in a process of its own, with the system allocator.
    let fast = throughput(5, 1000);
    let system = system_allocator_throughput().unwrap_or(Value::Null);
    let paused = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build();
    let paused = paused.expect("tokio runtime");
    let mut report = paused.block_on(on_the_fake());
    drop(paused);
    let fake_lifecycle_s = 1.0 / fast["admin"]["median"].as_f64().unwrap_or(f64::NAN);
    report["fake_throughput"] = fast;
    report["fake_throughput_system_allocator"] = system;

    match cli_startup(30) {
        Some((median_ms, size)) => {
            report["cli_help_median_ms"] = json!(median_ms);
            report["cli_binary_bytes"] = json!(size);
        }
        None => report["cli_help_median_ms"] = json!(null),
    }

    report["moto"] = match std::env::var("DETCLOUD_BENCH_ENDPOINT") {
        Ok(url) => {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
            let rt = rt.expect("tokio runtime");
            match rt.block_on(against_moto(&url, fake_lifecycle_s)) {
                Ok(v) => v,
                Err(e) => json!({ "error": e }),
            }
        }
        Err(_) => json!({ "skipped": "DETCLOUD_BENCH_ENDPOINT is not set (cargo xtask bench starts moto)" }),
    };
    print_table(&report);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("report.json"), serde_json::to_string_pretty(&report).unwrap_or_default());
        println!("\nwritten: target/bench/report.json");
    }
}

async fn on_the_fake() -> Value {
    let graph = Graph::new(2);
    let bound = graph.critical_path(Node::typical_duration);
    let (concurrent, create_calls, cloud) = timed_create(usize::MAX).await;
    let create_operations = calls_by_operation(&cloud);
    cloud.clear_calls();
    status(&cloud, "bench", "us-west-2", ACCOUNT).await.expect("status");
    let status_operations = calls_by_operation(&cloud);
    let (sequential, _, sequential_cloud) = timed_create(1).await;
    let (delete_time, delete_calls) = timed_delete(&cloud, false).await;
    let delete_operations = calls_by_operation(&cloud);
    let (delete_sequential, _) = timed_delete(&sequential_cloud, true).await;
    // Delete's critical path: its longest chain of transitions (the database: instance, then
    // cluster), then the network's instant calls.
    let t = Timings::aws_like();
    let delete_bound =
        t.instance_termination.max(t.nat_gateway_deletion).max(t.db_instance_deletion + t.db_cluster_deletion);

    let cloud = connected(Timings::instant()).await;
    let empty = cloud.to_json().len();
    let prepared = prepare(&cloud, &spec("sized"), ACCOUNT).await.expect("prepare");
    create(&cloud, &prepared, &CreateOptions::new(KEY)).await.expect("create");
    let state_per_cluster = cloud.to_json().len().saturating_sub(empty);

    let mut fleet = vec![];
    for accounts in [1, 10, 50] {
        for clusters in [1, 10, 100, 1000] {
            fleet.push(fleet_sweep(clusters, accounts).await);
        }
    }

    // Policy evaluation: the cross-account policy, compiled once, and as a document.
    let policy = Catalog::new(&ConnectOptions::default(), ACCOUNT).role(Component::Xacct).permissions.clone();
    let requests: Vec<Request> = ["ec2:RunInstances", "rds:CreateDBCluster", "iam:PassRole", "ec2:CreateSecurityGroup"]
        .iter()
        .map(|a| Request::new(*a, "arn:aws:iam::123456789012:role/det-cloud-customer-master"))
        .collect();
    let compiled = CompiledPolicy::new(&policy);
    let rounds = 400_000;
    let mut allowed = 0usize;
    let wall = Instant::now();
    for i in 0..rounds {
        if compiled.decide(&requests[i % requests.len()]) == Decision::Allowed {
            allowed += 1;
        }
    }
    let compiled_ns = wall.elapsed().as_nanos() as f64 / rounds as f64;
    let wall = Instant::now();
    for i in 0..rounds {
        if compiled.evaluate(&requests[i % requests.len()]).is_allowed() {
            allowed += 1;
        }
    }
    let compiled_explained_ns = wall.elapsed().as_nanos() as f64 / rounds as f64;
    let rounds = 50_000;
    let wall = Instant::now();
    for i in 0..rounds {
        if policy.evaluate(&requests[i % requests.len()]).is_allowed() {
            allowed += 1;
        }
    }
    let document_ns = wall.elapsed().as_nanos() as f64 / rounds as f64;

    json!({
        "create_virtual_seconds": concurrent.as_secs_f64(),
        "create_bound_seconds": bound.as_secs_f64(),
        "create_sequential_seconds": sequential.as_secs_f64(),
        "delete_virtual_seconds": delete_time.as_secs_f64(),
        "delete_bound_seconds": delete_bound.as_secs_f64(),
        "delete_sequential_seconds": delete_sequential.as_secs_f64(),
        "calls_per_create": create_calls,
        "calls_per_delete": delete_calls,
        "calls_per_create_total": total(&create_calls),
        "calls_per_delete_total": total(&delete_calls),
        "calls_per_status_total": total(&status_operations),
        "calls_per_create_by_operation": create_operations,
        "calls_per_delete_by_operation": delete_operations,
        "calls_per_status_by_operation": status_operations,
        "fake_state_bytes_per_cluster": state_per_cluster,
        "fleet_sweep": fleet,
        "policy_decision_ns": compiled_ns,
        "policy_evaluation_with_explanation_ns": compiled_explained_ns,
        "policy_decision_uncompiled_ns": document_ns,
        "policy_decisions_allowed": allowed,
    })
}

/// A throughput's median and spread: `4980 (4710-5230)`.
fn rate(spread: &Value) -> String {
    match (spread["median"].as_f64(), spread["min"].as_f64(), spread["max"].as_f64()) {
        (Some(median), Some(min), Some(max)) => format!("{median:.0} ({min:.0}-{max:.0})"),
        _ => "not measured".into(),
    }
}

fn print_table(r: &Value) {
    let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
    let mut rows: Vec<(String, String)> = vec![
        ("create, concurrent (virtual s, AWS-like durations)".into(), format!("{:.0}", f("create_virtual_seconds"))),
        ("create, critical-path bound (s)".into(), format!("{:.0}", f("create_bound_seconds"))),
        ("create / bound".into(), format!("{:.3}", f("create_virtual_seconds") / f("create_bound_seconds"))),
        ("create, concurrency 1 (virtual s)".into(), format!("{:.0}", f("create_sequential_seconds"))),
        (
            "create speed-up over sequential".into(),
            format!("{:.2}x", f("create_sequential_seconds") / f("create_virtual_seconds")),
        ),
        ("delete with purge, concurrent (virtual s)".into(), format!("{:.0}", f("delete_virtual_seconds"))),
        ("delete, critical-path bound (s)".into(), format!("{:.0}", f("delete_bound_seconds"))),
        ("delete / bound".into(), format!("{:.3}", f("delete_virtual_seconds") / f("delete_bound_seconds"))),
        ("delete, chains one at a time (virtual s)".into(), format!("{:.0}", f("delete_sequential_seconds"))),
        (
            "delete speed-up over sequential".into(),
            format!("{:.2}x", f("delete_sequential_seconds") / f("delete_virtual_seconds")),
        ),
        ("calls per create".into(), format!("{}", r["calls_per_create_total"])),
        ("calls per delete".into(), format!("{}", r["calls_per_delete_total"])),
        ("calls per status".into(), format!("{}", r["calls_per_status_total"])),
        (
            "fake lifecycles per second (1 core, instant timings), as the administrator".into(),
            rate(&r["fake_throughput"]["admin"]),
        ),
        ("  same, as the cross-account role (every call authorized)".into(), rate(&r["fake_throughput"]["role"])),
        ("  as the administrator, system allocator".into(), rate(&r["fake_throughput_system_allocator"]["admin"])),
        ("  as the role, system allocator".into(), rate(&r["fake_throughput_system_allocator"]["role"])),
        (
            "fake state left after 1000 lifecycles (bytes of JSON)".into(),
            format!("{}", r["fake_throughput"]["state_bytes_left"]),
        ),
        ("fake state per cluster (bytes of JSON)".into(), format!("{}", r["fake_state_bytes_per_cluster"])),
        ("policy decision, cross-account policy, compiled (ns)".into(), format!("{:.0}", f("policy_decision_ns"))),
        ("  same, with the explanation (ns)".into(), format!("{:.0}", f("policy_evaluation_with_explanation_ns"))),
        ("  same, document not compiled (ns)".into(), format!("{:.0}", f("policy_decision_uncompiled_ns"))),
    ];
    if let Some(ms) = r["cli_help_median_ms"].as_f64() {
        rows.push(("`detcloud --help`, median of 30 (ms)".into(), format!("{ms:.1}")));
        let mib = r["cli_binary_bytes"].as_f64().unwrap_or(f64::NAN) / (1024.0 * 1024.0);
        rows.push(("detcloud release binary (MiB)".into(), format!("{mib:.1}")));
    } else {
        rows.push(("`detcloud --help`".into(), "not measured (no release binary beside the bench)".into()));
    }
    if let Some(rows_in) = r["fleet_sweep"].as_array() {
        for s in rows_in {
            rows.push((
                format!("fleet sweep, {} clusters / {} accounts", s["clusters"], s["accounts"]),
                format!(
                    "{} calls/account, {} throttles, {:.1} virtual s, {:.1} ms first, {:.1} ms again (median of 5)",
                    s["calls_per_account_max"],
                    s["throttles"],
                    s["sweep_virtual_seconds"].as_f64().unwrap_or(f64::NAN),
                    s["sweep_wall_ms_first"].as_f64().unwrap_or(f64::NAN),
                    s["sweep_wall_ms"].as_f64().unwrap_or(f64::NAN)
                ),
            ));
        }
    }
    let m = &r["moto"];
    if let Some(best) = m["lifecycle_wall_seconds_best"].as_f64() {
        let g = |k: &str| m[k].as_f64().unwrap_or(f64::NAN);
        rows.push(("lifecycle on moto, AWS backend (wall s)".into(), format!("{best:.2}")));
        rows.push(("lifecycle on the fake (wall ms)".into(), format!("{:.2}", g("fake_lifecycle_wall_seconds") * 1e3)));
        rows.push(("moto / fake".into(), format!("{:.0}x", g("moto_over_fake"))));
        rows.push((
            "connect apply on moto, concurrent (wall s)".into(),
            format!("{:.2}", g("connect_apply_concurrent_seconds")),
        ));
        rows.push((
            "connect apply on moto, one component at a time (wall s)".into(),
            format!("{:.2}", g("connect_apply_sequential_seconds")),
        ));
        rows.push(("connect apply, IAM calls".into(), format!("{}", m["connect_iam_calls"])));
    } else {
        rows.push(("AWS backend on moto".into(), format!("not measured: {}", m)));
    }
    println!("{:<58} value", "measure");
    for (k, v) in &rows {
        println!("{k:<58} {v}");
    }
}
