//! Status: every resource of a cluster, its state and health, read-only.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use detcloud_provider::{Cloud, DbCluster, Filter, InstanceStatus, NatGatewayState, Result, Tags};
use serde::Serialize;

use crate::bootstrap::ProbeOutput;
use crate::context::cluster_filter;
use crate::fleet::{cpu_query, AccountReading, ClusterResources};
use crate::graph::Node;

/// One resource's state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceStatus {
    /// The resource (graph node label).
    pub resource: String,
    /// Its id or name, when it exists.
    pub id: Option<String>,
    /// Its state as AWS reports it (`available`, `running`, `missing`, ...).
    pub state: String,
    /// True when it is as a working cluster needs it.
    pub healthy: bool,
    /// Extra facts (status checks, CPU).
    pub detail: Option<String>,
}

/// A cluster's status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterStatus {
    /// The cluster.
    pub name: String,
    /// Its region.
    pub region: String,
    /// Every resource.
    pub resources: Vec<ResourceStatus>,
    /// True when every resource is healthy.
    pub healthy: bool,
    /// The Determined master, when its instance exists.
    pub master: Option<MasterStatus>,
    /// The Aurora cluster the master uses (its own, or a restored one after a switch).
    pub database: Option<String>,
    /// The cluster's other Aurora clusters, kept and not in use.
    pub retained_databases: Vec<String>,
}

/// The Determined master of a cluster, as its instance and its own answer show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MasterStatus {
    /// Its instance.
    pub instance_id: String,
    /// Its public address (the elastic IP), when associated.
    pub public_ip: Option<String>,
    /// Where its API and web UI answer.
    pub url: Option<String>,
    /// The image its configuration names.
    pub image: Option<String>,
    /// The release it reported, when asked and it answered.
    pub version: Option<String>,
    /// `answering`, `not answering`, `not checked` (the backend runs no commands, or the
    /// status was read without asking it).
    pub health: String,
    /// Why, when it is not answering or was not checked.
    pub detail: Option<String>,
}

fn row(node: Node, id: Option<String>, state: &str, healthy: bool, detail: Option<String>) -> ResourceStatus {
    ResourceStatus { resource: node.label(), id, state: state.to_string(), healthy, detail }
}

fn missing(node: Node) -> ResourceStatus {
    row(node, None, "missing", false, None)
}

/// Reads the status of the cluster `name` in `region`: the fleet sweep's reading
/// ([`AccountReading::read`]) restricted to the cluster's tags, rendered the same way, and the
/// master's own answer to `/info` through SSM Run Command (where the backend runs commands).
pub async fn status(cloud: &dyn Cloud, name: &str, region: &str, _account: &str) -> Result<ClusterStatus> {
    status_with(cloud, name, region, true).await
}

/// [`status`], asking the master for its `/info` only when `probe` holds.
pub async fn status_with(cloud: &dyn Cloud, name: &str, region: &str, probe: bool) -> Result<ClusterStatus> {
    let reading = AccountReading::read(cloud, &cluster_filter(name), None).await?;
    let mut st = reading.status(name)?;
    st.region = region.to_string();
    let running = reading
        .clusters
        .get(name)
        .and_then(|c| c.master())
        .is_some_and(|m| m.state == detcloud_provider::InstanceState::Running);
    if let (Some(master), true) = (st.master.as_mut(), running) {
        if !probe {
            // Left as the fleet's reading has it: not checked.
        } else if !cloud.capabilities().runs_commands {
            master.detail = Some("this backend runs no commands on instances".into());
        } else {
            let probed = crate::create::probe_master(cloud, name, &master.instance_id, PROBE_TIMEOUT).await;
            let (health, version, detail) = match probed {
                Ok(ProbeOutput::Answered(info)) => ("answering", Some(info.version), None),
                Ok(ProbeOutput::NoAnswer(why)) => ("not answering", None, Some(why)),
                Ok(ProbeOutput::NotRun) => {
                    ("not checked", None, Some("the backend reported the probe done without running it".into()))
                }
                Err(e) => ("not answering", None, Some(format!("the probe failed: {e}"))),
            };
            master.health = health.to_string();
            master.version = version;
            master.detail = detail;
            let healthy = health == "answering";
            st.resources.push(ResourceStatus {
                resource: Node::MasterReady.label(),
                id: Some(master.instance_id.clone()),
                state: health.to_string(),
                healthy: healthy || health == "not checked",
                detail: master.version.as_ref().map(|v| format!("Determined {v}")).or_else(|| master.detail.clone()),
            });
            st.healthy &= healthy || health == "not checked";
        }
    }
    Ok(st)
}

