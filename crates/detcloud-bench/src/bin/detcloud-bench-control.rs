//! `cargo xtask bench` (control plane part): the reconciler and the API of `detcloud serve` at
//! fleet scale, in real time, with the fake answering every call after 50 ms and limiting each
//! service of each account to EC2's request rate (STS to its own quota). Prints one JSON document;
//! measures, never asserts.
//!
//! - A sweep of N clusters in M accounts with no drift (seeded exactly as declared): wall time,
//!   calls per account, clusters converged or repaired (both must be 0), throttles.
//! - Drift to repair: a route deleted in one cluster, then the next sweep's wall time and outcome.
//! - With `DETCLOUD_BENCH_POSTGRES_URL`: the same sweep by 1, 2 and 4 replicas on one PostgreSQL,
//!   their first sweep (claiming the leases, assuming every role) and their next.
//! - The API: GET of a cluster at a paced 1,000 requests a second on loopback, p50 and p99.
//! - Resident memory of this process with the store holding the N clusters.
//!
//! Usage: `detcloud-bench-control [CLUSTERS] [ACCOUNTS]` (default 10,000 in 1,000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use detcloud_bench::{connect, spec, KEY, VENDOR};
use detcloud_cluster::seed::{quotas_for, seed_converged_cluster};
use detcloud_cluster::RateLimit;
use detcloud_control::api::{self, ApiOptions};
use detcloud_control::metrics::Metrics;
use detcloud_control::reconcile::{ReconcileOptions, Reconciler};
use detcloud_control::store::{AccountInput, ClusterInput, ClusterStatus, Phase};
use detcloud_control::{SqlStore, Store};
use detcloud_fake::{FakeCloud, Timings};
use detcloud_provider::Cloud;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const LATENCY: Duration = Duration::from_millis(50);

fn account_id(i: usize) -> String {
    format!("{:012}", 200_000_000_000u64 + i as u64)
}

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU seconds this process has used (user and system, from `/proc/self/stat`, in clock ticks of
/// 1/100 s as Linux reports them to user space).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name (which may hold spaces, hence the last ')').
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let (utime, stime): (u64, u64) = (fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?);
    Some((utime + stime) as f64 / 100.0)
}

/// The world: `accounts` connected accounts holding `clusters` seeded clusters between them.
async fn world(clusters: usize, accounts: usize) -> FakeCloud {
    let world = FakeCloud::new("100000000000");
    world.set_timings(Timings::instant());
    let per_account = clusters.div_ceil(accounts);
    for a in 0..accounts {
        let id = account_id(a);
        let admin = world.admin_of(&id);
        connect(&admin, &id).await;
        for (service, code, value) in quotas_for(per_account) {
            admin.set_quota(service, code, value);
        }
        for c in (a..clusters).step_by(accounts) {
            let spec = spec(&format!("c{c}"));
            if c == 0 {
                // The cluster the drift measurement breaks is made by the engine, as in
                // production; the others are seeded as it would leave them.
                let prepared = detcloud_cluster::prepare(&admin, &spec, &id).await.expect("prepare");
                detcloud_cluster::create(&admin, &prepared, &detcloud_cluster::CreateOptions::new(KEY))
                    .await
                    .expect("create");
            } else {
                seed_converged_cluster(&admin, &spec, &id).await.expect("seed");
            }
        }
    }
    world
}

/// A store at `url` declaring every seeded cluster, each observed Ready at its generation.
async fn declared(url: &str, clusters: usize, accounts: usize) -> Arc<dyn Store> {
    let store: Arc<dyn Store> = Arc::new(SqlStore::open(url).await.expect("store"));
    for a in 0..accounts {
        let id = account_id(a);
        let input = AccountInput {
            role_arn: format!("arn:aws:iam::{id}:role/det-cloud-customer-xacct-mgmt"),
            external_id: "bench-tenant".into(),
            regions: vec!["us-west-2".into()],
            paused: false,
        };
        store.put_account(&id, &input, "bench").await.expect("account");
        for c in (a..clusters).step_by(accounts) {
            let spec = serde_json::to_value(spec(&format!("c{c}"))).expect("spec");
            let input = ClusterInput { region: "us-west-2".into(), spec };
            store.put_cluster(&id, &format!("c{c}"), &input, None, "bench").await.expect("cluster");
        }
    }
    let leases = store.claim_leases("seed", 600_000, accounts).await.expect("leases");
    for lease in &leases {
        let fence = lease.fence();
        let page = store.clusters(&lease.account_id, None, 10_000).await.expect("clusters");
        for view in page.items {
            let status = ClusterStatus {
                observed_generation: view.record.generation,
                phase: Phase::Ready,
                last_reconciled: Some(store.now()),
                ..ClusterStatus::pending()
            };
            store.put_status(&fence, &view.record.name, &status).await.expect("status");
        }
    }
    store.release_leases("seed").await.expect("release");
    store
}

