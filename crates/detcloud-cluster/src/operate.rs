//! Day-two operations: modify, backup, restore, logs, peering and the cluster's DNS record.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use detcloud_provider::{
    Cloud, CreateDbInstance, DbCluster, Error, Filter, InstanceState, ModifyDbCluster, RecordSet, RestoreDbCluster,
    Result, RouteTarget, Tags,
};
use serde::Serialize;

use crate::cidr::Cidr;
use crate::context::{cluster_tags, Inventory, Names};
use crate::create::{create, ingress_rules, CreateOptions, CreateReport};
use crate::graph::Node;
use crate::preflight::Prepared;
use crate::spec::ClusterSpec;
use crate::wait::{wait_for, wait_gone};

/// The VPC tag recording the log retention (the cross-account role may not read log groups).
pub const LOG_RETENTION_TAG: &str = "detcloud:log-retention-days";

/// Which spec values the user gave explicitly; the others keep the cluster's current values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Explicit {
    /// The master instance type.
    pub instance_type: bool,
    /// The inbound CIDRs.
    pub inbound_cidrs: bool,
    /// The backup retention.
    pub backup_retention: bool,
    /// The log retention.
    pub log_retention: bool,
    /// The Determined release (`determined.version`).
    pub determined_version: bool,
    /// Where its images come from (`determined.image_prefix`).
    pub image_prefix: bool,
    /// The compute pool's instance type.
    pub agent_instance_type: bool,
    /// The auxiliary pool's instance type.
    pub aux_instance_type: bool,
    /// The pools' minimum size.
    pub min_agents: bool,
    /// The pools' maximum size.
    pub max_agents: bool,
    /// Spot agents (and their price).
    pub spot: bool,
    /// The agents' AMI.
    pub agent_ami: bool,
}

impl Explicit {
    /// Everything given (a spec file gives every value).
    pub fn all() -> Explicit {
        Explicit {
            instance_type: true,
            inbound_cidrs: true,
            backup_retention: true,
            log_retention: true,
            determined_version: true,
            image_prefix: true,
            agent_instance_type: true,
            aux_instance_type: true,
            min_agents: true,
            max_agents: true,
            spot: true,
            agent_ami: true,
        }
    }
}

/// The agent settings a master's [`AGENTS_TAG`](crate::create::AGENTS_TAG) records (the cross-account
/// role may not read its user data), over `defaults` for anything missing or unreadable.
pub fn agents_from_tag(tag: &str, defaults: &crate::spec::AgentsSpec) -> crate::spec::AgentsSpec {
    let mut a = defaults.clone();
    for part in tag.split_whitespace() {
        let Some((k, v)) = part.split_once('=') else { continue };
        match k {
            "compute" if !v.is_empty() => a.instance_type = v.to_string(),
            "aux" if !v.is_empty() => a.aux_instance_type = v.to_string(),
            "min" => a.min_instances = v.parse().unwrap_or(a.min_instances),
            "max" => a.max_instances = v.parse().unwrap_or(a.max_instances),
            "spot" => a.spot = v == "true",
            "price" => a.spot_max_price = (!v.is_empty()).then(|| v.to_string()),
            "ami" => a.ami = (!v.is_empty()).then(|| v.to_string()),
            "volume" => a.root_volume_gib = v.parse().unwrap_or(a.root_volume_gib),
            "idle" => a.max_idle_minutes = v.parse().unwrap_or(a.max_idle_minutes),
            _ => {}
        }
    }
    a
}

