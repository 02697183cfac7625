//! S3 on mocked SDK clients: bucket creation outcomes, describe_bucket's absent parts, emptying
//! in batches, and the S3 error codes.

use aws_sdk_s3::error::ErrorMetadata;
use aws_sdk_s3::operation::create_bucket::{CreateBucketError, CreateBucketOutput};
use aws_sdk_s3::operation::delete_bucket::DeleteBucketError;
use aws_sdk_s3::operation::delete_objects::DeleteObjectsOutput;
use aws_sdk_s3::operation::get_bucket_encryption::{GetBucketEncryptionError, GetBucketEncryptionOutput};
use aws_sdk_s3::operation::get_bucket_location::GetBucketLocationOutput;
use aws_sdk_s3::operation::get_bucket_policy::{GetBucketPolicyError, GetBucketPolicyOutput};
use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
use aws_sdk_s3::operation::put_bucket_encryption::PutBucketEncryptionOutput;
use aws_sdk_s3::types::error::BucketAlreadyOwnedByYou;
use aws_sdk_s3::types::{
    BucketLocationConstraint, Object, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use detcloud_aws::AwsStorage;
use detcloud_provider::{BucketCreation, BucketEncryption, Error, Storage};

fn meta(code: &str, message: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message(message).build()
}

fn no_retry(c: aws_sdk_s3::config::Builder) -> aws_sdk_s3::config::Builder {
    c.retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
}

fn objects(prefix: &str, n: usize) -> Vec<Object> {
    (0..n).map(|i| Object::builder().key(format!("{prefix}/{i}")).size(1).build()).collect()
}

#[tokio::test]
async fn create_bucket_outcomes() {
    let outside_us_east_1 = mock!(aws_sdk_s3::Client::create_bucket)
        .match_requests(|r| {
            r.bucket() == Some("det-new")
                && r.create_bucket_configuration().and_then(|c| c.location_constraint())
                    == Some(&BucketLocationConstraint::UsWest2)
        })
        .then_output(|| CreateBucketOutput::builder().build());
    let in_us_east_1 = mock!(aws_sdk_s3::Client::create_bucket)
        .match_requests(|r| r.bucket() == Some("det-east") && r.create_bucket_configuration().is_none())
        .then_output(|| CreateBucketOutput::builder().build());
    let owned =
        mock!(aws_sdk_s3::Client::create_bucket).match_requests(|r| r.bucket() == Some("det-mine")).then_error(|| {
            CreateBucketError::BucketAlreadyOwnedByYou(
                BucketAlreadyOwnedByYou::builder().meta(meta("BucketAlreadyOwnedByYou", "you own it")).build(),
            )
        });
    let taken =
        mock!(aws_sdk_s3::Client::create_bucket).match_requests(|r| r.bucket() == Some("det-taken")).then_error(|| {
            CreateBucketError::generic(meta("BucketAlreadyExists", "The requested bucket name is not available"))
        });
    let too_many =
        mock!(aws_sdk_s3::Client::create_bucket).match_requests(|r| r.bucket() == Some("det-101")).then_error(|| {
            CreateBucketError::generic(meta("TooManyBuckets", "You have attempted to create more buckets than allowed"))
        });
    let s3 = AwsStorage::new(mock_client!(
        aws_sdk_s3,
        RuleMode::MatchAny,
        [&outside_us_east_1, &in_us_east_1, &owned, &taken, &too_many],
        no_retry
    ));
    assert_eq!(s3.create_bucket("det-new", "us-west-2").await.unwrap(), BucketCreation::Created);
    assert_eq!(s3.create_bucket("det-east", "us-east-1").await.unwrap(), BucketCreation::Created);
    assert_eq!(s3.create_bucket("det-mine", "us-west-2").await.unwrap(), BucketCreation::AlreadyOwned);
    assert_eq!(
        s3.create_bucket("det-taken", "us-west-2").await.unwrap_err(),
        Error::already_exists("bucket", "det-taken")
    );
    match s3.create_bucket("det-101", "us-west-2").await.unwrap_err() {
        Error::QuotaExceeded { quota_code, .. } => assert_eq!(quota_code.as_deref(), Some("L-DC2B2D3D")),
        other => panic!("{other:?}"),
    }
    assert_eq!((outside_us_east_1.num_calls(), in_us_east_1.num_calls()), (1, 1));
}

#[tokio::test]
async fn put_bucket_encryption_maps_kms_and_s3_managed() {
    let kms = mock!(aws_sdk_s3::Client::put_bucket_encryption)
        .match_requests(|r| {
            let d = r
                .server_side_encryption_configuration()
                .and_then(|c| c.rules().first())
                .and_then(|r| r.apply_server_side_encryption_by_default());
            d.map(|d| (d.sse_algorithm().clone(), d.kms_master_key_id().map(str::to_string)))
                == Some((ServerSideEncryption::AwsKms, Some("alias/det".into())))
        })
        .then_output(|| PutBucketEncryptionOutput::builder().build());
    let sse_s3 = mock!(aws_sdk_s3::Client::put_bucket_encryption)
        .match_requests(|r| {
            r.server_side_encryption_configuration()
                .and_then(|c| c.rules().first())
                .and_then(|r| r.apply_server_side_encryption_by_default())
                .map(|d| d.sse_algorithm() == &ServerSideEncryption::Aes256)
                == Some(true)
        })
        .then_output(|| PutBucketEncryptionOutput::builder().build());
    let s3 = AwsStorage::new(mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&kms, &sse_s3]));
    s3.put_bucket_encryption("b", &BucketEncryption::Kms(Some("alias/det".into()))).await.unwrap();
    s3.put_bucket_encryption("b", &BucketEncryption::S3Managed).await.unwrap();
    assert_eq!((kms.num_calls(), sse_s3.num_calls()), (1, 1));
}

