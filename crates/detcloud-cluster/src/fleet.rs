//! Fleet status: the status of every detcloud cluster in many accounts, with a number of calls per
//! account that does not grow with the number of clusters.
//!
//! One account is read with one tag-filtered describe per resource kind ([`AccountReading::read`]:
//! VPCs, subnets, internet gateways, elastic IPs, NAT gateways, instances, DB clusters, DB
//! instances, then the masters' status checks and CPU), and the results are grouped by the
//! `detcloud:cluster` tag in memory. [`status`](crate::status::status) of one cluster is the same
//! reading with the cluster's filter, so both render through one function. CloudWatch answers at
//! most 500 CPU queries per call, so a fleet reads the CPU of at most that many masters per account
//! per sweep, least recently read first, and keeps the other figures from earlier sweeps
//! ([`CpuMemory`]): ten calls per account and sweep, for one cluster or thousands.
//!
//! Each account's calls pass a [`TokenBucket`] first (EC2 limits request rates per account with
//! such a bucket), so a sweep stays under the rate and is never throttled; accounts are swept
//! concurrently, at most [`FleetOptions::concurrency`] at a time.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use detcloud_provider::tags::{CLUSTER, MANAGED_BY, MANAGED_BY_VALUE};
use detcloud_provider::{
    Address, Cloud, DbCluster, DbInstance, Filter, Instance, InstanceState, InstanceStatus, InternetGateway, LogGroup,
    MetricQuery, NatGateway, NatGatewayState, Result, RouteTable, RouteTarget, SecurityGroup, Subnet, Tags, Vpc,
};
use futures::StreamExt;
use tokio::time::Instant;

use crate::context::RESOURCE;
use crate::create::is_node;
use crate::graph::Node;
use crate::lock;
use crate::status::ClusterStatus;

/// GetMetricData takes at most this many queries per call: a sweep asks for the CPU of up to this
/// many masters per call.
pub const METRIC_QUERIES_PER_CALL: usize = 500;

/// DescribeInstanceStatus takes at most this many explicit instance ids; with more instances
/// (masters and their agents) the sweep lists every running instance's status (one paginated
/// call) instead.
pub const STATUS_IDS_PER_CALL: usize = 100;

/// A request rate: a bucket of `burst` tokens refilled at `per_second`, one token per call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// The bucket's size: how many calls may go at once after a quiet period.
    pub burst: u32,
    /// Tokens added per second, up to `burst`: the sustained rate.
    pub per_second: f64,
}

impl RateLimit {
    /// EC2's documented bucket for non-mutating (describe) actions: 100 tokens, 20 per second.
    pub const EC2_DESCRIBE: RateLimit = RateLimit { burst: 100, per_second: 20.0 };
}

/// A token bucket on tokio's clock: [`acquire`](Self::acquire) waits until a token is available.
///
/// Callers reserve tokens in arrival order (the bucket may go negative: a caller then sleeps until
/// its token has been refilled), so concurrent callers never exceed the rate together.
#[derive(Debug)]
pub struct TokenBucket {
    limit: RateLimit,
    state: Mutex<BucketState>,
}

#[derive(Debug)]
struct BucketState {
    tokens: f64,
    at: Instant,
    taken: u64,
}

impl TokenBucket {
    /// A full bucket.
    ///
    /// # Panics
    /// When the limit's `burst` is 0 or its `per_second` is not positive.
    pub fn new(limit: RateLimit) -> TokenBucket {
        assert!(limit.burst > 0 && limit.per_second > 0.0, "a rate limit needs a burst and a positive rate: {limit:?}");
        TokenBucket {
            limit,
            state: Mutex::new(BucketState { tokens: f64::from(limit.burst), at: Instant::now(), taken: 0 }),
        }
    }

