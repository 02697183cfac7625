//! S3 over `aws-sdk-s3`: checkpoint buckets.
//!
//! With an endpoint override (`--endpoint-url`, `AWS_ENDPOINT_URL`), the client uses path-style
//! addressing: local emulators serve `http://host:port/bucket`, not `http://bucket.host:port`.
//!
//! `create_bucket` sends the request to the bucket's region, and `describe_bucket` reads the
//! encryption, policy and objects in the region `GetBucketLocation` names; the other calls act in
//! the client's region (where detcloud keeps its buckets).

use async_trait::async_trait;
use aws_sdk_s3::config::Region;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};
use aws_sdk_s3::Client;
use detcloud_policy::PolicyDocument;
use detcloud_provider::{Bucket, BucketCreation, BucketEncryption, Error, Result, Storage};

use crate::error::{about, build_error, code_of, done, map};

/// S3 through the AWS SDK.
#[derive(Debug, Clone)]
pub struct AwsStorage {
    client: Client,
}

impl AwsStorage {
    /// Wraps an SDK client ([`AwsCloud`](crate::AwsCloud) builds one with path-style addressing
    /// when an endpoint override is configured).
    pub fn new(client: Client) -> Self {
        AwsStorage { client }
    }
}

/// The region of a `GetBucketLocation` answer: none means `us-east-1`, `EU` means `eu-west-1`.
pub(crate) fn region_of(location: Option<&BucketLocationConstraint>) -> String {
    match location.map(|l| l.as_str()) {
        None | Some("") => "us-east-1".into(),
        Some("EU") => "eu-west-1".into(),
        Some(other) => other.to_string(),
    }
}

/// The bucket's default encryption as detcloud sees it.
fn encryption_of(config: &ServerSideEncryptionConfiguration) -> Option<BucketEncryption> {
    let default = config.rules().iter().find_map(|r| r.apply_server_side_encryption_by_default())?;
    Some(match default.sse_algorithm() {
        ServerSideEncryption::Aes256 => BucketEncryption::S3Managed,
        _ => BucketEncryption::Kms(default.kms_master_key_id().map(str::to_string)),
    })
}

/// A per-call override sending one request to (and signing it for) `region`.
fn in_region(region: &str) -> aws_sdk_s3::config::Builder {
    aws_sdk_s3::config::Builder::default().region(Region::new(region.to_string()))
}

/// S3's DeleteObjects takes at most 1,000 keys.
const DELETE_BATCH: usize = 1000;

