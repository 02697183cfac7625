//! STS: caller identity, trust policies, external ids, eventual consistency, sessions.

mod common;

use std::time::Duration;

use common::*;
use detcloud_fake::FakeCloud;
use detcloud_provider::{Cloud, CreateRole, Error};

/// The customer account with a cross-account role the vendor may assume with `external_id`.
async fn xacct(external_id: &str) -> (FakeCloud, String) {
    let cloud = customer();
    let mut req = role("det-cloud-customer-xacct-mgmt");
    req.trust_policy = trust_with_external_id(VENDOR_ROLE, external_id);
    let arn = cloud.iam().create_role(req).await.unwrap().arn;
    (cloud, arn)
}

#[tokio::test]
async fn caller_identity_reports_the_caller() {
    let cloud = customer();
    let me = cloud.identity().caller_identity().await.unwrap();
    assert_eq!(me.account, CUSTOMER);
    assert_eq!(me.arn, "arn:aws:iam::111111111111:user/admin");
    assert!(me.user_id.starts_with("AIDA") && me.user_id.len() == 21, "{}", me.user_id);
    let vendor = cloud.as_principal(VENDOR_ROLE).identity().caller_identity().await.unwrap();
    assert_eq!((vendor.account.as_str(), vendor.arn.as_str()), (VENDOR, VENDOR_ROLE));
}

#[tokio::test]
async fn the_vendor_assumes_with_the_right_external_id_only() {
    let (cloud, arn) = xacct("tenant-42").await;
    let vendor = cloud.as_principal(VENDOR_ROLE);

    let creds = vendor.identity().assume_role(assume(&arn, Some("tenant-42"))).await.unwrap();
    assert_eq!(
        creds.assumed_role_arn,
        "arn:aws:sts::111111111111:assumed-role/det-cloud-customer-xacct-mgmt/test-session"
    );
    assert!(creds.access_key_id.starts_with("ASIA") && creds.access_key_id.len() == 20);
    assert_eq!(creds.secret_access_key.expose().len(), 40);
    assert!(!format!("{creds:?}").contains(creds.secret_access_key.expose()));
    assert!(creds.expiration.is_some());
    let again = vendor.identity().assume_role(assume(&arn, Some("tenant-42"))).await.unwrap();
    assert_ne!(again.access_key_id, creds.access_key_id);

    let (action, message) = denied(vendor.identity().assume_role(assume(&arn, Some("tenant-43"))).await);
    assert_eq!(action.as_deref(), Some("sts:AssumeRole"));
    assert_eq!(message, format!("User: {VENDOR_ROLE} is not authorized to perform: sts:AssumeRole on resource: {arn}"));
    denied(vendor.identity().assume_role(assume(&arn, None)).await);
    // Someone else in the vendor's account is not trusted, even with the id.
    let other = cloud.as_principal("arn:aws:iam::544296492693:role/someone-else");
    denied(other.identity().assume_role(assume(&arn, Some("tenant-42"))).await);
}

#[tokio::test]
async fn a_missing_role_is_access_denied_not_not_found() {
    let cloud = customer();
    let vendor = cloud.as_principal(VENDOR_ROLE);
    let (_, message) = denied(vendor.identity().assume_role(assume("arn:aws:iam::111111111111:role/nope", None)).await);
    assert!(message.contains("sts:AssumeRole on resource: arn:aws:iam::111111111111:role/nope"));
    // The path is part of the ARN.
    let mut req = role("pathed");
    req.path = "/detcloud/".into();
    req.trust_policy = trust_aws(VENDOR_ROLE);
    cloud.iam().create_role(req).await.unwrap();
    denied(vendor.identity().assume_role(assume("arn:aws:iam::111111111111:role/pathed", None)).await);
    vendor.identity().assume_role(assume("arn:aws:iam::111111111111:role/detcloud/pathed", None)).await.unwrap();
}

#[tokio::test]
async fn requests_are_validated() {
    let (cloud, arn) = xacct("tenant-42").await;
    let vendor = cloud.as_principal(VENDOR_ROLE);
    let mut req = assume(&arn, Some("tenant-42"));
    req.session_name = "x".into();
    assert!(invalid_message(vendor.identity().assume_role(req).await).contains("roleSessionName"));
    let mut req = assume(&arn, Some("tenant-42"));
    req.duration = Some(Duration::from_secs(3601));
    assert!(invalid_message(vendor.identity().assume_role(req).await).contains("MaxSessionDuration"));
    let mut req = assume(&arn, Some("tenant-42"));
    req.duration = Some(Duration::from_secs(60));
    assert!(invalid_message(vendor.identity().assume_role(req).await).contains("durationSeconds"));
    assert!(invalid_message(vendor.identity().assume_role(assume(&arn, Some("bad id!"))).await).contains("externalId"));
    assert!(invalid_message(vendor.identity().assume_role(assume("role/x", None)).await).contains("roleArn"));
}

