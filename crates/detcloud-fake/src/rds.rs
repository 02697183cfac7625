//! RDS (Aurora PostgreSQL) with RDS's rules: DB subnet groups covering two availability zones,
//! clusters (creating → available; deleting → gone), their instances (available only once their
//! cluster is), final and automated snapshots, point-in-time restore within the restorable window,
//! deletion protection, identifier and password rules.
//!
//! Master passwords are `Secret`s: no error, call record or `Debug` output shows them; snapshots
//! keep them (a sandbox must be able to restore what it created).

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::SystemTime;

use async_trait::async_trait;
use detcloud_provider::{
    CreateDbCluster, CreateDbInstance, Database, DbCluster, DbClusterSnapshot, DbInstance, DbSubnetGroup, Error,
    Filter, ModifyDbCluster, RestoreDbCluster, Result, Secret, Tags,
};
use foldhash::fast::FixedState;

use crate::clock::{self, Timings};
use crate::cloud::FakeCloud;
use crate::query::{self, check_filter_ids, matching, select};
use crate::region::{check_tags, At};
use crate::state::ec2::{check_free_address, next_private_ip};
use crate::state::rds::*;
use crate::target::{Check, Target, NO_TAGS};
use crate::world::{has_capitals, lower, World};

/// The engine the fake supports.
pub const ENGINE: &str = "aurora-postgresql";
/// The engine version of a cluster created without one.
pub const DEFAULT_ENGINE_VERSION: &str = "16.4";

/// The DB instance classes Aurora PostgreSQL offers (a selection).
const INSTANCE_CLASSES: &[&str] = &[
    "db.serverless",
    "db.t3.medium",
    "db.t3.large",
    "db.t4g.medium",
    "db.t4g.large",
    "db.r5.large",
    "db.r5.xlarge",
    "db.r6g.large",
    "db.r6g.xlarge",
    "db.r6g.2xlarge",
    "db.r6i.large",
    "db.r6i.xlarge",
    "db.r7g.large",
    "db.r7g.xlarge",
];

/// The restorable window of an available cluster.
fn restorable(w: &World, c: &ClusterRec) -> Option<(SystemTime, SystemTime)> {
    if cluster_status(c, &w.timings) != "available" {
        return None;
    }
    let now = w.wall_clock.now();
    let latest = now.checked_sub(w.timings.db_restore_lag).unwrap_or(now).max(c.created);
    Some((c.created, latest))
}

fn cluster_out(w: &World, at: At<'_>, c: &ClusterRec) -> DbCluster {
    let rds = &w.region(at.account(), at.region).rds;
    let members = rds.instances.values().filter(|i| i.cluster_id == c.id).map(|i| i.id.clone()).collect();
    cluster_with(w, at, c, members)
}

/// The member instances of every cluster that has some, by cluster id, in the order
/// [`cluster_out`] lists them: one pass over the instances for a describe of many clusters.
fn members(rds: &RdsRegion) -> HashMap<&str, Vec<String>, FixedState> {
    let mut members: HashMap<&str, Vec<String>, FixedState> = HashMap::default();
    for i in rds.instances.values() {
        members.entry(i.cluster_id.as_str()).or_default().push(i.id.clone());
    }
    members
}

/// A cluster as RDS describes it, with its member instances.
fn cluster_with(w: &World, at: At<'_>, c: &ClusterRec, member_instance_ids: Vec<String>) -> DbCluster {
    let window = restorable(w, c);
    DbCluster {
        id: c.id.clone(),
        arn: cluster_arn(at, &c.id),
        status: cluster_status(c, &w.timings).to_string(),
        engine: c.engine.clone(),
        endpoint: Some(writer_endpoint(&c.id, at.account(), at.region)),
        port: Some(5432),
        master_username: c.master_username.clone(),
        subnet_group: Some(c.subnet_group.clone()),
        backup_retention_days: c.backup_retention_days,
        earliest_restorable_time: window.map(|w| w.0),
        latest_restorable_time: window.map(|w| w.1),
        storage_encrypted: c.storage_encrypted,
        kms_key_id: c.kms_key_id.clone(),
        member_instance_ids,
        tags: c.tags.clone(),
    }
}