/// Fills the values the user did not give with the cluster's current ones, so that `modify`
/// changes only what was asked.
pub fn keep_current(p: &mut Prepared, explicit: &Explicit) {
    let inv = &p.inventory;
    if !explicit.instance_type {
        if let Some(m) = inv.master() {
            p.spec.master.instance_type = m.instance_type.clone();
        }
    }
    if let Some(m) = inv.master() {
        if let Some(image) = m.tags.get(crate::create::MASTER_IMAGE_TAG) {
            if let Some((prefix, version)) = image.rsplit_once("/determined-master:") {
                if !explicit.determined_version {
                    p.spec.determined.version = version.to_string();
                }
                if !explicit.image_prefix {
                    p.spec.determined.image_prefix = prefix.to_string();
                }
            }
        }
        if let Some(tag) = m.tags.get(crate::create::AGENTS_TAG) {
            let current = agents_from_tag(tag, &p.spec.agents);
            let a = &mut p.spec.agents;
            if !explicit.agent_instance_type {
                a.instance_type = current.instance_type.clone();
            }
            if !explicit.aux_instance_type {
                a.aux_instance_type = current.aux_instance_type.clone();
            }
            if !explicit.min_agents {
                a.min_instances = current.min_instances;
            }
            if !explicit.max_agents {
                a.max_instances = current.max_instances;
            }
            if !explicit.spot {
                a.spot = current.spot;
                a.spot_max_price = current.spot_max_price.clone();
            }
            if !explicit.agent_ami {
                a.ami = current.ami.clone();
            }
            // Not settable by flags: a spec file sets them, and otherwise they stay.
            if !explicit.agent_instance_type || !explicit.aux_instance_type {
                a.root_volume_gib = current.root_volume_gib;
                a.max_idle_minutes = current.max_idle_minutes;
            }
            if a.min_instances > a.max_instances {
                // Only one bound was given: the other follows it.
                if explicit.max_agents {
                    a.min_instances = a.max_instances;
                } else {
                    a.max_instances = a.min_instances;
                }
            }
        }
    }
    if !explicit.backup_retention {
        if let Some(c) = &inv.db_cluster {
            p.spec.database.backup_retention_days = c.backup_retention_days;
        }
    }
    if !explicit.log_retention {
        if let Some(days) = inv.vpc.as_ref().and_then(|v| v.tags.get(LOG_RETENTION_TAG)).and_then(|d| d.parse().ok()) {
            p.spec.log_retention_days = days;
        }
    }
    if !explicit.inbound_cidrs {
        if let Some(g) = &inv.default_group {
            let marker = format!("detcloud {}:", p.spec.name);
            let vpc = p.vpc_cidr.to_string();
            let mut cidrs: Vec<String> = g
                .ingress
                .iter()
                .filter(|r| r.description.as_deref().is_some_and(|d| d.starts_with(&marker)))
                .filter_map(|r| r.cidr.clone())
                .filter(|c| *c != vpc)
                .collect();
            cidrs.sort();
            cidrs.dedup();
            p.spec.master.inbound_cidrs = cidrs;
        }
    }
}

/// What `modify` changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ModifyReport {
    /// Each change, human-readable.
    pub changes: Vec<String>,
}

/// The changes `modify` would make to reach `prepared.spec`, without making them.
pub fn modify_plan(p: &Prepared) -> Vec<String> {
    let mut out = vec![];
    if let Some(m) = p.inventory.master() {
        let image = p.spec.determined.master_image();
        if m.tags.get(crate::create::MASTER_IMAGE_TAG) != Some(&image) {
            out.push(format!(
                "run {image} on the master (now {}): rewrite its configuration and restart it",
                m.tags.get(crate::create::MASTER_IMAGE_TAG).map_or("unknown", String::as_str)
            ));
        }
        let agents = crate::create::agents_tag(&p.spec);
        if m.tags.get(crate::create::AGENTS_TAG) != Some(&agents) {
            let a = &p.spec.agents;
            out.push(format!(
                "agents: compute pool {}, auxiliary pool {}, {} to {} each{}: rewrite the master's configuration and restart it",
                a.instance_type,
                a.aux_instance_type,
                a.min_instances,
                a.max_instances,
                if a.spot { ", spot" } else { "" }
            ));
        }
    }
    if let Some(m) = p.inventory.master() {
        if m.instance_type != p.spec.master.instance_type {
            out.push(format!(
                "replace the master {} ({} -> {}): terminate it, then launch a new one (the master is down meanwhile)",
                m.id, m.instance_type, p.spec.master.instance_type
            ));
        }
    }
    if let Some(c) = &p.inventory.db_cluster {
        if c.backup_retention_days != p.spec.database.backup_retention_days {
            out.push(format!(
                "database backups: keep {} days instead of {}",
                p.spec.database.backup_retention_days, c.backup_retention_days
            ));
        }
    }
    let (add, remove) = ingress_diff(p);
    for r in add {
        out.push(format!("allow {}:{} from {}", r.protocol, r.from_port, r.cidr.unwrap_or_default()));
    }
    for r in remove {
        out.push(format!("revoke {}:{} from {}", r.protocol, r.from_port, r.cidr.unwrap_or_default()));
    }
    out.push(format!("log retention: {} days", p.spec.log_retention_days));
    out
}

