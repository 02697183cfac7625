//! RDS over `aws-sdk-rds`: Aurora clusters, their instances, subnet groups and snapshots.
//!
//! Master passwords are handed to the SDK and nowhere else: errors are redacted of them.

use std::collections::BTreeMap;
use std::time::SystemTime;

use async_trait::async_trait;
use aws_sdk_rds::types::{self as rds, Tag};
use aws_sdk_rds::Client;
use aws_smithy_types::DateTime;
use detcloud_provider::{
    CreateDbCluster, CreateDbInstance, Database, DbCluster, DbClusterSnapshot, DbInstance, DbSubnetGroup, Filter,
    ModifyDbCluster, RestoreDbCluster, Result, Tags,
};

use crate::error::{about, done, every, map, missing, redact};

/// RDS through the AWS SDK.
#[derive(Debug, Clone)]
pub struct AwsDatabase {
    client: Client,
}

/// One describe per id (a missing one fails NotFound), or one of everything (`None`) without ids.
fn targets(ids: &[String]) -> Vec<Option<&String>> {
    if ids.is_empty() {
        vec![None]
    } else {
        ids.iter().map(Some).collect()
    }
}

impl AwsDatabase {
    /// Wraps an SDK client.
    pub fn new(client: Client) -> Self {
        AwsDatabase { client }
    }
}

fn s(v: Option<&str>) -> String {
    v.unwrap_or_default().to_string()
}

fn sdk_tags(tags: &Tags) -> Option<Vec<Tag>> {
    (!tags.is_empty()).then(|| tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect())
}

fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect()
}

fn time(t: Option<&DateTime>) -> Option<SystemTime> {
    t.and_then(|t| SystemTime::try_from(*t).ok())
}

fn days(d: u32) -> i32 {
    d.min(i32::MAX as u32) as i32
}

fn cluster_of(c: &rds::DbCluster) -> DbCluster {
    DbCluster {
        id: s(c.db_cluster_identifier()),
        arn: s(c.db_cluster_arn()),
        status: s(c.status()),
        engine: s(c.engine()),
        endpoint: c.endpoint().map(str::to_string),
        port: c.port().and_then(|p| u16::try_from(p).ok()),
        master_username: s(c.master_username()),
        subnet_group: c.db_subnet_group().map(str::to_string),
        backup_retention_days: c.backup_retention_period().unwrap_or(0).max(0) as u32,
        earliest_restorable_time: time(c.earliest_restorable_time()),
        latest_restorable_time: time(c.latest_restorable_time()),
        storage_encrypted: c.storage_encrypted().unwrap_or(false),
        kms_key_id: c.kms_key_id().map(str::to_string),
        member_instance_ids: c
            .db_cluster_members()
            .iter()
            .filter_map(|m| m.db_instance_identifier().map(str::to_string))
            .collect(),
        tags: tags_of(c.tag_list()),
    }
}

fn subnet_group_of(g: &rds::DbSubnetGroup, tags: Tags) -> DbSubnetGroup {
    DbSubnetGroup {
        name: s(g.db_subnet_group_name()),
        vpc_id: s(g.vpc_id()),
        subnet_ids: g.subnets().iter().filter_map(|x| x.subnet_identifier().map(str::to_string)).collect(),
        tags,
    }
}

fn instance_of(i: &rds::DbInstance) -> DbInstance {
    DbInstance {
        id: s(i.db_instance_identifier()),
        cluster_id: i.db_cluster_identifier().map(str::to_string),
        status: s(i.db_instance_status()),
        instance_class: s(i.db_instance_class()),
        tags: tags_of(i.tag_list()),
    }
}

fn snapshot_of(x: &rds::DbClusterSnapshot) -> DbClusterSnapshot {
    DbClusterSnapshot {
        id: s(x.db_cluster_snapshot_identifier()),
        cluster_id: s(x.db_cluster_identifier()),
        status: s(x.status()),
        snapshot_type: s(x.snapshot_type()),
        created: time(x.snapshot_create_time()),
    }
}

/// The created resource's tags, or the requested ones when the endpoint echoes none.
fn or_requested(tags: Tags, requested: &Tags) -> Tags {
    if tags.is_empty() {
        requested.clone()
    } else {
        tags
    }
}