fn instance_out(i: &DbInstanceRec, t: &Timings) -> DbInstance {
    DbInstance {
        id: i.id.clone(),
        cluster_id: Some(i.cluster_id.clone()),
        status: instance_status(i, t).to_string(),
        instance_class: i.instance_class.clone(),
        tags: i.tags.clone(),
    }
}

fn group_out(g: &SubnetGroupRec) -> DbSubnetGroup {
    DbSubnetGroup {
        name: g.name.clone(),
        vpc_id: g.vpc_id.clone(),
        subnet_ids: g.subnet_ids.clone(),
        tags: g.tags.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// ARNs and targets.

/// `filter` with its ids in lower case (RDS identifiers are case-insensitive), copied only when
/// one has capitals.
fn lower_ids(filter: &Filter) -> Cow<'_, Filter> {
    if filter.ids.iter().any(|id| has_capitals(id)) {
        Cow::Owned(Filter { ids: filter.ids.iter().map(|i| i.to_ascii_lowercase()).collect(), ..filter.clone() })
    } else {
        Cow::Borrowed(filter)
    }
}

fn cluster_arn(at: At<'_>, id: &str) -> String {
    at.arn_of("rds", "cluster:", &lower(id))
}

fn instance_arn(at: At<'_>, id: &str) -> String {
    at.arn_of("rds", "db:", &lower(id))
}

fn group_arn(at: At<'_>, name: &str) -> String {
    at.arn_of("rds", "subgrp:", &lower(name))
}

fn snapshot_arn(at: At<'_>, id: &str) -> String {
    at.arn_of("rds", "cluster-snapshot:", &lower(id))
}

fn cluster_target(w: &World, at: At<'_>, id: &str) -> Target {
    let cluster = w.region(at.account(), at.region).rds.clusters.get(&*lower(id));
    at.target(cluster_arn(at, id)).with_resource_tags(cluster.map_or(&NO_TAGS, |c| &c.tags))
}

fn cluster_check(w: &World, at: At<'_>, action: &'static str, id: &str) -> Check {
    let cluster = w.region(at.account(), at.region).rds.clusters.get(&*lower(id));
    at.check(action, cluster_arn(at, id)).with_resource_tags(cluster.map_or(&NO_TAGS, |c| &c.tags))
}

// ---------------------------------------------------------------------------------------------
// Validation.

fn check_identifier(parameter: &str, id: &str) -> Result<String> {
    let ok = (1..=63).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !id.contains("--")
        && !id.ends_with('-');
    if ok {
        Ok(id.to_ascii_lowercase())
    } else {
        Err(Error::invalid(format!(
            "InvalidParameterValue: The parameter {parameter} is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens."
        )))
    }
}

/// Aurora PostgreSQL's master password rules; the password itself is never echoed.
fn check_password(password: &Secret) -> Result<()> {
    let p = password.expose();
    let len = p.chars().count();
    if !(8..=128).contains(&len) {
        return Err(Error::invalid(
            "InvalidParameterValue: The parameter MasterUserPassword is not a valid password because it is not 8 to 128 characters long.",
        ));
    }
    if !p.chars().all(|c| ('!'..='~').contains(&c) && !matches!(c, '/' | '"' | '@')) {
        return Err(Error::invalid(
            "InvalidParameterValue: The parameter MasterUserPassword is not a valid password. Only printable ASCII characters besides '/', '@', '\"', ' ' may be used.",
        ));
    }
    Ok(())
}

fn check_username(name: &str) -> Result<()> {
    let ok = (1..=63).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let reserved = matches!(name.to_ascii_lowercase().as_str(), "rdsadmin" | "rdsrepladmin" | "rds_superuser" | "user");
    if !ok || reserved {
        return Err(Error::invalid(format!(
            "InvalidParameterValue: The parameter MasterUsername is not a valid identifier ({name}): 1-63 letters, digits and underscores, starting with a letter, and not a reserved word."
        )));
    }
    Ok(())
}

fn check_database_name(name: &str) -> Result<()> {
    let ok = (1..=63).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        return Err(Error::invalid(format!(
            "InvalidParameterValue: DatabaseName {name} is not valid: 1-63 letters, digits and underscores, starting with a letter."
        )));
    }
    Ok(())
}