/// Rules to add and to revoke on the default group (only rules detcloud wrote are revoked: their
/// description names the cluster).
fn ingress_diff(p: &Prepared) -> (Vec<detcloud_provider::SecurityRule>, Vec<detcloud_provider::SecurityRule>) {
    let wanted = ingress_rules(p);
    let Some(group) = &p.inventory.default_group else { return (wanted, vec![]) };
    let same = |a: &detcloud_provider::SecurityRule, b: &detcloud_provider::SecurityRule| {
        a.protocol == b.protocol && a.from_port == b.from_port && a.to_port == b.to_port && a.cidr == b.cidr
    };
    let marker = format!("detcloud {}:", p.spec.name);
    let add = wanted.iter().filter(|w| !group.ingress.iter().any(|e| same(e, w))).cloned().collect();
    let remove = group
        .ingress
        .iter()
        .filter(|e| e.description.as_deref().is_some_and(|d| d.starts_with(&marker)))
        .filter(|e| !wanted.iter().any(|w| same(e, w)))
        .cloned()
        .collect();
    (add, remove)
}

/// Applies spec changes to an existing cluster: master instance type (replacement), backup and
/// log retention, inbound CIDRs; then converges like `create`.
pub async fn modify(cloud: &dyn Cloud, p: &Prepared, options: &CreateOptions) -> Result<(ModifyReport, CreateReport)> {
    let mut report = ModifyReport::default();
    let mut prepared = p.clone();
    if p.inventory.vpc.is_none() {
        return Err(Error::invalid(format!("name: cluster {} does not exist in {}", p.spec.name, p.spec.region)));
    }
    if let Some(m) = p.inventory.master().cloned() {
        if m.instance_type != p.spec.master.instance_type {
            let compute = cloud.compute();
            compute.terminate_instances(std::slice::from_ref(&m.id)).await?;
            let filter = Filter::id(&m.id);
            wait_gone(
                &format!("master {} to terminate", m.id),
                options.timeout,
                || compute.describe_instances(&filter),
                |l| l.iter().all(|i| i.state == InstanceState::Terminated),
            )
            .await?;
            prepared.inventory.instances.retain(|i| i.id != m.id);
            // The master's elastic IP is free again: re-associate it with the new master.
            for a in prepared.inventory.addresses.iter_mut() {
                if a.instance_id.as_deref() == Some(m.id.as_str()) {
                    a.instance_id = None;
                    a.association_id = None;
                }
            }
            report.changes.push(format!("terminated master {} ({})", m.id, m.instance_type));
        }
    }
    if let Some(c) = &p.inventory.db_cluster {
        if c.backup_retention_days != p.spec.database.backup_retention_days {
            cloud
                .database()
                .modify_db_cluster(ModifyDbCluster {
                    id: c.id.clone(),
                    backup_retention_days: Some(p.spec.database.backup_retention_days),
                    ..Default::default()
                })
                .await?;
            report.changes.push(format!("database backups kept {} days", p.spec.database.backup_retention_days));
        }
    }
    let (_, remove) = ingress_diff(p);
    if let (Some(group), false) = (&p.inventory.default_group, remove.is_empty()) {
        cloud.network().revoke_ingress(&group.id, &remove).await?;
        for r in &remove {
            report.changes.push(format!(
                "revoked {}:{} from {}",
                r.protocol,
                r.from_port,
                r.cidr.clone().unwrap_or_default()
            ));
        }
        // The converge below must not see the revoked rules as present.
        if let Some(g) = prepared.inventory.default_group.as_mut() {
            g.ingress.retain(|e| !remove.contains(e));
        }
    }
    if let Some(vpc) = &p.inventory.vpc {
        let days = p.spec.log_retention_days.to_string();
        if vpc.tags.get(LOG_RETENTION_TAG) != Some(&days) {
            let mut t = Tags::new();
            t.insert(LOG_RETENTION_TAG.into(), days);
            cloud.network().create_tags(std::slice::from_ref(&vpc.id), &t).await?;
        }
    }
    let created = create(cloud, &prepared, options).await.map_err(|e| e.error)?;
    if created.created.contains(&Node::Master) {
        report.changes.push(format!(
            "launched master {} ({})",
            created.ids[&Node::Master],
            p.spec.master.instance_type
        ));
    }
    if created.created.contains(&Node::SecurityRules) {
        report.changes.push("added inbound rules".into());
    }
    if created.created.contains(&Node::MasterReady) {
        report.changes.push("rewrote the master's configuration and restarted it".into());
    }
    if let Some(crate::create::Readiness::Ready { version }) = &created.master {
        report.changes.push(format!("the master answers: Determined {version}"));
    }
    report.changes.push(format!("log retention {} days", p.spec.log_retention_days));
    Ok((report, created))
}

