//! RDS on mocked SDK clients: cluster mapping (tags, times), pagination, request shapes, the
//! RDS error codes, and passwords kept out of errors.

use std::time::{Duration, UNIX_EPOCH};

use aws_sdk_rds::error::ErrorMetadata;
use aws_sdk_rds::operation::create_db_cluster::CreateDBClusterError;
use aws_sdk_rds::operation::delete_db_cluster::{DeleteDBClusterError, DeleteDbClusterOutput};
use aws_sdk_rds::operation::delete_db_subnet_group::DeleteDBSubnetGroupError;
use aws_sdk_rds::operation::describe_db_clusters::{DescribeDBClustersError, DescribeDbClustersOutput};
use aws_sdk_rds::operation::restore_db_cluster_to_point_in_time::RestoreDbClusterToPointInTimeOutput;
use aws_sdk_rds::types::{DbCluster, DbClusterMember, Tag};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use aws_smithy_types::DateTime;
use detcloud_aws::AwsDatabase;
use detcloud_provider::{CreateDbCluster, Database, Error, Filter, RestoreDbCluster, Secret, Tags};

fn meta(code: &str, message: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message(message).build()
}

fn no_retry(c: aws_sdk_rds::config::Builder) -> aws_sdk_rds::config::Builder {
    c.retry_config(aws_sdk_rds::config::retry::RetryConfig::disabled())
}

fn cluster(id: &str, cluster_tag: &str) -> DbCluster {
    DbCluster::builder()
        .db_cluster_identifier(id)
        .db_cluster_arn(format!("arn:aws:rds:us-west-2:123456789012:cluster:{id}"))
        .status("available")
        .engine("aurora-postgresql")
        .endpoint(format!("{id}.cluster-abc.us-west-2.rds.amazonaws.com"))
        .port(5432)
        .master_username("postgres")
        .db_subnet_group("det-db")
        .backup_retention_period(7)
        .earliest_restorable_time(DateTime::from_secs(1_700_000_000))
        .latest_restorable_time(DateTime::from_secs(1_700_086_400))
        .storage_encrypted(true)
        .kms_key_id("arn:aws:kms:us-west-2:123456789012:key/k")
        .db_cluster_members(DbClusterMember::builder().db_instance_identifier(format!("{id}-1")).build())
        .tag_list(Tag::builder().key("detcloud:managed-by").value("detcloud").build())
        .tag_list(Tag::builder().key("detcloud:cluster").value(cluster_tag).build())
        .build()
}

fn create_request(password: &str) -> CreateDbCluster {
    CreateDbCluster {
        id: "det-db".into(),
        engine: "aurora-postgresql".into(),
        engine_version: Some("16.4".into()),
        database_name: Some("determined".into()),
        master_username: "postgres".into(),
        master_password: Secret::new(password),
        subnet_group: "det-db".into(),
        security_group_ids: vec!["sg-1".into()],
        backup_retention_days: 7,
        storage_encrypted: true,
        kms_key_id: None,
        deletion_protection: false,
        tags: Tags::new(),
    }
}

