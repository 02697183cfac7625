//! Create: reconcile the resource graph, creating what is missing, concurrently wherever the
//! dependencies allow, waiting with bounded backoff.
//!
//! Every node first looks for its resource (by ownership tags, or by name where AWS cannot tag
//! it) and only creates what is missing, so a repeated or resumed run converges without
//! duplicates. On failure, nodes already running finish, no new node starts, and the error names
//! the node: **a re-run completes the cluster** (nothing is rolled back; `delete` removes a
//! partial cluster).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use detcloud_policy::{ConditionValue, Effect, Matcher, PolicyDocument, Principal, PrincipalBlock, Statement};
use detcloud_provider::{
    BucketEncryption, Cloud, CommandInvocation, CreateDbCluster, CreateDbInstance, CreateNatGateway, CreateSubnet,
    Error, Filter, InstanceState, NatGatewayState, PutParameter, Result, RootVolume, RouteTarget, RunInstance, Secret,
    SecurityRule, SendCommand, Tags,
};
use futures::stream::{FuturesUnordered, StreamExt};

use crate::bootstrap::{self, Bootstrap, MasterInfo, MasterResources, ProbeOutput};
use crate::context::{has_key, node_tags, RESOURCE};
use crate::graph::{Graph, Node};
use crate::lock;
use crate::preflight::Prepared;
use crate::wait::{wait_for, wait_gone, CATCH_UP};
use detcloud_retry::retry;

/// What happened to a node, for progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Work on the node started.
    Started,
    /// Waiting for AWS to finish it (`creating`, `pending`).
    Waiting(String),
    /// It existed already and is ready.
    Existing(String),
    /// It was created and is ready.
    Created(String),
    /// It failed.
    Failed(String),
}

/// A progress event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The node.
    pub node: Node,
    /// What happened.
    pub phase: Phase,
}

/// Receives progress events.
pub type Progress = Arc<dyn Fn(Event) + Send + Sync>;

/// Options of a create run.
#[derive(Clone)]
pub struct CreateOptions {
    /// The master's SSH public key (an OpenSSH line).
    pub ssh_public_key: String,
    /// Nodes worked on at once; `usize::MAX` for as many as the graph allows, 1 for a sequential run.
    pub concurrency: usize,
    /// How long to wait for one resource at most.
    pub timeout: Duration,
    /// How long the Determined master may take to answer once its instance runs (it installs
    /// Docker and pulls its image first).
    pub ready_timeout: Duration,
    /// Progress events.
    pub progress: Option<Progress>,
    /// Only these nodes and, transitively, what they need (as `terraform apply -target`); empty
    /// for the whole cluster. A targeted run leaves the cluster incomplete: the report's
    /// `left_out` names the rest.
    pub targets: BTreeSet<Node>,
}

impl std::fmt::Debug for CreateOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateOptions")
            .field("concurrency", &self.concurrency)
            .field("timeout", &self.timeout)
            .field("ready_timeout", &self.ready_timeout)
            .field("targets", &self.targets)
            .finish()
    }
}

impl CreateOptions {
    /// Defaults: unbounded concurrency, 30 minutes per resource, 20 for the master to answer,
    /// no progress.
    pub fn new(ssh_public_key: impl Into<String>) -> Self {
        CreateOptions {
            ssh_public_key: ssh_public_key.into(),
            concurrency: usize::MAX,
            timeout: Duration::from_secs(1800),
            ready_timeout: Duration::from_secs(1200),
            progress: None,
            targets: BTreeSet::new(),
        }
    }
}

/// The outcome of a create run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateReport {
    /// The main id (or name, or endpoint) of each node's resource.
    pub ids: BTreeMap<Node, String>,
    /// Nodes this run created.
    pub created: BTreeSet<Node>,
    /// Nodes that existed already.
    pub existing: BTreeSet<Node>,
    /// What the master's readiness check found (None when the run did not get that far).
    pub master: Option<Readiness>,
    /// The nodes of the cluster a targeted run did not work on (empty for a whole run).
    pub left_out: BTreeSet<Node>,
}

/// What the readiness check of the Determined master found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Readiness {
    /// The master answered `/info` on its instance.
    Ready {
        /// Its release, as it reports it.
        version: String,
    },
    /// The backend cannot run commands on instances, so nothing could be checked.
    Unverified {
        /// Why.
        reason: String,
    },
}

/// A create run failed at `node`; what finished before is in `report`. Re-run to complete.
#[derive(Debug, thiserror::Error)]
#[error("{node} failed: {error}; re-run the same command to complete the cluster (or delete it)")]
pub struct CreateError {
    /// The node that failed (the first, if several did).
    pub node: Node,
    /// Why.
    pub error: Error,
    /// What was done.
    pub report: CreateReport,
}

struct Run<'a> {
    cloud: &'a dyn Cloud,
    p: &'a Prepared,
    options: &'a CreateOptions,
    ids: Mutex<BTreeMap<Node, String>>,
    /// The database password, when this run generated it (never printed).
    password: Mutex<Option<Secret>>,
    /// What the readiness check found.
    readiness: Mutex<Option<Readiness>>,
    /// True when this run launched the master.
    launched_master: std::sync::atomic::AtomicBool,
}