    /// Takes one token, waiting (tokio time) until one is available.
    pub async fn acquire(&self) {
        let wait = {
            let mut s = lock(&self.state);
            let now = Instant::now();
            let refill = now.saturating_duration_since(s.at).as_secs_f64() * self.limit.per_second;
            s.tokens = (s.tokens + refill).min(f64::from(self.limit.burst)) - 1.0;
            s.at = now;
            s.taken += 1;
            if s.tokens >= 0.0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(-s.tokens / self.limit.per_second)
            }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// How many tokens have been taken so far (calls made through the bucket).
    pub fn taken(&self) -> u64 {
        lock(&self.state).taken
    }
}

/// What a status needs of one cluster, as read by tag-filtered describes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterResources {
    /// VPCs carrying the cluster's tags (one, unless someone copied the tags).
    pub vpcs: Vec<Vpc>,
    /// Subnets.
    pub subnets: Vec<Subnet>,
    /// Internet gateways.
    pub internet_gateways: Vec<InternetGateway>,
    /// Elastic IPs.
    pub addresses: Vec<Address>,
    /// NAT gateways, not deleted.
    pub nat_gateways: Vec<NatGateway>,
    /// Instances, not terminated.
    pub instances: Vec<Instance>,
    /// Aurora clusters (the cluster's own and restored ones).
    pub db_clusters: Vec<DbCluster>,
    /// Aurora instances.
    pub db_instances: Vec<DbInstance>,
    /// Route tables (read for drift only: [`AccountReading::read_for_drift`]).
    pub route_tables: Vec<RouteTable>,
    /// The default security group of its VPC (read for drift only).
    pub security_groups: Vec<SecurityGroup>,
    /// Its log group, when read (for drift only, and where the role may list log groups).
    pub log_groups: Vec<LogGroup>,
}

impl ClusterResources {
    /// The Aurora cluster the master of cluster `name` uses: the one its VPC's
    /// [`DATABASE_TAG`](crate::context::DATABASE_TAG) names, else (and when that one is gone) the
    /// cluster's own `detcloud-<name>`.
    pub fn live_database(&self, name: &str) -> Option<&DbCluster> {
        crate::context::live_database(self.vpcs.first(), &crate::context::own_db_cluster(name), &self.db_clusters)
    }
}

/// Everything of detcloud's in one account and region that a status shows, grouped by cluster.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountReading {
    /// The region read.
    pub region: String,
    /// The resources of each cluster, by cluster name.
    pub clusters: BTreeMap<String, ClusterResources>,
    /// Status checks of the clusters' masters, by instance id.
    pub instance_status: HashMap<String, InstanceStatus>,
    /// Average CPU of the clusters' masters over the last 10 minutes, by instance id.
    pub cpu: HashMap<String, f64>,
    /// True when the reading holds route tables, default security groups and log groups
    /// ([`read_for_drift`](Self::read_for_drift)).
    pub drift_read: bool,
    /// True when the log groups could be listed (the role's policy grants
    /// `logs:DescribeLogGroups` since it was added; accounts connected before lack it until
    /// `connect aws` runs again).
    pub log_groups_read: bool,
}

fn cluster_of(tags: &Tags) -> Option<&String> {
    tags.get(CLUSTER)
}

fn group<T>(
    items: Vec<T>,
    tags: impl Fn(&T) -> &Tags,
    out: &mut BTreeMap<String, ClusterResources>,
    field: impl Fn(&mut ClusterResources) -> &mut Vec<T>,
) {
    for item in items {
        if let Some(name) = cluster_of(tags(&item)) {
            let name = name.clone();
            field(out.entry(name).or_default()).push(item);
        }
    }
}

/// Runs one call after taking a token from `bucket`, if any.
async fn limited<T>(bucket: Option<&TokenBucket>, call: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    if let Some(b) = bucket {
        b.acquire().await;
    }
    call.await
}

/// The CPU query of one master, as [`master_cpu`](crate::status::master_cpu) makes it.
pub(crate) fn cpu_query(id: String, instance_id: &str) -> MetricQuery {
    MetricQuery {
        id,
        namespace: "AWS/EC2".into(),
        metric_name: "CPUUtilization".into(),
        dimensions: vec![("InstanceId".into(), instance_id.to_string())],
        stat: "Average".into(),
        period_seconds: 300,
    }
}

/// The masters' CPU figures carried from one reading of an account to the next, so that a reading
/// asks for the CPU of a bounded number of masters (one GetMetricData call) however many there are.
#[derive(Debug, Default)]
pub struct CpuMemory {
    readings: u64,
    /// By master instance id: the reading that last asked for its CPU, and the figure it got.
    known: HashMap<String, (u64, Option<f64>)>,
}

impl CpuMemory {
    /// At most `limit` of `masters`: those never asked for first, then the least recently asked,
    /// each group in the order given.
    fn choose(&self, masters: &[String], limit: usize) -> Vec<String> {
        let mut order: Vec<(u64, usize)> =
            masters.iter().enumerate().map(|(i, id)| (self.known.get(id).map_or(0, |(at, _)| *at), i)).collect();
        if order.len() > limit {
            order.select_nth_unstable(limit);
            order.truncate(limit);
        }
        order.sort_unstable();
        order.into_iter().map(|(_, i)| masters[i].clone()).collect()
    }

