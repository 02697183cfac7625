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
    BucketEncryption, Cloud, CreateDbCluster, CreateDbInstance, CreateNatGateway, CreateSubnet, Error, Filter,
    InstanceState, NatGatewayState, PutParameter, Result, RootVolume, RouteTarget, RunInstance, Secret, SecurityRule,
    SendCommand, Tags,
};
use futures::stream::{FuturesUnordered, StreamExt};

use crate::context::{node_tags, RESOURCE};
use crate::graph::{Graph, Node};
use crate::lock;
use crate::preflight::Prepared;
use crate::wait::{wait_for, CATCH_UP};
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
    /// Progress events.
    pub progress: Option<Progress>,
}

impl std::fmt::Debug for CreateOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateOptions").field("concurrency", &self.concurrency).field("timeout", &self.timeout).finish()
    }
}

impl CreateOptions {
    /// Defaults: unbounded concurrency, 30 minutes per resource, no progress.
    pub fn new(ssh_public_key: impl Into<String>) -> Self {
        CreateOptions {
            ssh_public_key: ssh_public_key.into(),
            concurrency: usize::MAX,
            timeout: Duration::from_secs(1800),
            progress: None,
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
    let rule = |port: i32, cidr: &str, what: &str| SecurityRule {
        protocol: "tcp".into(),
        from_port: port,
        to_port: port,
        cidr: Some(cidr.to_string()),
        source_group_id: None,
        description: Some(format!("detcloud {}: {what}", p.spec.name)),
    };
    let mut rules = vec![];
    for cidr in &p.spec.master.inbound_cidrs {
        rules.push(rule(22, cidr, "SSH"));
        rules.push(rule(443, cidr, "HTTPS"));
        rules.push(rule(8080, cidr, "Determined API"));
    }
    let vpc = p.vpc_cidr.to_string();
    rules.push(rule(8080, &vpc, "Determined API from the VPC"));
    rules.push(rule(5432, &vpc, "PostgreSQL from the VPC"));
    rules
}

/// The master's user data: where the database, bucket and log group are. No secrets: the
/// password arrives later through SSM Run Command.
pub fn user_data(p: &Prepared, db_endpoint: &str) -> String {
    format!(
        "#!/bin/bash\nset -euo pipefail\nmkdir -p /etc/determined\ncat > /etc/determined/cluster.env <<'EOF'\n\
         DET_CLUSTER_NAME={}\nDET_DB_HOST={db_endpoint}\nDET_DB_PORT=5432\nDET_DB_USER=determined\nDET_DB_NAME=determined\n\
         DET_CHECKPOINT_BUCKET={}\nDET_LOG_GROUP={}\nDET_REGION={}\nEOF\n",
        p.spec.name, p.names.bucket, p.names.log_group, p.spec.region
    )
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
                    created = true;
                    net.create_nat_gateway(CreateNatGateway {
                        subnet_id: run.id(Node::PublicSubnet(0)),
                        allocation_id: run.id(Node::NatAddress),
                        client_token: Some(format!("detcloud-{}-nat-{}", p.spec.name, p.account)),
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
            if !table.routes.iter().any(|r| r.destination_cidr == "0.0.0.0/0" && r.target == target) {
                ok_if_exists(net.create_route(&table.id, "0.0.0.0/0", &target).await)?;
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
        Node::MasterConfig => Box::pin(ensure_master_config(run)).await,
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
            let db_endpoint = p
                .inventory
                .db_cluster
                .as_ref()
                .and_then(|c| c.endpoint.clone())
                .unwrap_or_else(|| format!("{}.cluster", p.names.db_cluster));
            let request = RunInstance {
                image_id: p.ami.clone(),
                instance_type: p.spec.master.instance_type.clone(),
                subnet_id: run.id(Node::PublicSubnet(0)),
                security_group_ids: vec![run.id(Node::SecurityRules)],
                key_name: Some(p.names.key_pair.clone()),
                instance_profile_name: Some(p.spec.master_instance_profile.clone()),
                user_data: Some(user_data(p, &db_endpoint)),
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
                tags: run.tags(Node::Master),
            };
            // A new instance profile takes a while to be usable by EC2 (NotReady): retry.
            let mut instance = retry(&CATCH_UP, Error::is_retryable, || compute.run_instance(request.clone())).await?;
            if instance.state.is_gone() {
                // The client token names an instance terminated since: launch anew.
                let mut fresh = request.clone();
                fresh.client_token = fresh.client_token.map(|t| format!("{t}-{:08x}", fnv1a(&[&instance.id]) as u32));
                instance = retry(&CATCH_UP, Error::is_retryable, || compute.run_instance(fresh.clone())).await?;
            }
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

/// The tag on the master once its configuration arrived.
pub const CONFIGURED: &str = "detcloud:configured";

async fn ensure_master_config(run: &Run<'_>) -> Result<(String, bool)> {
    let p = run.p;
    let master = run.id(Node::Master);
    let compute = run.cloud.compute();
    let configured = compute
        .describe_instances(&Filter::id(&master))
        .await?
        .first()
        .is_some_and(|i| i.tags.contains_key(CONFIGURED));
    if configured {
        return Ok((master, false));
    }
    // The password is known only to the run that created the database; otherwise rotate it
    // (the cross-account role may write the parameter and modify the cluster, not read either).
    let known = lock(&run.password).clone();
    let password = match known {
        Some(pw) => pw,
        None => {
            let pw = generate_password()?;
            store_password(run, &pw).await?;
            run.cloud
                .database()
                .modify_db_cluster(detcloud_provider::ModifyDbCluster {
                    id: p.names.db_cluster.clone(),
                    master_password: Some(pw.clone()),
                    ..Default::default()
                })
                .await?;
            pw
        }
    };
    let ssm = run.cloud.parameters();
    let command = SendCommand {
        instance_ids: vec![master.clone()],
        commands: vec![
            "umask 077".into(),
            format!("printf '%s' '{}' > /etc/determined/db-password", password.expose()),
            "systemctl restart determined-master 2>/dev/null || true".into(),
        ],
        comment: Some(format!("detcloud: configure the master of {}", p.spec.name)),
        timeout_seconds: Some(600),
    };
    let command_id = ssm.send_command(command).await?;
    run.emit(Node::MasterConfig, Phase::Waiting(format!("command {command_id}")));
    let invocation = wait_for("the master's configuration command", run.options.timeout, || async {
        let inv = ssm.get_command_invocation(&command_id, &master).await?;
        Ok(inv.is_finished().then_some(inv))
    })
    .await?;
    if invocation.status != "Success" {
        return Err(Error::Other {
            code: "CommandFailed".into(),
            message: format!(
                "configuring the master ended {} (exit code {:?})",
                invocation.status, invocation.exit_code
            ),
        });
    }
    let mut tags = Tags::new();
    tags.insert(CONFIGURED.into(), "1".into());
    run.cloud.network().create_tags(std::slice::from_ref(&master), &tags).await?;
    Ok((master, true))
}

/// Creates (or completes) the cluster `prepared` describes.
pub async fn create(
    cloud: &dyn Cloud,
    prepared: &Prepared,
    options: &CreateOptions,
) -> Result<CreateReport, CreateError> {
    let graph = Graph::new(prepared.spec.az_count);
    let run = Run { cloud, p: prepared, options, ids: Mutex::new(BTreeMap::new()), password: Mutex::new(None) };
    let mut report = CreateReport::default();
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
    match failure {
        Some((node, error)) => Err(CreateError { node, error, report }),
        None => Ok(report),
    }
}

/// True when a tag map marks the resource as this node's.
pub fn is_node(tags: &Tags, node: Node) -> bool {
    tags.get(RESOURCE).is_some_and(|k| *k == node.key())
}