#[tokio::test]
async fn describe_bucket_with_and_without_encryption_and_policy() {
    let location = mock!(aws_sdk_s3::Client::get_bucket_location).then_output(|| {
        GetBucketLocationOutput::builder().location_constraint(BucketLocationConstraint::UsWest2).build()
    });
    let no_encryption = mock!(aws_sdk_s3::Client::get_bucket_encryption)
        .match_requests(|r| r.bucket() == Some("plain"))
        .then_error(|| {
            GetBucketEncryptionError::generic(meta(
                "ServerSideEncryptionConfigurationNotFoundError",
                "The server side encryption configuration was not found",
            ))
        });
    let encryption = mock!(aws_sdk_s3::Client::get_bucket_encryption)
        .match_requests(|r| r.bucket() == Some("full"))
        .then_output(|| {
            GetBucketEncryptionOutput::builder()
                .server_side_encryption_configuration(
                    ServerSideEncryptionConfiguration::builder()
                        .rules(
                            ServerSideEncryptionRule::builder()
                                .apply_server_side_encryption_by_default(
                                    ServerSideEncryptionByDefault::builder()
                                        .sse_algorithm(ServerSideEncryption::AwsKms)
                                        .build()
                                        .unwrap(),
                                )
                                .build(),
                        )
                        .build()
                        .unwrap(),
                )
                .build()
        });
    let no_policy = mock!(aws_sdk_s3::Client::get_bucket_policy)
        .match_requests(|r| r.bucket() == Some("plain"))
        .then_error(|| GetBucketPolicyError::generic(meta("NoSuchBucketPolicy", "The bucket policy does not exist")));
    let policy = mock!(aws_sdk_s3::Client::get_bucket_policy).match_requests(|r| r.bucket() == Some("full")).then_output(
        || {
            GetBucketPolicyOutput::builder()
                .policy(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::full/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#)
                .build()
        },
    );
    let page1 = mock!(aws_sdk_s3::Client::list_objects_v2)
        .match_requests(|r| r.continuation_token().is_none())
        .then_output(|| {
            ListObjectsV2Output::builder()
                .set_contents(Some(objects("a", 3)))
                .is_truncated(true)
                .next_continuation_token("c2")
                .build()
        });
    let page2 = mock!(aws_sdk_s3::Client::list_objects_v2)
        .match_requests(|r| r.continuation_token() == Some("c2"))
        .then_output(|| ListObjectsV2Output::builder().set_contents(Some(objects("b", 2))).is_truncated(false).build());
    let s3 = AwsStorage::new(mock_client!(
        aws_sdk_s3,
        RuleMode::MatchAny,
        [&location, &no_encryption, &encryption, &no_policy, &policy, &page1, &page2],
        no_retry
    ));
    let plain = s3.describe_bucket("plain").await.unwrap();
    assert_eq!(plain.region, "us-west-2");
    assert_eq!(plain.encryption, None);
    assert_eq!(plain.policy, None);
    assert_eq!(plain.object_count, 5);
    let full = s3.describe_bucket("full").await.unwrap();
    assert_eq!(full.encryption, Some(BucketEncryption::Kms(None)));
    assert_eq!(full.policy.map(|p| p.statements.len()), Some(1));
}

#[tokio::test]
async fn a_bucket_with_objects_is_not_deleted_and_emptying_goes_in_batches_of_1000() {
    let delete = mock!(aws_sdk_s3::Client::delete_bucket).then_error(|| {
        DeleteBucketError::generic(meta("BucketNotEmpty", "The bucket you tried to delete is not empty"))
    });
    let page1 = mock!(aws_sdk_s3::Client::list_objects_v2)
        .match_requests(|r| r.continuation_token().is_none())
        .then_output(|| {
            ListObjectsV2Output::builder()
                .set_contents(Some(objects("a", 1000)))
                .is_truncated(true)
                .next_continuation_token("c2")
                .build()
        });
    let page2 = mock!(aws_sdk_s3::Client::list_objects_v2)
        .match_requests(|r| r.continuation_token() == Some("c2"))
        .then_output(|| {
            ListObjectsV2Output::builder().set_contents(Some(objects("b", 500))).is_truncated(false).build()
        });
    let batch_1000 = mock!(aws_sdk_s3::Client::delete_objects)
        .match_requests(|r| r.delete().map(|d| d.objects().len()) == Some(1000))
        .then_output(|| DeleteObjectsOutput::builder().build());
    let batch_500 = mock!(aws_sdk_s3::Client::delete_objects)
        .match_requests(|r| r.delete().map(|d| d.objects().len()) == Some(500))
        .then_output(|| DeleteObjectsOutput::builder().build());
    let s3 = AwsStorage::new(mock_client!(
        aws_sdk_s3,
        RuleMode::MatchAny,
        [&delete, &page1, &page2, &batch_1000, &batch_500],
        no_retry
    ));
    assert!(matches!(s3.delete_bucket("b").await.unwrap_err(), Error::DependencyViolation { .. }));
    assert_eq!(s3.empty_bucket("b").await.unwrap(), 1500);
    assert_eq!((batch_1000.num_calls(), batch_500.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_missing_bucket_is_not_found() {
    let rule = mock!(aws_sdk_s3::Client::get_bucket_location).then_error(|| {
        aws_sdk_s3::operation::get_bucket_location::GetBucketLocationError::generic(meta(
            "NoSuchBucket",
            "The specified bucket does not exist",
        ))
    });
    let s3 = AwsStorage::new(mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&rule], no_retry));
    assert_eq!(s3.describe_bucket("gone").await.unwrap_err(), Error::not_found("bucket", "gone"));
}