/// How long `status` waits for the master's SSM agent to take its probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// The status of the cluster `name` from its resources as read, the masters' status checks and
/// their CPU (by instance id). Shared by [`status`] and the fleet sweep.
pub(crate) fn render(
    name: &str,
    region: &str,
    res: &ClusterResources,
    checks: &HashMap<String, InstanceStatus>,
    cpu: &HashMap<String, f64>,
) -> Result<ClusterStatus> {
    if res.vpcs.len() > 1 {
        let ids: Vec<String> = res.vpcs.iter().map(|v| v.id.clone()).collect();
        return Err(detcloud_provider::Error::InvalidInput {
            message: format!(
                "{} VPCs carry the tags of cluster {name}: {}; delete the extra ones by hand",
                res.vpcs.len(),
                ids.join(", ")
            ),
        });
    }
    let vpc = res.vpcs.first();
    let key = |tags: &Tags, node: Node| crate::create::is_node(tags, node);
    let mut rows = vec![];
    rows.push(match vpc {
        Some(v) => row(Node::Vpc, Some(v.id.clone()), &v.state, v.state == "available", Some(v.cidr.clone())),
        None => missing(Node::Vpc),
    });
    for s in res.subnets.iter().filter(|s| vpc.is_some_and(|v| v.id == s.vpc_id)) {
        let key = s.tags.get(crate::context::RESOURCE).cloned().unwrap_or_default();
        rows.push(ResourceStatus {
            resource: key.replace('-', " "),
            id: Some(s.id.clone()),
            state: s.state.clone(),
            healthy: s.state == "available",
            detail: Some(format!("{} in {}", s.cidr, s.availability_zone)),
        });
    }
    rows.push(match res.internet_gateways.iter().find(|g| key(&g.tags, Node::InternetGateway)) {
        Some(g) => {
            let attached = vpc.is_some_and(|v| g.attached_vpc_ids.contains(&v.id));
            row(
                Node::InternetGateway,
                Some(g.id.clone()),
                if attached { "attached" } else { "detached" },
                attached,
                None,
            )
        }
        None => missing(Node::InternetGateway),
    });
    rows.push(match res.nat_gateways.iter().find(|n| key(&n.tags, Node::NatGateway)) {
        Some(n) => row(
            Node::NatGateway,
            Some(n.id.clone()),
            &n.state.to_string(),
            n.state == NatGatewayState::Available,
            n.failure_message.clone(),
        ),
        None => missing(Node::NatGateway),
    });
    let db_cluster = res.live_database(name);
    // The others (restored ones, the own one after a switch) are kept, not used: shown, not judged.
    let retained: Vec<&DbCluster> =
        res.db_clusters.iter().filter(|c| db_cluster.is_none_or(|live| live.id != c.id)).collect();
    let live = if retained.is_empty() { "" } else { "the master's database; " };
    rows.push(match db_cluster {
        Some(c) => row(
            Node::DbCluster,
            Some(c.id.clone()),
            &c.status,
            c.status == "available",
            Some(format!("{live}backups kept {} days", c.backup_retention_days)),
        ),
        None => missing(Node::DbCluster),
    });
    for c in &retained {
        rows.push(ResourceStatus {
            resource: "retained database".into(),
            id: Some(c.id.clone()),
            state: c.status.clone(),
            healthy: true,
            detail: Some(format!(
                "not in use; switch to it with `cluster switch-database {name} {}`, or remove it with --delete-old after a switch",
                c.id
            )),
        });
    }
    if let Some(c) = db_cluster {
        let mut instances = res.db_instances.iter().filter(|i| c.member_instance_ids.contains(&i.id)).peekable();
        if instances.peek().is_none() {
            rows.push(missing(Node::DbInstance));
        }
        for i in instances {
            rows.push(row(
                Node::DbInstance,
                Some(i.id.clone()),
                &i.status,
                i.status == "available",
                Some(i.instance_class.clone()),
            ));
        }
    }
    let mut master_status = None;
    match res.master() {
        Some(m) => {
            let public_ip = res
                .addresses
                .iter()
                .find(|a| key(&a.tags, Node::MasterAddress) && a.instance_id.as_deref() == Some(m.id.as_str()))
                .map(|a| a.public_ip.clone())
                .or_else(|| m.public_ip.clone());
            master_status = Some(MasterStatus {
                instance_id: m.id.clone(),
                url: public_ip.as_ref().map(|ip| format!("http://{ip}:{}", crate::bootstrap::MASTER_PORT)),
                public_ip,
                image: m.tags.get(crate::create::MASTER_IMAGE_TAG).cloned(),
                version: None,
                health: "not checked".into(),
                detail: None,
            });
            let (ok, detail) = match checks.get(&m.id) {
                Some(s) => (
                    s.system_status == "ok" && s.instance_status == "ok",
                    format!("status checks: system {}, instance {}", s.system_status, s.instance_status),
                ),
                None => (false, "no status checks yet".to_string()),
            };
            let detail = match cpu.get(&m.id) {
                Some(c) => format!("{detail}; CPU {c:.1}%"),
                None => detail,
            };
            rows.push(row(
                Node::Master,
                Some(m.id.clone()),
                &m.state.to_string(),
                m.state == detcloud_provider::InstanceState::Running && ok,
                Some(detail),
            ));
            rows.push(match res.addresses.iter().find(|a| key(&a.tags, Node::MasterAddress)) {
                Some(a) => {
                    let associated = a.instance_id.as_deref() == Some(m.id.as_str());
                    row(
                        Node::MasterAddress,
                        Some(a.public_ip.clone()),
                        if associated { "associated" } else { "unassociated" },
                        associated,
                        None,
                    )
                }
                None => missing(Node::MasterAddress),
            });
        }
        None => rows.push(missing(Node::Master)),
    }
    // The agents the master launched: they carry its tag and detcloud's (custom_tags).
    for i in res.instances.iter().filter(|i| !key(&i.tags, Node::Master)) {
        let (ok, checks) = match checks.get(&i.id) {
            Some(s) => (
                s.system_status == "ok" && s.instance_status == "ok",
                format!("status checks: system {}, instance {}", s.system_status, s.instance_status),
            ),
            None => (false, "no status checks yet".to_string()),
        };
        let spot = if i.spot_request_id.is_some() { ", spot" } else { "" };
        rows.push(ResourceStatus {
            resource: "agent instance".into(),
            id: Some(i.id.clone()),
            state: i.state.to_string(),
            healthy: i.state == detcloud_provider::InstanceState::Running && ok,
            detail: Some(format!("{}{spot}; {checks}", i.instance_type)),
        });
    }
    // The VPC's row is always there, and unhealthy when the VPC is missing: an empty cluster is
    // never healthy.
    let healthy = rows.iter().all(|r| r.healthy);
    Ok(ClusterStatus {
        name: name.to_string(),
        region: region.to_string(),
        resources: rows,
        healthy,
        master: master_status,
        database: db_cluster.map(|c| c.id.clone()),
        retained_databases: retained.iter().map(|c| c.id.clone()).collect(),
    })
}

