//! Delete with its chains one after another (the benchmark's baseline) removes the same resources
//! as the concurrent delete, and takes longer on the virtual clock.

use std::time::Duration;

use detcloud_cluster::context::cluster_filter;
use detcloud_cluster::{create, delete, prepare, ClusterSpec, CreateOptions, DeleteOptions};
use detcloud_connect::{apply, plan, Catalog, ConnectOptions, Planned};
use detcloud_fake::FakeCloud;
use detcloud_provider::Cloud;

const ACCOUNT: &str = "123456789012";
const SSH_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl detcloud-test";

/// Creates the cluster, deletes it with `sequential`, and returns the delete's virtual duration.
async fn create_then_delete(sequential: bool) -> (Duration, FakeCloud) {
    let cloud = FakeCloud::new(ACCOUNT);
    let Planned::Ready(p) = plan(&cloud, Catalog::new(&ConnectOptions::default(), ACCOUNT), false).await.unwrap()
    else {
        panic!("blocked")
    };
    apply(&cloud, &p).await.unwrap();
    let mut spec = ClusterSpec::new("seq", "us-west-2");
    spec.master.inbound_cidrs = vec!["203.0.113.0/24".into()];
    let prepared = prepare(&cloud, &spec, ACCOUNT).await.unwrap();
    create(&cloud, &prepared, &CreateOptions::new(SSH_KEY)).await.unwrap();
    let start = tokio::time::Instant::now();
    let options = DeleteOptions { purge: true, sequential, ..Default::default() };
    delete(&cloud, "seq", "us-west-2", ACCOUNT, &options).await.unwrap();
    (start.elapsed(), cloud)
}

#[tokio::test(start_paused = true)]
async fn a_sequential_delete_removes_everything_and_takes_longer() {
    let (concurrent, _) = create_then_delete(false).await;
    let (sequential, cloud) = create_then_delete(true).await;
    let f = cluster_filter("seq");
    assert!(cloud.network().describe_vpcs(&f).await.unwrap().is_empty());
    assert!(cloud.network().describe_addresses(&f).await.unwrap().is_empty());
    assert!(cloud.database().describe_db_clusters(&f).await.unwrap().is_empty());
    assert!(sequential > concurrent, "sequential {sequential:?}, concurrent {concurrent:?}");
}
