//! S3 with S3's rules: bucket names valid and unique across every account of the world, default
//! SSE-S3 encryption (as S3 applies since 2023), bucket policies that bind every request (an
//! explicit deny stops even the owner; requests travel over TLS, so `aws:SecureTransport` is
//! `true`), objects, and `BucketNotEmpty`.
//!
//! Objects keep their size only, not their bytes.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use async_trait::async_trait;
use detcloud_policy::{Arn, PolicyDocument};
use detcloud_provider::{Bucket, BucketCreation, BucketEncryption, Error, Result, Storage};

use crate::cloud::FakeCloud;
use crate::enforce::Caller;
use crate::region::is_region;
use crate::state::s3::{BucketPolicy, BucketRec, EncryptionRec};
use crate::target::{Check, Target};
use crate::world::World;

fn bucket_arn(name: &str) -> String {
    format!("arn:aws:s3:::{name}")
}

/// The bucket `name` and its owner, in whichever account holds it.
fn find<'w>(w: &'w World, name: &str) -> Option<(&'w str, &'w BucketRec)> {
    w.accounts.iter().find_map(|(account, a)| a.s3.get(name).map(|b| (account.as_str(), b)))
}

/// S3's bucket naming rules.
fn check_name(name: &str) -> Result<()> {
    let invalid = || Error::invalid(format!("InvalidBucketName: The specified bucket is not valid. ({name})"));
    let chars_ok = name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    let ends_ok = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !(3..=63).contains(&name.len())
        || !chars_ok
        || !ends_ok(name.bytes().next())
        || !ends_ok(name.bytes().last())
        || name.contains("..")
        || name.parse::<Ipv4Addr>().is_ok()
        || name.starts_with("xn--")
        || name.starts_with("sthree-")
        || name.ends_with("-s3alias")
        || name.ends_with("--ol-s3")
    {
        return Err(invalid());
    }
    Ok(())
}

fn no_such_bucket(name: &str) -> Error {
    Error::not_found("bucket", name)
}

/// The bucket `name` for a request by `caller` (authorization has already run: a bucket of another
/// account got here only through its policy).
fn bucket<'w>(w: &'w World, name: &str) -> Result<(&'w str, &'w BucketRec)> {
    find(w, name).ok_or_else(|| no_such_bucket(name))
}

fn bucket_mut<'w>(w: &'w mut World, name: &str) -> &'w mut BucketRec {
    w.accounts.values_mut().find_map(|a| a.s3.get_mut(name)).expect("checked before")
}

/// The target of a request on the bucket `name` (or an object in it): the owner and the bucket
/// policy come along.
fn bucket_target(w: &World, caller: &Caller, name: &str, resource: String) -> Target {
    let mut target = Target::new(resource);
    match find(w, name) {
        Some((owner, b)) => {
            target.owner = Some(owner.to_string());
            target.resource_policy = b.policy.as_ref().map(|p| Arc::clone(&p.0));
        }
        None => target.owner = Some(caller.account.clone()),
    }
    target
}

/// A bucket policy S3 accepts: principals, resources of this bucket, S3 actions.
fn check_policy(name: &str, policy: &PolicyDocument) -> Result<()> {
    let malformed = |what: &str| Error::invalid(format!("MalformedPolicy: {what}"));
    if policy.statements.is_empty() {
        return Err(malformed("Policy has no statements"));
    }
    if policy.to_json().len() > 20 * 1024 {
        return Err(malformed("Policies must be at most 20 KB"));
    }
    for st in &policy.statements {
        if st.principal.is_none() {
            return Err(malformed("Missing required field Principal"));
        }
        let resources = match &st.resource {
            Some(m) => m.patterns().to_vec(),
            None => return Err(malformed("Missing required field Resource")),
        };
        let own = bucket_arn(name);
        if !resources.iter().all(|r| *r == own || r.starts_with(&format!("{own}/"))) {
            return Err(malformed("Policy has invalid resource"));
        }
        if let Some(actions) = &st.action {
            if !actions.patterns().iter().all(|a| a == "*" || a.to_ascii_lowercase().starts_with("s3:")) {
                return Err(malformed("Policy has invalid action"));
            }
        }
    }
    Ok(())
}

