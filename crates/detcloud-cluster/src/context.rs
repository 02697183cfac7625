//! What every lifecycle operation shares: the cloud, the spec, the names of resources that cannot
//! carry tags, the ownership tags, and the inventory of what already exists.

use detcloud_provider::tags::{CLUSTER, MANAGED_BY, MANAGED_BY_VALUE};
use detcloud_provider::{
    Address, Cloud, DbCluster, Filter, Instance, InternetGateway, KeyPair, NatGateway, NatGatewayState, Result,
    RouteTable, SecurityGroup, SpotRequest, Subnet, Tags, Vpc,
};

use crate::graph::Node;
use crate::spec::ClusterSpec;

/// The tag naming which graph node a resource is.
pub const RESOURCE: &str = "detcloud:resource";

/// Names of a cluster's resources. Buckets, log groups, parameters, DB identifiers and key pairs
/// are found by name (the cross-account role may not list or read their tags); the `detcloud-`
/// prefix and the cluster name prove ownership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// The checkpoint bucket: `detcloud-<cluster>-<account>-<region>`.
    pub bucket: String,
    /// The log group: `/detcloud/<cluster>`.
    pub log_group: String,
    /// The SSM SecureString holding the database password: `/detcloud/<cluster>/db-password`.
    pub password_parameter: String,
    /// The Aurora cluster the master uses: `detcloud-<cluster>`, or the restored cluster that
    /// `cluster switch-database` made live (see [`Names::with_database`]).
    pub db_cluster: String,
    /// Its instance: `<db_cluster>-1`.
    pub db_instance: String,
    /// The cluster's own Aurora cluster, the one create makes: `detcloud-<cluster>`.
    pub own_db_cluster: String,
    /// The DB subnet group: `detcloud-<cluster>`.
    pub db_subnet_group: String,
    /// The key pair: `detcloud-<cluster>`.
    pub key_pair: String,
}

/// The VPC tag naming the Aurora cluster the master uses when `cluster switch-database` moved it
/// off the cluster's own (a restored one); absent, the master uses its own.
pub const DATABASE_TAG: &str = "detcloud:database";

/// The prefix of every cluster's log group (`/detcloud/<cluster>`).
pub const LOG_GROUP_PREFIX: &str = "/detcloud/";

impl Names {
    /// The names for a cluster in an account.
    pub fn new(spec: &ClusterSpec, account: &str) -> Names {
        let n = spec.name.as_str();
        let prefixed = own_db_cluster(n);
        Names {
            bucket: [&prefixed, "-", account, "-", &spec.region].concat(),
            log_group: [LOG_GROUP_PREFIX, n].concat(),
            password_parameter: ["/detcloud/", n, "/db-password"].concat(),
            db_cluster: prefixed.clone(),
            db_instance: [&prefixed, "-1"].concat(),
            own_db_cluster: prefixed.clone(),
            db_subnet_group: prefixed.clone(),
            key_pair: prefixed,
        }
    }

    /// The names with `db_cluster` (and its instance `<id>-1`) the Aurora cluster `id`.
    pub fn with_database(mut self, id: &str) -> Names {
        self.db_cluster = id.to_string();
        self.db_instance = [id, "-1"].concat();
        self
    }

    /// The names with the database the master of cluster `spec.name` uses ([`live_database`]),
    /// reading its VPC and its Aurora clusters (the own one when none exists).
    pub async fn resolve(self, cloud: &dyn Cloud, spec: &ClusterSpec) -> Result<Names> {
        let vpcs = cloud.network().describe_vpcs(&cluster_filter(&spec.name)).await?;
        let clusters =
            none_without_rds(cloud.database().describe_db_clusters(&Filter::tag(CLUSTER, &spec.name)).await)?;
        let id = live_database(vpcs.first(), &self.own_db_cluster, &clusters).map(|c| c.id.clone());
        let own = self.own_db_cluster.clone();
        Ok(self.with_database(id.as_deref().unwrap_or(&own)))
    }
}

/// The cluster's own Aurora cluster: `detcloud-<cluster>`.
pub fn own_db_cluster(cluster: &str) -> String {
    ["detcloud-", cluster].concat()
}

/// The Aurora cluster the master uses among `clusters` (those of one cluster): the one its VPC's
/// [`DATABASE_TAG`] names, else (no tag, or that one is gone) the cluster's own, `own`. The one
/// rule create, status, drift and the day-two commands follow.
pub fn live_database<'c>(vpc: Option<&Vpc>, own: &str, clusters: &'c [DbCluster]) -> Option<&'c DbCluster> {
    let tagged = vpc.and_then(|v| v.tags.get(DATABASE_TAG));
    tagged.and_then(|id| clusters.iter().find(|c| c.id == *id)).or_else(|| clusters.iter().find(|c| c.id == own))
}