fn check_retention(days: u32) -> Result<()> {
    if !(1..=35).contains(&days) {
        return Err(Error::invalid(format!(
            "InvalidParameterValue: Invalid backup retention period: {days}. Valid values are 1 to 35."
        )));
    }
    Ok(())
}

fn check_engine_version(version: &str) -> Result<()> {
    let mut parts = version.split('.');
    let major: Option<u32> = parts.next().and_then(|m| m.parse().ok());
    let minor_ok = parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if !(major.is_some_and(|m| (11..=17).contains(&m)) && minor_ok && version.split('.').count() <= 2) {
        return Err(Error::invalid(format!("InvalidParameterCombination: Cannot find version {version} for {ENGINE}")));
    }
    Ok(())
}

/// A KMS key for RDS: its ARN, or an error RDS would give.
fn rds_key(w: &World, at: At<'_>, key: &str) -> Result<String> {
    query::usable_key(w, at, key).map_err(|e| match e {
        Error::NotFound { .. } => Error::invalid(format!("KMSKeyNotAccessibleFault: The specified KMS key [{key}] does not exist, is not enabled or you do not have permissions to access it.")),
        other => other,
    })
}

/// The VPC security groups of a cluster in a subnet group: those given, in the group's VPC, or
/// the VPC's default group.
fn cluster_groups(w: &World, at: At<'_>, group: &SubnetGroupRec, ids: &[String]) -> Result<Vec<String>> {
    let ec2 = &w.region(at.account(), at.region).ec2;
    if ids.is_empty() {
        return Ok(ec2.default_group(&group.vpc_id).map(|g| vec![g.id.clone()]).unwrap_or_default());
    }
    for id in ids {
        if ec2.security_group(id)?.vpc_id != group.vpc_id {
            return Err(Error::invalid(format!(
                "InvalidParameterCombination: The DB subnet group {} and the EC2 security group {id} are in different VPCs.",
                group.name
            )));
        }
    }
    Ok(ids.to_vec())
}

fn subnet_group<'w>(w: &'w World, at: At<'_>, name: &str) -> Result<&'w SubnetGroupRec> {
    w.region(at.account(), at.region)
        .rds
        .subnet_groups
        .get(&*lower(name))
        .ok_or_else(|| Error::not_found("DB subnet group", name))
}

fn cluster<'w>(w: &'w World, at: At<'_>, id: &str) -> Result<&'w ClusterRec> {
    w.region(at.account(), at.region).rds.clusters.get(&*lower(id)).ok_or_else(|| Error::not_found("DB cluster", id))
}

fn not_available(id: &str) -> Error {
    Error::invalid(format!("InvalidDBClusterStateFault: DB cluster {id} is not currently in the available state."))
}

// ---------------------------------------------------------------------------------------------
// Operations.