    /// Records what this reading got for the masters in `asked` (`fresh`: none when the call
    /// failed), forgets masters that are gone, and returns the figure of every master known.
    fn remember(
        &mut self,
        masters: &[String],
        asked: &[String],
        fresh: Option<HashMap<String, f64>>,
    ) -> HashMap<String, f64> {
        self.readings += 1;
        if let Some(fresh) = fresh {
            for id in asked {
                self.known.insert(id.clone(), (self.readings, fresh.get(id).copied()));
            }
        }
        let current: std::collections::HashSet<&String> = masters.iter().collect();
        self.known.retain(|id, _| current.contains(id));
        self.known.iter().filter_map(|(id, (_, cpu))| cpu.map(|c| (id.clone(), c))).collect()
    }
}

impl AccountReading {
    /// Reads everything matching `filter` (detcloud's tags: every cluster's, or one cluster's)
    /// with one describe per resource kind, then the masters' status checks and CPU; each call
    /// first takes a token from `bucket`. Ten calls at most, however many clusters match (the
    /// CPU of at most [`METRIC_QUERIES_PER_CALL`] masters: see [`read_with`](Self::read_with)).
    pub async fn read(cloud: &dyn Cloud, filter: &Filter, bucket: Option<&TokenBucket>) -> Result<AccountReading> {
        let memory = Mutex::new(CpuMemory::default());
        Self::read_with(cloud, filter, bucket, &memory, METRIC_QUERIES_PER_CALL).await
    }

    /// [`read`](Self::read), with the CPU figures of earlier readings: one GetMetricData call asks
    /// for the CPU of at most `cpu_per_call` masters (at most [`METRIC_QUERIES_PER_CALL`]; 0 reads
    /// no CPU and makes no call for it),
    /// those `memory` has never read first, then the least recently read. The others keep the
    /// figure `memory` holds from an earlier reading, so with N masters every figure is at most
    /// ⌈N / `cpu_per_call`⌉ readings old and the calls stay the same whatever N is.
    pub async fn read_with(
        cloud: &dyn Cloud,
        filter: &Filter,
        bucket: Option<&TokenBucket>,
        memory: &Mutex<CpuMemory>,
        cpu_per_call: usize,
    ) -> Result<AccountReading> {
        let (mut reading, gateways) = futures::try_join!(
            Self::read_without_gateways(cloud, filter, bucket, memory, cpu_per_call),
            Self::describe_gateways(cloud, filter, bucket),
        )?;
        reading.add_gateways(gateways);
        Ok(reading)
    }

    /// The internet gateways and elastic IPs matching `filter` (two calls).
    async fn describe_gateways(
        cloud: &dyn Cloud,
        filter: &Filter,
        bucket: Option<&TokenBucket>,
    ) -> Result<(Vec<InternetGateway>, Vec<Address>)> {
        let net = cloud.network();
        futures::try_join!(
            limited(bucket, net.describe_internet_gateways(filter)),
            limited(bucket, net.describe_addresses(filter)),
        )
    }

    /// Groups what [`describe_gateways`](Self::describe_gateways) read by cluster.
    fn add_gateways(&mut self, (internet_gateways, addresses): (Vec<InternetGateway>, Vec<Address>)) {
        group(internet_gateways, |g| &g.tags, &mut self.clusters, |c| &mut c.internet_gateways);
        group(addresses, |a| &a.tags, &mut self.clusters, |c| &mut c.addresses);
    }