/// The ownership tags of a cluster (plus the spec's extra tags).
pub fn cluster_tags(spec: &ClusterSpec) -> Tags {
    let mut tags = Tags::from(spec.tags.clone());
    tags.insert(MANAGED_BY.into(), MANAGED_BY_VALUE.into());
    tags.insert(CLUSTER.into(), spec.name.clone());
    tags
}

/// The tags of one node's resource: the cluster's, its node key, and a `Name`.
pub fn node_tags(spec: &ClusterSpec, node: Node) -> Tags {
    let mut tags = cluster_tags(spec);
    let key = node.key();
    tags.insert("Name".into(), ["detcloud-", &spec.name, "-", &key].concat());
    tags.insert(RESOURCE.into(), key);
    if node == Node::Vpc {
        tags.insert(crate::operate::LOG_RETENTION_TAG.into(), spec.log_retention_days.to_string());
    }
    tags
}

/// A filter for everything of a cluster.
pub fn cluster_filter(name: &str) -> Filter {
    Filter::tag(MANAGED_BY, MANAGED_BY_VALUE).and_tag(CLUSTER, name)
}

/// The VPC's `default` security group (the cross-account role may not create groups, so the
/// cluster's rules live on this one).
pub async fn default_group(cloud: &dyn Cloud, vpc_id: &str) -> Result<Option<SecurityGroup>> {
    let groups = cloud.network().describe_security_groups(&Filter::all().in_vpc(vpc_id)).await?;
    Ok(groups.into_iter().find(|g| g.name == "default"))
}

/// What of a cluster already exists, read with the describes the cross-account role may call.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// The VPC.
    pub vpc: Option<Vpc>,
    /// Its subnets (tagged).
    pub subnets: Vec<Subnet>,
    /// Internet gateways (tagged).
    pub internet_gateways: Vec<InternetGateway>,
    /// Elastic IPs (tagged).
    pub addresses: Vec<Address>,
    /// NAT gateways (tagged, not deleted).
    pub nat_gateways: Vec<NatGateway>,
    /// How many tagged NAT gateways were deleted, are being deleted or failed: a replacement
    /// needs a client token of its own (AWS answers a used token with the gateway it made).
    pub replaced_nat_gateways: usize,
    /// Route tables (tagged).
    pub route_tables: Vec<RouteTable>,
    /// The VPC's default security group.
    pub default_group: Option<SecurityGroup>,
    /// The key pair.
    pub key_pair: Option<KeyPair>,
    /// Instances (tagged with the cluster, not terminated): the master and what it launched.
    pub instances: Vec<Instance>,
    /// Spot requests (tagged with the cluster).
    pub spot_requests: Vec<SpotRequest>,
    /// The Aurora cluster.
    pub db_cluster: Option<DbCluster>,
    /// The other Aurora clusters of the cluster: those `cluster restore` made, and the cluster's
    /// own one once `cluster switch-database` moved the master off it.
    pub restored_db_clusters: Vec<DbCluster>,
}

/// A read of RDS resources, with an endpoint that has no RDS at all (an emulator answering 501
/// Not Implemented, as LocalStack does) read as holding none: nothing can exist there. Every
/// other error stays an error.
pub(crate) fn none_without_rds<T: Default>(read: Result<T>) -> Result<T> {
    match read {
        Err(detcloud_provider::Error::Unsupported { .. }) => Ok(T::default()),
        other => other,
    }
}

pub(crate) fn has_key(tags: &Tags, node: Node) -> bool {
    tags.get(RESOURCE).is_some_and(|k| *k == node.key())
}

