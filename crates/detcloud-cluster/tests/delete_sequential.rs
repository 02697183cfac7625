//! Delete with its chains one after another (the benchmark's baseline) removes the same resources
//! as the concurrent delete, and takes longer on the virtual clock.

mod common;

use std::time::Duration;

use common::{connect, spec, CUSTOMER, SSH_KEY};
use detcloud_cluster::context::cluster_filter;
use detcloud_cluster::{create, delete, prepare, CreateOptions, DeleteOptions};
use detcloud_fake::FakeCloud;
use detcloud_provider::Cloud;

/// Creates the cluster, deletes it with `sequential`, and returns the delete's virtual duration.
async fn create_then_delete(sequential: bool) -> (Duration, FakeCloud) {
    let cloud = FakeCloud::new(CUSTOMER);
    connect(&cloud, None).await;
    let prepared = prepare(&cloud, &spec("seq"), CUSTOMER).await.unwrap();
    create(&cloud, &prepared, &CreateOptions::new(SSH_KEY)).await.unwrap();
    let start = tokio::time::Instant::now();
    let options = DeleteOptions { purge: true, sequential, ..Default::default() };
    delete(&cloud, "seq", "us-west-2", CUSTOMER, &options).await.unwrap();
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
