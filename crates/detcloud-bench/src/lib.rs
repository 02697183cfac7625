//! What `cargo xtask bench` measures in more than one binary: the fake's lifecycle throughput,
//! measured both by the benchmark (`detcloud-bench`, with the mimalloc allocator) and by
//! `detcloud-bench-system-alloc` (the system allocator, as the tests run), and the set-up they
//! share.

use std::time::{Duration, Instant};

use detcloud_cluster::{create, delete, prepare, ClusterSpec, CreateOptions, DeleteOptions};
use detcloud_connect::{apply, plan, Catalog, ConnectOptions, Planned};
use detcloud_fake::{FakeCloud, Timings};
use detcloud_provider::{AssumeRoleRequest, Cloud};
use serde_json::{json, Value};

/// The account the fake's measures run in.
pub const ACCOUNT: &str = "123456789012";
/// The vendor's role that assumes the cross-account role.
pub const VENDOR: &str = "arn:aws:iam::544296492693:role/det-cloud-internal-global-mgmt-role";
/// The SSH public key of every benchmarked cluster.
pub const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl bench";

/// Connects `account` (`connect aws` with the default names) through `cloud`.
pub async fn connect(cloud: &dyn Cloud, account: &str) {
    let catalog = Catalog::new(&ConnectOptions::default(), account);
    if let Planned::Ready(p) = plan(cloud, catalog, false).await.expect("plan") {
        apply(cloud, &p).await.expect("apply");
    }
}

/// A fake world with `timings`, its account connected.
pub async fn connected(timings: Timings) -> FakeCloud {
    let cloud = FakeCloud::new(ACCOUNT);
    cloud.set_timings(timings);
    connect(&cloud, ACCOUNT).await;
    cloud
}

/// The spec of every benchmarked cluster, named `name`.
pub fn spec(name: &str) -> ClusterSpec {
    let mut s = ClusterSpec::new(name, "us-west-2");
    s.master.inbound_cidrs = vec!["203.0.113.0/24".into()];
    s
}

/// Delete options that purge the data (`sequential`: one chain at a time).
pub fn purge(sequential: bool) -> DeleteOptions {
    DeleteOptions { purge: true, sequential, ..Default::default() }
}

/// Create + delete lifecycles per second on the fake (instant timings, one core): `n` clusters one
/// after another in one world, an hour of virtual time apart, as the account's administrator or (`as_role`) as the vendor's
/// session of the cross-account role, with every call authorized by the role's policies. Also
/// the virtual bytes of fake state left after them (what the world keeps of deleted clusters).
pub async fn lifecycles_per_second(n: u32, as_role: bool) -> (f64, usize) {
    let admin = connected(Timings::instant()).await;
    let empty = admin.to_json().len();
    let wall = Instant::now();
    for i in 0..n {
        // A session lasts an hour: each lifecycle takes a new one, as the control plane would.
        let cloud = if as_role { vendor_session(&admin, ACCOUNT, "lifecycles").await } else { admin.clone() };
        let name = format!("b{i}");
        let prepared = prepare(&cloud, &spec(&name), ACCOUNT).await.expect("prepare");
        create(&cloud, &prepared, &CreateOptions::new(KEY)).await.expect("create");
        delete(&cloud, &name, "us-west-2", ACCOUNT, &purge(false)).await.expect("delete");
        admin.clear_calls();
        // An hour apart in virtual time: AWS (and the fake) list a terminated instance and a
        // deleted NAT gateway for an hour, so the world holds at most one deleted cluster's.
        tokio::time::advance(Duration::from_secs(3600)).await;
    }
    let per_second = f64::from(n) / wall.elapsed().as_secs_f64();
    (per_second, admin.to_json().len().saturating_sub(empty))
}

/// Determined's session of the cross-account role of `account` in `world`.
pub async fn vendor_session(world: &FakeCloud, account: &str, session_name: &str) -> FakeCloud {
    world
        .as_principal(VENDOR)
        .assume_role(AssumeRoleRequest {
            role_arn: format!("arn:aws:iam::{account}:role/det-cloud-customer-xacct-mgmt"),
            session_name: session_name.into(),
            external_id: None,
            duration: None,
        })
        .await
        .expect("assume the cross-account role")
}

/// Lifecycles per second, `rounds` times `n` lifecycles, as the administrator and as the role:
/// the median round and the spread (this machine's wall clock varies by a fifth from run to run),
/// and the fake state left after a round. Runs its own paused runtime (virtual time).
pub fn throughput(rounds: usize, n: u32) -> Value {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build();
    let runtime = runtime.expect("tokio runtime");
    runtime.block_on(async {
        let mut admin = vec![];
        let mut role = vec![];
        let mut left_after = 0;
        for _ in 0..rounds.max(1) {
            let (per_second, left) = lifecycles_per_second(n, false).await;
            admin.push(per_second);
            left_after = left;
            role.push(lifecycles_per_second(n, true).await.0);
        }
        json!({
            "lifecycles": n,
            "rounds": rounds.max(1),
            "admin": spread(admin),
            "role": spread(role),
            "state_bytes_left": left_after,
        })
    })
}

/// The median, lowest and highest of `values`.
fn spread(mut values: Vec<f64>) -> Value {
    values.sort_by(f64::total_cmp);
    json!({ "median": values[values.len() / 2], "min": values[0], "max": values[values.len() - 1] })
}