impl Inventory {
    /// Reads what exists of the cluster `spec.name`.
    pub async fn discover(cloud: &dyn Cloud, spec: &ClusterSpec, names: &Names) -> Result<Inventory> {
        let net = cloud.network();
        let filter = cluster_filter(&spec.name);
        let mut vpcs = net.describe_vpcs(&filter).await?;
        if vpcs.len() > 1 {
            let ids: Vec<String> = vpcs.iter().map(|v| v.id.clone()).collect();
            return Err(detcloud_provider::Error::InvalidInput {
                message: format!(
                    "{} VPCs carry the tags of cluster {}: {}; delete the extra ones by hand",
                    vpcs.len(),
                    spec.name,
                    ids.join(", ")
                ),
            });
        }
        let vpc = vpcs.pop();
        let (subnets, route_tables, default_group) = match &vpc {
            Some(v) => {
                let subnets = net.describe_subnets(&filter.clone().in_vpc(&v.id)).await?;
                let tables = net.describe_route_tables(&filter.clone().in_vpc(&v.id)).await?;
                let default = default_group(cloud, &v.id).await?;
                (subnets, tables, default)
            }
            None => (vec![], vec![], None),
        };
        let internet_gateways = net.describe_internet_gateways(&filter).await?;
        let addresses = net.describe_addresses(&filter).await?;
        let all_nat_gateways = net.describe_nat_gateways(&filter).await?;
        let replaced_nat_gateways = all_nat_gateways
            .iter()
            .filter(|n| {
                has_key(&n.tags, Node::NatGateway)
                    && matches!(n.state, NatGatewayState::Deleted | NatGatewayState::Deleting | NatGatewayState::Failed)
            })
            .count();
        let nat_gateways = all_nat_gateways.into_iter().filter(|n| n.state != NatGatewayState::Deleted).collect();
        let compute = cloud.compute();
        let key_pair = match compute.describe_key_pairs(&Filter::id(&names.key_pair)).await {
            Ok(mut keys) => keys.pop(),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e),
        };
        let instances = compute.describe_instances(&filter).await?.into_iter().filter(|i| !i.state.is_gone()).collect();
        let spot_requests = compute.describe_spot_requests(&Filter::tag(CLUSTER, &spec.name)).await?;
        // The own cluster by its name (one detcloud did not create must be seen, to be refused),
        // and every cluster tagged with the cluster; the master's is [`live_database`], the
        // others (restored ones, and the own one after a switch) are kept.
        let rds = cloud.database();
        let own = match none_without_rds(rds.describe_db_clusters(&Filter::id(&names.own_db_cluster)).await) {
            Ok(mut c) => c.pop(),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e),
        };
        let tagged = none_without_rds(rds.describe_db_clusters(&Filter::tag(CLUSTER, &spec.name)).await)?;
        let mut clusters: Vec<DbCluster> = own.into_iter().collect();
        clusters.extend(tagged.into_iter().filter(|c| c.id != names.own_db_cluster));
        let db_cluster = live_database(vpc.as_ref(), &names.own_db_cluster, &clusters).cloned();
        let live = db_cluster.as_ref().map(|c| c.id.clone());
        let restored_db_clusters = clusters
            .into_iter()
            .filter(|c| {
                Some(&c.id) != live.as_ref()
                    && (c.id == names.own_db_cluster || c.tags.get(RESOURCE).is_some_and(|r| r == "db-restore"))
            })
            .collect();
        Ok(Inventory {
            vpc,
            subnets,
            internet_gateways,
            addresses,
            nat_gateways,
            replaced_nat_gateways,
            route_tables,
            default_group,
            key_pair,
            instances,
            spot_requests,
            db_cluster,
            restored_db_clusters,
        })
    }

    /// `names` with the database the master uses: the one found, else (none exists, create
    /// makes it) the cluster's own.
    pub fn live_names(&self, names: Names) -> Names {
        let id = self.db_cluster.as_ref().map_or_else(|| names.own_db_cluster.clone(), |c| c.id.clone());
        names.with_database(&id)
    }

    /// The subnet of a node.
    pub fn subnet(&self, node: Node) -> Option<&Subnet> {
        self.subnets.iter().find(|s| has_key(&s.tags, node))
    }

    /// The route table of a node.
    pub fn route_table(&self, node: Node) -> Option<&RouteTable> {
        self.route_tables.iter().find(|t| has_key(&t.tags, node))
    }

    /// The elastic IP of a node.
    pub fn address(&self, node: Node) -> Option<&Address> {
        self.addresses.iter().find(|a| has_key(&a.tags, node))
    }

    /// The internet gateway.
    pub fn internet_gateway(&self) -> Option<&InternetGateway> {
        self.internet_gateways.iter().find(|g| has_key(&g.tags, Node::InternetGateway))
    }

    /// The NAT gateway: a pending or available one; else a failed one, so that it can be
    /// replaced. One being deleted (by someone else) is gone for create's purposes.
    pub fn nat_gateway(&self) -> Option<&NatGateway> {
        let ours = || self.nat_gateways.iter().filter(|n| has_key(&n.tags, Node::NatGateway));
        ours()
            .find(|n| matches!(n.state, NatGatewayState::Pending | NatGatewayState::Available))
            .or_else(|| ours().find(|n| n.state == NatGatewayState::Failed))
    }

    /// The master instance.
    pub fn master(&self) -> Option<&Instance> {
        self.instances.iter().find(|i| has_key(&i.tags, Node::Master))
    }

    /// True when nothing of the cluster exists.
    pub fn is_empty(&self) -> bool {
        self.vpc.is_none()
            && self.internet_gateways.is_empty()
            && self.addresses.is_empty()
            && self.nat_gateways.is_empty()
            && self.key_pair.is_none()
            && self.instances.is_empty()
            && self.db_cluster.is_none()
            && self.restored_db_clusters.is_empty()
    }
}
