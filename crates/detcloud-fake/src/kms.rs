//! KMS: symmetric customer keys, aliases, grants, and the AWS managed keys every account has in
//! every region (`alias/aws/ebs`, `alias/aws/rds`, `alias/aws/s3`, `alias/aws/ssm`).

use async_trait::async_trait;
use detcloud_provider::{Error, Key, Keys, Result, Tags};

use crate::cloud::FakeCloud;
use crate::query::{describe, resolve_id, target_arn};
use crate::region::{check_tags, At};
use crate::rng::HEX;
use crate::state::kms::{GrantRec, KeyRec};
use crate::target::Target;
use crate::world::World;

/// The grant operations KMS knows.
const GRANT_OPERATIONS: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "Verify",
    "GetPublicKey",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
];

fn create_key(w: &mut World, at: At<'_>, description: &str, tags: &Tags) -> Result<Key> {
    if description.chars().count() > 8192 {
        return Err(Error::invalid("ValidationException: Description must be at most 8192 characters"));
    }
    check_tags(tags)?;
    let id = w.ids.uuid();
    let rec =
        KeyRec { id: id.clone(), description: description.to_string(), state: "Enabled".into(), tags: tags.clone() };
    w.region_mut(at.account(), at.region).kms.keys.insert(id.clone(), rec);
    describe(w, at, &id)
}

fn create_grant(w: &mut World, at: At<'_>, reference: &str, grantee: &str, operations: &[String]) -> Result<String> {
    let key = describe(w, at, reference)?;
    if grantee.is_empty() || grantee.len() > 256 {
        return Err(Error::invalid("ValidationException: GranteePrincipal must be 1-256 characters"));
    }
    if operations.is_empty() {
        return Err(Error::invalid("ValidationException: Operations must name at least one operation"));
    }
    if let Some(bad) = operations.iter().find(|o| !GRANT_OPERATIONS.contains(&o.as_str())) {
        return Err(Error::invalid(format!("ValidationException: {bad} is not a grant operation")));
    }
    if !key.is_usable() {
        return Err(Error::invalid(format!("KMSInvalidStateException: {} is disabled.", key.arn)));
    }
    let id = w.ids.string(HEX, 64);
    let grant = GrantRec { key_id: key.id, grantee_principal: grantee.to_string(), operations: operations.to_vec() };
    w.region_mut(at.account(), at.region).kms.grants.insert(id.clone(), grant);
    Ok(id)
}

#[async_trait]
impl Keys for FakeCloud {
    async fn create_key(&self, description: &str, tags: &Tags) -> Result<Key> {
        self.regional(
            "kms:CreateKey",
            |_, _| Target::new("*").with_request_tags(tags, Some("kms:TagResource")),
            |w, at| create_key(w, at, description, tags),
        )
        .await
    }

    async fn describe_key(&self, key_id: &str) -> Result<Key> {
        self.regional(
            "kms:DescribeKey",
            |w, at| Target::new(target_arn(w, at, key_id)),
            |w, at| describe(w, at, key_id),
        )
        .await
    }

    async fn create_grant(&self, key_id: &str, grantee_principal: &str, operations: &[String]) -> Result<String> {
        self.regional(
            "kms:CreateGrant",
            |w, at| {
                Target::new(target_arn(w, at, key_id))
                    .with("kms:GranteePrincipal", vec![grantee_principal.to_string()])
                    .with("kms:GrantOperations", operations.to_vec())
            },
            |w, at| create_grant(w, at, key_id, grantee_principal, operations),
        )
        .await
    }
}

impl FakeCloud {
    /// Creates the alias `alias/...` for a customer key of this view's account and region
    /// (`kms:CreateAlias`, which the contract lacks). A test helper: not logged, not authorized.
    pub fn create_alias(&self, alias: &str, key_id: &str) -> Result<()> {
        let mut shared = self.lock();
        let at = At::unchecked(&self.caller, &self.region);
        let w = &mut shared.world;
        let name = alias.strip_prefix("alias/").unwrap_or("");
        if name.is_empty()
            || alias.starts_with("alias/aws/")
            || alias.len() > 256
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c))
        {
            return Err(Error::invalid(format!(
                "ValidationException: {alias} is not a valid alias name (alias/ and letters, digits, / _ -; not alias/aws/)"
            )));
        }
        let (id, managed) = resolve_id(w, at, key_id).ok_or_else(|| Error::not_found("KMS key", key_id))?;
        if managed {
            return Err(Error::invalid("ValidationException: an alias cannot name an AWS managed key"));
        }
        let kms = &mut w.region_mut(at.account(), at.region).kms;
        if kms.aliases.contains_key(alias) {
            return Err(Error::already_exists("KMS alias", alias));
        }
        kms.aliases.insert(alias.to_string(), id);
        Ok(())
    }

    /// Disables a customer key of this view's account and region (`kms:DisableKey`): it stays
    /// describable (`Disabled`) but cannot encrypt. A test helper: not logged, not authorized.
    pub fn disable_key(&self, key_id: &str) -> Result<()> {
        let mut shared = self.lock();
        let at = At::unchecked(&self.caller, &self.region);
        let w = &mut shared.world;
        let (id, managed) = resolve_id(w, at, key_id).ok_or_else(|| Error::not_found("KMS key", key_id))?;
        if managed {
            return Err(Error::invalid("UnsupportedOperationException: AWS managed keys cannot be disabled"));
        }
        w.region_mut(at.account(), at.region).kms.keys.get_mut(&id).expect("resolved").state = "Disabled".into();
        Ok(())
    }
}
