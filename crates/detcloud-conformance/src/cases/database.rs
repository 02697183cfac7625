//! RDS: subnet groups, Aurora clusters and instances, snapshots, point-in-time restore.

use detcloud_provider::{Cloud, CreateDbInstance, Filter, ModifyDbCluster, RestoreDbCluster};

use crate::fixtures::{
    cluster_request, create_cluster, db_subnet_group, describe_cluster, wait_cluster_available, wait_cluster_gone,
    DB_TIMEOUT,
};
use crate::kit::{ensure, ensure_eq, expect_err, skipped, Backoff, Ctx, Fail, Needs, Res, Scope, Step, Want};
use crate::{Capabilities, CaseResult, Namer, RUN_TAG};

const NO_RDS: &str = "the endpoint has no RDS";

/// Waits until the DB instance is `available`.
async fn wait_instance_available(s: &Scope<'_>, id: &str) -> Step<()> {
    let mut backoff = Backoff::new(format!("DB instance {id} to be available"), DB_TIMEOUT);
    loop {
        let list = s.cloud.database().describe_db_instances(&Filter::id(id)).await.ctx("describe_db_instances")?;
        ensure!(list.len() == 1 && list[0].id == id, "describe_db_instances({id}): {list:?}");
        if list[0].status == "available" {
            return Ok(());
        }
        backoff.wait(&list[0].status).await?;
    }
}

/// Waits until the DB instance is gone (NotFound or an empty list).
async fn wait_instance_gone(s: &Scope<'_>, id: &str) -> Step<()> {
    let mut backoff = Backoff::new(format!("DB instance {id} to be gone"), DB_TIMEOUT);
    loop {
        match s.cloud.database().describe_db_instances(&Filter::id(id)).await {
            Err(e) if e.is_not_found() => return Ok(()),
            Ok(list) if list.is_empty() => return Ok(()),
            Ok(list) => backoff.wait(list.iter().map(|i| i.status.clone()).collect::<Vec<_>>()).await?,
            Err(e) => return Err(Fail(format!("describe_db_instances({id}): unexpected error {e:?}"))),
        }
    }
}

/// A subnet group over two zones is created (tagged), described by name, and deleted.
pub async fn db_subnet_group_lifecycle(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.rds {
        return skipped("rds", NO_RDS);
    }
    let s = Scope::new("db_subnet_group_lifecycle", cloud, caps, names);
    s.run(Needs::vpcs(1), async {
        let db = s.cloud.database();
        let group = db_subnet_group(&s).await?;
        ensure_eq!(group.subnet_ids.len(), 2, "subnets in the group");
        ensure!(group.vpc_id.starts_with("vpc-"), "group VPC {:?}", group.vpc_id);
        let listed = db.describe_db_subnet_groups(&Filter::id(&group.name)).await.ctx("describe_db_subnet_groups")?;
        ensure!(listed.len() == 1 && listed[0].name == group.name, "describe_db_subnet_groups: {listed:?}");
        let mut subnets = listed[0].subnet_ids.clone();
        subnets.sort();
        let mut want = group.subnet_ids.clone();
        want.sort();
        ensure_eq!(subnets, want, "described subnets");
        ensure_eq!(listed[0].tags.get(RUN_TAG).map(String::as_str), Some(s.run_id()), "group tags");
        s.delete(&Res::DbSubnetGroup(group.name.clone()), "delete_db_subnet_group").await?;
        let missing = db.describe_db_subnet_groups(&Filter::id(&group.name)).await;
        expect_err(missing, Want::NotFound, "describe after delete")?;
        Ok(())
    })
    .await
}

/// A second subnet group with a taken name fails with AlreadyExists.
pub async fn db_subnet_group_duplicate(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.rds {
        return skipped("rds", NO_RDS);
    }
    if !caps.rds_subnet_group_checks {
        return skipped("rds_subnet_group_checks", "the endpoint answers a taken subnet group name with the group");
    }
    let s = Scope::new("db_subnet_group_duplicate", cloud, caps, names);
    s.run(Needs::vpcs(1), async {
        let group = db_subnet_group(&s).await?;
        let again = s.cloud.database().create_db_subnet_group(&group.name, "again", &group.subnet_ids, &s.tags()).await;
        expect_err(again, Want::AlreadyExists, "create_db_subnet_group with a taken name")?;
        Ok(())
    })
    .await
}