fn reconciler(store: &Arc<dyn Store>, world: &FakeCloud, replica: &str) -> Reconciler {
    let vendor: Arc<dyn Cloud> = Arc::new(world.as_principal(VENDOR));
    let mut options = ReconcileOptions::new(replica, KEY);
    options.concurrency = 64;
    options.lease_ttl = Duration::from_secs(600);
    Reconciler::new(Arc::clone(store), vendor, options)
}

/// One sweep by `r`, a reconciler that lives across sweeps as `detcloud serve`'s does (its
/// leases and the accounts' sessions kept from its earlier sweeps).
async fn sweep(r: &Reconciler, world: &FakeCloud, accounts: usize) -> Value {
    let before: Vec<u64> = (0..accounts).map(|a| r.metrics().calls_in(&account_id(a))).collect();
    world.clear_calls();
    let throttles_before = world.faults().injected("*");
    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let report = r.sweep().await.expect("sweep");
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(cpu_before).map(|(after, before)| after - before);
    let calls: Vec<u64> = (0..accounts).map(|a| r.metrics().calls_in(&account_id(a)) - before[a]).collect();
    json!({
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "accounts": report.accounts,
        "clusters": report.clusters,
        "converged": report.converged,
        "repaired": report.repaired,
        "failed": report.failed,
        "calls_per_account_max": calls.iter().max(),
        "calls_per_account_min": calls.iter().min(),
        "throttles": world.faults().injected("*") - throttles_before,
    })
}

/// `replicas` reconcilers sweeping one store side by side (each takes its share).
async fn replicas_sweep(store: &Arc<dyn Store>, world: &FakeCloud, replicas: usize) -> Value {
    let all: Vec<Reconciler> = (0..replicas).map(|i| reconciler(store, world, &format!("r{replicas}-{i}"))).collect();
    for i in 0..replicas {
        store.heartbeat(&format!("r{replicas}-{i}"), 600_000).await.expect("heartbeat");
    }
    // The first sweep claims the leases and assumes every account's role; the second is the
    // steady state of replicas that keep running.
    let started = Instant::now();
    let reports = futures::future::join_all(all.iter().map(|r| r.sweep())).await;
    let wall = started.elapsed().as_secs_f64();
    let accounts: Vec<usize> = reports.iter().map(|r| r.as_ref().map_or(0, |r| r.accounts)).collect();
    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let again = futures::future::join_all(all.iter().map(|r| r.sweep())).await;
    let wall_again = started.elapsed().as_secs_f64();
    // Every replica runs in this one process with the fake world: CPU seconds per wall second
    // near the machine's cores say the sweep is bound by the CPU, not by the calls' latency.
    let cpu_again = cpu_seconds().zip(cpu_before).map(|(after, before)| after - before);
    let accounts_again: Vec<usize> = again.iter().map(|r| r.as_ref().map_or(0, |r| r.accounts)).collect();
    // Releasing also forgets each replica's heartbeat, so the next row's replicas count only
    // themselves (a heartbeat sent here to "reset" would count as one more replica).
    for r in &all {
        r.release().await.expect("release");
    }
    json!({
        "replicas": replicas,
        "wall_seconds": wall,
        "accounts_each": accounts,
        "wall_seconds_again": wall_again,
        "accounts_each_again": accounts_again,
        "cpu_seconds_again": cpu_again,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    })
}