    /// [`read_with`](Self::read_with) without the internet gateways and elastic IPs.
    async fn read_without_gateways(
        cloud: &dyn Cloud,
        filter: &Filter,
        bucket: Option<&TokenBucket>,
        memory: &Mutex<CpuMemory>,
        cpu_per_call: usize,
    ) -> Result<AccountReading> {
        let net = cloud.network();
        let compute = cloud.compute();
        let db = cloud.database();
        let (vpcs, subnets, nat_gateways, instances, db_clusters, db_instances) = futures::try_join!(
            limited(bucket, net.describe_vpcs(filter)),
            limited(bucket, net.describe_subnets(filter)),
            limited(bucket, net.describe_nat_gateways(filter)),
            limited(bucket, compute.describe_instances(filter)),
            async { crate::context::none_without_rds(limited(bucket, db.describe_db_clusters(filter)).await) },
            async { crate::context::none_without_rds(limited(bucket, db.describe_db_instances(filter)).await) },
        )?;
        let mut clusters = BTreeMap::new();
        group(vpcs, |v| &v.tags, &mut clusters, |c| &mut c.vpcs);
        group(subnets, |s| &s.tags, &mut clusters, |c| &mut c.subnets);
        let nat_gateways = nat_gateways.into_iter().filter(|n| n.state != NatGatewayState::Deleted).collect();
        group(nat_gateways, |n| &n.tags, &mut clusters, |c| &mut c.nat_gateways);
        let instances = instances.into_iter().filter(|i| !i.state.is_gone()).collect();
        group(instances, |i| &i.tags, &mut clusters, |c| &mut c.instances);
        group(db_clusters, |c| &c.tags, &mut clusters, |c| &mut c.db_clusters);
        group(db_instances, |i| &i.tags, &mut clusters, |c| &mut c.db_instances);

        let masters: Vec<String> = clusters.values().filter_map(|c| c.master().map(|m| m.id.clone())).collect();
        // Status checks of every instance read: the masters and the agents they launched.
        let instances: Vec<String> = clusters.values().flat_map(|c| c.instances.iter().map(|i| i.id.clone())).collect();
        let mut reading = AccountReading {
            region: cloud.region(),
            clusters,
            instance_status: HashMap::new(),
            cpu: HashMap::new(),
            drift_read: false,
            log_groups_read: false,
        };
        if masters.is_empty() && instances.is_empty() {
            return Ok(reading);
        }
        let ids: &[String] = if instances.len() <= STATUS_IDS_PER_CALL { &instances } else { &[] };
        let end = SystemTime::now();
        let start = end - Duration::from_secs(600);
        let asked = match cpu_per_call {
            0 => vec![],
            n => lock(memory).choose(&masters, n.min(METRIC_QUERIES_PER_CALL)),
        };
        let queries: Vec<MetricQuery> =
            asked.iter().enumerate().map(|(i, id)| cpu_query(format!("m{i}"), id)).collect();
        let metrics = cloud.metrics();
        let cpu = async {
            if queries.is_empty() {
                Ok(vec![])
            } else {
                limited(bucket, metrics.get_metric_data(&queries, start, end)).await
            }
        };
        let (checks, series) = futures::join!(limited(bucket, compute.describe_instance_status(ids)), cpu);
        // The CPU is a detail: a failed query leaves the figures as they were, as for one cluster.
        let fresh = series.ok().map(|series| {
            let by_id: HashMap<String, f64> =
                series.into_iter().filter_map(|s| s.points.last().map(|(_, v)| (s.id, *v))).collect();
            queries.iter().zip(&asked).filter_map(|(q, id)| by_id.get(&q.id).map(|v| (id.clone(), *v))).collect()
        });
        reading.instance_status = checks?.into_iter().map(|s| (s.instance_id.clone(), s)).collect();
        reading.cpu = lock(memory).remember(&masters, &asked, fresh);
        Ok(reading)
    }

    /// [`read_with`](Self::read_with) without the CPU (the control plane needs none), plus what
    /// drift detection compares with the specs: the route tables, the default security groups of
    /// detcloud's VPCs and the clusters' log groups.
    ///
    /// Ten calls when every cluster read is whole, whatever their number: the internet gateways
    /// and elastic IPs are then known without describing them (see
    /// [`imply_gateways`](Self::imply_gateways)). Otherwise two calls more describe them.
    pub async fn read_for_drift(
        cloud: &dyn Cloud,
        filter: &Filter,
        bucket: Option<&TokenBucket>,
        memory: &Mutex<CpuMemory>,
    ) -> Result<AccountReading> {
        let net = cloud.network();
        let logs = cloud.logs();
        let everything = Filter::all();
        let (reading, route_tables, groups, log_groups) = futures::join!(
            Self::read_without_gateways(cloud, filter, bucket, memory, 0),
            limited(bucket, net.describe_route_tables(filter)),
            limited(bucket, net.describe_security_groups(&everything)),
            limited(bucket, logs.describe_log_groups(crate::context::LOG_GROUP_PREFIX)),
        );
        let mut reading = reading?;
        group(route_tables?, |t| &t.tags, &mut reading.clusters, |c| &mut c.route_tables);
        let by_vpc: HashMap<String, String> = reading
            .clusters
            .iter()
            .flat_map(|(name, c)| c.vpcs.iter().map(move |v| (v.id.clone(), name.clone())))
            .collect();
        for g in groups?.into_iter().filter(|g| g.name == "default") {
            if let Some(name) = by_vpc.get(&g.vpc_id) {
                if let Some(c) = reading.clusters.get_mut(name) {
                    c.security_groups.push(g);
                }
            }
        }
        match log_groups {
            Ok(found) => {
                reading.log_groups_read = true;
                for g in found {
                    let name = g.name.strip_prefix(crate::context::LOG_GROUP_PREFIX).unwrap_or_default().to_string();
                    if let Some(c) = reading.clusters.get_mut(&name) {
                        c.log_groups.push(g);
                    }
                }
            }
            // Accounts connected before the role could list log groups: retention is set at
            // each repair but not compared.
            Err(detcloud_provider::Error::AccessDenied { .. }) => {}
            Err(e) => return Err(e),
        }
        if !reading.imply_gateways() {
            reading.add_gateways(Self::describe_gateways(cloud, filter, bucket).await?);
        }
        reading.drift_read = true;
        Ok(reading)
    }

