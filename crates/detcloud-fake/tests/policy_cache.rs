//! Roles' policies are compiled once and reused: every change to IAM is seen by the next call.

mod common;

use common::*;
use detcloud_provider::{Cloud, Error, Filter};

const DEPLOYER: &str = "arn:aws:iam::111111111111:role/deployer";

#[tokio::test]
async fn revoking_narrowing_and_granting_take_effect_at_the_next_call() {
    let admin = customer();
    let mut req = role("deployer");
    req.trust_policy = trust_aws(VENDOR_ROLE);
    admin.iam().create_role(req).await.unwrap();
    admin.iam().put_inline_policy("deployer", "inline", &allow(&["ec2:DescribeVpcs"], &["*"])).await.unwrap();
    let session = admin.as_principal(VENDOR_ROLE).assume_role(assume(DEPLOYER, None)).await.unwrap();
    let all = Filter::all();
    let describe = || session.network().describe_vpcs(&all);
    describe().await.unwrap();
    describe().await.unwrap();

    // Revoked: the inline policy is gone.
    admin.iam().delete_inline_policy("deployer", "inline").await.unwrap();
    assert!(matches!(describe().await, Err(Error::AccessDenied { .. })));

    // Granted again through a managed policy, then narrowed by a permissions boundary.
    let managed = admin.iam().create_policy(policy("vpcs", allow(&["ec2:Describe*"], &["*"]))).await.unwrap();
    admin.iam().attach_policy("deployer", &managed.arn).await.unwrap();
    describe().await.unwrap();
    let boundary = admin.iam().create_policy(policy("boundary", allow(&["s3:*"], &["*"]))).await.unwrap();
    admin.iam().set_permissions_boundary("deployer", Some(&boundary.arn)).await.unwrap();
    assert!(matches!(describe().await, Err(Error::AccessDenied { .. })));
    admin.iam().set_permissions_boundary("deployer", None).await.unwrap();
    describe().await.unwrap();

    // A new default version of the managed policy replaces what it allows.
    admin.iam().create_policy_version(&managed.arn, &allow(&["s3:GetObject"], &["*"]), true).await.unwrap();
    assert!(matches!(describe().await, Err(Error::AccessDenied { .. })));
}

#[tokio::test]
async fn a_session_outlives_neither_its_role_nor_a_role_recreated_under_its_name() {
    let admin = customer();
    let create = || async {
        let mut req = role("deployer");
        req.trust_policy = trust_aws(VENDOR_ROLE);
        admin.iam().create_role(req).await.unwrap();
        admin.iam().put_inline_policy("deployer", "inline", &allow(&["ec2:DescribeVpcs"], &["*"])).await.unwrap();
    };
    create().await;
    let session = admin.as_principal(VENDOR_ROLE).assume_role(assume(DEPLOYER, None)).await.unwrap();
    let all = Filter::all();
    session.network().describe_vpcs(&all).await.unwrap();
    session.network().describe_vpcs(&all).await.unwrap();

    // Deleted: the session may do nothing, however many calls it made before.
    admin.iam().delete_inline_policy("deployer", "inline").await.unwrap();
    admin.iam().delete_role("deployer").await.unwrap();
    assert!(matches!(session.network().describe_vpcs(&all).await, Err(Error::AccessDenied { .. })));

    // Recreated under the same name with the same policy: still nothing for the old session; a
    // new session gets what the new role allows.
    create().await;
    assert!(matches!(session.network().describe_vpcs(&all).await, Err(Error::AccessDenied { .. })));
    let fresh = admin.as_principal(VENDOR_ROLE).assume_role(assume(DEPLOYER, None)).await.unwrap();
    fresh.network().describe_vpcs(&all).await.unwrap();
    assert!(matches!(session.network().describe_vpcs(&all).await, Err(Error::AccessDenied { .. })));
}