#[tokio::test]
async fn describe_db_clusters_pages_maps_and_filters_tags_in_memory() {
    let page1 = mock!(aws_sdk_rds::Client::describe_db_clusters)
        .match_requests(|r| r.marker().is_none() && r.db_cluster_identifier().is_none())
        .then_output(|| {
            DescribeDbClustersOutput::builder()
                .db_clusters(cluster("a", "c1"))
                .db_clusters(cluster("b", "c2"))
                .marker("m2")
                .build()
        });
    let page2 = mock!(aws_sdk_rds::Client::describe_db_clusters)
        .match_requests(|r| r.marker() == Some("m2"))
        .then_output(|| DescribeDbClustersOutput::builder().db_clusters(cluster("c", "c1")).build());
    let db = AwsDatabase::new(mock_client!(aws_sdk_rds, RuleMode::MatchAny, [&page1, &page2]));

    let mine = db.describe_db_clusters(&Filter::tag("detcloud:cluster", "c1")).await.unwrap();
    let ids: Vec<&str> = mine.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["a", "c"]);
    let a = &mine[0];
    assert_eq!(a.arn, "arn:aws:rds:us-west-2:123456789012:cluster:a");
    assert_eq!((a.status.as_str(), a.engine.as_str(), a.port), ("available", "aurora-postgresql", Some(5432)));
    assert_eq!(a.subnet_group.as_deref(), Some("det-db"));
    assert_eq!(a.backup_retention_days, 7);
    assert_eq!(a.earliest_restorable_time, Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000)));
    assert_eq!(a.latest_restorable_time, Some(UNIX_EPOCH + Duration::from_secs(1_700_086_400)));
    assert!(a.storage_encrypted);
    assert_eq!(a.member_instance_ids, ["a-1"]);
    assert_eq!(a.tags.get("detcloud:managed-by").map(String::as_str), Some("detcloud"));
    assert_eq!((page1.num_calls(), page2.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_missing_cluster_is_not_found() {
    let rule = mock!(aws_sdk_rds::Client::describe_db_clusters)
        .match_requests(|r| r.db_cluster_identifier() == Some("nope"))
        .then_error(|| DescribeDBClustersError::generic(meta("DBClusterNotFoundFault", "DBCluster nope not found.")));
    let db = AwsDatabase::new(mock_client!(aws_sdk_rds, RuleMode::MatchAny, [&rule], no_retry));
    assert_eq!(db.describe_db_clusters(&Filter::id("nope")).await.unwrap_err(), Error::not_found("db cluster", "nope"));
}

#[tokio::test]
async fn create_db_cluster_maps_duplicates_and_quota_and_never_leaks_the_password() {
    let rule = mock!(aws_sdk_rds::Client::create_db_cluster)
        .sequence()
        .error(|| CreateDBClusterError::generic(meta("DBClusterAlreadyExistsFault", "DB Cluster already exists")))
        .error(|| CreateDBClusterError::generic(meta("DBClusterQuotaExceededFault", "too many clusters")))
        .error(|| {
            CreateDBClusterError::generic(meta(
                "InvalidParameterValue",
                "The parameter MasterUserPassword hunter2-secret is not a valid password.",
            ))
        })
        .build();
    let db = AwsDatabase::new(mock_client!(aws_sdk_rds, RuleMode::Sequential, [&rule], no_retry));
    assert!(db.create_db_cluster(create_request("hunter2-secret")).await.unwrap_err().is_already_exists());
    assert!(matches!(db.create_db_cluster(create_request("hunter2-secret")).await, Err(Error::QuotaExceeded { .. })));
    let err = db.create_db_cluster(create_request("hunter2-secret")).await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains("hunter2-secret"), "{text}");
    assert!(text.contains("<redacted>"), "{text}");
}

#[tokio::test]
async fn delete_db_cluster_keeps_a_final_snapshot_only_when_named() {
    let with = mock!(aws_sdk_rds::Client::delete_db_cluster)
        .match_requests(|r| {
            r.skip_final_snapshot() == Some(false) && r.final_db_snapshot_identifier() == Some("final-1")
        })
        .then_output(|| DeleteDbClusterOutput::builder().build());
    let without = mock!(aws_sdk_rds::Client::delete_db_cluster)
        .match_requests(|r| r.skip_final_snapshot() == Some(true) && r.final_db_snapshot_identifier().is_none())
        .then_output(|| DeleteDbClusterOutput::builder().build());
    let db = AwsDatabase::new(mock_client!(aws_sdk_rds, RuleMode::MatchAny, [&with, &without]));
    db.delete_db_cluster("det-db", Some("final-1")).await.unwrap();
    db.delete_db_cluster("det-db", None).await.unwrap();
    assert_eq!((with.num_calls(), without.num_calls()), (1, 1));
}

#[tokio::test]
async fn cluster_and_subnet_group_states_block_deletion() {
    let cluster = mock!(aws_sdk_rds::Client::delete_db_cluster).then_error(|| {
        DeleteDBClusterError::generic(meta(
            "InvalidDBClusterStateFault",
            "Cluster cannot be deleted, it still contains DB instances in non-deleting state.",
        ))
    });
    let group = mock!(aws_sdk_rds::Client::delete_db_subnet_group).then_error(|| {
        DeleteDBSubnetGroupError::generic(meta(
            "InvalidDBSubnetGroupStateFault",
            "Cannot delete the subnet group because at least one database instance: det-db-1 is still using it.",
        ))
    });
    let db = AwsDatabase::new(mock_client!(aws_sdk_rds, RuleMode::MatchAny, [&cluster, &group], no_retry));
    assert!(matches!(db.delete_db_cluster("det-db", None).await.unwrap_err(), Error::InvalidInput { .. }));
    assert!(matches!(db.delete_db_subnet_group("det-db").await.unwrap_err(), Error::DependencyViolation { .. }));
}

#[tokio::test]
async fn restore_uses_the_latest_restorable_time_without_a_time() {
    let latest = mock!(aws_sdk_rds::Client::restore_db_cluster_to_point_in_time)
        .match_requests(|r| {
            r.use_latest_restorable_time() == Some(true)
                && r.restore_to_time().is_none()
                && r.source_db_cluster_identifier() == Some("det-db")
                && r.db_cluster_identifier() == Some("det-db-restored")
        })
        .then_output(|| {
            RestoreDbClusterToPointInTimeOutput::builder().db_cluster(cluster("det-db-restored", "c1")).build()
        });
    let at = mock!(aws_sdk_rds::Client::restore_db_cluster_to_point_in_time)
        .match_requests(|r| r.restore_to_time() == Some(&DateTime::from_secs(1_700_050_000)))
        .then_output(|| {
            RestoreDbClusterToPointInTimeOutput::builder().db_cluster(cluster("det-db-restored", "c1")).build()
        });
    let db = AwsDatabase::new(mock_client!(aws_sdk_rds, RuleMode::MatchAny, [&latest, &at]));
    let mut req = RestoreDbCluster {
        source_id: "det-db".into(),
        target_id: "det-db-restored".into(),
        restore_time: None,
        subnet_group: "det-db".into(),
        security_group_ids: vec![],
        kms_key_id: None,
        tags: Tags::new(),
    };
    assert_eq!(db.restore_db_cluster(req.clone()).await.unwrap().id, "det-db-restored");
    req.restore_time = Some(UNIX_EPOCH + Duration::from_secs(1_700_050_000));
    db.restore_db_cluster(req).await.unwrap();
    assert_eq!((latest.num_calls(), at.num_calls()), (1, 1));
}