    /// Fills in every cluster's internet gateway and master elastic IP from what else was read,
    /// when each cluster shows them working; true if so, false (and nothing filled in) when one
    /// cluster does not, so that they must be described.
    ///
    /// What shows them, on AWS's rules:
    /// - an *active* default route of the cluster's public route table to an internet gateway:
    ///   the gateway exists and is attached to that VPC (a route to a deleted or detached gateway
    ///   is a `blackhole`, and a VPC has at most one gateway);
    /// - a public IP on the cluster's running master: its elastic IP is associated with it
    ///   (detcloud's subnets give instances no public IP of their own);
    /// - an available NAT gateway: the elastic IP it holds exists (one in use cannot be
    ///   released). The status shows no row for it, so nothing is filled in.
    ///
    /// A cluster partly made, drifted or being deleted fails one of these, and the next reading
    /// describes both kinds, as a status does.
    fn imply_gateways(&mut self) -> bool {
        let mut implied = Vec::with_capacity(self.clusters.len());
        for resources in self.clusters.values() {
            let Some(vpc) = resources.vpcs.first() else { return false };
            let public =
                resources.route_tables.iter().find(|t| is_node(&t.tags, Node::PublicRoutes) && t.vpc_id == vpc.id);
            let gateway = public.and_then(|t| {
                t.routes.iter().find_map(|r| match &r.target {
                    RouteTarget::InternetGateway(id) if r.destination_cidr == "0.0.0.0/0" && r.state == "active" => {
                        Some((t, id))
                    }
                    _ => None,
                })
            });
            let Some((table, gateway)) = gateway else { return false };
            let nat_ok = resources
                .nat_gateways
                .iter()
                .any(|n| is_node(&n.tags, Node::NatGateway) && n.state == NatGatewayState::Available);
            let master = resources.master().filter(|m| m.state == InstanceState::Running);
            let Some((master, public_ip)) = master.and_then(|m| m.public_ip.as_ref().map(|ip| (m, ip))) else {
                return false;
            };
            if !nat_ok {
                return false;
            }
            let tagged = |node: Node| {
                let mut tags = table.tags.clone();
                tags.insert(RESOURCE.to_string(), node.key());
                tags
            };
            implied.push((
                InternetGateway {
                    id: gateway.clone(),
                    attached_vpc_ids: vec![vpc.id.clone()],
                    tags: tagged(Node::InternetGateway),
                },
                Address {
                    allocation_id: String::new(),
                    public_ip: public_ip.clone(),
                    association_id: None,
                    instance_id: Some(master.id.clone()),
                    network_interface_id: None,
                    tags: tagged(Node::MasterAddress),
                },
            ));
        }
        for (resources, (gateway, address)) in self.clusters.values_mut().zip(implied) {
            resources.internet_gateways.push(gateway);
            resources.addresses.push(address);
        }
        true
    }

    /// The status of the cluster `name` (every resource missing when nothing of it was read).
    pub fn status(&self, name: &str) -> Result<ClusterStatus> {
        let empty = ClusterResources::default();
        let resources = self.clusters.get(name).unwrap_or(&empty);
        crate::status::render(name, &self.region, resources, &self.instance_status, &self.cpu)
    }

    /// The status of every cluster read, by name.
    pub fn statuses(&self) -> BTreeMap<String, Result<ClusterStatus>> {
        self.clusters.keys().map(|name| (name.clone(), self.status(name))).collect()
    }
}

impl ClusterResources {
    /// The master instance.
    pub fn master(&self) -> Option<&Instance> {
        self.instances.iter().find(|i| crate::create::is_node(&i.tags, crate::graph::Node::Master))
    }
}

