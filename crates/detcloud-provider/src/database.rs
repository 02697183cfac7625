//! RDS: Aurora DB clusters, their instances, subnet groups and snapshots.

use std::fmt;
use std::time::SystemTime;

use async_trait::async_trait;

use crate::{Filter, Result, Secret, Tags};

/// A DB subnet group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbSubnetGroup {
    /// Its name.
    pub name: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Its subnets.
    pub subnet_ids: Vec<String>,
    /// Tags.
    pub tags: Tags,
}

/// A request to create an Aurora DB cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateDbCluster {
    /// The cluster identifier (1-63 letters, digits, hyphens; starts with a letter).
    pub id: String,
    /// `aurora-postgresql`.
    pub engine: String,
    /// The engine version, such as `16.4`; `None` for the default.
    pub engine_version: Option<String>,
    /// The initial database name.
    pub database_name: Option<String>,
    /// The master user.
    pub master_username: String,
    /// The master password (never logged).
    pub master_password: Secret,
    /// The DB subnet group.
    pub subnet_group: String,
    /// VPC security groups.
    pub security_group_ids: Vec<String>,
    /// Days of automated backups (1-35).
    pub backup_retention_days: u32,
    /// Encrypt storage.
    pub storage_encrypted: bool,
    /// The KMS key; `None` for the AWS-managed RDS key.
    pub kms_key_id: Option<String>,
    /// Refuse deletion until turned off.
    pub deletion_protection: bool,
    /// Tags.
    pub tags: Tags,
}

/// An Aurora DB cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbCluster {
    /// The identifier.
    pub id: String,
    /// The ARN.
    pub arn: String,
    /// `creating`, `available`, `modifying`, `backing-up`, `deleting`, ...
    pub status: String,
    /// The engine.
    pub engine: String,
    /// The writer endpoint.
    pub endpoint: Option<String>,
    /// The port.
    pub port: Option<u16>,
    /// The master user.
    pub master_username: String,
    /// The DB subnet group.
    pub subnet_group: Option<String>,
    /// Days of automated backups.
    pub backup_retention_days: u32,
    /// The earliest time a point-in-time restore can target.
    pub earliest_restorable_time: Option<SystemTime>,
    /// The latest time a point-in-time restore can target.
    pub latest_restorable_time: Option<SystemTime>,
    /// Storage encrypted.
    pub storage_encrypted: bool,
    /// The KMS key ARN.
    pub kms_key_id: Option<String>,
    /// Its instances' identifiers.
    pub member_instance_ids: Vec<String>,
    /// Tags (DescribeDBClusters returns them).
    pub tags: Tags,
}

/// A change to a DB cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModifyDbCluster {
    /// The cluster.
    pub id: String,
    /// New backup retention in days.
    pub backup_retention_days: Option<u32>,
    /// A new master password.
    pub master_password: Option<Secret>,
    /// New deletion protection.
    pub deletion_protection: Option<bool>,
}

/// A request to restore a cluster to a point in time, as a new cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreDbCluster {
    /// The source cluster.
    pub source_id: String,
    /// The new cluster's identifier.
    pub target_id: String,
    /// The time to restore to; `None` for the latest restorable time.
    pub restore_time: Option<SystemTime>,
    /// The DB subnet group.
    pub subnet_group: String,
    /// VPC security groups.
    pub security_group_ids: Vec<String>,
    /// The KMS key.
    pub kms_key_id: Option<String>,
    /// Tags.
    pub tags: Tags,
}

/// A request to create a DB instance in a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateDbInstance {
    /// The instance identifier.
    pub id: String,
    /// The cluster it joins.
    pub cluster_id: String,
    /// The class, such as `db.t4g.medium` or `db.serverless`.
    pub instance_class: String,
    /// The engine (the cluster's).
    pub engine: String,
    /// Tags.
    pub tags: Tags,
}

/// A DB instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbInstance {
    /// The identifier.
    pub id: String,
    /// Its cluster.
    pub cluster_id: Option<String>,
    /// `creating`, `available`, `deleting`, ...
    pub status: String,
    /// The class.
    pub instance_class: String,
    /// Tags.
    pub tags: Tags,
}

/// A DB cluster snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbClusterSnapshot {
    /// The snapshot identifier.
    pub id: String,
    /// The cluster it was taken of.
    pub cluster_id: String,
    /// `creating` or `available`.
    pub status: String,
    /// `manual` or `automated`.
    pub snapshot_type: String,
    /// When it was taken.
    pub created: Option<SystemTime>,
}

/// RDS.
///
/// # Contract
/// - A new cluster is `creating` for minutes (about eight on AWS), then `available`; a cluster
///   without an instance accepts no connections.
/// - Deleting a cluster that still has instances fails with InvalidInput (`InvalidDBClusterStateFault`);
///   with `final_snapshot_id`, a manual snapshot of that name is kept.
/// - Deleting a subnet group in use fails with DependencyViolation.
/// - Passwords are [`Secret`]s: no backend logs or echoes them.
#[async_trait]
pub trait Database: Send + Sync + fmt::Debug + 'static {
    /// `rds:CreateDBSubnetGroup`.
    async fn create_db_subnet_group(
        &self,
        name: &str,
        description: &str,
        subnet_ids: &[String],
        tags: &Tags,
    ) -> Result<DbSubnetGroup>;
    /// `rds:DescribeDBSubnetGroups` (`ids` match names).
    async fn describe_db_subnet_groups(&self, filter: &Filter) -> Result<Vec<DbSubnetGroup>>;
    /// `rds:DeleteDBSubnetGroup`.
    async fn delete_db_subnet_group(&self, name: &str) -> Result<()>;

    /// `rds:CreateDBCluster`.
    async fn create_db_cluster(&self, request: CreateDbCluster) -> Result<DbCluster>;
    /// `rds:DescribeDBClusters` (`ids` match identifiers; tags filter in memory).
    async fn describe_db_clusters(&self, filter: &Filter) -> Result<Vec<DbCluster>>;
    /// `rds:ModifyDBCluster`, applied immediately.
    async fn modify_db_cluster(&self, request: ModifyDbCluster) -> Result<DbCluster>;
    /// `rds:DeleteDBCluster`: keeps a final snapshot named `final_snapshot_id`, or none.
    async fn delete_db_cluster(&self, id: &str, final_snapshot_id: Option<&str>) -> Result<()>;
    /// `rds:RestoreDBClusterToPointInTime`.
    async fn restore_db_cluster(&self, request: RestoreDbCluster) -> Result<DbCluster>;

    /// `rds:CreateDBInstance`.
    async fn create_db_instance(&self, request: CreateDbInstance) -> Result<DbInstance>;
    /// `rds:DescribeDBInstances` (`ids` match identifiers).
    async fn describe_db_instances(&self, filter: &Filter) -> Result<Vec<DbInstance>>;
    /// `rds:DeleteDBInstance` (no snapshot: the cluster keeps the data).
    async fn delete_db_instance(&self, id: &str) -> Result<()>;

    /// `rds:DescribeDBClusterSnapshots` of one cluster (`ids` match snapshot identifiers).
    async fn describe_db_cluster_snapshots(&self, cluster_id: &str) -> Result<Vec<DbClusterSnapshot>>;
}
