//! Drift: where a cluster that exists differs from its spec in ways its status does not show.
//!
//! [`detect`] compares a cluster's resources, as one [`AccountReading::read_for_drift`] of its
//! account read them, with its spec: the default routes and subnet associations of its route
//! tables, the inbound rules of its VPC's default security group (a rule missing, or one the
//! spec does not have), the database's backup retention, the log group's retention and the
//! master's instance type. Resources that are missing or unhealthy are the status's business
//! ([`crate::status`]); a cluster whose VPC is gone has no drift, it has nothing.
//!
//! [`repair`] makes the cluster its spec again: it revokes the inbound rules the spec does not
//! have, then runs [`modify`](crate::operate::modify), which sets the retentions, replaces a
//! master of the wrong type and converges like `create` (routes, associations, missing rules).
//!
//! [`AccountReading::read_for_drift`]: crate::fleet::AccountReading::read_for_drift

use std::fmt;

use detcloud_provider::{Cloud, Result, RouteTarget, SecurityRule};
use serde::Serialize;

use crate::create::{ingress_rules_for, is_node, CreateOptions};
use crate::fleet::ClusterResources;
use crate::graph::Node;
use crate::{ClusterSpec, Prepared};

/// One difference between a cluster and its spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// The resource, as status names it (`private routes`, `security rules`, ...).
    pub resource: String,
    /// Its id.
    pub id: Option<String>,
    /// What differs, e.g. `default route 0.0.0.0/0 missing`.
    pub what: String,
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "{} {id}: {}", self.resource, self.what),
            None => write!(f, "{}: {}", self.resource, self.what),
        }
    }
}

fn same_rule(a: &SecurityRule, b: &SecurityRule) -> bool {
    a.protocol == b.protocol && a.from_port == b.from_port && a.to_port == b.to_port && a.cidr == b.cidr
}

fn rule_text(r: &SecurityRule) -> String {
    let ports =
        if r.from_port == r.to_port { r.from_port.to_string() } else { format!("{}-{}", r.from_port, r.to_port) };
    let source = r.cidr.clone().or_else(|| r.source_group_id.clone()).unwrap_or_else(|| "?".into());
    format!("{} {ports} from {source}", r.protocol)
}

/// The rule AWS puts in every default group (all traffic from the group itself): kept.
fn is_default_self_rule(r: &SecurityRule, group_id: &str) -> bool {
    r.source_group_id.as_deref() == Some(group_id) && r.cidr.is_none()
}

/// The inbound rules of `resources`' default group that `spec` does not have (AWS's own
/// self-referencing rule excepted).
pub fn extra_rules(spec: &ClusterSpec, resources: &ClusterResources) -> Vec<SecurityRule> {
    let (Some(vpc), Some(group)) = (resources.vpcs.first(), resources.security_groups.first()) else { return vec![] };
    let wanted = ingress_rules_for(spec, &vpc.cidr);
    group
        .ingress
        .iter()
        .filter(|r| !is_default_self_rule(r, &group.id) && !wanted.iter().any(|w| same_rule(w, r)))
        .cloned()
        .collect()
}

