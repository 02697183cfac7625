//! KMS over `aws-sdk-kms`.

use async_trait::async_trait;
use aws_sdk_kms::types::{GrantOperation, KeyMetadata, KeySpec, KeyUsageType, Tag};
use aws_sdk_kms::Client;
use detcloud_provider::{Key, Keys, Result, Tags};

use crate::error::{about, build_error, map, missing};

/// KMS through the AWS SDK.
#[derive(Debug, Clone)]
pub struct AwsKeys {
    client: Client,
}

impl AwsKeys {
    /// Wraps an SDK client.
    pub fn new(client: Client) -> Self {
        AwsKeys { client }
    }
}

fn key_of(m: &KeyMetadata) -> Key {
    Key {
        id: m.key_id().to_string(),
        arn: m.arn().unwrap_or_default().to_string(),
        state: m.key_state().map(|s| s.as_str().to_string()).unwrap_or_default(),
        manager: m.key_manager().map(|s| s.as_str().to_string()).unwrap_or_default(),
        usage: m.key_usage().map(|s| s.as_str().to_string()).unwrap_or_default(),
    }
}

#[async_trait]
impl Keys for AwsKeys {
    async fn create_key(&self, description: &str, tags: &Tags) -> Result<Key> {
        let tags = tags
            .iter()
            .map(|(k, v)| Tag::builder().tag_key(k).tag_value(v).build().map_err(build_error))
            .collect::<Result<Vec<_>>>()?;
        let out = self
            .client
            .create_key()
            .description(description)
            .key_usage(KeyUsageType::EncryptDecrypt)
            .key_spec(KeySpec::SymmetricDefault)
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(|e| map(e, about("key", description)))?;
        Ok(key_of(out.key_metadata().ok_or_else(|| missing("key metadata"))?))
    }

    async fn describe_key(&self, key_id: &str) -> Result<Key> {
        let out = self.client.describe_key().key_id(key_id).send().await.map_err(|e| map(e, about("key", key_id)))?;
        Ok(key_of(out.key_metadata().ok_or_else(|| missing("key metadata"))?))
    }

    async fn create_grant(&self, key_id: &str, grantee_principal: &str, operations: &[String]) -> Result<String> {
        let out = self
            .client
            .create_grant()
            .key_id(key_id)
            .grantee_principal(grantee_principal)
            .set_operations(Some(operations.iter().map(|o| GrantOperation::from(o.as_str())).collect()))
            .send()
            .await
            .map_err(|e| map(e, about("key", key_id)))?;
        Ok(out.grant_id().ok_or_else(|| missing("grant id"))?.to_string())
    }
}