/// A cluster's backups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupReport {
    /// Days of automated backups.
    pub retention_days: u32,
    /// The earliest point-in-time restore target (seconds since the epoch).
    pub earliest_restorable: Option<u64>,
    /// The latest point-in-time restore target (seconds since the epoch).
    pub latest_restorable: Option<u64>,
    /// Manual snapshots (final snapshots of deleted clusters included).
    pub snapshots: Vec<String>,
}

fn epoch(t: Option<SystemTime>) -> Option<u64> {
    t.and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_secs())
}

/// Reports the database's backups, first setting the retention when `retention_days` is given.
pub async fn backup(cloud: &dyn Cloud, names: &Names, retention_days: Option<u32>) -> Result<BackupReport> {
    let rds = cloud.database();
    if let Some(days) = retention_days {
        if !(1..=35).contains(&days) {
            return Err(Error::invalid(format!("--retention-days: must be 1-35 (got {days})")));
        }
        rds.modify_db_cluster(ModifyDbCluster {
            id: names.db_cluster.clone(),
            backup_retention_days: Some(days),
            ..Default::default()
        })
        .await?;
    }
    let cluster = rds
        .describe_db_clusters(&Filter::id(&names.db_cluster))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Error::not_found("DB cluster", names.db_cluster.clone()))?;
    let snapshots = rds
        .describe_db_cluster_snapshots(&names.db_cluster)
        .await?
        .into_iter()
        .map(|s| format!("{} ({}, {})", s.id, s.snapshot_type, s.status))
        .collect();
    Ok(BackupReport {
        retention_days: cluster.backup_retention_days,
        earliest_restorable: epoch(cluster.earliest_restorable_time),
        latest_restorable: epoch(cluster.latest_restorable_time),
        snapshots,
    })
}

/// Parses `2026-11-26T10:00:00Z` (UTC; an optional fraction of a second is ignored) or `latest`.
///
/// Every part has its fixed number of digits and its range (a real day of its month, years
/// 1970-9999), so that no arithmetic overflows and no impossible date is silently moved.
pub fn parse_time(text: &str) -> Result<Option<SystemTime>, String> {
    if text == "latest" {
        return Ok(None);
    }
    let rule = || format!("must be `latest` or a UTC time such as 2026-11-26T10:00:00Z (got {text:?})");
    let t = text.strip_suffix('Z').ok_or_else(rule)?;
    let (date, time) = t.split_once('T').ok_or_else(rule)?;
    let (time, fraction) = time.split_once('.').map_or((time, None), |(t, f)| (t, Some(f)));
    if fraction.is_some_and(|f| f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit())) {
        return Err(rule());
    }
    let number = |part: &str, digits: usize| -> Result<i64, String> {
        if part.len() == digits && part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().map_err(|_| rule())
        } else {
            Err(rule())
        }
    };
    let d: Vec<&str> = date.split('-').collect();
    let h: Vec<&str> = time.split(':').collect();
    let ([year, month, day], [hour, minute, second]) = (d.as_slice(), h.as_slice()) else {
        return Err(rule());
    };
    let (y, m, day) = (number(year, 4)?, number(month, 2)?, number(day, 2)?);
    let (hour, minute, second) = (number(hour, 2)?, number(minute, 2)?, number(second, 2)?);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(rule()),
    };
    if !(1970..=9999).contains(&y) || !(1..=month_days).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return Err(rule());
    }
    let days = detcloud_policy::time::days_from_civil(y, m, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    u64::try_from(secs).map(|s| Some(UNIX_EPOCH + Duration::from_secs(s))).map_err(|_| rule())
}

