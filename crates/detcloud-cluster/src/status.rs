//! Status: every resource of a cluster, its state and health, read-only.

use std::time::{Duration, SystemTime};

use detcloud_provider::{Cloud, Filter, MetricQuery, NatGatewayState, Result};
use serde::Serialize;

use crate::context::{Inventory, Names};
use crate::graph::Node;
use crate::spec::ClusterSpec;

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
}

fn row(node: Node, id: Option<String>, state: &str, healthy: bool, detail: Option<String>) -> ResourceStatus {
    ResourceStatus { resource: node.label(), id, state: state.to_string(), healthy, detail }
}

fn missing(node: Node) -> ResourceStatus {
    row(node, None, "missing", false, None)
}

/// Reads the status of the cluster `name` in `region`.
pub async fn status(cloud: &dyn Cloud, name: &str, region: &str, account: &str) -> Result<ClusterStatus> {
    let spec = ClusterSpec::new(name, region);
    let names = Names::new(&spec, account);
    let inv = Inventory::discover(cloud, &spec, &names).await?;
    let mut rows = vec![];
    rows.push(match &inv.vpc {
        Some(v) => row(Node::Vpc, Some(v.id.clone()), &v.state, v.state == "available", Some(v.cidr.clone())),
        None => missing(Node::Vpc),
    });
    for s in &inv.subnets {
        let key = s.tags.get(crate::context::RESOURCE).cloned().unwrap_or_default();
        rows.push(ResourceStatus {
            resource: key.replace('-', " "),
            id: Some(s.id.clone()),
            state: s.state.clone(),
            healthy: s.state == "available",
            detail: Some(format!("{} in {}", s.cidr, s.availability_zone)),
        });
    }
    rows.push(match inv.internet_gateway() {
        Some(g) => {
            let attached = inv.vpc.as_ref().is_some_and(|v| g.attached_vpc_ids.contains(&v.id));
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
    rows.push(match inv.nat_gateway() {
        Some(n) => row(
            Node::NatGateway,
            Some(n.id.clone()),
            &n.state.to_string(),
            n.state == NatGatewayState::Available,
            n.failure_message.clone(),
        ),
        None => missing(Node::NatGateway),
    });
    rows.push(match &inv.db_cluster {
        Some(c) => row(
            Node::DbCluster,
            Some(c.id.clone()),
            &c.status,
            c.status == "available",
            Some(format!("backups kept {} days", c.backup_retention_days)),
        ),
        None => missing(Node::DbCluster),
    });
    if let Some(c) = &inv.db_cluster {
        let instances = if c.member_instance_ids.is_empty() {
            vec![]
        } else {
            cloud
                .database()
                .describe_db_instances(&Filter { ids: c.member_instance_ids.clone(), ..Filter::default() })
                .await?
        };
        if instances.is_empty() {
            rows.push(missing(Node::DbInstance));
        }
        for i in instances {
            rows.push(row(
                Node::DbInstance,
                Some(i.id.clone()),
                &i.status,
                i.status == "available",
                Some(i.instance_class),
            ));
        }
    }
    match inv.master() {
        Some(m) => {
            let checks = cloud.compute().describe_instance_status(std::slice::from_ref(&m.id)).await?;
            let (ok, detail) = match checks.first() {
                Some(s) => (
                    s.system_status == "ok" && s.instance_status == "ok",
                    format!("status checks: system {}, instance {}", s.system_status, s.instance_status),
                ),
                None => (false, "no status checks yet".to_string()),
            };
            let cpu = master_cpu(cloud, &m.id).await.ok().flatten();
            let detail = match cpu {
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
            rows.push(match inv.address(Node::MasterAddress) {
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
    for i in inv.instances.iter().filter(|i| !crate::create::is_node(&i.tags, Node::Master)) {
        rows.push(ResourceStatus {
            resource: "agent instance".into(),
            id: Some(i.id.clone()),
            state: i.state.to_string(),
            healthy: true,
            detail: Some(i.instance_type.clone()),
        });
    }
    let healthy = !inv.is_empty() && rows.iter().all(|r| r.healthy);
    Ok(ClusterStatus { name: name.to_string(), region: region.to_string(), resources: rows, healthy })
}

/// The master's average CPU over the last 10 minutes (CloudWatch), if there is data.
pub async fn master_cpu(cloud: &dyn Cloud, instance_id: &str) -> Result<Option<f64>> {
    let end = SystemTime::now();
    let start = end - Duration::from_secs(600);
    let query = MetricQuery {
        id: "cpu".into(),
        namespace: "AWS/EC2".into(),
        metric_name: "CPUUtilization".into(),
        dimensions: vec![("InstanceId".into(), instance_id.to_string())],
        stat: "Average".into(),
        period_seconds: 300,
    };
    let series = cloud.metrics().get_metric_data(std::slice::from_ref(&query), start, end).await?;
    Ok(series.into_iter().find(|s| s.id == "cpu").and_then(|s| s.points.last().map(|(_, v)| *v)))
}

/// The clusters of the region: names from the tags of detcloud's VPCs.
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
