//! S3: checkpoint buckets.

use detcloud_policy::{ConditionValue, Effect, PolicyDocument, Principal, PrincipalBlock, Statement};
use detcloud_provider::{BucketCreation, BucketEncryption, Cloud};

use crate::kit::{ensure, ensure_eq, expect_err, Ctx, Needs, Res, Scope, Step, Want};
use crate::{Capabilities, CaseResult, Namer};

/// A policy that denies every request to the bucket that does not use TLS.
fn tls_only(bucket: &str) -> PolicyDocument {
    let mut deny = Statement::allow(["s3:*"], [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")])
        .with_sid("DenyInsecureTransport")
        .with_condition("Bool", "aws:SecureTransport", vec![ConditionValue::Bool(false)]);
    deny.effect = Effect::Deny;
    deny.principal = Some(PrincipalBlock::Only(Principal::Any));
    PolicyDocument::new(vec![deny])
}

/// A new bucket, tracked.
async fn bucket(s: &Scope<'_>) -> Step<String> {
    let name = s.name("bucket");
    let created = s.cloud.storage().create_bucket(&name, &s.cloud.region()).await.ctx("create_bucket")?;
    s.track(Res::Bucket(name.clone()));
    ensure_eq!(created, BucketCreation::Created, "create_bucket of a new name");
    Ok(name)
}

/// A bucket is created, answers AlreadyOwned when created again, describes in its region and
/// empty, deletes, and is then NotFound.
pub async fn bucket_lifecycle(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("bucket_lifecycle", cloud, caps, names);
    s.run(Needs::NONE, async {
        let storage = s.cloud.storage();
        let name = bucket(&s).await?;
        let again = storage.create_bucket(&name, &s.cloud.region()).await.ctx("create_bucket again")?;
        ensure_eq!(again, BucketCreation::AlreadyOwned, "create_bucket of an owned name");
        let described = storage.describe_bucket(&name).await.ctx("describe_bucket")?;
        ensure_eq!(described.name, name, "bucket name");
        ensure_eq!(described.region, s.cloud.region(), "bucket region");
        ensure_eq!(described.object_count, 0, "objects in a new bucket");
        ensure!(described.policy.is_none(), "a new bucket has a policy: {:?}", described.policy);
        storage.delete_bucket(&name).await.ctx("delete_bucket")?;
        s.forget(&Res::Bucket(name.clone()));
        expect_err(storage.describe_bucket(&name).await, Want::NotFound, "describe_bucket after delete")?;
        expect_err(storage.delete_bucket(&name).await, Want::NotFound, "delete_bucket twice")?;
        Ok(())
    })
    .await
}

/// Default encryption (SSE-KMS, then SSE-S3) and a TLS-only bucket policy show in describe_bucket.
pub async fn bucket_encryption_and_policy(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("bucket_encryption_and_policy", cloud, caps, names);
    s.run(Needs::NONE, async {
        let storage = s.cloud.storage();
        let name = bucket(&s).await?;
        storage.put_bucket_encryption(&name, &BucketEncryption::Kms(None)).await.ctx("put_bucket_encryption(KMS)")?;
        let described = storage.describe_bucket(&name).await.ctx("describe_bucket")?;
        ensure!(
            matches!(described.encryption, Some(BucketEncryption::Kms(_))),
            "encryption {:?}",
            described.encryption
        );
        storage.put_bucket_encryption(&name, &BucketEncryption::S3Managed).await.ctx("put_bucket_encryption(S3)")?;
        let policy = tls_only(&name);
        storage.put_bucket_policy(&name, &policy).await.ctx("put_bucket_policy")?;
        let described = storage.describe_bucket(&name).await.ctx("describe_bucket")?;
        ensure_eq!(described.encryption, Some(BucketEncryption::S3Managed), "encryption");
        let got = described.policy.ok_or_else(|| crate::kit::Fail("describe_bucket shows no policy".into()))?;
        ensure!(got.semantically_eq(&policy), "the bucket policy differs: {got}");
        Ok(())
    })
    .await
}

/// A bucket with objects cannot be deleted (DependencyViolation); emptied, it can.
pub async fn delete_non_empty_bucket_conflicts(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("delete_non_empty_bucket_conflicts", cloud, caps, names);
    s.run(Needs::NONE, async {
        let storage = s.cloud.storage();
        let name = bucket(&s).await?;
        storage.put_object(&name, "checkpoints/a", b"first").await.ctx("put_object")?;
        storage.put_object(&name, "checkpoints/b", b"second").await.ctx("put_object")?;
        ensure_eq!(storage.describe_bucket(&name).await.ctx("describe_bucket")?.object_count, 2, "objects");
        expect_err(storage.delete_bucket(&name).await, Want::DependencyViolation, "delete_bucket with objects")?;
        ensure_eq!(
            storage.describe_bucket(&name).await.ctx("describe_bucket")?.object_count,
            2,
            "objects after refusal"
        );
        ensure_eq!(storage.empty_bucket(&name).await.ctx("empty_bucket")?, 2, "objects deleted by empty_bucket");
        storage.delete_bucket(&name).await.ctx("delete_bucket once empty")?;
        s.forget(&Res::Bucket(name.clone()));
        Ok(())
    })
    .await
}