/// How a fleet is swept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FleetOptions {
    /// Accounts read at the same time.
    pub concurrency: usize,
    /// Each account's request rate (the sweep waits rather than exceed it).
    pub rate: RateLimit,
    /// The masters whose CPU a sweep reads in each account (one GetMetricData call; at most
    /// [`METRIC_QUERIES_PER_CALL`], and 0 reads none). An account with more masters gets the others' CPU from
    /// earlier sweeps, least recently read first: every figure is at most ⌈masters /
    /// `cpu_per_sweep`⌉ sweeps old, and the sweep's calls stay the same.
    pub cpu_per_sweep: usize,
}

impl Default for FleetOptions {
    fn default() -> Self {
        FleetOptions { concurrency: 16, rate: RateLimit::EC2_DESCRIBE, cpu_per_sweep: METRIC_QUERIES_PER_CALL }
    }
}

/// One account's part of a sweep.
#[derive(Debug, Clone)]
pub struct AccountStatus {
    /// The account id.
    pub account: String,
    /// The region read.
    pub region: String,
    /// Every cluster found, by name, or the error that stopped reading the account.
    pub clusters: Result<BTreeMap<String, Result<ClusterStatus>>>,
    /// Provider calls this sweep made in the account.
    pub calls: u64,
}

#[derive(Debug)]
struct Member {
    account: String,
    cloud: Arc<dyn Cloud>,
    bucket: TokenBucket,
    cpu: Mutex<CpuMemory>,
}

/// Many accounts, each a `Cloud` acting as the cross-account role in one region, swept together.
///
/// Each account keeps its token bucket from one sweep to the next, so back-to-back sweeps stay
/// under the rate too, and its masters' CPU figures, so that a sweep reads the CPU of at most
/// [`FleetOptions::cpu_per_sweep`] masters per account (CloudWatch answers at most
/// [`METRIC_QUERIES_PER_CALL`] queries per call): a sweep makes at most ten calls per account,
/// whatever the number of clusters.
#[derive(Debug, Default)]
pub struct Fleet {
    members: Vec<Member>,
    options: FleetOptions,
}

impl Fleet {
    /// An empty fleet.
    pub fn new(options: FleetOptions) -> Fleet {
        Fleet { members: vec![], options }
    }

    /// Adds an account.
    pub fn add(&mut self, account: impl Into<String>, cloud: Arc<dyn Cloud>) {
        self.members.push(Member {
            account: account.into(),
            cloud,
            bucket: TokenBucket::new(self.options.rate),
            cpu: Mutex::new(CpuMemory::default()),
        });
    }

    /// The number of accounts.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// True when the fleet has no account.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Reads every account (at most `concurrency` at a time) and returns each one's clusters, in
    /// the order the accounts were added.
    pub async fn sweep(&self) -> Vec<AccountStatus> {
        let filter = Filter::tag(MANAGED_BY, MANAGED_BY_VALUE);
        let filter = &filter;
        let cpu_per_sweep = self.options.cpu_per_sweep;
        futures::stream::iter(&self.members)
            .map(|m| async move {
                let before = m.bucket.taken();
                let reading =
                    AccountReading::read_with(m.cloud.as_ref(), filter, Some(&m.bucket), &m.cpu, cpu_per_sweep).await;
                AccountStatus {
                    account: m.account.clone(),
                    region: m.cloud.region(),
                    clusters: reading.map(|r| r.statuses()),
                    calls: m.bucket.taken() - before,
                }
            })
            .buffered(self.options.concurrency.max(1))
            .collect()
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_bucket_lets_a_burst_through_then_the_rate() {
        let bucket = TokenBucket::new(RateLimit { burst: 4, per_second: 2.0 });
        let start = Instant::now();
        for _ in 0..4 {
            bucket.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        // Six more at two a second: three seconds.
        for _ in 0..6 {
            bucket.acquire().await;
        }
        let waited = start.elapsed();
        assert!(waited >= Duration::from_secs(3) && waited < Duration::from_millis(3010), "{waited:?}");
        assert_eq!(bucket.taken(), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_the_rate() {
        let bucket = TokenBucket::new(RateLimit { burst: 1, per_second: 10.0 });
        let start = Instant::now();
        futures::future::join_all((0..11).map(|_| bucket.acquire())).await;
        let waited = start.elapsed();
        assert!(waited >= Duration::from_secs(1) && waited < Duration::from_millis(1010), "{waited:?}");
    }
}