fn create_subnet_group(
    w: &mut World,
    at: At<'_>,
    name: &str,
    description: &str,
    subnet_ids: &[String],
    tags: &Tags,
) -> Result<DbSubnetGroup> {
    let ok = (1..=255).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || " ._-".contains(c))
        && !name.eq_ignore_ascii_case("default");
    if !ok {
        return Err(Error::invalid(format!(
            "InvalidParameterValue: The parameter DBSubnetGroupName is not a valid identifier ({name}): 1-255 letters, digits, spaces, periods, underscores and hyphens, not \"default\"."
        )));
    }
    if description.is_empty() || description.chars().count() > 255 {
        return Err(Error::invalid("InvalidParameterValue: DBSubnetGroupDescription must be 1-255 characters"));
    }
    if subnet_ids.is_empty() {
        return Err(Error::invalid("InvalidParameterValue: A DB subnet group needs at least one subnet"));
    }
    check_tags(tags)?;
    let ec2 = &w.region(at.account(), at.region).ec2;
    let subnets = subnet_ids.iter().map(|id| ec2.subnet(id)).collect::<Result<Vec<_>>>()?;
    let vpc_id = subnets[0].vpc_id.clone();
    if subnets.iter().any(|s| s.vpc_id != vpc_id) {
        return Err(Error::invalid("InvalidSubnet: Subnets must all be in the same VPC."));
    }
    let mut zones: Vec<&str> = subnets.iter().map(|s| s.availability_zone.as_str()).collect();
    zones.sort();
    zones.dedup();
    if zones.len() < 2 {
        return Err(Error::invalid(format!(
            "DBSubnetGroupDoesNotCoverEnoughAZs: The DB subnet group doesn't meet Availability Zone (AZ) coverage requirement. Current AZ coverage: {}. Add subnets to cover at least 2 AZs.",
            zones.join(", ")
        )));
    }
    let key = name.to_ascii_lowercase();
    if w.region(at.account(), at.region).rds.subnet_groups.contains_key(&key) {
        return Err(Error::already_exists("DB subnet group", name));
    }
    let mut ids = subnet_ids.to_vec();
    ids.sort();
    ids.dedup();
    let rec = SubnetGroupRec {
        name: key.clone(),
        description: description.to_string(),
        vpc_id,
        subnet_ids: ids,
        tags: tags.clone(),
    };
    let out = group_out(&rec);
    w.region_mut(at.account(), at.region).rds.subnet_groups.insert(key, rec);
    Ok(out)
}

fn describe_subnet_groups(w: &World, at: At<'_>, filter: &Filter) -> Result<Vec<DbSubnetGroup>> {
    let rds = &w.region(at.account(), at.region).rds;
    check_filter_ids(filter, "DB subnet group", |id| Ok(rds.subnet_groups.contains_key(&*lower(id))))?;
    // Names are case-insensitive: checked as given (the error names them so), matched lowered.
    let filter = lower_ids(filter);
    let exist = |_: &str| Ok(true);
    let groups = rds.subnet_groups.values();
    select(groups, &filter, "DB subnet group", exist, |g| (&g.name, &g.tags, Some(&g.vpc_id)), group_out)
}

fn delete_subnet_group(w: &mut World, at: At<'_>, name: &str) -> Result<()> {
    let group = subnet_group(w, at, name)?;
    let rds = &w.region(at.account(), at.region).rds;
    if let Some(user) = rds.clusters.values().find(|c| c.subnet_group == group.name) {
        return Err(Error::DependencyViolation {
            message: format!(
                "InvalidDBSubnetGroupStateFault: Cannot delete the subnet group '{}' because at least one database cluster: {} is still using it.",
                group.name, user.id
            ),
        });
    }
    let key = group.name.clone();
    w.region_mut(at.account(), at.region).rds.subnet_groups.remove(&key);
    Ok(())
}

fn create_cluster(w: &mut World, at: At<'_>, r: &CreateDbCluster) -> Result<DbCluster> {
    let id = check_identifier("DBClusterIdentifier", &r.id)?;
    if r.engine != ENGINE {
        return Err(Error::invalid(format!(
            "InvalidParameterValue: Invalid DB engine: {} (the fake supports {ENGINE} only)",
            r.engine
        )));
    }
    let version = r.engine_version.clone().unwrap_or_else(|| DEFAULT_ENGINE_VERSION.to_string());
    check_engine_version(&version)?;
    if let Some(name) = &r.database_name {
        check_database_name(name)?;
    }
    check_username(&r.master_username)?;
    check_password(&r.master_password)?;
    check_retention(r.backup_retention_days)?;
    check_tags(&r.tags)?;
    let group = subnet_group(w, at, &r.subnet_group)?;
    let groups = cluster_groups(w, at, group, &r.security_group_ids)?;
    let encrypted = r.storage_encrypted || r.kms_key_id.is_some();
    let key = match (&r.kms_key_id, encrypted) {
        (Some(key), _) => Some(rds_key(w, at, key)?),
        (None, true) => Some(query::aws_managed_arn(at, "rds")),
        (None, false) => None,
    };
    if w.region(at.account(), at.region).rds.clusters.contains_key(&id) {
        return Err(Error::already_exists("DB cluster", &id));
    }
    let rec = ClusterRec {
        id: id.clone(),
        engine: ENGINE.to_string(),
        engine_version: version,
        database_name: r.database_name.clone(),
        master_username: r.master_username.clone(),
        master_password: r.master_password.clone(),
        subnet_group: group.name.clone(),
        security_group_ids: groups,
        backup_retention_days: r.backup_retention_days,
        storage_encrypted: encrypted,
        kms_key_id: key,
        deletion_protection: r.deletion_protection,
        created: w.wall_clock.now(),
        restored_from: None,
        deleting: false,
        since: Some(clock::now()),
        tags: r.tags.clone(),
    };
    w.region_mut(at.account(), at.region).rds.clusters.insert(id.clone(), rec);
    Ok(cluster_out(w, at, cluster(w, at, &id)?))
}