/// The master's average CPU over the last 10 minutes (CloudWatch), if there is data.
pub async fn master_cpu(cloud: &dyn Cloud, instance_id: &str) -> Result<Option<f64>> {
    let end = SystemTime::now();
    let start = end - Duration::from_secs(600);
    let query = cpu_query("cpu".into(), instance_id);
    let series = cloud.metrics().get_metric_data(std::slice::from_ref(&query), start, end).await?;
    Ok(series.into_iter().find(|s| s.id == "cpu").and_then(|s| s.points.last().map(|(_, v)| *v)))
}

/// The clusters of the region: names from the tags of detcloud's VPCs.
/// The cluster's VPC peering connections, as status rows (`VPC peering`, its id, its state,
/// healthy when active, the other VPC). Needs `ec2:DescribeVpcPeeringConnections`, which the
/// customer's own credentials have and the cross-account role has not.
pub async fn peerings(cloud: &dyn Cloud, name: &str) -> Result<Vec<ResourceStatus>> {
    let Some(vpc) = cloud.network().describe_vpcs(&cluster_filter(name)).await?.pop() else { return Ok(vec![]) };
    let found = cloud.network().describe_vpc_peerings(&Filter::all().in_vpc(&vpc.id)).await?;
    Ok(found
        .into_iter()
        .filter(|p| p.state != detcloud_provider::PeeringState::Deleted)
        .map(|p| {
            let other = if p.requester_vpc_id == vpc.id { &p.accepter_vpc_id } else { &p.requester_vpc_id };
            let state = match p.state {
                detcloud_provider::PeeringState::PendingAcceptance => "pending-acceptance",
                detcloud_provider::PeeringState::Active => "active",
                detcloud_provider::PeeringState::Deleted => "deleted",
                detcloud_provider::PeeringState::Failed => "failed",
            };
            let made = if detcloud_provider::tags::is_managed(&p.tags) { "" } else { " (not made by detcloud)" };
            ResourceStatus {
                resource: "VPC peering".into(),
                id: Some(p.id.clone()),
                state: state.into(),
                healthy: p.state == detcloud_provider::PeeringState::Active,
                detail: Some(format!("with {other}{made}")),
            }
        })
        .collect())
}