/// Restores the master's database to `to` (None: the latest restorable time) as a new Aurora
/// cluster named `detcloud-<cluster>-restore-<n>`, with its instance; returns its identifier and
/// endpoint. The running master keeps its database; [`switch_database`] points it at the
/// restored one.
pub async fn restore(
    cloud: &dyn Cloud,
    spec: &ClusterSpec,
    names: &Names,
    to: Option<SystemTime>,
    timeout: Duration,
) -> Result<(String, String)> {
    let rds = cloud.database();
    let source = rds
        .describe_db_clusters(&Filter::id(&names.db_cluster))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Error::not_found("DB cluster", names.db_cluster.clone()))?;
    let stamp = to.unwrap_or_else(SystemTime::now).duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let target = format!("{}-restore-{stamp}", names.own_db_cluster);
    let vpc = cloud
        .network()
        .describe_vpcs(&crate::context::cluster_filter(&spec.name))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Error::not_found("VPC of cluster", spec.name.clone()))?;
    let sg = crate::context::default_group(cloud, &vpc.id).await?.map(|g| g.id);
    let mut tags = cluster_tags(spec);
    tags.insert(crate::context::RESOURCE.into(), "db-restore".into());
    match rds
        .restore_db_cluster(RestoreDbCluster {
            source_id: source.id.clone(),
            target_id: target.clone(),
            restore_time: to,
            subnet_group: names.db_subnet_group.clone(),
            security_group_ids: sg.into_iter().collect(),
            kms_key_id: source.kms_key_id.clone(),
            tags: tags.clone(),
        })
        .await
    {
        Ok(_) => {}
        Err(e) if e.is_already_exists() => {}
        Err(e) => return Err(e),
    }
    let id = target.clone();
    let restored = wait_for(&format!("restored cluster {id}"), timeout, || async {
        let c = rds.describe_db_clusters(&Filter::id(&id)).await?;
        Ok(c.into_iter().next().filter(|c| c.status == "available"))
    })
    .await?;
    let instance = format!("{target}-1");
    if !restored.member_instance_ids.contains(&instance) {
        match rds
            .create_db_instance(CreateDbInstance {
                id: instance.clone(),
                cluster_id: target.clone(),
                instance_class: spec.database.instance_class.clone(),
                engine: "aurora-postgresql".into(),
                tags,
            })
            .await
        {
            Ok(_) => {}
            Err(e) if e.is_already_exists() => {}
            Err(e) => return Err(e),
        }
    }
    wait_for(&format!("instance {instance}"), timeout, || async {
        let i = rds.describe_db_instances(&Filter::id(&instance)).await?;
        Ok(i.into_iter().next().filter(|i| i.status == "available").map(|_| ()))
    })
    .await?;
    Ok((target, restored.endpoint.unwrap_or_default()))
}

/// What [`switch_database`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SwitchReport {
    /// The database the master used before.
    pub from: String,
    /// The database it uses now.
    pub to: String,
    /// The new database's writer endpoint (the configuration's `db.host`).
    pub endpoint: String,
    /// False when `to` was already the master's database (nothing was switched).
    pub switched: bool,
    /// How the master answered on `to`: `Determined <version>`, or why it was not checked.
    pub master: String,
    /// The cluster's databases kept, not in use.
    pub retained: Vec<String>,
    /// What `--delete-old` deleted.
    pub deleted: Vec<String>,
    /// Final snapshots kept of the deleted databases.
    pub kept: Vec<String>,
}

/// The master's current database, the one to switch to and the other databases of the cluster,
/// checked: `to` must be one of the cluster's databases, available, with an available instance.
fn switch_parties(p: &Prepared, to: &str) -> Result<(DbCluster, DbCluster, Vec<DbCluster>)> {
    let inv = &p.inventory;
    let from = inv
        .db_cluster
        .clone()
        .ok_or_else(|| Error::not_found("database of cluster", format!("{} (create it first)", p.spec.name)))?;
    let all: Vec<DbCluster> = inv.restored_db_clusters.iter().cloned().chain(std::iter::once(from.clone())).collect();
    let Some(target) = all.iter().find(|c| c.id == to).cloned() else {
        let ids: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
        return Err(Error::invalid(format!(
            "DATABASE: {to} is not a database of cluster {}; its databases are {} (`cluster restore` makes more)",
            p.spec.name,
            ids.join(", ")
        )));
    };
    if target.status != "available" {
        return Err(Error::invalid(format!(
            "DATABASE: {to} is {}, not available; wait for it (`cluster status {}`) and switch again",
            target.status, p.spec.name
        )));
    }
    let others = all.into_iter().filter(|c| c.id != to).collect();
    Ok((from, target, others))
}