fn describe_clusters(w: &World, at: At<'_>, filter: &Filter) -> Result<Vec<DbCluster>> {
    let rds = &w.region(at.account(), at.region).rds;
    check_filter_ids(filter, "DB cluster", |id| Ok(rds.clusters.contains_key(&*lower(id))))?;
    let mut members = members(rds);
    Ok(matching(
        rds.clusters.values(),
        &lower_ids(filter),
        |c| (&c.id, &c.tags, rds.subnet_groups.get(&c.subnet_group).map(|g| g.vpc_id.as_str())),
        |c| cluster_with(w, at, c, members.remove(c.id.as_str()).unwrap_or_default()),
    ))
}

fn modify_cluster(w: &mut World, at: At<'_>, r: &ModifyDbCluster) -> Result<DbCluster> {
    let c = cluster(w, at, &r.id)?;
    if cluster_status(c, &w.timings) != "available" {
        return Err(not_available(&c.id));
    }
    if let Some(days) = r.backup_retention_days {
        check_retention(days)?;
    }
    if let Some(password) = &r.master_password {
        check_password(password)?;
    }
    let id = c.id.clone();
    let c = w.region_mut(at.account(), at.region).rds.clusters.get_mut(&id).expect("checked above");
    if let Some(days) = r.backup_retention_days {
        c.backup_retention_days = days;
    }
    if let Some(password) = &r.master_password {
        c.master_password = password.clone();
    }
    if let Some(protect) = r.deletion_protection {
        c.deletion_protection = protect;
    }
    Ok(cluster_out(w, at, cluster(w, at, &id)?))
}

fn delete_cluster(w: &mut World, at: At<'_>, id: &str, final_snapshot: Option<&str>) -> Result<()> {
    let t = w.timings;
    let c = cluster(w, at, id)?;
    let rds = &w.region(at.account(), at.region).rds;
    if c.deletion_protection {
        return Err(Error::invalid(
            "InvalidParameterCombination: Cannot delete protected Cluster, please disable deletion protection and try again.",
        ));
    }
    match cluster_status(c, &t) {
        "deleting" => {
            return Err(Error::NotReady {
                message: format!("InvalidDBClusterStateFault: Cluster {} is already being deleted.", c.id),
            });
        }
        "available" => {}
        _ => return Err(not_available(&c.id)),
    }
    if rds.instances.values().any(|i| i.cluster_id == c.id && !i.deleting) {
        return Err(Error::invalid(
            "InvalidDBClusterStateFault: Cluster cannot be deleted, it still contains DB instances in non-deleting state.",
        ));
    }
    let snapshot = match final_snapshot {
        Some(s) => {
            let s = check_identifier("FinalDBSnapshotIdentifier", s)?;
            if rds.snapshots.contains_key(&s) {
                return Err(Error::already_exists("DB cluster snapshot", &s));
            }
            Some(s)
        }
        None => None,
    };
    let id = c.id.clone();
    let created = w.wall_clock.now();
    let rds = &mut w.region_mut(at.account(), at.region).rds;
    if let Some(s) = snapshot {
        rds.snapshots
            .insert(s.clone(), SnapshotRec { id: s, cluster_id: id.clone(), created, since: Some(clock::now()) });
    }
    let c = rds.clusters.get_mut(&id).expect("checked above");
    c.deleting = true;
    c.since = Some(clock::now());
    Ok(())
}

