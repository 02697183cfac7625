//! Delete: remove a cluster in reverse dependency order, concurrently where independent, keeping
//! the checkpoint bucket and a final database snapshot unless asked to purge.
//!
//! Four chains run at once — instances (the master first, so that it launches no more agents,
//! then the agents it launched, found by the tag it puts on them, with their spot requests, then
//! the master's elastic IP), the NAT gateway (then its elastic IP), the database
//! (instance, cluster with a final snapshot, subnet group, password parameter), and the loose
//! ends (key pair, log group, bucket) — then the network goes: route tables, internet gateway,
//! subnets, VPC. Everything missing counts as deleted, so a re-run resumes. When AWS refuses to
//! delete the VPC because of something detcloud does not own, the error names it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use detcloud_provider::tags::{is_managed, CLUSTER};
use detcloud_provider::{done_if_missing, Cloud, Error, Filter, Instance, InstanceState, NatGatewayState, Result};

use crate::bootstrap::AGENT_TAG;
use crate::context::{cluster_filter, Inventory, Names};
use crate::create::{Event, Phase, Progress};
use crate::graph::Node;
use crate::lock;
use crate::spec::ClusterSpec;
use crate::wait::{wait_for, wait_gone};

/// Options of a delete run.
#[derive(Clone)]
pub struct DeleteOptions {
    /// Also delete the checkpoint bucket (emptying it) and skip the final database snapshot.
    pub purge: bool,
    /// How long to wait for one resource at most.
    pub timeout: Duration,
    /// Progress events.
    pub progress: Option<Progress>,
    /// Run the four chains (instances, NAT gateway, database, bucket and logs) one after another
    /// instead of concurrently: the baseline the concurrent delete is measured against.
    pub sequential: bool,
    /// Remove the cluster's VPC peerings first (made by `cluster peer`), naming any other. Only
    /// for the customer's own credentials: the cross-account role may not describe peerings, so
    /// the default (false) makes no call for them.
    pub peerings: bool,
}

impl std::fmt::Debug for DeleteOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeleteOptions")
            .field("purge", &self.purge)
            .field("timeout", &self.timeout)
            .field("sequential", &self.sequential)
            .field("peerings", &self.peerings)
            .finish()
    }
}

impl Default for DeleteOptions {
    fn default() -> Self {
        DeleteOptions {
            purge: false,
            timeout: Duration::from_secs(1800),
            progress: None,
            sequential: false,
            peerings: false,
        }
    }
}

/// What a delete run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteReport {
    /// What was deleted, human-readable, in order.
    pub deleted: Vec<String>,
    /// What was kept on purpose (the bucket, the final snapshot).
    pub kept: Vec<String>,
}

struct Deleter<'a> {
    cloud: &'a dyn Cloud,
    cluster: String,
    names: Names,
    inv: Inventory,
    options: &'a DeleteOptions,
    log: std::sync::Mutex<DeleteReport>,
}