impl Run<'_> {
    fn emit(&self, node: Node, phase: Phase) {
        if let Some(p) = &self.options.progress {
            p(Event { node, phase });
        }
    }

    fn id(&self, node: Node) -> String {
        lock(&self.ids).get(&node).cloned().unwrap_or_default()
    }

    fn tags(&self, node: Node) -> Tags {
        node_tags(&self.p.spec, node)
    }
}

/// A stable hash of the parts, each followed by a NUL so that no two lists collide by
/// concatenation: for idempotency tokens.
fn fnv1a(parts: &[&str]) -> u64 {
    let bytes: Vec<u8> = parts.iter().flat_map(|p| p.bytes().chain(std::iter::once(0))).collect();
    detcloud_provider::tags::stable_hash(&bytes)
}

/// A 32-character password of letters and digits from the OS's random source.
pub fn generate_password() -> Result<Secret> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut bytes = [0u8; 64];
    getrandom::fill(&mut bytes).map_err(|e| Error::Other { code: "Random".into(), message: e.to_string() })?;
    // Rejection sampling keeps the alphabet uniform.
    let limit = 256 - 256 % ALPHABET.len();
    let text: String = bytes
        .iter()
        .filter(|b| usize::from(**b) < limit)
        .take(32)
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    if text.len() < 32 {
        return generate_password();
    }
    Ok(Secret::new(text))
}