fn restore_cluster(w: &mut World, at: At<'_>, r: &RestoreDbCluster) -> Result<DbCluster> {
    let source = cluster(w, at, &r.source_id)?;
    let target = check_identifier("DBClusterIdentifier", &r.target_id)?;
    let (earliest, latest) = restorable(w, source).ok_or_else(|| not_available(&source.id))?;
    let time = r.restore_time.unwrap_or(latest);
    if time < earliest || time > latest {
        return Err(Error::invalid(format!(
            "InvalidRestoreFault: The restore time {} is outside the restorable window [{}, {}] of DB cluster {}.",
            clock::format(time),
            clock::format(earliest),
            clock::format(latest),
            source.id
        )));
    }
    check_tags(&r.tags)?;
    let group = subnet_group(w, at, &r.subnet_group)?;
    let groups = cluster_groups(w, at, group, &r.security_group_ids)?;
    let key = match &r.kms_key_id {
        Some(key) => Some(rds_key(w, at, key)?),
        None => source.kms_key_id.clone(),
    };
    if w.region(at.account(), at.region).rds.clusters.contains_key(&target) {
        return Err(Error::already_exists("DB cluster", &target));
    }
    let rec = ClusterRec {
        id: target.clone(),
        engine: source.engine.clone(),
        engine_version: source.engine_version.clone(),
        database_name: source.database_name.clone(),
        master_username: source.master_username.clone(),
        master_password: source.master_password.clone(),
        subnet_group: group.name.clone(),
        security_group_ids: groups,
        backup_retention_days: source.backup_retention_days,
        storage_encrypted: source.storage_encrypted || key.is_some(),
        kms_key_id: key,
        deletion_protection: false,
        created: w.wall_clock.now(),
        restored_from: Some(source.id.clone()),
        deleting: false,
        since: Some(clock::now()),
        tags: r.tags.clone(),
    };
    w.region_mut(at.account(), at.region).rds.clusters.insert(target.clone(), rec);
    Ok(cluster_out(w, at, cluster(w, at, &target)?))
}

fn create_instance(w: &mut World, at: At<'_>, r: &CreateDbInstance) -> Result<DbInstance> {
    let t = w.timings;
    let id = check_identifier("DBInstanceIdentifier", &r.id)?;
    let c = cluster(w, at, &r.cluster_id)?;
    if c.deleting {
        return Err(not_available(&c.id));
    }
    if r.engine != c.engine {
        return Err(Error::invalid(format!(
            "InvalidParameterCombination: The engine name requested for your DB instance ({}) doesn't match the engine name of your DB cluster ({}).",
            r.engine, c.engine
        )));
    }
    if !INSTANCE_CLASSES.contains(&r.instance_class.as_str()) {
        return Err(Error::invalid(format!(
            "InvalidParameterCombination: RDS does not support creating a DB instance with the following combination: DBInstanceClass={}, Engine={}.",
            r.instance_class, c.engine
        )));
    }
    check_tags(&r.tags)?;
    let region = w.region(at.account(), at.region);
    if region.rds.instances.contains_key(&id) {
        return Err(Error::already_exists("DB instance", &id));
    }
    // The interface goes to the group's subnet with the fewest DB instances.
    let group = region
        .rds
        .subnet_groups
        .get(&c.subnet_group)
        .ok_or_else(|| Error::not_found("DB subnet group", &c.subnet_group))?;
    let subnet_id = group
        .subnet_ids
        .iter()
        .filter(|s| region.ec2.subnets.contains_key(*s))
        .min_by_key(|s| region.rds.instances.values().filter(|i| i.subnet_id == **s).count())
        .cloned()
        .ok_or_else(|| {
            Error::invalid(format!("InvalidSubnet: The subnets of DB subnet group {} no longer exist", group.name))
        })?;
    check_free_address(region.ec2.subnet(&subnet_id)?)?;
    let start = clock::ends(c.since, t.db_cluster_creation).map_or(clock::now(), |ready| ready.max(clock::now()));
    let cluster_id = c.id.clone();
    let eni = w.ids.ec2("eni");
    let region = w.region_mut(at.account(), at.region);
    let private_ip = next_private_ip(region.ec2.subnets.get_mut(&subnet_id).expect("checked above"));
    let rec = DbInstanceRec {
        id: id.clone(),
        cluster_id,
        instance_class: r.instance_class.clone(),
        engine: r.engine.clone(),
        subnet_id,
        network_interface_id: eni,
        private_ip,
        deleting: false,
        since: Some(start),
        tags: r.tags.clone(),
    };
    let out = instance_out(&rec, &t);
    region.rds.instances.insert(id, rec);
    Ok(out)
}