/// The steps [`switch_database`] takes, in order, for the plan shown before it acts.
pub fn switch_plan(p: &Prepared, to: &str, delete_old: bool, ready_timeout: Duration) -> Result<Vec<String>> {
    let (from, target, others) = switch_parties(p, to)?;
    let endpoint = target.endpoint.unwrap_or_default();
    let mut steps = vec![];
    if from.id == to {
        steps.push(format!("the master already uses {to}: nothing to switch; check that it answers"));
    } else {
        let (from, old) = (from.id, from.endpoint.unwrap_or_default());
        steps.push(format!("record {to} as the master's database (VPC tag {})", crate::context::DATABASE_TAG));
        steps.push(format!("rewrite the master's configuration: db.host {old} -> {endpoint}"));
        steps.push(format!("restart the master and wait up to {}s for it to answer on {to}", ready_timeout.as_secs()));
        steps.push(format!("if it does not answer: point it back at {from}, restart it, and report the failure"));
    }
    for c in &others {
        steps.push(if delete_old {
            format!("delete {} and its instance once the master answers (a final snapshot is kept)", c.id)
        } else {
            format!("keep {} (not in use; --delete-old removes it)", c.id)
        });
    }
    Ok(steps)
}

/// Sets the VPC's [`DATABASE_TAG`](crate::context::DATABASE_TAG) to `id`.
async fn record_database(cloud: &dyn Cloud, p: &Prepared, id: &str) -> Result<()> {
    let vpc = p.inventory.vpc.as_ref().ok_or_else(|| Error::not_found("VPC of cluster", p.spec.name.clone()))?;
    let mut tags = Tags::new();
    tags.insert(crate::context::DATABASE_TAG.into(), id.to_string());
    cloud.network().create_tags(std::slice::from_ref(&vpc.id), &tags).await
}

/// `p` with `target` as the master's database (the current one joins the retained ones).
fn with_database(p: &Prepared, target: &DbCluster) -> Prepared {
    let mut switched = p.clone();
    switched.names = switched.names.with_database(&target.id);
    let inv = &mut switched.inventory;
    let previous = inv.db_cluster.replace(target.clone());
    inv.restored_db_clusters.retain(|c| c.id != target.id);
    inv.restored_db_clusters.extend(previous.filter(|c| c.id != target.id));
    switched
}

/// Points the master at the database `to` (one of the cluster's, such as a `cluster restore`
/// made): records it as the master's database, rewrites the master's configuration, restarts it
/// and waits for it to answer (as [`create`] does for [`Node::MasterReady`]). When it does not
/// answer, the master is pointed back at the database it used, restarted and checked, and the
/// error says so. The previous database is kept, unless `delete_old`, which deletes every
/// database of the cluster but `to` once the master answers (final snapshots kept).
///
/// `p` is the cluster as [`prepare`](crate::prepare) and [`keep_current`] read it, so that
/// nothing else of the master changes.
pub async fn switch_database(
    cloud: &dyn Cloud,
    p: &Prepared,
    to: &str,
    delete_old: bool,
    options: &CreateOptions,
) -> Result<SwitchReport> {
    let (from, target, others) = switch_parties(p, to)?;
    let from = from.id;
    let switched = with_database(p, &target);
    let mut options = options.clone();
    options.targets = [Node::MasterReady].into();
    if from != to {
        record_database(cloud, p, to).await?;
    }
    let outcome = create(cloud, &switched, &options).await;
    let report = match outcome {
        Ok(report) => report,
        Err(failed) if from != to => {
            let cause = format!("{}: {}", failed.node.label(), failed.error);
            let rolled_back = async {
                record_database(cloud, p, &from).await?;
                create(cloud, p, &options).await.map_err(|e| e.error)
            };
            return Err(match rolled_back.await {
                Ok(_) => Error::Other {
                    code: "SwitchRolledBack".into(),
                    message: format!(
                        "the master did not come up on {to} ({cause}); it was pointed back at {from} and answers there. {to} is kept"
                    ),
                },
                Err(e) => Error::Other {
                    code: "SwitchRollbackFailed".into(),
                    message: format!(
                        "the master did not come up on {to} ({cause}), and pointing it back at {from} failed too: {e}. \
                         Run `cluster switch-database {} {from}` to retry",
                        p.spec.name
                    ),
                },
            });
        }
        Err(failed) => return Err(failed.error),
    };
    let master = match &report.master {
        Some(crate::create::Readiness::Ready { version }) => format!("Determined {version}"),
        Some(crate::create::Readiness::Unverified { reason }) => format!("not checked: {reason}"),
        None => "not checked".into(),
    };
    let mut out = SwitchReport {
        switched: from != to,
        from,
        to: to.to_string(),
        endpoint: target.endpoint.clone().unwrap_or_default(),
        master,
        retained: others.iter().map(|c| c.id.clone()).collect(),
        deleted: vec![],
        kept: vec![],
    };
    if delete_old && !others.is_empty() {
        let deleted = crate::delete::delete_databases(
            cloud,
            &switched.spec,
            &switched.names,
            &others,
            &crate::DeleteOptions {
                timeout: options.timeout,
                progress: options.progress.clone(),
                ..Default::default()
            },
        )
        .await?;
        out.retained.clear();
        out.deleted = deleted.deleted;
        out.kept = deleted.kept;
    }
    Ok(out)
}

