//! S3: bucket names, global uniqueness, objects, encryption, and bucket policies that bind every
//! request (with `aws:SecureTransport` true, as for every SDK call).

mod common;

use common::*;
use detcloud_policy::{ConditionValue, Effect, PolicyDocument, Principal, Statement};
use detcloud_provider::{BucketCreation, BucketEncryption, Cloud, Error};

/// The usual "TLS only" bucket policy: deny `s3:*` unless `aws:SecureTransport` is true.
fn tls_only(bucket: &str) -> PolicyDocument {
    PolicyDocument::new(vec![Statement {
        effect: Effect::Deny,
        principal: Some(detcloud_policy::PrincipalBlock::Only(Principal::Any)),
        ..Statement::allow(["s3:*"], [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")])
    }
    .with_condition("Bool", "aws:SecureTransport", vec![ConditionValue::from("false")])])
}

fn deny_put(bucket: &str) -> PolicyDocument {
    PolicyDocument::new(vec![Statement {
        effect: Effect::Deny,
        principal: Some(detcloud_policy::PrincipalBlock::Only(Principal::Any)),
        ..Statement::allow(["s3:PutObject"], [format!("arn:aws:s3:::{bucket}/*")])
    }])
}

#[tokio::test]
async fn bucket_names_follow_s3_rules() {
    let cloud = customer();
    for bad in [
        "ab",
        &"a".repeat(64),
        "Upper-case",
        "under_score",
        "-leading",
        "trailing-",
        "two..dots",
        "192.168.5.4",
        "xn--punycode",
        "name-s3alias",
    ] {
        let message = invalid_message(cloud.storage().create_bucket(bad, "us-west-2").await);
        assert!(message.starts_with("InvalidBucketName"), "{bad}: {message}");
    }
    invalid_message(cloud.storage().create_bucket("det-checkpoints", "mars-1").await);
    for good in ["abc", "det-checkpoints-111111111111", "with.dots.ok", &"a".repeat(63)] {
        assert_eq!(cloud.storage().create_bucket(good, "us-west-2").await.unwrap(), BucketCreation::Created);
    }
}

#[tokio::test]
async fn bucket_names_are_global() {
    let cloud = customer();
    assert_eq!(cloud.storage().create_bucket("det-ckpt", "us-west-2").await.unwrap(), BucketCreation::Created);
    assert_eq!(cloud.storage().create_bucket("det-ckpt", "us-west-2").await.unwrap(), BucketCreation::AlreadyOwned);
    let other = cloud.admin_of("222222222222");
    let err = other.storage().create_bucket("det-ckpt", "us-west-2").await.unwrap_err();
    assert!(err.is_already_exists());
    assert_eq!(detcloud_fake::error_code(&err), "BucketAlreadyExists");
    // Another account's bucket is not theirs to read or change.
    denied(other.storage().describe_bucket("det-ckpt").await);
    denied(other.storage().put_object("det-ckpt", "k", b"x").await);
    assert!(other.storage().describe_bucket("nope-bucket").await.unwrap_err().is_not_found());
    // Buckets are not regional: every region's view sees them.
    assert_eq!(cloud.with_region("eu-west-1").storage().describe_bucket("det-ckpt").await.unwrap().region, "us-west-2");
}

#[tokio::test]
async fn a_bucket_with_objects_cannot_be_deleted() {
    let cloud = customer();
    let s3 = cloud.storage();
    s3.create_bucket("det-ckpt", "us-west-2").await.unwrap();
    s3.put_object("det-ckpt", "a/1", b"one").await.unwrap();
    s3.put_object("det-ckpt", "a/2", b"two").await.unwrap();
    s3.put_object("det-ckpt", "a/2", b"two again").await.unwrap();
    assert_eq!(s3.describe_bucket("det-ckpt").await.unwrap().object_count, 2);
    let message = conflict_message(s3.delete_bucket("det-ckpt").await);
    assert!(message.starts_with("BucketNotEmpty"), "{message}");
    assert_eq!(s3.empty_bucket("det-ckpt").await.unwrap(), 2);
    assert_eq!(s3.empty_bucket("det-ckpt").await.unwrap(), 0);
    s3.delete_bucket("det-ckpt").await.unwrap();
    assert!(s3.delete_bucket("det-ckpt").await.unwrap_err().is_not_found());
    assert!(s3.put_object("det-ckpt", "a", b"").await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn encryption_and_policy_are_stored_and_described() {
    let cloud = customer();
    let s3 = cloud.storage();
    s3.create_bucket("det-ckpt", "eu-west-1").await.unwrap();
    let fresh = s3.describe_bucket("det-ckpt").await.unwrap();
    assert_eq!(fresh.region, "eu-west-1");
    assert_eq!(fresh.encryption, Some(BucketEncryption::S3Managed), "S3 encrypts new buckets by default");
    assert_eq!(fresh.policy, None);
    s3.put_bucket_encryption("det-ckpt", &BucketEncryption::Kms(None)).await.unwrap();
    s3.put_bucket_policy("det-ckpt", &tls_only("det-ckpt")).await.unwrap();
    let described = s3.describe_bucket("det-ckpt").await.unwrap();
    assert_eq!(described.encryption, Some(BucketEncryption::Kms(None)));
    assert_eq!(described.policy, Some(tls_only("det-ckpt")));
    // A policy about another bucket, or without a principal, is malformed.
    let message = invalid_message(s3.put_bucket_policy("det-ckpt", &tls_only("other")).await);
    assert!(message.starts_with("MalformedPolicy"), "{message}");
    invalid_message(s3.put_bucket_policy("det-ckpt", &allow(&["s3:GetObject"], &["arn:aws:s3:::det-ckpt/*"])).await);
}

#[tokio::test]
async fn bucket_policies_are_evaluated_with_secure_transport() {
    let (cloud, session) = session_allowing(&["s3:PutObject"]).await;
    let s3 = cloud.storage();
    s3.create_bucket("det-ckpt", "us-west-2").await.unwrap();
    s3.put_bucket_policy("det-ckpt", &tls_only("det-ckpt")).await.unwrap();
    // Requests travel over TLS: the deny does not apply (moto gets this wrong).
    s3.put_object("det-ckpt", "checkpoint-1", b"data").await.unwrap();
    s3.describe_bucket("det-ckpt").await.unwrap();
    session.storage().put_object("det-ckpt", "checkpoint-2", b"data").await.unwrap();

    // An unconditional deny binds even the owner.
    s3.put_bucket_policy("det-ckpt", &deny_put("det-ckpt")).await.unwrap();
    let (action, message) = denied(s3.put_object("det-ckpt", "checkpoint-3", b"data").await);
    assert_eq!(action.as_deref(), Some("s3:PutObject"));
    assert!(message.ends_with("with an explicit deny in a resource-based policy"), "{message}");
    assert_eq!(s3.describe_bucket("det-ckpt").await.unwrap().object_count, 2);
}

#[tokio::test]
async fn bucket_calls_need_their_s3_actions() {
    let (admin, session) = session_allowing(&["s3:GetBucketLocation", "s3:CreateBucket"]).await;
    admin.storage().create_bucket("det-ckpt", "us-west-2").await.unwrap();
    let (action, message) = denied(session.storage().describe_bucket("det-ckpt").await);
    assert_eq!(action.as_deref(), Some("s3:GetEncryptionConfiguration"));
    assert!(message.contains("on resource: arn:aws:s3:::det-ckpt "), "{message}");
    assert_eq!(session.storage().create_bucket("det-ckpt", "us-west-2").await.unwrap(), BucketCreation::AlreadyOwned);
    let (action, _) = denied(session.storage().empty_bucket("det-ckpt").await);
    assert_eq!(action.as_deref(), Some("s3:ListBucket"));
    admin.iam().put_inline_policy("deployer", "inline", &allow(&["s3:ListBucket"], &["*"])).await.unwrap();
    let (action, message) = denied(session.storage().empty_bucket("det-ckpt").await);
    assert_eq!(action.as_deref(), Some("s3:DeleteObject"));
    assert!(message.contains("arn:aws:s3:::det-ckpt/*"), "{message}");
    let err = session.storage().put_bucket_encryption("det-ckpt", &BucketEncryption::S3Managed).await.unwrap_err();
    assert!(matches!(err, Error::AccessDenied { action: Some(a), .. } if a == "s3:PutEncryptionConfiguration"));
}

#[tokio::test]
async fn a_bucket_policy_grants_within_and_across_accounts() {
    let (admin, session) = session_allowing(&["sts:GetCallerIdentity"]).await;
    admin.storage().create_bucket("det-ckpt", "us-west-2").await.unwrap();
    denied(session.storage().put_object("det-ckpt", "a", b"x").await);
    let vendor = admin.admin_of("222222222222");
    denied(vendor.storage().put_object("det-ckpt", "b", b"x").await);
    let grant = |principal: &str| Statement {
        principal: Some(detcloud_policy::PrincipalBlock::Only(Principal::single("AWS", principal))),
        ..Statement::allow(["s3:PutObject"], ["arn:aws:s3:::det-ckpt/*"])
    };
    let policy = PolicyDocument::new(vec![
        grant("arn:aws:iam::111111111111:role/deployer"),
        grant("arn:aws:iam::222222222222:root"),
    ]);
    admin.storage().put_bucket_policy("det-ckpt", &policy).await.unwrap();
    // Within the account, the bucket policy alone suffices; across accounts it is required.
    session.storage().put_object("det-ckpt", "a", b"x").await.unwrap();
    vendor.storage().put_object("det-ckpt", "b", b"x").await.unwrap();
    denied(vendor.storage().delete_bucket("det-ckpt").await);
    assert_eq!(admin.storage().describe_bucket("det-ckpt").await.unwrap().object_count, 2);
}