fn describe_instances(w: &World, at: At<'_>, filter: &Filter) -> Result<Vec<DbInstance>> {
    let t = w.timings;
    let rds = &w.region(at.account(), at.region).rds;
    check_filter_ids(filter, "DB instance", |id| Ok(rds.instances.contains_key(&*lower(id))))?;
    let vpc_of = |i: &DbInstanceRec| {
        let cluster = rds.clusters.get(&i.cluster_id);
        cluster.and_then(|c| rds.subnet_groups.get(&c.subnet_group)).map(|g| g.vpc_id.as_str())
    };
    Ok(matching(rds.instances.values(), &lower_ids(filter), |i| (&i.id, &i.tags, vpc_of(i)), |i| instance_out(i, &t)))
}

fn delete_instance(w: &mut World, at: At<'_>, id: &str) -> Result<()> {
    let key = id.to_ascii_lowercase();
    let i =
        w.region(at.account(), at.region).rds.instances.get(&key).ok_or_else(|| Error::not_found("DB instance", id))?;
    if i.deleting {
        return Err(Error::NotReady {
            message: format!("InvalidDBInstanceState: Instance {key} is already being deleted."),
        });
    }
    let i = w.region_mut(at.account(), at.region).rds.instances.get_mut(&key).expect("checked above");
    i.deleting = true;
    i.since = Some(clock::now());
    Ok(())
}