/// Checks a `--since` value: 1-40 ASCII letters, digits, spaces, `:` and `-`, because it is
/// quoted into a shell command on the master.
pub fn validate_since(since: &str) -> Result<(), String> {
    let ok =
        !since.is_empty() && since.len() <= 40 && since.chars().all(|c| c.is_ascii_alphanumeric() || " :-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!("--since: must be a time such as \"1 hour ago\" or 2026-11-26 10:00:00 (got {since:?})"))
    }
}

/// The master's logs since `since` (a time `date -d` reads: "1 hour ago", "2026-11-26 10:00:00"),
/// at most `lines` lines: the container's output (`docker logs`, which Docker keeps beside what it
/// ships to CloudWatch), through SSM Run Command. Anything that looks like a password is masked.
pub async fn logs(cloud: &dyn Cloud, spec: &ClusterSpec, names: &Names, since: &str, lines: u32) -> Result<String> {
    validate_since(since).map_err(Error::invalid)?;
    let inv = Inventory::discover(cloud, spec, names).await?;
    let master = inv.master().ok_or_else(|| Error::not_found("master of cluster", spec.name.clone()))?.id.clone();
    let commands = vec![
        format!("{} logs of the Determined master of cluster {}", crate::bootstrap::MARKER, spec.name),
        format!("since=\"$(date -u -d {} +%Y-%m-%dT%H:%M:%S)\"", crate::bootstrap::shell::quote(since)),
        format!("docker logs --timestamps --since \"$since\" {} 2>&1 | tail -n {lines}", crate::bootstrap::CONTAINER),
    ];
    let inv = crate::create::run_on(
        cloud,
        &master,
        commands,
        &format!("detcloud: logs of {}", spec.name),
        Duration::from_secs(300),
    )
    .await?;
    if inv.status != "Success" {
        return Err(Error::Other {
            code: "CommandFailed".into(),
            message: format!("reading the master's logs ended {}: {}", inv.status, inv.stderr.trim()),
        });
    }
    let mut text: String = inv.stdout.lines().map(|l| crate::create::redact(l, None)).collect::<Vec<_>>().join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    Ok(text)
}