#[tokio::test]
async fn assume_role_gives_a_cloud_calling_as_the_session() {
    let (cloud, arn) = xacct("tenant-42").await;
    let role_id_prefix = "AROA";
    let session = cloud.as_principal(VENDOR_ROLE).assume_role(assume(&arn, Some("tenant-42"))).await.unwrap();
    let me = session.identity().caller_identity().await.unwrap();
    assert_eq!(me.account, CUSTOMER);
    assert_eq!(me.arn, "arn:aws:sts::111111111111:assumed-role/det-cloud-customer-xacct-mgmt/test-session");
    assert!(me.user_id.starts_with(role_id_prefix) && me.user_id.ends_with(":test-session"), "{}", me.user_id);
}

#[tokio::test]
async fn roles_become_assumable_after_the_consistency_delay() {
    tokio::time::pause();
    let cloud = customer();
    cloud.set_consistency_delay(Duration::from_secs(10));
    let (vendor, arn) = {
        let mut req = role("xacct");
        req.trust_policy = trust_with_external_id(VENDOR_ROLE, "ext-id");
        (cloud.as_principal(VENDOR_ROLE), cloud.iam().create_role(req).await.unwrap().arn)
    };
    let (_, message) = denied(vendor.identity().assume_role(assume(&arn, Some("ext-id"))).await);
    assert!(message.contains("not yet assumable"), "{message}");
    tokio::time::advance(Duration::from_secs(9)).await;
    denied(vendor.identity().assume_role(assume(&arn, Some("ext-id"))).await);
    tokio::time::advance(Duration::from_secs(1)).await;
    vendor.identity().assume_role(assume(&arn, Some("ext-id"))).await.unwrap();

    // A trust-policy update starts the clock again.
    cloud.iam().update_trust_policy("xacct", &trust_with_external_id(VENDOR_ROLE, "new-id")).await.unwrap();
    let (_, message) = denied(vendor.identity().assume_role(assume(&arn, Some("new-id"))).await);
    assert!(message.contains("not yet assumable"), "{message}");
    tokio::time::advance(Duration::from_secs(10)).await;
    vendor.identity().assume_role(assume(&arn, Some("new-id"))).await.unwrap();
    denied(vendor.identity().assume_role(assume(&arn, Some("ext-id"))).await);
}

#[tokio::test]
async fn sessions_expire_in_virtual_time() {
    tokio::time::pause();
    let (cloud, arn) = xacct("tenant-42").await;
    let mut req = assume(&arn, Some("tenant-42"));
    req.duration = Some(Duration::from_secs(900));
    let session = cloud.as_principal(VENDOR_ROLE).assume_role(req).await.unwrap();
    session.identity().caller_identity().await.unwrap();
    tokio::time::advance(Duration::from_secs(900)).await;
    assert!(matches!(session.identity().caller_identity().await, Err(Error::Credentials { .. })));
}

#[tokio::test]
async fn principals_of_other_accounts_may_only_assume_roles_here() {
    let cloud = customer();
    let arn = cloud.iam().create_policy(policy("p", allow(&["s3:*"], &["*"]))).await.unwrap().arn;
    let vendor = cloud.as_principal(VENDOR_ROLE);
    let (action, message) = denied(vendor.iam().get_policy(&arn).await);
    assert_eq!(action.as_deref(), Some("iam:GetPolicy"));
    assert!(message.contains("no resource-based policy allows"), "{message}");
    // In its own account the vendor's (unstored) role is unrestricted.
    assert!(vendor.iam().get_role("anything").await.unwrap_err().is_not_found());
    vendor.iam().get_policy("arn:aws:iam::aws:policy/ReadOnlyAccess").await.unwrap();
}

#[tokio::test]
async fn role_chaining_needs_the_callers_identity_policy_too() {
    let cloud = customer();
    let iam = cloud.iam();
    let mut first = role("first");
    first.trust_policy = trust_aws(VENDOR_ROLE);
    iam.create_role(first).await.unwrap();
    let mut second = role("second");
    second.trust_policy = trust_aws("arn:aws:iam::111111111111:role/first");
    let second_arn = iam.create_role(second).await.unwrap().arn;

    let session = cloud
        .as_principal(VENDOR_ROLE)
        .assume_role(assume("arn:aws:iam::111111111111:role/first", None))
        .await
        .unwrap();
    let (action, message) = denied(session.assume_role(assume(&second_arn, None)).await);
    assert_eq!(action.as_deref(), Some("sts:AssumeRole"));
    assert!(message.ends_with("because no identity-based policy allows the sts:AssumeRole action"), "{message}");
    iam.put_inline_policy("first", "chain", &allow(&["sts:AssumeRole"], &[&second_arn])).await.unwrap();
    let chained = session.assume_role(assume(&second_arn, None)).await.unwrap();
    assert_eq!(
        chained.identity().caller_identity().await.unwrap().arn,
        "arn:aws:sts::111111111111:assumed-role/second/test-session"
    );
    // The trust policy still decides: a role that trusts only EC2 cannot be chained into.
    let ec2_only = iam.create_role(CreateRole { name: "ec2-only".into(), ..role("x") }).await.unwrap().arn;
    iam.put_inline_policy("first", "chain", &allow(&["sts:AssumeRole"], &["*"])).await.unwrap();
    denied(session.assume_role(assume(&ec2_only, None)).await);
}