fn describe_snapshots(w: &World, at: At<'_>, cluster_id: &str) -> Result<Vec<DbClusterSnapshot>> {
    let t = w.timings;
    let rds = &w.region(at.account(), at.region).rds;
    let cluster_id = cluster_id.to_ascii_lowercase();
    let mut out: Vec<DbClusterSnapshot> = rds
        .snapshots
        .values()
        .filter(|s| s.cluster_id == cluster_id)
        .map(|s| DbClusterSnapshot {
            id: s.id.clone(),
            cluster_id: s.cluster_id.clone(),
            status: if clock::reached(s.since, t.db_snapshot_creation) { "available" } else { "creating" }.to_string(),
            snapshot_type: "manual".into(),
            created: Some(s.created),
        })
        .collect();
    // The automated snapshot RDS takes of an available cluster (kept while the cluster exists).
    if let Some(c) = rds.clusters.get(&cluster_id).filter(|c| !c.deleting && cluster_status(c, &t) == "available") {
        out.push(DbClusterSnapshot {
            id: format!("rds:{}-{}", c.id, clock::format_minutes(c.created)),
            cluster_id: c.id.clone(),
            status: "available".into(),
            snapshot_type: "automated".into(),
            created: Some(c.created),
        });
    }
    out.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The contract.

#[async_trait]
impl Database for FakeCloud {
    async fn create_db_subnet_group(
        &self,
        name: &str,
        description: &str,
        subnet_ids: &[String],
        tags: &Tags,
    ) -> Result<DbSubnetGroup> {
        self.regional(
            "rds:CreateDBSubnetGroup",
            |_, at| at.target(group_arn(at, name)).with_request_tags(tags, Some("rds:AddTagsToResource")),
            |w, at| create_subnet_group(w, at, name, description, subnet_ids, tags),
        )
        .await
    }

    async fn describe_db_subnet_groups(&self, filter: &Filter) -> Result<Vec<DbSubnetGroup>> {
        self.regional(
            "rds:DescribeDBSubnetGroups",
            |_, _| Target::new("*"),
            |w, at| describe_subnet_groups(w, at, filter),
        )
        .await
    }

    async fn delete_db_subnet_group(&self, name: &str) -> Result<()> {
        self.regional(
            "rds:DeleteDBSubnetGroup",
            |w, at| {
                let group = subnet_group(w, at, name);
                at.target(group_arn(at, name)).with_resource_tags(group.map_or(&NO_TAGS, |g| &g.tags))
            },
            |w, at| delete_subnet_group(w, at, name),
        )
        .await
    }

    async fn create_db_cluster(&self, request: CreateDbCluster) -> Result<DbCluster> {
        self.regional(
            "rds:CreateDBCluster",
            |_, at| {
                Target::new(cluster_arn(at, &request.id))
                    .with_request_tags(&request.tags, Some("rds:AddTagsToResource"))
                    .after(Check::new("rds:CreateDBCluster", group_arn(at, &request.subnet_group)))
            },
            |w, at| create_cluster(w, at, &request),
        )
        .await
    }

    async fn describe_db_clusters(&self, filter: &Filter) -> Result<Vec<DbCluster>> {
        self.regional("rds:DescribeDBClusters", |_, _| Target::new("*"), |w, at| describe_clusters(w, at, filter)).await
    }

    async fn modify_db_cluster(&self, request: ModifyDbCluster) -> Result<DbCluster> {
        self.regional(
            "rds:ModifyDBCluster",
            |w, at| cluster_target(w, at, &request.id),
            |w, at| modify_cluster(w, at, &request),
        )
        .await
    }

    async fn delete_db_cluster(&self, id: &str, final_snapshot_id: Option<&str>) -> Result<()> {
        self.regional(
            "rds:DeleteDBCluster",
            |w, at| {
                let target = cluster_target(w, at, id);
                match final_snapshot_id {
                    Some(s) => target.after(Check::new("rds:CreateDBClusterSnapshot", snapshot_arn(at, s))),
                    None => target,
                }
            },
            |w, at| delete_cluster(w, at, id, final_snapshot_id),
        )
        .await
    }

    async fn restore_db_cluster(&self, request: RestoreDbCluster) -> Result<DbCluster> {
        self.regional(
            "rds:RestoreDBClusterToPointInTime",
            |w, at| {
                Target::new(cluster_arn(at, &request.target_id))
                    .with_request_tags(&request.tags, Some("rds:AddTagsToResource"))
                    .after(cluster_check(w, at, "rds:RestoreDBClusterToPointInTime", &request.source_id))
                    .after(Check::new("rds:RestoreDBClusterToPointInTime", group_arn(at, &request.subnet_group)))
            },
            |w, at| restore_cluster(w, at, &request),
        )
        .await
    }

    async fn create_db_instance(&self, request: CreateDbInstance) -> Result<DbInstance> {
        self.regional(
            "rds:CreateDBInstance",
            |w, at| {
                Target::new(instance_arn(at, &request.id))
                    .with_request_tags(&request.tags, Some("rds:AddTagsToResource"))
                    .after(cluster_check(w, at, "rds:CreateDBInstance", &request.cluster_id))
            },
            |w, at| create_instance(w, at, &request),
        )
        .await
    }

    async fn describe_db_instances(&self, filter: &Filter) -> Result<Vec<DbInstance>> {
        self.regional("rds:DescribeDBInstances", |_, _| Target::new("*"), |w, at| describe_instances(w, at, filter))
            .await
    }

    async fn delete_db_instance(&self, id: &str) -> Result<()> {
        self.regional(
            "rds:DeleteDBInstance",
            |w, at| {
                let instance = w.region(at.account(), at.region).rds.instances.get(&*lower(id));
                at.target(instance_arn(at, id)).with_resource_tags(instance.map_or(&NO_TAGS, |i| &i.tags))
            },
            |w, at| delete_instance(w, at, id),
        )
        .await
    }

    async fn describe_db_cluster_snapshots(&self, cluster_id: &str) -> Result<Vec<DbClusterSnapshot>> {
        self.regional(
            "rds:DescribeDBClusterSnapshots",
            |_, _| Target::new("*"),
            |w, at| describe_snapshots(w, at, cluster_id),
        )
        .await
    }
}