/// A subnet group a cluster uses cannot be deleted (DependencyViolation).
pub async fn delete_subnet_group_in_use_conflicts(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.rds {
        return skipped("rds", NO_RDS);
    }
    if !caps.rds_subnet_group_checks {
        return skipped("rds_subnet_group_checks", "the endpoint deletes subnet groups that clusters use");
    }
    let s = Scope::new("delete_subnet_group_in_use_conflicts", cloud, caps, names);
    s.run(Needs::vpcs(1), async {
        let db = s.cloud.database();
        let group = db_subnet_group(&s).await?;
        create_cluster(&s, cluster_request(&s, &group.name)).await?;
        expect_err(
            db.delete_db_subnet_group(&group.name).await,
            Want::DependencyViolation,
            "delete_db_subnet_group in use",
        )?;
        let listed = db.describe_db_subnet_groups(&Filter::id(&group.name)).await.ctx("describe_db_subnet_groups")?;
        ensure_eq!(listed.len(), 1, "subnet groups after the refusal");
        Ok(())
    })
    .await
}

/// An encrypted, deletion-protected Aurora cluster becomes available with its tags; deletion is
/// refused while protected (InvalidInput); retention and protection are modified; deletion with a
/// final snapshot leaves that manual snapshot listed.
pub async fn db_cluster_lifecycle(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.rds {
        return skipped("rds", NO_RDS);
    }
    let s = Scope::new("db_cluster_lifecycle", cloud, caps, names);
    s.run(Needs::vpcs(1), async {
        let db = s.cloud.database();
        let group = db_subnet_group(&s).await?;
        let marker = s.name("marker");
        let mut request = cluster_request(&s, &group.name);
        request.deletion_protection = true;
        request.tags = s.tags_with("dcc:marker", &marker);
        let created = create_cluster(&s, request).await?;
        ensure_eq!(created.engine, "aurora-postgresql", "engine");
        ensure!(
            created.arn.starts_with("arn:aws:rds:") && created.arn.ends_with(&format!(":cluster:{}", created.id)),
            "ARN {:?}",
            created.arn
        );
        let available = wait_cluster_available(&s, &created.id).await?;
        ensure!(available.storage_encrypted, "storage is not encrypted");
        ensure_eq!(available.master_username, "detcloud", "master user");
        ensure_eq!(available.subnet_group.as_deref(), Some(group.name.as_str()), "subnet group");
        ensure_eq!(available.backup_retention_days, 1, "backup retention");
        ensure!(available.endpoint.is_some(), "no endpoint");
        let by_tag =
            db.describe_db_clusters(&Filter::tag("dcc:marker", &marker)).await.ctx("describe_db_clusters by tag")?;
        ensure!(by_tag.len() == 1 && by_tag[0].id == created.id, "describe_db_clusters by tag: {by_tag:?}");
        ensure_eq!(by_tag[0].tags.get(RUN_TAG).map(String::as_str), Some(s.run_id()), "cluster tags");

        expect_err(
            db.delete_db_cluster(&created.id, None).await,
            Want::InvalidInput,
            "delete_db_cluster while protected",
        )?;
        let change = ModifyDbCluster {
            id: created.id.clone(),
            backup_retention_days: Some(7),
            deletion_protection: Some(false),
            ..Default::default()
        };
        let modified = db.modify_db_cluster(change).await.ctx("modify_db_cluster")?;
        ensure_eq!(modified.backup_retention_days, 7, "retention in the modify answer");
        let available = wait_cluster_available(&s, &created.id).await?;
        ensure_eq!(available.backup_retention_days, 7, "retention after modify");

        let snapshot = s.name("final");
        db.delete_db_cluster(&created.id, Some(&snapshot)).await.ctx("delete_db_cluster with a final snapshot")?;
        wait_cluster_gone(&s, &created.id).await?;
        s.forget(&Res::DbCluster(created.id.clone()));
        let snapshots = db.describe_db_cluster_snapshots(&created.id).await.ctx("describe_db_cluster_snapshots")?;
        let last = snapshots.iter().find(|x| x.id == snapshot);
        ensure!(
            last.is_some_and(|x| x.snapshot_type == "manual" && x.cluster_id == created.id),
            "the final snapshot {snapshot} is not listed as manual: {snapshots:?}"
        );
        Ok(())
    })
    .await
}

/// A new cluster is `creating` before it is `available`.
pub async fn db_cluster_starts_creating(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.rds {
        return skipped("rds", NO_RDS);
    }
    if !caps.intermediate_states {
        return skipped("intermediate_states", "DB clusters are available at once");
    }
    let s = Scope::new("db_cluster_starts_creating", cloud, caps, names);
    s.run(Needs::vpcs(1), async {
        let group = db_subnet_group(&s).await?;
        let created = create_cluster(&s, cluster_request(&s, &group.name)).await?;
        ensure_eq!(created.status, "creating", "create_db_cluster status");
        ensure_eq!(describe_cluster(&s, &created.id).await?.status, "creating", "status right after creation");
        wait_cluster_available(&s, &created.id).await?;
        Ok(())
    })
    .await
}