impl AwsDatabase {
    /// All clusters, or those named by `ids` (one call each: a missing one fails NotFound).
    async fn clusters(&self, ids: &[String]) -> Result<Vec<rds::DbCluster>> {
        let mut out = Vec::new();
        for id in targets(ids) {
            let pages = self
                .client
                .describe_db_clusters()
                .set_db_cluster_identifier(id.cloned())
                .into_paginator()
                .items()
                .send();
            out.extend(every(pages, about("db cluster", id.map_or("", String::as_str)), Some).await?);
        }
        Ok(out)
    }

    /// The VPC of each subnet group, for VPC filters.
    async fn subnet_group_vpcs(&self) -> Result<BTreeMap<String, String>> {
        let pages = self.client.describe_db_subnet_groups().into_paginator().items().send();
        let groups = every(pages, about("db subnet group", ""), |g| Some((s(g.db_subnet_group_name()), s(g.vpc_id()))));
        Ok(groups.await?.into_iter().collect())
    }

    async fn resource_tags(&self, arn: Option<&str>) -> Result<Tags> {
        let Some(arn) = arn else { return Ok(Tags::new()) };
        let out = self
            .client
            .list_tags_for_resource()
            .resource_name(arn)
            .send()
            .await
            .map_err(|e| map(e, about("rds resource", arn)))?;
        Ok(tags_of(out.tag_list()))
    }
}

#[async_trait]
impl Database for AwsDatabase {
    async fn create_db_subnet_group(
        &self,
        name: &str,
        description: &str,
        subnet_ids: &[String],
        tags: &Tags,
    ) -> Result<DbSubnetGroup> {
        let out = self
            .client
            .create_db_subnet_group()
            .db_subnet_group_name(name)
            .db_subnet_group_description(description)
            .set_subnet_ids(Some(subnet_ids.to_vec()))
            .set_tags(sdk_tags(tags))
            .send()
            .await
            .map_err(|e| map(e, about("db subnet group", name)))?;
        let g = out.db_subnet_group().ok_or_else(|| missing("db subnet group"))?;
        Ok(subnet_group_of(g, tags.clone()))
    }

    async fn describe_db_subnet_groups(&self, filter: &Filter) -> Result<Vec<DbSubnetGroup>> {
        let mut out = Vec::new();
        for id in targets(&filter.ids) {
            let pages = self
                .client
                .describe_db_subnet_groups()
                .set_db_subnet_group_name(id.cloned())
                .into_paginator()
                .items()
                .send();
            for g in every(pages, about("db subnet group", id.map_or("", String::as_str)), Some).await? {
                // DescribeDBSubnetGroups returns no tags.
                let tags = self.resource_tags(g.db_subnet_group_arn()).await?;
                let group = subnet_group_of(&g, tags);
                if filter.matches(&group.name, &group.tags, Some(&group.vpc_id)) {
                    out.push(group);
                }
            }
        }
        Ok(out)
    }

    async fn delete_db_subnet_group(&self, name: &str) -> Result<()> {
        let sent = self.client.delete_db_subnet_group().db_subnet_group_name(name).send().await;
        done(sent, about("db subnet group", name))
    }

    async fn create_db_cluster(&self, req: CreateDbCluster) -> Result<DbCluster> {
        let password = req.master_password.expose();
        let out = self
            .client
            .create_db_cluster()
            .db_cluster_identifier(&req.id)
            .engine(&req.engine)
            .set_engine_version(req.engine_version.clone())
            .set_database_name(req.database_name.clone())
            .master_username(&req.master_username)
            .master_user_password(password)
            .db_subnet_group_name(&req.subnet_group)
            .set_vpc_security_group_ids((!req.security_group_ids.is_empty()).then(|| req.security_group_ids.clone()))
            .backup_retention_period(days(req.backup_retention_days))
            .storage_encrypted(req.storage_encrypted)
            .set_kms_key_id(req.kms_key_id.clone())
            .deletion_protection(req.deletion_protection)
            .set_tags(sdk_tags(&req.tags))
            .send()
            .await
            .map_err(|e| redact(map(e, about("db cluster", &req.id)), password))?;
        let c = out.db_cluster().ok_or_else(|| missing("db cluster"))?;
        let cluster = cluster_of(c);
        Ok(DbCluster { tags: or_requested(cluster.tags.clone(), &req.tags), ..cluster })
    }

    async fn describe_db_clusters(&self, filter: &Filter) -> Result<Vec<DbCluster>> {
        let vpcs = match &filter.vpc_id {
            Some(_) => Some(self.subnet_group_vpcs().await?),
            None => None,
        };
        let mut out = Vec::new();
        for c in self.clusters(&filter.ids).await? {
            let cluster = cluster_of(&c);
            let vpc = vpcs.as_ref().and_then(|v| cluster.subnet_group.as_ref().and_then(|g| v.get(g)));
            if filter.matches(&cluster.id, &cluster.tags, vpc.map(String::as_str)) {
                out.push(cluster);
            }
        }
        Ok(out)
    }