/// Where the cluster differs from `spec` (see the module's documentation). Needs a reading made
/// with [`read_for_drift`](crate::fleet::AccountReading::read_for_drift); `log_groups_read`
/// says whether its log groups were listed.
pub fn detect(spec: &ClusterSpec, resources: &ClusterResources, log_groups_read: bool) -> Vec<Drift> {
    let mut out = vec![];
    let Some(vpc) = resources.vpcs.first() else { return out };
    let drift =
        |node: Node, id: Option<&str>, what: String| Drift { resource: node.label(), id: id.map(str::to_string), what };
    // Route tables: the default route to the gateway, and every subnet of the kind associated.
    let igw =
        resources.internet_gateways.iter().find(|g| is_node(&g.tags, Node::InternetGateway)).map(|g| g.id.clone());
    let nat = resources.nat_gateways.iter().find(|n| is_node(&n.tags, Node::NatGateway)).map(|n| n.id.clone());
    for (node, target) in [
        (Node::PublicRoutes, igw.map(RouteTarget::InternetGateway)),
        (Node::PrivateRoutes, nat.map(RouteTarget::NatGateway)),
    ] {
        let Some(table) = resources.route_tables.iter().find(|t| is_node(&t.tags, node) && t.vpc_id == vpc.id) else {
            out.push(drift(node, None, "missing".into()));
            continue;
        };
        let id = Some(table.id.as_str());
        match (table.routes.iter().find(|r| r.destination_cidr == "0.0.0.0/0"), &target) {
            (None, _) => out.push(drift(node, id, "default route 0.0.0.0/0 missing".into())),
            (Some(r), Some(t)) if r.target != *t => {
                out.push(drift(node, id, format!("default route 0.0.0.0/0 goes to {:?}, not {t:?}", r.target)));
            }
            (Some(r), _) if r.state == "blackhole" => {
                out.push(drift(node, id, "default route 0.0.0.0/0 is a blackhole".into()));
            }
            _ => {}
        }
        let public = node == Node::PublicRoutes;
        for i in 0..spec.az_count.min(u32::from(u8::MAX)) as u8 {
            let subnet_node = if public { Node::PublicSubnet(i) } else { Node::PrivateSubnet(i) };
            let Some(subnet) = resources.subnets.iter().find(|s| is_node(&s.tags, subnet_node)) else { continue };
            if !table.associations.iter().any(|a| a.subnet_id.as_deref() == Some(subnet.id.as_str())) {
                out.push(drift(node, id, format!("subnet {} not associated", subnet.id)));
            }
        }
    }
    // The default group's inbound rules.
    if let Some(group) = resources.security_groups.first() {
        let id = Some(group.id.as_str());
        for w in ingress_rules_for(spec, &vpc.cidr) {
            if !group.ingress.iter().any(|r| same_rule(r, &w)) {
                out.push(drift(Node::SecurityRules, id, format!("inbound rule {} missing", rule_text(&w))));
            }
        }
        for r in extra_rules(spec, resources) {
            out.push(drift(Node::SecurityRules, id, format!("inbound rule {} is not in the spec", rule_text(&r))));
        }
    }
    // Retentions and the master's type.
    if let Some(c) = resources.live_database(&spec.name) {
        if c.backup_retention_days != spec.database.backup_retention_days {
            out.push(drift(
                Node::DbCluster,
                Some(&c.id),
                format!("backups kept {} days, not {}", c.backup_retention_days, spec.database.backup_retention_days),
            ));
        }
    }
    if log_groups_read {
        match resources.log_groups.first() {
            None => out.push(drift(Node::LogGroup, None, "missing".into())),
            Some(g) if g.retention_days != Some(spec.log_retention_days) => {
                let kept = g.retention_days.map_or_else(|| "forever".to_string(), |d| format!("{d} days"));
                out.push(drift(
                    Node::LogGroup,
                    Some(&g.name),
                    format!("logs kept {kept}, not {} days", spec.log_retention_days),
                ));
            }
            Some(_) => {}
        }
    }
    if let Some(m) = resources.master() {
        if m.instance_type != spec.master.instance_type {
            out.push(drift(
                Node::Master,
                Some(&m.id),
                format!("instance type {}, not {}", m.instance_type, spec.master.instance_type),
            ));
        }
    }
    out
}

/// Makes the prepared cluster its spec again (see the module's documentation); returns what it
/// changed.
pub async fn repair(cloud: &dyn Cloud, prepared: &Prepared, options: &CreateOptions) -> Result<Vec<String>> {
    let mut changes = vec![];
    let mut prepared = prepared.clone();
    if let (Some(vpc), Some(group)) = (&prepared.inventory.vpc, &prepared.inventory.default_group) {
        let resources = ClusterResources {
            vpcs: vec![vpc.clone()],
            security_groups: vec![group.clone()],
            ..ClusterResources::default()
        };
        let extra = extra_rules(&prepared.spec, &resources);
        if !extra.is_empty() {
            cloud.network().revoke_ingress(&group.id, &extra).await?;
            changes.extend(extra.iter().map(|r| format!("revoked inbound rule {}", rule_text(r))));
            if let Some(g) = prepared.inventory.default_group.as_mut() {
                g.ingress.retain(|e| !extra.contains(e));
            }
        }
    }
    let (report, _) = crate::operate::modify(cloud, &prepared, options).await?;
    changes.extend(report.changes);
    Ok(changes)
}