/// A cluster with an instance cannot be deleted (InvalidInput); without it, it can.
pub async fn delete_cluster_with_instance_refused(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.rds {
        return skipped("rds", NO_RDS);
    }
    let s = Scope::new("delete_cluster_with_instance_refused", cloud, caps, names);
    s.run(Needs::vpcs(1), async {
        let db = s.cloud.database();
        let group = db_subnet_group(&s).await?;
        let cluster = create_cluster(&s, cluster_request(&s, &group.name)).await?;
        wait_cluster_available(&s, &cluster.id).await?;
        let request = CreateDbInstance {
            id: s.name("dbinstance"),
            cluster_id: cluster.id.clone(),
            instance_class: "db.t4g.medium".into(),
            engine: "aurora-postgresql".into(),
            tags: s.tags(),
        };
        let instance = db.create_db_instance(request).await.ctx("create_db_instance")?;
        s.track(Res::DbInstance(instance.id.clone()));
        ensure_eq!(instance.cluster_id.as_deref(), Some(cluster.id.as_str()), "the instance's cluster");
        wait_instance_available(&s, &instance.id).await?;
        let members = wait_cluster_available(&s, &cluster.id).await?.member_instance_ids;
        ensure_eq!(members, vec![instance.id.clone()], "cluster members");
        expect_err(
            db.delete_db_cluster(&cluster.id, None).await,
            Want::InvalidInput,
            "delete_db_cluster with an instance",
        )?;
        ensure_eq!(describe_cluster(&s, &cluster.id).await?.id, cluster.id, "the cluster after the refusal");
        db.delete_db_instance(&instance.id).await.ctx("delete_db_instance")?;
        wait_instance_gone(&s, &instance.id).await?;
        s.forget(&Res::DbInstance(instance.id.clone()));
        wait_cluster_available(&s, &cluster.id).await?;
        db.delete_db_cluster(&cluster.id, None).await.ctx("delete_db_cluster without instances")?;
        wait_cluster_gone(&s, &cluster.id).await?;
        s.forget(&Res::DbCluster(cluster.id.clone()));
        Ok(())
    })
    .await
}

/// Restoring a cluster to its latest restorable time makes a new, tagged cluster that becomes
/// available.
pub async fn restore_point_in_time(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.rds {
        return skipped("rds", NO_RDS);
    }
    let s = Scope::new("restore_point_in_time", cloud, caps, names);
    s.run(Needs::vpcs(1), async {
        let db = s.cloud.database();
        let group = db_subnet_group(&s).await?;
        let source = create_cluster(&s, cluster_request(&s, &group.name)).await?;
        let source = wait_cluster_available(&s, &source.id).await?;
        ensure!(source.latest_restorable_time.is_some(), "no latest restorable time on {}", source.id);
        let target = s.name("restored");
        let request = RestoreDbCluster {
            source_id: source.id.clone(),
            target_id: target.clone(),
            restore_time: None,
            subnet_group: group.name.clone(),
            security_group_ids: Vec::new(),
            kms_key_id: None,
            tags: s.tags_with("dcc:restored-from", &source.id),
        };
        let restored = db.restore_db_cluster(request).await.ctx("restore_db_cluster")?;
        s.track(Res::DbCluster(restored.id.clone()));
        ensure_eq!(restored.id, target, "restored id");
        let restored = wait_cluster_available(&s, &target).await?;
        ensure_eq!(restored.engine, source.engine, "restored engine");
        ensure_eq!(restored.subnet_group.as_deref(), Some(group.name.as_str()), "restored subnet group");
        ensure_eq!(restored.tags.get("dcc:restored-from"), Some(&source.id), "restored tags");
        Ok(())
    })
    .await
}

/// Describing and deleting a cluster, an instance or a subnet group that does not exist fail with
/// NotFound.
pub async fn missing_cluster_not_found(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.rds {
        return skipped("rds", NO_RDS);
    }
    let s = Scope::new("missing_cluster_not_found", cloud, caps, names);
    s.run(Needs::NONE, async {
        let db = s.cloud.database();
        let id = s.name("missing");
        expect_err(db.describe_db_clusters(&Filter::id(&id)).await, Want::NotFound, "describe_db_clusters")?;
        expect_err(db.delete_db_cluster(&id, None).await, Want::NotFound, "delete_db_cluster")?;
        expect_err(db.describe_db_instances(&Filter::id(&id)).await, Want::NotFound, "describe_db_instances")?;
        expect_err(db.delete_db_subnet_group(&id).await, Want::NotFound, "delete_db_subnet_group")?;
        Ok(())
    })
    .await
}
