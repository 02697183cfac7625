//! The request rate limit: a token bucket per account, region and service, on tokio's clock.

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

#[tokio::test(start_paused = true)]
async fn each_service_has_its_own_bucket_and_may_have_its_own_limit() {
    let cloud = FakeCloud::new("111111111111");
    cloud.faults().rate_limit(Some((2, 1.0)));
    let net = cloud.network();
    let iam = cloud.iam();
    for _ in 0..2 {
        net.describe_vpcs(&Filter::all()).await.unwrap();
    }
    assert!(net.describe_vpcs(&Filter::all()).await.is_err());
    // EC2's bucket is empty; IAM's is not: the same limit, a bucket of its own.
    for _ in 0..2 {
        iam.list_roles("/").await.unwrap();
    }
    let err = iam.list_roles("/").await.unwrap_err();
    assert_eq!(detcloud_fake::error_code(&err), "Throttling");
    // IAM given a larger limit of its own: its calls go through where EC2's still fail.
    cloud.faults().rate_limit_service("IAM", Some((50, 100.0)));
    for _ in 0..50 {
        iam.list_roles("/").await.unwrap();
    }
    assert!(iam.list_roles("/").await.is_err());
    for _ in 0..2 {
        net.describe_vpcs(&Filter::all()).await.unwrap();
    }
    assert!(net.describe_vpcs(&Filter::all()).await.is_err());
    // Back to the common limit.
    cloud.faults().rate_limit_service("iam", None);
    tokio::time::sleep(Duration::from_secs(60)).await;
    for _ in 0..2 {
        iam.list_roles("/").await.unwrap();
    }
    assert!(iam.list_roles("/").await.is_err());
    // A service limit alone limits that service only.
    cloud.faults().rate_limit(None).rate_limit_service("iam", Some((1, 1.0)));
    for _ in 0..10 {
        net.describe_vpcs(&Filter::all()).await.unwrap();
    }
    iam.list_roles("/").await.unwrap();
    assert!(iam.list_roles("/").await.is_err());
}