impl Deleter<'_> {
    fn emit(&self, node: Node, phase: Phase) {
        if let Some(p) = &self.options.progress {
            p(Event { node, phase });
        }
    }

    fn deleted(&self, what: String) {
        lock(&self.log).deleted.push(what);
    }

    fn kept(&self, what: String) {
        lock(&self.log).kept.push(what);
    }

    /// The VPC's peering connections, first (with [`DeleteOptions::peerings`]): detcloud's (made
    /// by `cluster peer`) are removed with their routes on both sides; any other is named and
    /// left. Credentials that may not describe peerings leave them unchecked, and the report says
    /// so.
    async fn peerings(&self) -> Result<()> {
        let Some(vpc) = self.inv.vpc.as_ref().filter(|_| self.options.peerings) else { return Ok(()) };
        let found = match self.cloud.network().describe_vpc_peerings(&Filter::all().in_vpc(&vpc.id)).await {
            Ok(found) => found,
            Err(Error::AccessDenied { .. }) => {
                self.kept(format!(
                    "VPC peerings of {} unchecked: these credentials may not describe them; remove any with `detcloud cluster unpeer {} --peer-vpc VPC_ID` and your own credentials",
                    vpc.id, self.cluster
                ));
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let live = found.into_iter().filter(|p| {
            !matches!(p.state, detcloud_provider::PeeringState::Deleted | detcloud_provider::PeeringState::Failed)
        });
        for p in live {
            let other = if p.requester_vpc_id == vpc.id { &p.accepter_vpc_id } else { &p.requester_vpc_id };
            let ours = is_managed(&p.tags) && p.tags.get(CLUSTER).is_some_and(|c| *c == self.cluster);
            if !ours {
                self.kept(format!("VPC peering {} with {other} (not made by detcloud)", p.id));
                continue;
            }
            match crate::operate::remove_peering(self.cloud, &p).await {
                Ok(done) => self.deleted(format!("VPC peering {} with {other} ({} routes)", p.id, done.routes.len())),
                Err(e) => self.kept(format!("VPC peering {} with {other}: cannot remove it: {e}", p.id)),
            }
        }
        Ok(())
    }

    async fn instances(&self) -> Result<()> {
        let compute = self.cloud.compute();
        // The master first: once it is shutting down, it launches no more agents.
        let masters: Vec<String> = self
            .inv
            .instances
            .iter()
            .filter(|i| crate::create::is_node(&i.tags, Node::Master))
            .map(|i| i.id.clone())
            .collect();
        if !masters.is_empty() {
            self.emit(Node::Master, Phase::Started);
            done_if_missing(compute.terminate_instances(&masters).await)?;
            self.emit(Node::Master, Phase::Waiting(format!("terminating the master {}", masters.join(", "))));
            let filter = Filter { ids: masters.clone(), ..Filter::default() };
            wait_gone(
                "the master to shut down",
                self.options.timeout,
                || compute.describe_instances(&filter),
                |list| list.iter().all(|i| i.state.is_gone()),
            )
            .await?;
        }
        // Then the agents it launched, until none is left: one it was launching as it stopped
        // shows up a moment later.
        let mut terminated = masters.clone();
        for _ in 0..3 {
            let agents = self.agents(&terminated).await?;
            if agents.is_empty() {
                break;
            }
            let ids: Vec<String> = agents.iter().map(|i| i.id.clone()).collect();
            self.cancel_spot_requests(&agents).await?;
            self.emit(Node::Master, Phase::Waiting(format!("terminating the agents {}", ids.join(", "))));
            done_if_missing(compute.terminate_instances(&ids).await)?;
            terminated.extend(ids);
        }
        // Spot requests left open with no instance yet would launch one later.
        self.cancel_spot_requests(&[]).await?;
        if !terminated.is_empty() {
            let filter = Filter { ids: terminated.clone(), ..Filter::default() };
            wait_gone(
                "instances to terminate",
                self.options.timeout,
                || compute.describe_instances(&filter),
                |list| list.iter().all(|i| i.state == InstanceState::Terminated),
            )
            .await?;
            self.deleted(format!("instances {}", terminated.join(", ")));
        }
        self.release(Node::MasterAddress).await
    }

    /// The cluster's agents still alive (not in `done`): instances the master tagged as its
    /// agents ([`AGENT_TAG`]), and instances with the cluster's ownership tags that are not the
    /// master, in the cluster's VPC when it exists. Nothing untagged is ever included.
    async fn agents(&self, done: &[String]) -> Result<Vec<Instance>> {
        let compute = self.cloud.compute();
        let name = &self.cluster;
        let mut found: Vec<Instance> = compute.describe_instances(&Filter::tag(AGENT_TAG, name)).await?;
        found.extend(compute.describe_instances(&cluster_filter(name)).await?);
        let vpc = self.inv.vpc.as_ref().map(|v| v.id.clone());
        let mut agents: Vec<Instance> = found
            .into_iter()
            .filter(|i| !i.state.is_gone() && !done.contains(&i.id))
            .filter(|i| !crate::create::is_node(&i.tags, Node::Master))
            .filter(|i| i.tags.get(AGENT_TAG) == Some(name) || is_managed(&i.tags))
            .filter(|i| vpc.is_none() || i.vpc_id.is_none() || i.vpc_id == vpc)
            .collect();
        agents.sort_by(|a, b| a.id.cmp(&b.id));
        agents.dedup_by(|a, b| a.id == b.id);
        Ok(agents)
    }

    /// Cancels the open spot requests of the cluster: tagged as its agents' or with its tags,
    /// or the requests that launched `agents`.
    async fn cancel_spot_requests(&self, agents: &[Instance]) -> Result<()> {
        let compute = self.cloud.compute();
        let name = &self.cluster;
        let launched: Vec<&String> = agents.iter().filter_map(|i| i.spot_request_id.as_ref()).collect();
        let open: Vec<String> = compute
            .describe_spot_requests(&Filter::all())
            .await?
            .into_iter()
            .filter(|r| matches!(r.state.as_str(), "open" | "active"))
            .filter(|r| {
                r.tags.get(AGENT_TAG) == Some(name)
                    || (is_managed(&r.tags) && r.tags.get(CLUSTER) == Some(name))
                    || launched.contains(&&r.id)
            })
            .map(|r| r.id.clone())
            .collect();
        if !open.is_empty() {
            compute.cancel_spot_requests(&open).await?;
            self.deleted(format!("spot requests {}", open.join(", ")));
        }
        Ok(())
    }

    async fn release(&self, node: Node) -> Result<()> {
        if let Some(a) = self.inv.address(node) {
            let net = self.cloud.network();
            let id = a.allocation_id.clone();
            // An address frees itself when its instance or NAT gateway is gone; AWS may take a
            // moment to notice.
            wait_for(&format!("elastic IP {id} to be released"), self.options.timeout, || async {
                match net.release_address(&id).await {
                    Ok(()) => Ok(Some(())),
                    Err(e) if e.is_not_found() => Ok(Some(())),
                    Err(Error::DependencyViolation { .. }) => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .await?;
            self.deleted(format!("{} {} ({})", node.label(), a.public_ip, id));
        }
        Ok(())
    }

    async fn nat(&self) -> Result<()> {
        let net = self.cloud.network();
        for n in self.inv.nat_gateways.iter().filter(|n| n.state != NatGatewayState::Deleted) {
            self.emit(Node::NatGateway, Phase::Started);
            done_if_missing(net.delete_nat_gateway(&n.id).await)?;
            let id = n.id.clone();
            self.emit(Node::NatGateway, Phase::Waiting(format!("{id} deleting")));
            let filter = Filter::id(&id);
            wait_gone(
                &format!("NAT gateway {id} to be deleted"),
                self.options.timeout,
                || net.describe_nat_gateways(&filter),
                |l| l.iter().all(|n| n.state == NatGatewayState::Deleted),
            )
            .await?;
            self.deleted(format!("NAT gateway {id}"));
        }
        self.release(Node::NatAddress).await
    }

    async fn database(&self) -> Result<()> {
        // The restored clusters first (they use the same subnet group), each with its snapshot.
        for cluster in self.inv.restored_db_clusters.iter().chain(self.inv.db_cluster.as_ref()) {
            self.db_cluster(cluster).await?;
        }
        // Wait out subnet-group deletion conflicts while RDS releases the group.
        let rds = self.cloud.database();
        let group = self.names.db_subnet_group.clone();
        wait_for(&format!("DB subnet group {group} to be deleted"), self.options.timeout, || async {
            match rds.delete_db_subnet_group(&group).await {
                Ok(()) => Ok(Some(true)),
                Err(e) if e.is_not_found() => Ok(Some(false)),
                // An endpoint without RDS (an emulator) holds no subnet group.
                Err(Error::Unsupported { .. }) => Ok(Some(false)),
                Err(Error::DependencyViolation { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await
        .map(|deleted| {
            if deleted {
                self.deleted(format!("DB subnet group {group}"))
            }
        })?;
        match self.cloud.parameters().delete_parameter(&self.names.password_parameter).await {
            Ok(()) => self.deleted(format!("parameter {}", self.names.password_parameter)),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// Asks AWS to delete `what`. Something already being deleted (a run stopped midway asked
    /// before) counts as asked; something busy otherwise (a backup, a modification) is asked again
    /// until it accepts or the timeout passes. Gone counts as deleted.
    async fn ask_to_delete<D, DFut, S, SFut>(&self, what: &str, delete: D, deleting: S) -> Result<()>
    where
        D: Fn() -> DFut,
        DFut: std::future::Future<Output = Result<()>>,
        S: Fn() -> SFut,
        SFut: std::future::Future<Output = Result<bool>>,
    {
        wait_for(&format!("{what} to accept deletion"), self.options.timeout, || async {
            match delete().await {
                Ok(()) => Ok(Some(())),
                Err(e) if e.is_not_found() => Ok(Some(())),
                Err(Error::NotReady { .. }) => Ok(deleting().await?.then_some(())),
                Err(e) => Err(e),
            }
        })
        .await
    }

    async fn db_cluster(&self, cluster: &detcloud_provider::DbCluster) -> Result<()> {
        let rds = self.cloud.database();
        if !is_managed(&cluster.tags) {
            return Err(Error::invalid(format!(
                "DB cluster {} was not created by detcloud; it is left alone and the network cannot be deleted while it exists",
                cluster.id
            )));
        }
        for member in &cluster.member_instance_ids {
            self.emit(Node::DbInstance, Phase::Started);
            let filter = Filter::id(member);
            self.ask_to_delete(
                &format!("Aurora instance {member}"),
                || rds.delete_db_instance(member),
                || async { Ok(rds.describe_db_instances(&filter).await?.iter().all(|i| i.status == "deleting")) },
            )
            .await?;
            let id = member.clone();
            self.emit(Node::DbInstance, Phase::Waiting(format!("{id} deleting")));
            let filter = Filter::id(&id);
            wait_gone(
                &format!("Aurora instance {id} to be deleted"),
                self.options.timeout,
                || rds.describe_db_instances(&filter),
                <[_]>::is_empty,
            )
            .await?;
            self.deleted(format!("Aurora instance {id}"));
        }
        self.emit(Node::DbCluster, Phase::Started);
        let snapshot = (!self.options.purge).then(|| {
            let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            format!("{}-final-{secs}", cluster.id)
        });
        let filter = Filter::id(&cluster.id);
        self.ask_to_delete(
            &format!("Aurora cluster {}", cluster.id),
            || rds.delete_db_cluster(&cluster.id, snapshot.as_deref()),
            || async { Ok(rds.describe_db_clusters(&filter).await?.iter().all(|c| c.status == "deleting")) },
        )
        .await?;
        let id = cluster.id.clone();
        self.emit(Node::DbCluster, Phase::Waiting(format!("{id} deleting")));
        let filter = Filter::id(&id);
        wait_gone(
            &format!("Aurora cluster {id} to be deleted"),
            self.options.timeout,
            || rds.describe_db_clusters(&filter),
            <[_]>::is_empty,
        )
        .await?;
        self.deleted(format!("Aurora cluster {id}"));
        if let Some(s) = snapshot {
            self.kept(format!("final database snapshot {s} (restore it with the RDS console or CLI)"));
        }
        Ok(())
    }

    async fn loose_ends(&self) -> Result<()> {
        if self.inv.key_pair.is_some() {
            done_if_missing(self.cloud.compute().delete_key_pair(&self.names.key_pair).await)?;
            self.deleted(format!("key pair {}", self.names.key_pair));
        }
        match self.cloud.logs().delete_log_group(&self.names.log_group).await {
            Ok(()) => self.deleted(format!("log group {}", self.names.log_group)),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
        if self.options.purge {
            let s3 = self.cloud.storage();
            match s3.empty_bucket(&self.names.bucket).await {
                Ok(n) => {
                    done_if_missing(s3.delete_bucket(&self.names.bucket).await)?;
                    self.deleted(format!("bucket {} ({n} objects)", self.names.bucket));
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        } else {
            self.kept(format!("checkpoint bucket {} (delete with --purge)", self.names.bucket));
        }
        Ok(())
    }

    async fn network(&self) -> Result<()> {
        let net = self.cloud.network();
        for t in &self.inv.route_tables {
            for a in t.associations.iter().filter(|a| !a.main) {
                done_if_missing(net.disassociate_route_table(&a.id).await)?;
            }
            done_if_missing(net.delete_route_table(&t.id).await)?;
            self.deleted(format!("route table {}", t.id));
        }
        for g in &self.inv.internet_gateways {
            for vpc in &g.attached_vpc_ids {
                done_if_missing(net.detach_internet_gateway(&g.id, vpc).await)?;
            }
            done_if_missing(net.delete_internet_gateway(&g.id).await)?;
            self.deleted(format!("internet gateway {}", g.id));
        }
        for s in &self.inv.subnets {
            match net.delete_subnet(&s.id).await {
                Ok(()) => self.deleted(format!("subnet {} ({})", s.id, s.cidr)),
                Err(e) if e.is_not_found() => {}
                Err(Error::DependencyViolation { message }) => {
                    return Err(self.blocked(&format!("subnet {}", s.id), &message, Some(&s.id)).await)
                }
                Err(e) => return Err(e),
            }
        }
        if let Some(vpc) = &self.inv.vpc {
            match net.delete_vpc(&vpc.id).await {
                Ok(()) => self.deleted(format!("VPC {} ({})", vpc.id, vpc.cidr)),
                Err(e) if e.is_not_found() => {}
                Err(Error::DependencyViolation { message }) => {
                    return Err(self.blocked(&format!("VPC {}", vpc.id), &message, None).await)
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The error for a network resource AWS will not delete, naming what blocks it.
    async fn blocked(&self, what: &str, message: &str, subnet: Option<&str>) -> Error {
        let net = self.cloud.network();
        let mut blockers = vec![];
        if let Some(vpc) = &self.inv.vpc {
            if let Ok(interfaces) = net.describe_network_interfaces(&Filter::all().in_vpc(&vpc.id)).await {
                for i in interfaces.iter().filter(|i| subnet.is_none_or(|s| i.subnet_id == s)) {
                    let owner = i.attached_to.clone().unwrap_or_else(|| "nothing".into());
                    blockers.push(format!("network interface {} (attached to {owner})", i.id));
                }
            }
            if let Ok(instances) = self.cloud.compute().describe_instances(&Filter::all().in_vpc(&vpc.id)).await {
                for i in instances.iter().filter(|i| !i.state.is_gone() && !is_managed(&i.tags)) {
                    blockers.push(format!("instance {} (not created by detcloud)", i.id));
                }
            }
        }
        let named = if blockers.is_empty() { String::new() } else { format!("; blocked by: {}", blockers.join(", ")) };
        Error::DependencyViolation {
            message: format!("{what} cannot be deleted: {message}{named}. detcloud does not delete what it does not own: remove these, then re-run delete"),
        }
    }
}

/// Deletes the Aurora clusters `clusters` of cluster `spec.name` (with their instances; a final
/// snapshot of each is kept unless `options.purge`), and nothing else: what
/// `cluster switch-database --delete-old` removes once the master runs on another database.
pub async fn delete_databases(
    cloud: &dyn Cloud,
    spec: &ClusterSpec,
    names: &Names,
    clusters: &[detcloud_provider::DbCluster],
    options: &DeleteOptions,
) -> Result<DeleteReport> {
    if let Some(live) = clusters.iter().find(|c| c.id == names.db_cluster) {
        return Err(Error::invalid(format!("{}: the master uses this database; it is not deleted", live.id)));
    }
    let d = Deleter {
        cloud,
        cluster: spec.name.clone(),
        names: names.clone(),
        inv: Inventory::default(),
        options,
        log: Default::default(),
    };
    for cluster in clusters {
        d.db_cluster(cluster).await?;
    }
    Ok(d.log.into_inner().unwrap_or_else(|e| e.into_inner()))
}

/// Deletes the cluster `name` in `region` of `account`. Returns what was deleted and kept.
pub async fn delete(
    cloud: &dyn Cloud,
    name: &str,
    region: &str,
    account: &str,
    options: &DeleteOptions,
) -> Result<DeleteReport> {
    let spec = ClusterSpec::new(name, region);
    spec.validate().map_err(|e| Error::invalid(e.to_string()))?;
    let names = Names::new(&spec, account);
    let inv = Inventory::discover(cloud, &spec, &names).await?;
    let d = Deleter { cloud, cluster: name.to_string(), names, inv, options, log: Default::default() };
    d.peerings().await?;
    if options.sequential {
        d.instances().await?;
        d.nat().await?;
        d.database().await?;
        d.loose_ends().await?;
    } else {
        let (a, b, c, e) = futures::join!(d.instances(), d.nat(), d.database(), d.loose_ends());
        a?;
        b?;
        c?;
        e?;
    }
    d.network().await?;
    Ok(d.log.into_inner().unwrap_or_else(|e| e.into_inner()))
}
