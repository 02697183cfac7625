//! KMS: keys, aliases, grants.

use detcloud_provider::{Cloud, Key};

use crate::fixtures::account;
use crate::kit::{ensure, ensure_eq, expect_err, skipped, Ctx, Needs, Scope, Step, Want};
use crate::{Capabilities, CaseResult, Namer};

fn check_usable(key: &Key, manager: &str, what: &str) -> Step<()> {
    ensure!(key.is_usable(), "{what}: not usable: {key:?}");
    ensure_eq!(key.manager, manager, "{what}: manager");
    ensure!(
        key.arn.starts_with("arn:aws:kms:") && key.arn.ends_with(&format!("key/{}", key.id)),
        "{what}: ARN {:?}",
        key.arn
    );
    Ok(())
}

/// A new key is enabled, customer-managed and symmetric, and describes by id and by ARN.
pub async fn key_create_describe(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("key_create_describe", cloud, caps, names);
    s.run(Needs::NONE, async {
        let keys = s.cloud.keys();
        let key = keys.create_key("detcloud conformance", &s.tags()).await.ctx("create_key")?;
        check_usable(&key, "CUSTOMER", "create_key")?;
        ensure_eq!(key.state, "Enabled", "state");
        ensure_eq!(key.usage, "ENCRYPT_DECRYPT", "usage");
        let by_id = keys.describe_key(&key.id).await.ctx("describe_key by id")?;
        ensure_eq!(by_id, key, "describe_key by id");
        let by_arn = keys.describe_key(&key.arn).await.ctx("describe_key by ARN")?;
        ensure_eq!(by_arn.id, key.id, "describe_key by ARN");
        Ok(())
    })
    .await
}

/// An AWS managed key describes by its alias (`alias/aws/ebs`) as a usable key, the same by id.
pub async fn key_describe_by_alias(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("key_describe_by_alias", cloud, caps, names);
    s.run(Needs::NONE, async {
        let keys = s.cloud.keys();
        let key = keys.describe_key("alias/aws/ebs").await.ctx("describe_key(alias/aws/ebs)")?;
        check_usable(&key, &key.manager, "alias/aws/ebs")?;
        ensure_eq!(keys.describe_key(&key.id).await.ctx("describe_key by id")?, key, "the same key by id");
        Ok(())
    })
    .await
}

/// The key behind `alias/aws/ebs` is AWS-managed.
pub async fn aws_managed_alias_is_aws_managed(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.aws_managed_keys {
        return skipped("aws_managed_keys", "the keys behind alias/aws/* read as customer-managed");
    }
    let s = Scope::new("aws_managed_alias_is_aws_managed", cloud, caps, names);
    s.run(Needs::NONE, async {
        let key = s.cloud.keys().describe_key("alias/aws/ebs").await.ctx("describe_key(alias/aws/ebs)")?;
        ensure_eq!(key.manager, "AWS", "manager of alias/aws/ebs");
        Ok(())
    })
    .await
}

/// A grant for the account's root on a new key returns a grant id.
pub async fn key_grant(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("key_grant", cloud, caps, names);
    s.run(Needs::NONE, async {
        let account = account(&s).await?;
        let keys = s.cloud.keys();
        let key = keys.create_key("detcloud conformance grant", &s.tags()).await.ctx("create_key")?;
        let grantee = format!("arn:aws:iam::{account}:root");
        let operations: Vec<String> = ["Encrypt", "Decrypt", "GenerateDataKey"].map(String::from).to_vec();
        let grant = keys.create_grant(&key.id, &grantee, &operations).await.ctx("create_grant")?;
        ensure!(!grant.is_empty(), "create_grant returned an empty grant id");
        Ok(())
    })
    .await
}

/// Describing a key id or alias that does not exist fails with NotFound.
pub async fn missing_key_not_found(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("missing_key_not_found", cloud, caps, names);
    s.run(Needs::NONE, async {
        let keys = s.cloud.keys();
        let missing = keys.describe_key("00000000-0000-4000-8000-000000000000").await;
        expect_err(missing, Want::NotFound, "describe_key of an id")?;
        let alias = format!("alias/{}", s.name("missing"));
        expect_err(keys.describe_key(&alias).await, Want::NotFound, "describe_key of an alias")?;
        Ok(())
    })
    .await
}
