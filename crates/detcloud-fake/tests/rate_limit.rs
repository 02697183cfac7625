//! The request rate limit: a token bucket per account and region, on tokio's clock.

use std::time::Duration;

use detcloud_fake::FakeCloud;
use detcloud_provider::{Cloud, Filter};

#[tokio::test(start_paused = true)]
async fn calls_above_the_rate_are_throttled_per_account_and_region() {
    let cloud = FakeCloud::new("111111111111");
    cloud.faults().rate_limit(Some((3, 2.0)));
    let net = cloud.network();
    for _ in 0..3 {
        net.describe_vpcs(&Filter::all()).await.unwrap();
    }
    // The bucket (3) is empty: the fourth call at the same instant is throttled and takes nothing.
    let err = net.describe_vpcs(&Filter::all()).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(detcloud_fake::error_code(&err), "Throttling");
    assert_eq!(cloud.faults().injected("ec2:DescribeVpcs"), 1);
    // Another account, and another region of the same account, have buckets of their own.
    cloud.admin_of("222222222222").network().describe_vpcs(&Filter::all()).await.unwrap();
    cloud.with_region("eu-west-1").network().describe_vpcs(&Filter::all()).await.unwrap();
    // Two tokens a second: after half a second, exactly one more call goes through.
    tokio::time::sleep(Duration::from_millis(500)).await;
    net.describe_vpcs(&Filter::all()).await.unwrap();
    assert!(net.describe_vpcs(&Filter::all()).await.is_err());
    // The bucket refills up to its size only.
    tokio::time::sleep(Duration::from_secs(60)).await;
    for _ in 0..3 {
        net.describe_vpcs(&Filter::all()).await.unwrap();
    }
    assert!(net.describe_vpcs(&Filter::all()).await.is_err());
    assert_eq!(cloud.faults().injected("*"), 3);
    // No limit, no throttling.
    cloud.faults().rate_limit(None);
    for _ in 0..10 {
        net.describe_vpcs(&Filter::all()).await.unwrap();
    }
}