#[async_trait]
impl Storage for AwsStorage {
    async fn create_bucket(&self, name: &str, region: &str) -> Result<BucketCreation> {
        let mut call = self.client.create_bucket().bucket(name);
        // us-east-1 takes no location constraint (and refuses one).
        if region != "us-east-1" {
            call = call.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region))
                    .build(),
            );
        }
        match call.customize().config_override(in_region(region)).send().await {
            Ok(_) => Ok(BucketCreation::Created),
            Err(e) if code_of(&e) == Some("BucketAlreadyOwnedByYou") => Ok(BucketCreation::AlreadyOwned),
            Err(e) => Err(map(e, about("bucket", name))),
        }
    }

    async fn put_bucket_encryption(&self, name: &str, encryption: &BucketEncryption) -> Result<()> {
        let default = match encryption {
            BucketEncryption::S3Managed => {
                ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256)
            }
            BucketEncryption::Kms(key) => ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::AwsKms)
                .set_kms_master_key_id(key.clone()),
        }
        .build()
        .map_err(build_error)?;
        let config = ServerSideEncryptionConfiguration::builder()
            .rules(
                ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(default)
                    .set_bucket_key_enabled(matches!(encryption, BucketEncryption::Kms(_)).then_some(true))
                    .build(),
            )
            .build()
            .map_err(build_error)?;
        let sent =
            self.client.put_bucket_encryption().bucket(name).server_side_encryption_configuration(config).send().await;
        done(sent, about("bucket", name))
    }

    async fn put_bucket_policy(&self, name: &str, policy: &PolicyDocument) -> Result<()> {
        let sent = self.client.put_bucket_policy().bucket(name).policy(policy.to_json()).send().await;
        done(sent, about("bucket", name))
    }

    async fn delete_bucket(&self, name: &str) -> Result<()> {
        let sent = self.client.delete_bucket().bucket(name).send().await;
        done(sent, about("bucket", name))
    }

    async fn describe_bucket(&self, name: &str) -> Result<Bucket> {
        let location =
            self.client.get_bucket_location().bucket(name).send().await.map_err(|e| map(e, about("bucket", name)))?;
        let region = region_of(location.location_constraint());
        let encryption = match self
            .client
            .get_bucket_encryption()
            .bucket(name)
            .customize()
            .config_override(in_region(&region))
            .send()
            .await
        {
            Ok(out) => out.server_side_encryption_configuration().and_then(encryption_of),
            Err(e) if code_of(&e) == Some("ServerSideEncryptionConfigurationNotFoundError") => None,
            Err(e) => return Err(map(e, about("bucket", name))),
        };
        let policy = match self
            .client
            .get_bucket_policy()
            .bucket(name)
            .customize()
            .config_override(in_region(&region))
            .send()
            .await
        {
            Ok(out) => match out.policy() {
                Some(text) if !text.trim().is_empty() => Some(
                    PolicyDocument::parse(text)
                        .map_err(|e| Error::Other { code: "UnreadablePolicy".into(), message: e.to_string() })?,
                ),
                _ => None,
            },
            Err(e) if code_of(&e) == Some("NoSuchBucketPolicy") => None,
            Err(e) => return Err(map(e, about("bucket", name))),
        };
        // Paginators take no per-call region: follow the continuation tokens by hand.
        let mut object_count = 0u64;
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(name)
                .set_continuation_token(token.take())
                .customize()
                .config_override(in_region(&region))
                .send()
                .await
                .map_err(|e| map(e, about("bucket", name)))?;
            object_count += page.contents().len() as u64;
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) && !next.is_empty() => token = Some(next.to_string()),
                _ => break,
            }
        }
        Ok(Bucket { name: name.to_string(), region, encryption, policy, object_count })
    }

    async fn put_object(&self, bucket: &str, key: &str, body: &[u8]) -> Result<()> {
        let sent = self.client.put_object().bucket(bucket).key(key).body(ByteStream::from(body.to_vec())).send().await;
        done(sent, about("bucket", bucket))
    }

    async fn empty_bucket(&self, name: &str) -> Result<u64> {
        // Collect every key first: deleting while listing would skip pages.
        let mut keys = Vec::new();
        let mut pages = self.client.list_objects_v2().bucket(name).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| map(e, about("bucket", name)))?;
            keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_string)));
        }
        let mut deleted = 0u64;
        for batch in keys.chunks(DELETE_BATCH) {
            let objects = batch
                .iter()
                .map(|k| ObjectIdentifier::builder().key(k).build().map_err(build_error))
                .collect::<Result<Vec<_>>>()?;
            let delete = Delete::builder().set_objects(Some(objects)).quiet(true).build().map_err(build_error)?;
            let out = self
                .client
                .delete_objects()
                .bucket(name)
                .delete(delete)
                .send()
                .await
                .map_err(|e| map(e, about("bucket", name)))?;
            if let Some(err) = out.errors().first() {
                return Err(Error::Other {
                    code: err.code().unwrap_or("DeleteObjectsFailed").to_string(),
                    message: format!(
                        "{} of {} objects not deleted, first {}: {}",
                        out.errors().len(),
                        batch.len(),
                        err.key().unwrap_or_default(),
                        err.message().unwrap_or_default()
                    ),
                });
            }
            deleted += batch.len() as u64;
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_constraints_name_regions() {
        assert_eq!(region_of(None), "us-east-1");
        assert_eq!(region_of(Some(&BucketLocationConstraint::from(""))), "us-east-1");
        assert_eq!(region_of(Some(&BucketLocationConstraint::Eu)), "eu-west-1");
        assert_eq!(region_of(Some(&BucketLocationConstraint::from("eu-central-1"))), "eu-central-1");
    }
}