/// Peers the cluster's VPC with `peer_vpc_id` (same account and region, the caller's own
/// credentials): connection, acceptance, and routes on both sides. Refuses overlapping CIDRs.
pub async fn peer(cloud: &dyn Cloud, spec: &ClusterSpec, peer_vpc_id: &str) -> Result<String> {
    let net = cloud.network();
    let vpc = net
        .describe_vpcs(&crate::context::cluster_filter(&spec.name))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Error::not_found("VPC of cluster", spec.name.clone()))?;
    let other = net
        .describe_vpcs(&Filter::id(peer_vpc_id))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Error::not_found("VPC", peer_vpc_id))?;
    let (a, b): (Cidr, Cidr) = (vpc.cidr.parse().map_err(Error::invalid)?, other.cidr.parse().map_err(Error::invalid)?);
    if a.overlaps(&b) {
        return Err(Error::invalid(format!(
            "--vpc-id: {} ({}) overlaps the cluster's VPC {} ({}); peered VPCs need distinct address ranges",
            other.id, other.cidr, vpc.id, vpc.cidr
        )));
    }
    let mut tags: Tags = cluster_tags(spec);
    tags.insert(crate::context::RESOURCE.into(), format!("peering-{peer_vpc_id}"));
    let existing = net
        .describe_vpc_peerings(&crate::context::cluster_filter(&spec.name))
        .await?
        .into_iter()
        .find(|p| p.accepter_vpc_id == other.id && p.state != detcloud_provider::PeeringState::Deleted);
    let pcx = match existing {
        Some(p) => p,
        None => net.create_vpc_peering(&vpc.id, &other.id, &tags).await?,
    };
    if pcx.state == detcloud_provider::PeeringState::PendingAcceptance {
        net.accept_vpc_peering(&pcx.id).await?;
    }
    let target = RouteTarget::Peering(pcx.id.clone());
    for (vpc_id, dest) in [(&vpc.id, &other.cidr), (&other.id, &vpc.cidr)] {
        for table in net.describe_route_tables(&Filter::all().in_vpc(vpc_id)).await? {
            match net.create_route(&table.id, dest, &target).await {
                Ok(()) => {}
                Err(e) if e.is_already_exists() => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(pcx.id)
}

/// What [`unpeer`] removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpeered {
    /// The peering connection, `pcx-...`.
    pub peering_id: String,
    /// The routes through it that were removed: (route table, destination CIDR).
    pub routes: Vec<(String, String)>,
}

/// Removes the cluster's peering with `peer_vpc_id` (made by [`peer`]): the routes through it in
/// both VPCs' route tables, and only those (every other route of the customer's tables stays),
/// then the connection. `None` when the cluster has no such peering. Run with the customer's own
/// credentials, as [`peer`] is: the cross-account role may not touch peerings.
pub async fn unpeer(cloud: &dyn Cloud, spec: &ClusterSpec, peer_vpc_id: &str) -> Result<Option<Unpeered>> {
    let pcx = cloud
        .network()
        .describe_vpc_peerings(&crate::context::cluster_filter(&spec.name))
        .await?
        .into_iter()
        .find(|p| p.accepter_vpc_id == peer_vpc_id && p.state != detcloud_provider::PeeringState::Deleted);
    match pcx {
        Some(pcx) => remove_peering(cloud, &pcx).await.map(Some),
        None => Ok(None),
    }
}

/// Removes the routes through `pcx` in both of its VPCs, then the connection itself.
pub async fn remove_peering(cloud: &dyn Cloud, pcx: &detcloud_provider::PeeringConnection) -> Result<Unpeered> {
    let net = cloud.network();
    let target = RouteTarget::Peering(pcx.id.clone());
    let mut routes = vec![];
    for vpc_id in [&pcx.requester_vpc_id, &pcx.accepter_vpc_id] {
        for table in net.describe_route_tables(&Filter::all().in_vpc(vpc_id)).await? {
            for route in table.routes.iter().filter(|r| r.target == target) {
                match net.delete_route(&table.id, &route.destination_cidr).await {
                    Ok(()) => routes.push((table.id.clone(), route.destination_cidr.clone())),
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    detcloud_provider::done_if_missing(net.delete_vpc_peering(&pcx.id).await)?;
    Ok(Unpeered { peering_id: pcx.id.clone(), routes })
}

/// Upserts (or, with `delete`, removes) the cluster's `A` record in the vendor's own hosted zone.
pub async fn dns_record(cloud: &dyn Cloud, zone_id: &str, name: &str, ip: &str, delete: bool) -> Result<()> {
    let record = RecordSet { name: name.to_string(), record_type: "A".into(), ttl: 60, values: vec![ip.to_string()] };
    if delete {
        match cloud.dns().delete_record(zone_id, &record).await {
            Err(e) if e.is_not_found() => Ok(()),
            other => other,
        }
    } else {
        cloud.dns().upsert_record(zone_id, &record).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("latest"), Ok(None));
        let t = parse_time("2026-11-26T10:00:00Z").unwrap().unwrap();
        assert_eq!(t.duration_since(UNIX_EPOCH).unwrap().as_secs(), 1_795_687_200);
        assert_eq!(
            parse_time("1970-01-01T00:00:00Z").unwrap().unwrap().duration_since(UNIX_EPOCH).unwrap().as_secs(),
            0
        );
        assert!(parse_time("2028-02-29T23:59:60.123456Z").is_ok());
        for bad in [
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-26 10:00:00",
            "2026-11-26T25:00:00Z",
            // Found by the hostile-input corpus: overflow, impossible days, signs, stray text.
            "99999999999999999-01-01T00:00:00Z",
            "2026-02-31T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-11-26T10:-1:00Z",
            "+2026-11-26T10:00:00Z",
            "2026-11-26T10:00:00.xyzZ",
            "2026-11-26T10:00:00.Z",
            "1969-12-31T23:59:59Z",
            "2026-1-26T10:00:00Z",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }
}
