//! S3's records: buckets, their policies, default encryption and objects.

use std::collections::BTreeMap;
use std::sync::Arc;

use detcloud_policy::eval::CompiledPolicy;
use detcloud_policy::PolicyDocument;
use detcloud_provider::BucketEncryption;
use serde::{Deserialize, Serialize};

/// A bucket, in its owner's account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BucketRec {
    pub(crate) region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) encryption: Option<EncryptionRec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) policy: Option<BucketPolicy>,
    /// Object sizes in bytes, by key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) objects: BTreeMap<String, u64>,
}

/// A bucket policy, compiled once: it is evaluated on every request to the bucket. Saved as the
/// document.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "PolicyDocument", into = "PolicyDocument")]
pub(crate) struct BucketPolicy(pub(crate) Arc<CompiledPolicy>);

impl From<PolicyDocument> for BucketPolicy {
    fn from(document: PolicyDocument) -> Self {
        BucketPolicy(Arc::new(CompiledPolicy::new(&document)))
    }
}

impl From<BucketPolicy> for PolicyDocument {
    fn from(policy: BucketPolicy) -> Self {
        policy.0.document().clone()
    }
}

impl PartialEq for BucketPolicy {
    fn eq(&self, other: &Self) -> bool {
        self.0.document() == other.0.document()
    }
}

/// Default encryption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum EncryptionRec {
    /// SSE-S3 (`AES256`).
    S3Managed,
    /// SSE-KMS; `None` for `aws/s3`.
    Kms { key_id: Option<String> },
}

impl EncryptionRec {
    pub(crate) fn from(e: &BucketEncryption) -> Self {
        match e {
            BucketEncryption::S3Managed => EncryptionRec::S3Managed,
            BucketEncryption::Kms(key_id) => EncryptionRec::Kms { key_id: key_id.clone() },
        }
    }

    pub(crate) fn to(&self) -> BucketEncryption {
        match self {
            EncryptionRec::S3Managed => BucketEncryption::S3Managed,
            EncryptionRec::Kms { key_id } => BucketEncryption::Kms(key_id.clone()),
        }
    }
}