/// Paced GETs of one cluster at `rate` a second over `connections` keep-alive connections.
async fn api_latency(store: Arc<dyn Store>, path: String, rate: u32, seconds: u32) -> Value {
    let token = detcloud_control::token::generate().expect("token");
    store.create_token("bench", &detcloud_control::token::hash(&token)).await.expect("token");
    let wake = Arc::new(tokio::sync::Notify::new());
    let options = ApiOptions { burst: rate * 4, per_second: f64::from(rate) * 2.0, ..ApiOptions::default() };
    let router = api::router(api::Api::new(store, wake, Arc::new(Metrics::default()), options));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("listen");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    let connections = 16u32;
    let per_connection = rate * seconds / connections;
    let interval = Duration::from_secs_f64(f64::from(connections) / f64::from(rate));
    let tasks: Vec<_> = (0..connections)
        .map(|c| {
            let (token, path) = (token.clone(), path.clone());
            tokio::spawn(async move {
                let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
                stream.set_nodelay(true).ok();
                let request =
                    format!("GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\r\n").into_bytes();
                let mut ticker = tokio::time::interval(interval);
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                tokio::time::sleep(interval.mul_f64(f64::from(c) / f64::from(connections))).await;
                let mut latencies = Vec::with_capacity(per_connection as usize);
                let mut errors = 0u32;
                let mut buffer = vec![0u8; 64 * 1024];
                for _ in 0..per_connection {
                    ticker.tick().await;
                    let sent = Instant::now();
                    stream.write_all(&request).await.expect("write");
                    let mut got = Vec::new();
                    let ok = loop {
                        let n = stream.read(&mut buffer).await.expect("read");
                        if n == 0 {
                            break false;
                        }
                        got.extend_from_slice(&buffer[..n]);
                        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                            let length: usize = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length: "))
                                .and_then(|v| v.trim().parse().ok())
                                .unwrap_or(0);
                            if got.len() >= end + 4 + length {
                                break head.starts_with("http/1.1 200");
                            }
                        }
                    };
                    latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                    if !ok {
                        errors += 1;
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut all = vec![];
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.expect("client");
        all.extend(l);
        errors += e;
    }
    all.sort_by(f64::total_cmp);
    let at = |q: f64| all.get(((all.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(f64::NAN);
    json!({"requests": all.len(), "rate_per_second": rate, "errors": errors, "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": at(1.0)})
}

fn main() {
    let mut args = std::env::args().skip(1);
    let clusters: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let accounts: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let report = rt.block_on(async {
        let setup = Instant::now();
        eprintln!("bench: world");
        let world = world(clusters, accounts).await;
        let dir = std::env::temp_dir().join(format!("detcloud-bench-control-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite://{}", dir.join("control.db").display());
        let rss_before_store = rss_kib();
        eprintln!("bench: store");
        let store = declared(&url, clusters, accounts).await;
        let setup_s = setup.elapsed().as_secs_f64();
        // From here on every call takes 50 ms, and each account has EC2's bucket for each
        // service, but STS's own quota (600 a second) for the vendor's assumptions.
        world.faults().delay("*", LATENCY);
        let limit = RateLimit::EC2_DESCRIBE;
        world.faults().rate_limit(Some((limit.burst, limit.per_second))).rate_limit_service("sts", Some((600, 600.0)));
        eprintln!("bench: no_drift");
        let r = reconciler(&store, &world, "bench-1");
        let no_drift = sweep(&r, &world, accounts).await;
        let second = sweep(&r, &world, accounts).await;
        // Drift: the public default route of one cluster deleted behind the control plane's back.
        let admin = world.admin_of(&account_id(0));
        let net = admin.network();
        let tables = net.describe_route_tables(&detcloud_cluster::context::cluster_filter("c0")).await.expect("tables");
        let public = tables
            .iter()
            .find(|t| t.tags.get("detcloud:resource").map(String::as_str) == Some("public-routes"))
            .expect("public routes");
        net.delete_route(&public.id, "0.0.0.0/0").await.expect("delete route");
        eprintln!("bench: drifted");
        let drifted = sweep(&r, &world, accounts).await;
        r.release().await.expect("release");
        let postgres = match std::env::var("DETCLOUD_BENCH_POSTGRES_URL") {
            Ok(pg) if !pg.is_empty() => {
                let pg_store = declared(&pg, clusters, accounts).await;
                let mut rows = vec![];
                for n in [1, 2, 4] {
                    rows.push(replicas_sweep(&pg_store, &world, n).await);
                }
                json!(rows)
            }
            _ => json!({"skipped": "DETCLOUD_BENCH_POSTGRES_URL is not set (cargo xtask bench starts PostgreSQL)"}),
        };
        eprintln!("bench: api");
        let api = api_latency(Arc::clone(&store), format!("/v1/accounts/{}/clusters/c0", account_id(0)), 1000, 5).await;
        let rss = rss_kib();
        let _ = std::fs::remove_dir_all(&dir);
        json!({
            "clusters": clusters,
            "accounts": accounts,
            "latency_ms": LATENCY.as_millis() as u64,
            "setup_seconds": setup_s,
            "sweep_no_drift": no_drift,
            "sweep_no_drift_again": second,
            "sweep_with_one_drift": drifted,
            "replicas_on_postgres": postgres,
            "api_get_cluster": api,
            "rss_kib_fake_world_only": rss_before_store,
            "rss_kib_with_store_and_api": rss,
        })
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
}