/// The bucket policy: deny every request that does not use TLS.
pub fn tls_only_policy(bucket: &str) -> PolicyDocument {
    PolicyDocument::new(vec![Statement {
        sid: Some("DenyInsecureTransport".into()),
        effect: Effect::Deny,
        principal: Some(PrincipalBlock::Only(Principal::Any)),
        action: Some(Matcher::Only(vec!["s3:*".into()])),
        resource: Some(Matcher::Only(vec![format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")])),
        condition: [(
            "Bool".to_string(),
            [("aws:SecureTransport".to_string(), vec![ConditionValue::Bool(false)])].into(),
        )]
        .into(),
    }])
}

/// The master's ingress rules: SSH, HTTPS and the Determined API from the inbound CIDRs; the
/// Determined API and PostgreSQL from inside the VPC.
pub fn ingress_rules(p: &Prepared) -> Vec<SecurityRule> {
    ingress_rules_for(&p.spec, &p.vpc_cidr.to_string())
}

/// The inbound rules the cluster `spec` needs on its VPC's default group, the VPC's addresses
/// being `vpc_cidr`: SSH, HTTPS and the Determined API from the spec's CIDRs, and the API and
/// PostgreSQL from inside the VPC.
pub fn ingress_rules_for(spec: &crate::ClusterSpec, vpc_cidr: &str) -> Vec<SecurityRule> {
    let rule = |port: i32, cidr: &str, what: &str| SecurityRule {
        protocol: "tcp".into(),
        from_port: port,
        to_port: port,
        cidr: Some(cidr.to_string()),
        source_group_id: None,
        description: Some(format!("detcloud {}: {what}", spec.name)),
    };
    let mut rules = vec![];
    for cidr in &spec.master.inbound_cidrs {
        rules.push(rule(22, cidr, "SSH"));
        rules.push(rule(443, cidr, "HTTPS"));
        rules.push(rule(8080, cidr, "Determined API"));
    }
    rules.push(rule(8080, vpc_cidr, "Determined API from the VPC"));
    rules.push(rule(5432, vpc_cidr, "PostgreSQL from the VPC"));
    rules
}

/// The tag on the master naming the fingerprint of its files ([`Bootstrap::fingerprint`]).
pub const MASTER_CONFIG_TAG: &str = "detcloud:master-config";
/// The tag on the master naming its Determined image.
pub const MASTER_IMAGE_TAG: &str = "detcloud:determined-image";
/// The tag on the master recording the agent settings of its configuration (see
/// [`crate::operate::keep_current`]).
pub const AGENTS_TAG: &str = "detcloud:agents";

/// The resources of the prepared cluster that the master's configuration names, with the ids a
/// run found or created (`id` gives a node's).
pub fn master_resources(p: &Prepared, id: impl Fn(Node) -> String) -> MasterResources {
    MasterResources {
        bucket: p.names.bucket.clone(),
        db_endpoint: id(Node::DbCluster),
        agent_instance_profile_arn: p.agent_instance_profile_arn.clone(),
        private_subnets: (0..p.spec.az_count as u8).map(|i| id(Node::PrivateSubnet(i))).collect(),
        security_group: id(Node::SecurityRules),
        key_pair: p.names.key_pair.clone(),
        log_group: p.names.log_group.clone(),
        agent_ami: p.agent_ami.id.clone(),
        compute_gpus: p.compute_gpus,
    }
}

/// The master's bootstrap for the prepared cluster.
pub fn master_bootstrap(p: &Prepared, id: impl Fn(Node) -> String) -> Bootstrap {
    Bootstrap::new(&p.spec, &p.names, &master_resources(p, id))
}

/// The agent settings as the master's [`AGENTS_TAG`] records them.
pub fn agents_tag(spec: &crate::spec::ClusterSpec) -> String {
    let a = &spec.agents;
    format!(
        "compute={} aux={} min={} max={} spot={} price={} ami={} volume={} idle={}",
        a.instance_type,
        a.aux_instance_type,
        a.min_instances,
        a.max_instances,
        a.spot,
        a.spot_max_price.as_deref().unwrap_or(""),
        a.ami.as_deref().unwrap_or(""),
        a.root_volume_gib,
        a.max_idle_minutes
    )
}

/// The tags saying which configuration the master runs.
fn master_config_tags(p: &Prepared, b: &Bootstrap) -> Tags {
    let mut tags = Tags::new();
    tags.insert(MASTER_CONFIG_TAG.into(), b.fingerprint());
    tags.insert(MASTER_IMAGE_TAG.into(), b.master_image.clone());
    tags.insert(AGENTS_TAG.into(), agents_tag(&p.spec));
    tags
}

async fn ensure(run: &Run<'_>, node: Node) -> Result<(String, bool)> {
    let p = run.p;
    let inv = &p.inventory;
    let net = run.cloud.network();
    let ok_if_exists = |r: Result<()>| match r {
        Err(e) if e.is_already_exists() => Ok(()),
        other => other,
    };
    match node {
        Node::Vpc => match &inv.vpc {
            Some(v) => Ok((v.id.clone(), false)),
            None => Ok((net.create_vpc(&p.vpc_cidr.to_string(), &run.tags(node)).await?.id, true)),
        },
        Node::PublicSubnet(i) | Node::PrivateSubnet(i) => {
            if let Some(s) = inv.subnet(node) {
                return Ok((s.id.clone(), false));
            }
            let cidrs = if matches!(node, Node::PublicSubnet(_)) { &p.public_cidrs } else { &p.private_cidrs };
            let s = net
                .create_subnet(CreateSubnet {
                    vpc_id: run.id(Node::Vpc),
                    cidr: cidrs[usize::from(i)].to_string(),
                    availability_zone: p.zones[usize::from(i)].clone(),
                    tags: run.tags(node),
                })
                .await?;
            Ok((s.id, true))
        }
        Node::InternetGateway => {
            let vpc = run.id(Node::Vpc);
            let (igw, created) = match inv.internet_gateway() {
                Some(g) => (g.clone(), false),
                None => (net.create_internet_gateway(&run.tags(node)).await?, true),
            };
            if !igw.attached_vpc_ids.contains(&vpc) {
                ok_if_exists(net.attach_internet_gateway(&igw.id, &vpc).await)?;
            }
            Ok((igw.id, created))
        }
        Node::NatAddress => match inv.address(node) {
            Some(a) => Ok((a.allocation_id.clone(), false)),
            None => Ok((net.allocate_address(&run.tags(node)).await?.allocation_id, true)),
        },
        Node::NatGateway => {
            let mut created = false;
            let existing = inv.nat_gateway().filter(|n| n.state != NatGatewayState::Failed).cloned();
            if let Some(failed) = inv.nat_gateway().filter(|n| n.state == NatGatewayState::Failed) {
                net.delete_nat_gateway(&failed.id).await.or_else(|e| if e.is_not_found() { Ok(()) } else { Err(e) })?;
            }
            let id = match existing {
                Some(n) => n.id,
                None => {
                    // A NAT gateway of ours being deleted (behind our back) still holds the
                    // elastic IP: its replacement would fail until it is gone.
                    let deleting: Vec<String> = inv
                        .nat_gateways
                        .iter()
                        .filter(|n| n.state == NatGatewayState::Deleting && has_key(&n.tags, node))
                        .map(|n| n.id.clone())
                        .collect();
                    for old in deleting {
                        run.emit(node, Phase::Waiting(format!("{old} deleting")));
                        let filter = Filter::id(&old);
                        wait_gone(
                            &format!("NAT gateway {old} to be deleted"),
                            run.options.timeout,
                            || net.describe_nat_gateways(&filter),
                            |list| list.iter().all(|n| n.state == NatGatewayState::Deleted),
                        )
                        .await?;
                    }
                    created = true;
                    net.create_nat_gateway(CreateNatGateway {
                        subnet_id: run.id(Node::PublicSubnet(0)),
                        allocation_id: run.id(Node::NatAddress),
                        client_token: Some(match inv.replaced_nat_gateways {
                            0 => format!("detcloud-{}-nat-{}", p.spec.name, p.account),
                            n => format!("detcloud-{}-nat-{}-{n}", p.spec.name, p.account),
                        }),
                        tags: run.tags(node),
                    })
                    .await?
                    .id
                }
            };
            run.emit(node, Phase::Waiting(format!("{id} pending")));
            let nat = id.clone();
            // Boxed, as the other long waits: the future of every node is as large as its largest arm.
            Box::pin(wait_for(&format!("NAT gateway {nat}"), run.options.timeout, || async {
                let n = net.describe_nat_gateways(&Filter::id(&nat)).await?;
                match n.first().map(|n| (n.state, n.failure_message.clone())) {
                    Some((NatGatewayState::Available, _)) => Ok(Some(())),
                    Some((NatGatewayState::Failed, msg)) => Err(Error::Other {
                        code: "NatGatewayFailed".into(),
                        message: msg.unwrap_or_else(|| "the NAT gateway failed".into()),
                    }),
                    _ => Ok(None),
                }
            }))
            .await?;
            Ok((id, created))
        }
        Node::PublicRoutes | Node::PrivateRoutes => {
            let public = node == Node::PublicRoutes;
            let (table, created) = match inv.route_table(node) {
                Some(t) => (t.clone(), false),
                None => (net.create_route_table(&run.id(Node::Vpc), &run.tags(node)).await?, true),
            };
            let target = if public {
                RouteTarget::InternetGateway(run.id(Node::InternetGateway))
            } else {
                RouteTarget::NatGateway(run.id(Node::NatGateway))
            };
            match table.routes.iter().find(|r| r.destination_cidr == "0.0.0.0/0") {
                Some(r) if r.target == target => {}
                // The route table is ours: a default route elsewhere (a NAT gateway that was
                // deleted and replaced) is pointed back.
                Some(_) => net.replace_route(&table.id, "0.0.0.0/0", &target).await?,
                None => ok_if_exists(net.create_route(&table.id, "0.0.0.0/0", &target).await)?,
            }
            for i in 0..p.spec.az_count as u8 {
                let subnet = run.id(if public { Node::PublicSubnet(i) } else { Node::PrivateSubnet(i) });
                if !table.associations.iter().any(|a| a.subnet_id.as_deref() == Some(subnet.as_str())) {
                    net.associate_route_table(&table.id, &subnet).await?;
                }
            }
            Ok((table.id, created))
        }
        Node::SecurityRules => {
            let vpc = run.id(Node::Vpc);
            let group = match inv.default_group.clone() {
                Some(g) => g,
                None => crate::context::default_group(run.cloud, &vpc)
                    .await?
                    .ok_or_else(|| Error::not_found("default security group of", vpc.clone()))?,
            };
            let missing: Vec<SecurityRule> = ingress_rules(p)
                .into_iter()
                .filter(|r| {
                    !group.ingress.iter().any(|e| {
                        e.protocol == r.protocol
                            && e.from_port == r.from_port
                            && e.to_port == r.to_port
                            && e.cidr == r.cidr
                    })
                })
                .collect();
            let mut added = 0;
            for rule in &missing {
                match net.authorize_ingress(&group.id, std::slice::from_ref(rule)).await {
                    Ok(()) => added += 1,
                    Err(e) if e.is_already_exists() => {}
                    Err(e) => return Err(e),
                }
            }
            Ok((group.id, added > 0))
        }
        Node::KeyPair => match &inv.key_pair {
            Some(k) => Ok((k.name.clone(), false)),
            None => {
                let r = run
                    .cloud
                    .compute()
                    .import_key_pair(&p.names.key_pair, &run.options.ssh_public_key, &run.tags(node))
                    .await;
                match r {
                    Ok(k) => Ok((k.name, true)),
                    Err(e) if e.is_already_exists() => Ok((p.names.key_pair.clone(), false)),
                    Err(e) => Err(e),
                }
            }
        },
        Node::DbSubnetGroup => {
            let subnets: Vec<String> = (0..p.spec.az_count as u8).map(|i| run.id(Node::PrivateSubnet(i))).collect();
            let r = run
                .cloud
                .database()
                .create_db_subnet_group(
                    &p.names.db_subnet_group,
                    &format!("detcloud cluster {}", p.spec.name),
                    &subnets,
                    &run.tags(node),
                )
                .await;
            match r {
                Ok(g) => Ok((g.name, true)),
                Err(e) if e.is_already_exists() => Ok((p.names.db_subnet_group.clone(), false)),
                Err(e) => Err(e),
            }
        }
        Node::DbCluster => Box::pin(ensure_db_cluster(run)).await,
        Node::DbInstance => Box::pin(ensure_db_instance(run)).await,
        Node::Bucket => {
            let s3 = run.cloud.storage();
            let created = s3.create_bucket(&p.names.bucket, &p.spec.region).await?;
            let encryption = match &p.kms_key {
                Some(k) => BucketEncryption::Kms(Some(k.arn.clone())),
                None => BucketEncryption::S3Managed,
            };
            s3.put_bucket_encryption(&p.names.bucket, &encryption).await?;
            s3.put_bucket_policy(&p.names.bucket, &tls_only_policy(&p.names.bucket)).await?;
            Ok((p.names.bucket.clone(), created == detcloud_provider::BucketCreation::Created))
        }
        Node::LogGroup => {
            let logs = run.cloud.logs();
            let created = match logs.create_log_group(&p.names.log_group, &run.tags(node)).await {
                Ok(()) => true,
                Err(e) if e.is_already_exists() => false,
                Err(e) => return Err(e),
            };
            logs.put_retention_policy(&p.names.log_group, p.spec.log_retention_days).await?;
            Ok((p.names.log_group.clone(), created))
        }
        Node::Master => Box::pin(ensure_master(run)).await,
        Node::MasterAddress => {
            let master = run.id(Node::Master);
            let (address, created) = match inv.address(node) {
                Some(a) => (a.clone(), false),
                None => (net.allocate_address(&run.tags(node)).await?, true),
            };
            if address.instance_id.as_deref() != Some(master.as_str()) {
                net.associate_address(&address.allocation_id, &master).await?;
            }
            Ok((address.public_ip, created))
        }
        Node::MasterReady => Box::pin(ensure_master_ready(run)).await,
    }
}

/// Writes the database password to its SSM SecureString, replacing any earlier value.
async fn store_password(run: &Run<'_>, password: &Secret) -> Result<()> {
    run.cloud
        .parameters()
        .put_parameter(PutParameter {
            name: run.p.names.password_parameter.clone(),
            value: password.clone(),
            secure: true,
            // The AWS-managed alias/aws/ssm key: a customer key would need kms:Encrypt, which the
            // cross-account role does not have.
            kms_key_id: None,
            overwrite: true,
            description: Some(format!("Master password of the database of detcloud cluster {}", run.p.spec.name)),
        })
        .await?;
    Ok(())
}

async fn ensure_db_cluster(run: &Run<'_>) -> Result<(String, bool)> {
    let p = run.p;
    let rds = run.cloud.database();
    let mut created = false;
    if let Some(c) = &p.inventory.db_cluster {
        if !detcloud_provider::tags::is_managed(&c.tags) {
            return Err(Error::invalid(format!(
                "a DB cluster named {} exists and was not created by detcloud; rename the cluster",
                c.id
            )));
        }
    } else {
        let password = generate_password()?;
        store_password(run, &password).await?;
        let request = CreateDbCluster {
            id: p.names.db_cluster.clone(),
            engine: "aurora-postgresql".into(),
            engine_version: p.spec.database.engine_version.clone(),
            database_name: Some("determined".into()),
            master_username: "determined".into(),
            master_password: password.clone(),
            subnet_group: p.names.db_subnet_group.clone(),
            security_group_ids: vec![run.id(Node::SecurityRules)],
            backup_retention_days: p.spec.database.backup_retention_days,
            storage_encrypted: true,
            kms_key_id: p.kms_key.as_ref().map(|k| k.arn.clone()),
            deletion_protection: false,
            tags: run.tags(Node::DbCluster),
        };
        match rds.create_db_cluster(request).await {
            Ok(_) => {
                created = true;
                *lock(&run.password) = Some(password);
            }
            Err(e) if e.is_already_exists() => {}
            Err(e) => return Err(e),
        }
    }
    run.emit(Node::DbCluster, Phase::Waiting(format!("{} creating", p.names.db_cluster)));
    let id = p.names.db_cluster.clone();
    let cluster = wait_for(&format!("Aurora cluster {id}"), run.options.timeout, || async {
        let c = rds.describe_db_clusters(&Filter::id(&id)).await?;
        Ok(c.into_iter().next().filter(|c| c.status == "available"))
    })
    .await?;
    Ok((cluster.endpoint.unwrap_or_default(), created))
}

async fn ensure_db_instance(run: &Run<'_>) -> Result<(String, bool)> {
    let p = run.p;
    let rds = run.cloud.database();
    let id = p.names.db_instance.clone();
    let members = rds
        .describe_db_clusters(&Filter::id(&p.names.db_cluster))
        .await?
        .into_iter()
        .next()
        .map(|c| c.member_instance_ids)
        .unwrap_or_default();
    let mut created = false;
    if !members.contains(&id) {
        let r = rds
            .create_db_instance(CreateDbInstance {
                id: id.clone(),
                cluster_id: p.names.db_cluster.clone(),
                instance_class: p.spec.database.instance_class.clone(),
                engine: "aurora-postgresql".into(),
                tags: run.tags(Node::DbInstance),
            })
            .await;
        match r {
            Ok(_) => created = true,
            Err(e) if e.is_already_exists() => {}
            Err(e) => return Err(e),
        }
    }
    run.emit(Node::DbInstance, Phase::Waiting(format!("{id} creating")));
    wait_for(&format!("Aurora instance {id}"), run.options.timeout, || async {
        let i = rds.describe_db_instances(&Filter::id(&id)).await?;
        Ok(i.into_iter().next().filter(|i| i.status == "available").map(|_| ()))
    })
    .await?;
    Ok((id, created))
}

async fn ensure_master(run: &Run<'_>) -> Result<(String, bool)> {
    let p = run.p;
    let compute = run.cloud.compute();
    let (id, created) = match p.inventory.master() {
        Some(m) => (m.id.clone(), false),
        None => {
            let bootstrap = master_bootstrap(p, |n| run.id(n));
            let mut tags = run.tags(Node::Master);
            tags.extend(master_config_tags(p, &bootstrap));
            let request = RunInstance {
                image_id: p.ami.clone(),
                instance_type: p.spec.master.instance_type.clone(),
                subnet_id: run.id(Node::PublicSubnet(0)),
                security_group_ids: vec![run.id(Node::SecurityRules)],
                key_name: Some(p.names.key_pair.clone()),
                instance_profile_name: Some(p.spec.master_instance_profile.clone()),
                user_data: Some(bootstrap.user_data()),
                imdsv2_required: true,
                root_volume: Some(RootVolume {
                    size_gib: p.spec.master.root_volume_gib,
                    volume_type: "gp3".into(),
                    encrypted: true,
                    kms_key_id: p.kms_key.as_ref().map(|k| k.arn.clone()),
                }),
                // EC2 client tokens are at most 64 characters: a hash of what makes the master.
                client_token: Some(format!(
                    "detcloud-master-{:016x}",
                    fnv1a(&[&p.account, &p.spec.region, &p.spec.name, &p.spec.master.instance_type, &p.ami])
                )),
                tags,
            };
            // A new instance profile takes a while to be usable by EC2 (NotReady): retry.
            let mut instance = retry(&CATCH_UP, Error::is_retryable, || compute.run_instance(request.clone())).await?;
            if instance.state.is_gone() {
                // The client token names an instance terminated since: launch anew.
                let mut fresh = request.clone();
                fresh.client_token = fresh.client_token.map(|t| format!("{t}-{:08x}", fnv1a(&[&instance.id]) as u32));
                instance = retry(&CATCH_UP, Error::is_retryable, || compute.run_instance(fresh.clone())).await?;
            }
            run.launched_master.store(true, std::sync::atomic::Ordering::SeqCst);
            (instance.id, true)
        }
    };
    run.emit(Node::Master, Phase::Waiting(format!("{id} pending")));
    let instance = id.clone();
    wait_for(&format!("master {instance}"), run.options.timeout, || async {
        let i = compute.describe_instances(&Filter::id(&instance)).await?;
        match i.first().map(|i| i.state) {
            Some(InstanceState::Running) => Ok(Some(())),
            Some(s) if s.is_gone() || s == InstanceState::Stopped => {
                Err(Error::Other { code: "MasterStopped".into(), message: format!("master {instance} is {s}") })
            }
            _ => Ok(None),
        }
    })
    .await?;
    Ok((id, created))
}

/// How long a probe waits for SSM to accept it (the instance's SSM agent registers a minute or
/// so after boot); the readiness wait then sends another.
pub const PROBE_SEND_TIMEOUT: Duration = Duration::from_secs(60);

/// How long one command on the master may take before it counts as lost.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);

/// Runs `commands` on `instance` through SSM Run Command and waits for the outcome. While the
/// instance's SSM agent has not registered yet, SSM refuses the command (NotReady): it is sent
/// again until `timeout`.
pub async fn run_on(
    cloud: &dyn Cloud,
    instance: &str,
    commands: Vec<String>,
    comment: &str,
    timeout: Duration,
) -> Result<CommandInvocation> {
    let ssm = cloud.parameters();
    let request = SendCommand {
        instance_ids: vec![instance.to_string()],
        commands,
        comment: Some(comment.chars().take(100).collect()),
        timeout_seconds: Some(COMMAND_TIMEOUT.as_secs() as u32),
    };
    let command_id = wait_for(&format!("SSM to accept a command for {instance}"), timeout, || async {
        match ssm.send_command(request.clone()).await {
            Ok(id) => Ok(Some(id)),
            Err(e) if e.is_retryable() => Ok(None),
            Err(e) => Err(e),
        }
    })
    .await?;
    wait_for(&format!("command {command_id} on {instance}"), COMMAND_TIMEOUT + Duration::from_secs(60), || async {
        let inv = ssm.get_command_invocation(&command_id, instance).await?;
        Ok(inv.is_finished().then_some(inv))
    })
    .await
}

/// A random nonce for a probe (16 hex digits).
fn nonce() -> Result<String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| Error::Other { code: "Random".into(), message: e.to_string() })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Replaces what looks like a secret in a line of the master's logs (a value after `password`,
/// and `known` wherever it appears) by `********`: logs are shown to users and land in errors.
pub fn redact(line: &str, known: Option<&Secret>) -> String {
    let mut out = line.to_string();
    if let Some(secret) = known.map(Secret::expose).filter(|s| !s.is_empty()) {
        out = out.replace(secret, "********");
    }
    let lower = out.to_ascii_lowercase();
    match lower.find("password") {
        Some(at) => {
            let after = at + "password".len();
            let value_start = out[after..]
                .find(|c: char| !(c == '"' || c == '\'' || c == ':' || c == '=' || c.is_whitespace()))
                .map_or(out.len(), |i| after + i);
            let value_end = out[value_start..]
                .find(|c: char| c == '"' || c == '\'' || c == ',' || c == '}' || c.is_whitespace())
                .map_or(out.len(), |i| value_start + i);
            if value_end > value_start {
                out.replace_range(value_start..value_end, "********");
            }
            out
        }
        None => out,
    }
}

/// Asks the master of `cluster` on `instance` for its `/info` once.
pub async fn probe_master(cloud: &dyn Cloud, cluster: &str, instance: &str, timeout: Duration) -> Result<ProbeOutput> {
    let nonce = nonce()?;
    let inv = run_on(
        cloud,
        instance,
        bootstrap::probe_commands(cluster, &nonce),
        &format!("detcloud: probe the master of {cluster}"),
        timeout,
    )
    .await?;
    Ok(bootstrap::read_probe(&nonce, &inv.stdout, &inv.stderr, inv.status == "Success"))
}

/// The last `lines` lines of the master's logs (container, unit, cloud-init), redacted, or why
/// they could not be read.
pub async fn master_log_tail(cloud: &dyn Cloud, cluster: &str, instance: &str, lines: u32) -> String {
    let nonce = match nonce() {
        Ok(n) => n,
        Err(e) => return format!("(no logs: {e})"),
    };
    let commands = bootstrap::log_commands(cluster, &nonce, lines);
    match run_on(cloud, instance, commands, &format!("detcloud: logs of the master of {cluster}"), COMMAND_TIMEOUT)
        .await
    {
        Ok(inv) => {
            let marker = format!("detcloud-probe {nonce}");
            let text = inv.stdout.split_once(&marker).map_or("", |(_, rest)| rest);
            let kept: Vec<String> = text.lines().filter(|l| !l.trim().is_empty()).map(|l| redact(l, None)).collect();
            if kept.is_empty() {
                "(the master's logs are empty)".to_string()
            } else {
                kept.join("\n")
            }
        }
        Err(e) => format!("(the master's logs could not be read: {e})"),
    }
}

/// True for a release tag such as `0.32.1` (a master built from a commit reports another
/// version, so only releases are compared).
fn is_release(version: &str) -> bool {
    let mut parts = version.split('.');
    parts.clone().count() == 3 && parts.all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

async fn ensure_master_ready(run: &Run<'_>) -> Result<(String, bool)> {
    let p = run.p;
    let master = run.id(Node::Master);
    let b = master_bootstrap(p, |n| run.id(n));
    let compute = run.cloud.compute();
    let tags = compute.describe_instances(&Filter::id(&master)).await?.into_iter().next().map(|i| i.tags);
    let current = tags.as_ref().and_then(|t| t.get(MASTER_CONFIG_TAG).cloned());
    // A master this run launched is a new Determined master: its readiness is created too.
    let mut changed = run.launched_master.load(std::sync::atomic::Ordering::SeqCst);
    if current.as_deref() != Some(b.fingerprint().as_str()) {
        // The master runs other files than the spec asks for (it was launched with an earlier
        // spec, or `modify` changed it): rewrite them and restart it. Nothing secret is sent.
        run.emit(Node::MasterReady, Phase::Waiting(format!("reconfiguring {master}")));
        // Until the command is seen to succeed, the master runs unknown files: a run stopped
        // after sending it (or whose read of its outcome failed) must not find the old
        // fingerprint and take the master for unchanged.
        let mut unknown = Tags::new();
        unknown.insert(MASTER_CONFIG_TAG.into(), "unknown".into());
        run.cloud.network().create_tags(std::slice::from_ref(&master), &unknown).await?;
        let inv = run_on(
            run.cloud,
            &master,
            b.reconfigure_commands(),
            &format!("detcloud: reconfigure the master of {}", p.spec.name),
            run.options.ready_timeout,
        )
        .await?;
        if inv.status != "Success" {
            return Err(Error::Other {
                code: "CommandFailed".into(),
                message: format!(
                    "reconfiguring the master {master} ended {} (exit code {:?}): {}",
                    inv.status,
                    inv.exit_code,
                    redact(inv.stderr.trim(), None)
                ),
            });
        }
        run.cloud.network().create_tags(std::slice::from_ref(&master), &master_config_tags(p, &b)).await?;
        changed = true;
    }
    if !run.cloud.capabilities().runs_commands {
        let reason = "this backend runs no commands on instances, so the master's answer was not checked".to_string();
        run.emit(Node::MasterReady, Phase::Waiting(format!("not verified: {reason}")));
        *lock(&run.readiness) = Some(Readiness::Unverified { reason });
        return Ok(("unverified".into(), changed));
    }
    let expected = p.spec.determined.version.clone();
    let last = Mutex::new(String::from("no answer yet"));
    run.emit(Node::MasterReady, Phase::Waiting(format!("waiting for Determined {expected} to answer on {master}")));
    let what = format!("the Determined master of {} to answer on port {}", p.spec.name, bootstrap::MASTER_PORT);
    let outcome = wait_for(&what, run.options.ready_timeout, || async {
        match probe_master(run.cloud, &p.spec.name, &master, PROBE_SEND_TIMEOUT).await {
            Ok(ProbeOutput::Answered(info)) if !is_release(&expected) || info.version == expected => {
                Ok(Some(Some(info)))
            }
            Ok(ProbeOutput::Answered(info)) => {
                *lock(&last) = format!("it answers as Determined {}, not {expected}", info.version);
                Ok(None)
            }
            Ok(ProbeOutput::NoAnswer(why)) => {
                run.emit(Node::MasterReady, Phase::Waiting(format!("not answering yet: {why}")));
                *lock(&last) = why;
                Ok(None)
            }
            Ok(ProbeOutput::NotRun) => Ok(Some(None)),
            Err(e) if e.is_retryable() || matches!(e, Error::Timeout { .. }) => {
                *lock(&last) = e.to_string();
                Ok(None)
            }
            Err(e) => Err(e),
        }
    })
    .await;
    match outcome {
        Ok(Some(MasterInfo { version, .. })) => {
            *lock(&run.readiness) = Some(Readiness::Ready { version: version.clone() });
            Ok((version, changed))
        }
        Ok(None) => {
            let reason =
                "the backend reported the probe done without running it (an emulator), so the master's answer was not checked"
                    .to_string();
            run.emit(Node::MasterReady, Phase::Waiting(format!("not verified: {reason}")));
            *lock(&run.readiness) = Some(Readiness::Unverified { reason });
            Ok(("unverified".into(), changed))
        }
        Err(Error::Timeout { .. }) => {
            let logs = master_log_tail(run.cloud, &p.spec.name, &master, 20).await;
            let known = lock(&run.password).clone();
            let logs: Vec<String> = logs.lines().map(|l| redact(l, known.as_ref())).collect();
            Err(Error::Timeout {
                message: format!(
                    "the Determined master of {} ({master}) did not answer within {}s (last: {}). Its last log lines:\n{}",
                    p.spec.name,
                    run.options.ready_timeout.as_secs(),
                    lock(&last),
                    logs.join("\n")
                ),
            })
        }
        Err(e) => Err(e),
    }
}

/// Creates (or completes) the cluster `prepared` describes.
pub async fn create(
    cloud: &dyn Cloud,
    prepared: &Prepared,
    options: &CreateOptions,
) -> Result<CreateReport, CreateError> {
    let whole = Graph::new(prepared.spec.az_count);
    if let Some(&stray) = options.targets.iter().find(|t| !whole.nodes.contains(t)) {
        let error = Error::invalid(format!(
            "target {}: the cluster has no such resource (it spans {} zones)",
            stray.key(),
            prepared.spec.az_count
        ));
        return Err(CreateError { node: stray, error, report: CreateReport::default() });
    }
    let graph = whole.targeting(&options.targets);
    let reread;
    let prepared = if prepared.compute_gpus_of == prepared.spec.agents.instance_type {
        prepared
    } else {
        // The spec's compute type changed after preflight (`modify` keeps the current one).
        let wanted = prepared.spec.agents.instance_type.clone();
        let infos = cloud.compute().describe_instance_types(std::slice::from_ref(&wanted)).await;
        let gpus = match infos {
            Ok(infos) => infos.iter().find(|i| i.name == wanted).map_or(0, |i| i.gpus),
            Err(error) => return Err(CreateError { node: Node::Master, error, report: CreateReport::default() }),
        };
        let mut p = prepared.clone();
        p.compute_gpus = gpus;
        p.compute_gpus_of = wanted;
        reread = p;
        &reread
    };
    let run = Run {
        cloud,
        p: prepared,
        options,
        ids: Mutex::new(BTreeMap::new()),
        password: Mutex::new(None),
        readiness: Mutex::new(None),
        launched_master: std::sync::atomic::AtomicBool::new(false),
    };
    let mut report = CreateReport {
        left_out: whole.nodes.iter().copied().filter(|n| !graph.nodes.contains(n)).collect(),
        ..CreateReport::default()
    };
    // Kahn's algorithm on the nodes' positions: how many dependencies each node still waits on,
    // and whom each node's completion releases (the graph is read once, not at every completion).
    let position = |n: Node| graph.nodes.iter().position(|m| *m == n);
    let mut waiting_on = vec![0usize; graph.nodes.len()];
    let mut dependents = vec![Vec::new(); graph.nodes.len()];
    for &(node, dependency) in &graph.edges {
        if let (Some(i), Some(d)) = (position(node), position(dependency)) {
            waiting_on[i] += 1;
            dependents[d].push(i);
        }
    }
    let mut started = vec![false; graph.nodes.len()];
    let mut in_flight = FuturesUnordered::new();
    let mut failure: Option<(Node, Error)> = None;
    loop {
        if failure.is_none() {
            for (i, &node) in graph.nodes.iter().enumerate() {
                if in_flight.len() >= options.concurrency.max(1) {
                    break;
                }
                if !started[i] && waiting_on[i] == 0 {
                    started[i] = true;
                    run.emit(node, Phase::Started);
                    let run = &run;
                    in_flight.push(async move { (i, node, ensure(run, node).await) });
                }
            }
        }
        let Some((i, node, result)) = in_flight.next().await else { break };
        match result {
            Ok((id, created)) => {
                run.emit(node, if created { Phase::Created(id.clone()) } else { Phase::Existing(id.clone()) });
                lock(&run.ids).insert(node, id.clone());
                report.ids.insert(node, id);
                if created {
                    report.created.insert(node);
                } else {
                    report.existing.insert(node);
                }
                for &j in &dependents[i] {
                    waiting_on[j] -= 1;
                }
            }
            Err(error) => {
                run.emit(node, Phase::Failed(error.to_string()));
                failure.get_or_insert((node, error));
            }
        }
    }
    report.master = lock(&run.readiness).clone();
    match failure {
        Some((node, error)) => Err(CreateError { node, error, report }),
        None => Ok(report),
    }
}

/// True when a tag map marks the resource as this node's.
pub fn is_node(tags: &Tags, node: Node) -> bool {
    tags.get(RESOURCE).is_some_and(|k| *k == node.key())
}
