//! KMS: symmetric customer keys, aliases, grants, and the AWS managed keys every account has in
//! every region (`alias/aws/ebs`, `alias/aws/rds`, `alias/aws/s3`, `alias/aws/ssm`).

use std::collections::BTreeMap;

use async_trait::async_trait;
use detcloud_provider::{Error, Key, Keys, Result, Tags};
use serde::{Deserialize, Serialize};

use crate::call::Target;
use crate::region::{check_tags, At};
use crate::rng::{mix, HEX};
use crate::world::World;
use crate::FakeCloud;

/// The KMS state of one account in one region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KmsRegion {
    /// Customer managed keys, by id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) keys: BTreeMap<String, KeyRec>,
    /// Customer aliases (`alias/...`) and the key ids they name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) aliases: BTreeMap<String, String>,
    /// Grants, by id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) grants: BTreeMap<String, GrantRec>,
}

/// A customer managed key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyRec {
    pub(crate) id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) description: String,
    /// `Enabled` or `Disabled`.
    pub(crate) state: String,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub(crate) tags: Tags,
}

/// A grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GrantRec {
    pub(crate) key_id: String,
    pub(crate) grantee_principal: String,
    pub(crate) operations: Vec<String>,
}

/// The services with an AWS managed key.
const AWS_MANAGED: &[&str] = &["ebs", "rds", "s3", "ssm"];

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

/// The id of the AWS managed key of `service` in an account and region: stable, UUID-shaped.
fn aws_managed_id(account: &str, region: &str, service: &str) -> String {
    let seed = [account, "/", region, "/aws/", service].concat();
    crate::rng::SplitMix64::new(mix(detcloud_provider::tags::stable_hash(seed.as_bytes()))).uuid_shaped()
}

fn key_arn(at: At<'_>, id: &str) -> String {
    at.arn_of("kms", "key/", id)
}

/// A key reference resolved to a key id (and whether it is AWS managed), if it names one.
fn resolve_id(w: &World, at: At<'_>, reference: &str) -> Option<(String, bool)> {
    let prefix = format!("arn:aws:kms:{}:{}:", at.region, at.account());
    let local = match reference.strip_prefix("arn:aws:kms:") {
        Some(_) => reference.strip_prefix(&prefix)?,
        None => reference,
    };
    let kms = &w.region(at.account(), at.region).kms;
    let managed = |id: &str| AWS_MANAGED.iter().any(|s| aws_managed_id(at.account(), at.region, s) == id);
    if let Some(service) = local.strip_prefix("alias/aws/") {
        return AWS_MANAGED.contains(&service).then(|| (aws_managed_id(at.account(), at.region, service), true));
    }
    let id = match local.strip_prefix("key/") {
        Some(id) => id.to_string(),
        None if local.starts_with("alias/") => kms.aliases.get(local)?.clone(),
        None => local.to_string(),
    };
    if kms.keys.contains_key(&id) {
        Some((id, false))
    } else if managed(&id) {
        Some((id, true))
    } else {
        None
    }
}

fn describe(w: &World, at: At<'_>, reference: &str) -> Result<Key> {
    let (id, managed) = resolve_id(w, at, reference).ok_or_else(|| Error::not_found("KMS key", reference))?;
    let state =
        if managed { "Enabled".to_string() } else { w.region(at.account(), at.region).kms.keys[&id].state.clone() };
    Ok(Key {
        arn: key_arn(at, &id),
        id,
        state,
        manager: if managed { "AWS" } else { "CUSTOMER" }.to_string(),
        usage: "ENCRYPT_DECRYPT".to_string(),
    })
}

/// The ARN of an enabled key named by `reference` (id, ARN or alias), for services that encrypt
/// with it: NotFound for a missing key, InvalidInput for a disabled one.
pub(crate) fn usable_key(w: &World, at: At<'_>, reference: &str) -> Result<String> {
    let key = describe(w, at, reference)?;
    if !key.is_usable() {
        return Err(Error::invalid(format!("KMSInvalidStateException: {} is disabled.", key.arn)));
    }
    Ok(key.arn)
}

/// The ARN of the AWS managed key of `service` (`rds`, `ssm`, ...).
pub(crate) fn aws_managed_arn(at: At<'_>, service: &str) -> String {
    key_arn(at, &aws_managed_id(at.account(), at.region, service))
}

/// The ARN a key reference is authorized against: the key's, once resolved.
pub(crate) fn target_arn(w: &World, at: At<'_>, reference: &str) -> String {
    match resolve_id(w, at, reference) {
        Some((id, _)) => key_arn(at, &id),
        None if reference.starts_with("arn:") => reference.to_string(),
        None if reference.starts_with("alias/") => at.arn("kms", reference),
        None => key_arn(at, reference),
    }
}

/// True for a customer managed key (whose use needs `kms:` permissions of the caller).
pub(crate) fn is_customer_key(w: &World, at: At<'_>, reference: &str) -> bool {
    resolve_id(w, at, reference).is_some_and(|(_, managed)| !managed)
}

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