    async fn modify_db_cluster(&self, req: ModifyDbCluster) -> Result<DbCluster> {
        let password = req.master_password.as_ref().map(|p| p.expose()).unwrap_or("");
        let out = self
            .client
            .modify_db_cluster()
            .db_cluster_identifier(&req.id)
            .apply_immediately(true)
            .set_backup_retention_period(req.backup_retention_days.map(days))
            .set_master_user_password(req.master_password.as_ref().map(|p| p.expose().to_string()))
            .set_deletion_protection(req.deletion_protection)
            .send()
            .await
            .map_err(|e| redact(map(e, about("db cluster", &req.id)), password))?;
        Ok(cluster_of(out.db_cluster().ok_or_else(|| missing("db cluster"))?))
    }

    async fn delete_db_cluster(&self, id: &str, final_snapshot_id: Option<&str>) -> Result<()> {
        let sent = self
            .client
            .delete_db_cluster()
            .db_cluster_identifier(id)
            .skip_final_snapshot(final_snapshot_id.is_none())
            .set_final_db_snapshot_identifier(final_snapshot_id.map(str::to_string))
            .send()
            .await;
        done(sent, about("db cluster", id))
    }

    async fn restore_db_cluster(&self, req: RestoreDbCluster) -> Result<DbCluster> {
        let mut call = self
            .client
            .restore_db_cluster_to_point_in_time()
            .db_cluster_identifier(&req.target_id)
            .source_db_cluster_identifier(&req.source_id)
            .db_subnet_group_name(&req.subnet_group)
            .set_vpc_security_group_ids((!req.security_group_ids.is_empty()).then(|| req.security_group_ids.clone()))
            .set_kms_key_id(req.kms_key_id.clone())
            .set_tags(sdk_tags(&req.tags));
        call = match req.restore_time {
            Some(t) => call.restore_to_time(DateTime::from(t)),
            None => call.use_latest_restorable_time(true),
        };
        let out = call.send().await.map_err(|e| map(e, about("db cluster", &req.source_id)))?;
        let cluster = cluster_of(out.db_cluster().ok_or_else(|| missing("db cluster"))?);
        Ok(DbCluster { tags: or_requested(cluster.tags.clone(), &req.tags), ..cluster })
    }

    async fn create_db_instance(&self, req: CreateDbInstance) -> Result<DbInstance> {
        let out = self
            .client
            .create_db_instance()
            .db_instance_identifier(&req.id)
            .db_cluster_identifier(&req.cluster_id)
            .db_instance_class(&req.instance_class)
            .engine(&req.engine)
            .set_tags(sdk_tags(&req.tags))
            .send()
            .await
            .map_err(|e| map(e, about("db instance", &req.id)))?;
        let instance = instance_of(out.db_instance().ok_or_else(|| missing("db instance"))?);
        Ok(DbInstance { tags: or_requested(instance.tags.clone(), &req.tags), ..instance })
    }

    async fn describe_db_instances(&self, filter: &Filter) -> Result<Vec<DbInstance>> {
        let mut out = Vec::new();
        for id in targets(&filter.ids) {
            let pages = self
                .client
                .describe_db_instances()
                .set_db_instance_identifier(id.cloned())
                .into_paginator()
                .items()
                .send();
            let kept = every(pages, about("db instance", id.map_or("", String::as_str)), |i| {
                let instance = instance_of(&i);
                let vpc = i.db_subnet_group().and_then(|g| g.vpc_id());
                filter.matches(&instance.id, &instance.tags, vpc).then_some(instance)
            });
            out.extend(kept.await?);
        }
        Ok(out)
    }

    async fn delete_db_instance(&self, id: &str) -> Result<()> {
        let sent = self.client.delete_db_instance().db_instance_identifier(id).skip_final_snapshot(true).send().await;
        done(sent, about("db instance", id))
    }

    async fn describe_db_cluster_snapshots(&self, cluster_id: &str) -> Result<Vec<DbClusterSnapshot>> {
        let pages = self
            .client
            .describe_db_cluster_snapshots()
            .db_cluster_identifier(cluster_id)
            .into_paginator()
            .items()
            .send();
        every(pages, about("db cluster", cluster_id), |snapshot| Some(snapshot_of(&snapshot))).await
    }
}
