//! S3: checkpoint buckets.

use std::fmt;

use async_trait::async_trait;
use detcloud_policy::PolicyDocument;

use crate::Result;

/// What `create_bucket` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketCreation {
    /// A new bucket.
    Created,
    /// The bucket already existed and belongs to this account (`BucketAlreadyOwnedByYou`): the
    /// idempotent path, and the proof of ownership S3 offers without `s3:ListBucket`.
    AlreadyOwned,
}

/// Default encryption of a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketEncryption {
    /// SSE-S3 (`AES256`).
    S3Managed,
    /// SSE-KMS with this key (`None`: the AWS-managed `aws/s3` key).
    Kms(Option<String>),
}

/// What a bucket looks like (an inspection call; not granted to the cross-account role).
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    /// The name.
    pub name: String,
    /// Its region.
    pub region: String,
    /// Default encryption, if configured.
    pub encryption: Option<BucketEncryption>,
    /// The bucket policy, if any.
    pub policy: Option<PolicyDocument>,
    /// The number of objects.
    pub object_count: u64,
}

/// S3.
///
/// # Contract
/// - Bucket names are global: a name taken by another account fails with AlreadyExists
///   (`BucketAlreadyExists`); one this account owns answers [`BucketCreation::AlreadyOwned`],
///   except in `us-east-1`, where S3 answers its owner's repeated CreateBucket with a plain
///   success (reported as `Created`). Either way the bucket is the caller's.
/// - Deleting a bucket that holds objects fails with DependencyViolation (`BucketNotEmpty`):
///   checkpoints are never lost by accident.
#[async_trait]
pub trait Storage: Send + Sync + fmt::Debug + 'static {
    /// `s3:CreateBucket` in `region`.
    async fn create_bucket(&self, name: &str, region: &str) -> Result<BucketCreation>;
    /// `s3:PutEncryptionConfiguration` (the PutBucketEncryption API).
    async fn put_bucket_encryption(&self, name: &str, encryption: &BucketEncryption) -> Result<()>;
    /// `s3:PutBucketPolicy`.
    async fn put_bucket_policy(&self, name: &str, policy: &PolicyDocument) -> Result<()>;
    /// `s3:DeleteBucket`.
    async fn delete_bucket(&self, name: &str) -> Result<()>;
    /// `s3:GetBucketLocation` + `GetEncryptionConfiguration` + `GetBucketPolicy` + `ListBucket`.
    async fn describe_bucket(&self, name: &str) -> Result<Bucket>;
    /// `s3:PutObject` (tests and tooling).
    async fn put_object(&self, bucket: &str, key: &str, body: &[u8]) -> Result<()>;
    /// `s3:ListBucket` + `s3:DeleteObject` on every object: for `--purge` only.
    async fn empty_bucket(&self, name: &str) -> Result<u64>;
}
