//! `apply_with` at concurrency 1 applies one component after another and converges like `apply`.

use std::time::Duration;

use detcloud_connect::{apply_with, plan, Catalog, ConnectOptions, Planned};
use detcloud_fake::FakeCloud;

const ACCOUNT: &str = "123456789012";

/// Applies with `concurrency` (every call taking a virtual second) and returns which component
/// each call was for, in order; checks that the result converged.
async fn component_order(concurrency: usize) -> Vec<usize> {
    let cloud = FakeCloud::new(ACCOUNT);
    let catalog = Catalog::new(&ConnectOptions::default(), ACCOUNT);
    let Planned::Ready(p) = plan(&cloud, catalog.clone(), false).await.unwrap() else { panic!("blocked") };
    cloud.clear_calls();
    cloud.faults().delay("*", Duration::from_secs(1));
    apply_with(&cloud, &p, concurrency).await.unwrap();
    let names = ["det-cloud-customer-xacct-mgmt", "det-cloud-customer-master", "det-cloud-customer-agent"];
    let order = cloud
        .calls()
        .iter()
        .filter_map(|c| names.iter().position(|n| c.resource.ends_with(n) || c.resource.contains(&format!("{n}-"))))
        .collect();
    let Planned::Ready(again) = plan(&cloud, catalog, false).await.unwrap() else { panic!("blocked") };
    assert!(!again.has_changes(), "{again:?}");
    order
}

#[tokio::test(start_paused = true)]
async fn one_component_at_a_time_converges_without_interleaving() {
    let mut sequential = component_order(1).await;
    assert!(sequential.len() > 3);
    sequential.dedup();
    assert_eq!(sequential.len(), 3, "components interleaved at concurrency 1: {sequential:?}");
    let mut concurrent = component_order(usize::MAX).await;
    concurrent.dedup();
    assert!(concurrent.len() > 3, "the concurrent apply did not interleave: {concurrent:?}");
}