/// What is left of a cluster: see [`presence`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Some of its network, instances, key pair or database exists.
    Exists,
    /// Only what a delete keeps is left: its checkpoint bucket (a delete with `purge` removes it).
    Retained,
    /// Nothing but perhaps the bucket, which the caller may not read (S3 answers 403 rather than
    /// 404 for a missing bucket to a caller without `s3:ListBucket`).
    BucketUnreadable,
    /// Nothing of it exists.
    Absent,
}

/// Whether the cluster `name` of `account` exists in the region `cloud` works in (as
/// [`delete`](crate::delete) finds its resources), or only its retained bucket is left, or
/// nothing, or nothing but a bucket the caller may not read.
pub async fn presence(cloud: &dyn Cloud, name: &str, region: &str, account: &str) -> Result<Presence> {
    let spec = crate::ClusterSpec::new(name, region);
    let names = crate::context::Names::new(&spec, account);
    if !crate::context::Inventory::discover(cloud, &spec, &names).await?.is_empty() {
        return Ok(Presence::Exists);
    }
    match cloud.storage().describe_bucket(&names.bucket).await {
        Ok(_) => Ok(Presence::Retained),
        Err(e) if e.is_not_found() => Ok(Presence::Absent),
        Err(detcloud_provider::Error::AccessDenied { .. }) => Ok(Presence::BucketUnreadable),
        Err(e) => Err(e),
    }
}

/// The names and VPC ids of every cluster detcloud manages in the region, sorted.
pub async fn list(cloud: &dyn Cloud) -> Result<Vec<(String, String)>> {
    let vpcs = cloud
        .network()
        .describe_vpcs(&Filter::tag(detcloud_provider::tags::MANAGED_BY, detcloud_provider::tags::MANAGED_BY_VALUE))
        .await?;
    let mut out: Vec<(String, String)> = vpcs
        .into_iter()
        .filter_map(|v| v.tags.get(detcloud_provider::tags::CLUSTER).map(|n| (n.clone(), v.id)))
        .collect();
    out.sort();
    Ok(out)
}