#[async_trait]
impl Storage for FakeCloud {
    async fn create_bucket(&self, name: &str, region: &str) -> Result<BucketCreation> {
        self.call(
            "s3:CreateBucket",
            |_, c| {
                let mut target = Target::new(bucket_arn(name));
                target.owner = Some(c.account.clone());
                target
            },
            |w, c| {
                check_name(name)?;
                if !is_region(region) {
                    return Err(Error::invalid(format!(
                        "InvalidLocationConstraint: The specified location-constraint is not valid ({region})"
                    )));
                }
                match find(w, name) {
                    Some((owner, _)) if owner == c.account => return Ok(BucketCreation::AlreadyOwned),
                    Some(_) => return Err(Error::already_exists("bucket", name)),
                    None => {}
                }
                let rec = BucketRec {
                    region: region.to_string(),
                    encryption: Some(EncryptionRec::S3Managed),
                    policy: None,
                    objects: BTreeMap::new(),
                };
                w.account_mut(&c.account).s3.insert(name.to_string(), rec);
                Ok(BucketCreation::Created)
            },
        )
        .await
    }

    async fn put_bucket_encryption(&self, name: &str, encryption: &BucketEncryption) -> Result<()> {
        self.call(
            "s3:PutEncryptionConfiguration",
            |w, c| bucket_target(w, c, name, bucket_arn(name)),
            |w, _| {
                bucket(w, name)?;
                if let BucketEncryption::Kms(Some(key)) = encryption {
                    let ok = key.parse::<Arn>().is_ok_and(|a| a.service == "kms")
                        || key.starts_with("alias/")
                        || (key.len() == 36 && key.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'));
                    if !ok {
                        return Err(Error::invalid(format!(
                            "InvalidArgument: {key} is not a KMS key id, ARN or alias"
                        )));
                    }
                }
                bucket_mut(w, name).encryption = Some(EncryptionRec::from(encryption));
                Ok(())
            },
        )
        .await
    }

    async fn put_bucket_policy(&self, name: &str, policy: &PolicyDocument) -> Result<()> {
        self.call(
            "s3:PutBucketPolicy",
            |w, c| bucket_target(w, c, name, bucket_arn(name)),
            |w, _| {
                bucket(w, name)?;
                check_policy(name, policy)?;
                bucket_mut(w, name).policy = Some(BucketPolicy::from(policy.clone()));
                Ok(())
            },
        )
        .await
    }

    async fn delete_bucket(&self, name: &str) -> Result<()> {
        self.call(
            "s3:DeleteBucket",
            |w, c| bucket_target(w, c, name, bucket_arn(name)),
            |w, _| {
                let (owner, b) = bucket(w, name)?;
                if !b.objects.is_empty() {
                    return Err(Error::DependencyViolation {
                        message: format!("BucketNotEmpty: The bucket you tried to delete is not empty ({name})"),
                    });
                }
                let owner = owner.to_string();
                w.account_mut(&owner).s3.remove(name);
                Ok(())
            },
        )
        .await
    }

    async fn describe_bucket(&self, name: &str) -> Result<Bucket> {
        self.call(
            "s3:GetBucketLocation",
            |w, c| {
                bucket_target(w, c, name, bucket_arn(name))
                    .also("s3:GetEncryptionConfiguration")
                    .also("s3:GetBucketPolicy")
                    .also("s3:ListBucket")
            },
            |w, _| {
                let (_, b) = bucket(w, name)?;
                Ok(Bucket {
                    name: name.to_string(),
                    region: b.region.clone(),
                    encryption: b.encryption.as_ref().map(EncryptionRec::to),
                    policy: b.policy.as_ref().map(|p| p.0.document().clone()),
                    object_count: b.objects.len() as u64,
                })
            },
        )
        .await
    }

    async fn put_object(&self, bucket_name: &str, key: &str, body: &[u8]) -> Result<()> {
        self.call(
            "s3:PutObject",
            |w, c| bucket_target(w, c, bucket_name, format!("{}/{key}", bucket_arn(bucket_name))),
            |w, _| {
                bucket(w, bucket_name)?;
                if key.is_empty() || key.len() > 1024 {
                    return Err(Error::invalid("KeyTooLongError: Object keys are 1-1024 bytes"));
                }
                bucket_mut(w, bucket_name).objects.insert(key.to_string(), body.len() as u64);
                Ok(())
            },
        )
        .await
    }

    async fn empty_bucket(&self, name: &str) -> Result<u64> {
        self.call(
            "s3:ListBucket",
            |w, c| {
                bucket_target(w, c, name, bucket_arn(name))
                    .after(Check::new("s3:DeleteObject", format!("{}/*", bucket_arn(name))))
            },
            |w, _| {
                bucket(w, name)?;
                let objects = std::mem::take(&mut bucket_mut(w, name).objects);
                Ok(objects.len() as u64)
            },
        )
        .await
    }
}
