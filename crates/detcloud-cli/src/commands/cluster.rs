//! `detcloud cluster plan|create|status|list|delete`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use detcloud_cluster::graph::{Graph, Node};
use detcloud_cluster::spec::VpcCidr;
use detcloud_cluster::{ClusterSpec, CreateOptions, DeleteOptions, Presence};
use detcloud_provider::{AssumeRoleRequest, Cloud};
use serde_json::json;

use crate::backend::Backend;
use crate::exit::{CliError, Code};
use crate::progress::{Verb, View};
use crate::prompt::{aborted, confirm};
use crate::style::{status_color, Color, Table, Term};
use crate::{GlobalArgs, OutputFormat};

/// `detcloud cluster ...`
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Show what `create` would create or find, and the preflight checks' results; change nothing.
    Plan(SpecArgs),
    /// Create a cluster, or complete one an earlier run left unfinished (asks first, or --yes).
    Create(CreateArgs),
    /// Show every resource of a cluster with its state and health; exit code 6 when unhealthy.
    Status(NameArgs),
    /// List the clusters of the region.
    List(AccessArgs),
    /// Delete a cluster; keeps the checkpoint bucket and a final database snapshot unless --purge.
    Delete(DeleteArgs),
    /// Apply spec changes: master instance type (by replacement), Determined release and agent pools
    /// (the master's configuration is rewritten and it restarts), backup and log retention, inbound CIDRs.
    Modify(ModifyArgs),
    /// Set (--retention-days) or report the database's backup retention and restorable time window.
    Backup(BackupArgs),
    /// Restore the database to a point in time, as a new Aurora cluster beside the running one;
    /// with --switch, point the master at it (rolled back when the master does not answer).
    Restore(RestoreArgs),
    /// Point the master at another of the cluster's databases (one `restore` made, or its own):
    /// rewrite its configuration, restart it, check it answers, roll back when it does not.
    SwitchDatabase(SwitchArgs),
    /// Print (or --save) the Determined master's logs, collected through SSM Run Command.
    Logs(LogsArgs),
    /// Peer the cluster's VPC with one of yours (run with your own credentials): connection, acceptance, routes.
    Peer(PeerArgs),
    /// Undo `peer` (with your own credentials): the routes it added on both sides, only those, then the connection.
    Unpeer(UnpeerArgs),
}

/// `cluster modify` flags.
#[derive(Debug, Args)]
pub struct ModifyArgs {
    /// The new spec (same flags as create).
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// `cluster backup` flags.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The cluster's name.
    pub name: String,
    /// Keep automated backups this many days (1-35).
    #[arg(long, value_name = "DAYS")]
    pub retention_days: Option<u32>,
    /// How to reach the account.
    #[command(flatten)]
    pub access: AccessArgs,
}

/// `cluster restore` flags.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The cluster's name.
    pub name: String,
    /// The time to restore to: `latest` or a UTC time such as 2026-11-26T10:00:00Z.
    #[arg(long, value_name = "TIME")]
    pub to: String,
    /// Then point the master at the restored database (as `switch-database`): its configuration
    /// is rewritten and it restarts; when it does not answer it goes back to the old database.
    #[arg(long)]
    pub switch: bool,
    /// With --switch: once the master answers on the restored database, delete the cluster's
    /// other databases (final snapshots kept). Without it they are kept.
    #[arg(long, requires = "switch")]
    pub delete_old: bool,
    /// Do not ask before switching.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// How to reach the account.
    #[command(flatten)]
    pub access: AccessArgs,
}

/// `cluster switch-database` flags.
#[derive(Debug, Args)]
pub struct SwitchArgs {
    /// The cluster's name.
    pub name: String,
    /// The Aurora cluster to use: one `cluster restore` made (`detcloud-NAME-restore-N`), or the
    /// cluster's own (`detcloud-NAME`) to switch back. `cluster status` lists them.
    pub database: String,
    /// Once the master answers on DATABASE, delete the cluster's other databases (final snapshots
    /// kept). Without it they are kept; run again with it later to remove them.
    #[arg(long)]
    pub delete_old: bool,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// How to reach the account.
    #[command(flatten)]
    pub access: AccessArgs,
}

/// `cluster logs` flags.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The cluster's name.
    pub name: String,
    /// From when: "1 hour ago", "2026-11-26 10:00:00" (any time `date -d` reads).
    #[arg(long, value_name = "WHEN", default_value = "1 hour ago")]
    pub since: String,
    /// At most this many lines (SSM returns at most 24,000 characters).
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub lines: u32,
    /// Write the logs to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// How to reach the account.
    #[command(flatten)]
    pub access: AccessArgs,
}

/// `cluster peer` flags.
#[derive(Debug, Args)]
pub struct PeerArgs {
    /// The cluster's name.
    pub name: String,
    /// Your VPC to peer with (same account and region).
    #[arg(long, value_name = "VPC_ID")]
    pub vpc_id: String,
}

/// `cluster unpeer` flags.
#[derive(Debug, Args)]
pub struct UnpeerArgs {
    /// The cluster's name.
    pub name: String,
    /// The VPC of yours that `cluster peer --vpc-id` peered it with.
    #[arg(long, value_name = "VPC_ID")]
    pub peer_vpc: String,
}

/// Checks a `--vpc-id`/`--peer-vpc` value.
fn check_vpc_id(flag: &str, id: &str) -> Result<(), CliError> {
    let ok = id
        .strip_prefix("vpc-")
        .is_some_and(|h| (h.len() == 8 || h.len() == 17) && h.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(CliError::usage(format!("{flag}: must be a VPC id such as vpc-0123456789abcdef0 (got {id:?})")))
    }
}

/// How the cluster commands reach the customer's account.
#[derive(Debug, Clone, Args)]
pub struct AccessArgs {
    /// Act as this cross-account role (from `detcloud connect aws`) through sts:AssumeRole; by
    /// default the commands act with your own credentials. Needs an external id.
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// The external id the cross-account role requires (default: DETCLOUD_EXTERNAL_ID, or the
    /// config file's `external_id`).
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
}

/// A cluster by name.
#[derive(Debug, Args)]
pub struct NameArgs {
    /// The cluster's name.
    pub name: String,
    /// How to reach the account.
    #[command(flatten)]
    pub access: AccessArgs,
}

/// The spec: a TOML file and flags that override it.
#[derive(Debug, Args)]
pub struct SpecArgs {
    /// The cluster's name (overrides the spec file's).
    pub name: Option<String>,
    /// A TOML spec file (see README, "Cluster spec").
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// The VPC's IPv4 block (a private /16 to /24), or "auto" to pick one that overlaps nothing.
    #[arg(long, value_name = "CIDR")]
    pub vpc_cidr: Option<String>,
    /// Availability zones (2-4).
    #[arg(long, value_name = "N")]
    pub az_count: Option<u32>,
    /// A CIDR the VPC must not overlap (a network to peer later); repeatable.
    #[arg(long = "peer-cidr", value_name = "CIDR")]
    pub peer_cidrs: Vec<String>,
    /// The master's instance type.
    #[arg(long, value_name = "TYPE")]
    pub master_instance_type: Option<String>,
    /// The master's AMI (default: the region's entry in detcloud's table, shown by `cluster plan`).
    #[arg(long, value_name = "AMI")]
    pub ami: Option<String>,
    /// A CIDR allowed to reach the master on 22, 443 and 8080; repeatable.
    #[arg(long = "inbound-cidr", value_name = "CIDR")]
    pub inbound_cidrs: Vec<String>,
    /// The database instance class.
    #[arg(long, value_name = "CLASS")]
    pub db_instance_class: Option<String>,
    /// Days of database backups (1-35).
    #[arg(long, value_name = "DAYS")]
    pub backup_retention_days: Option<u32>,
    /// Days of CloudWatch logs (one of CloudWatch's values).
    #[arg(long, value_name = "DAYS")]
    pub log_retention_days: Option<u32>,
    /// A customer-managed KMS key for EBS, Aurora, S3 and the SSM parameter.
    #[arg(long, value_name = "KEY")]
    pub kms_key_id: Option<String>,
    /// The master instance profile from `connect aws`.
    #[arg(long, value_name = "NAME")]
    pub master_instance_profile: Option<String>,
    /// The agent instance profile from `connect aws` (the master gives it to the agents it launches).
    #[arg(long, value_name = "NAME")]
    pub agent_instance_profile: Option<String>,
    /// The Determined release the master and its agents run (the tag of the determined-master and
    /// determined-agent images).
    #[arg(long, value_name = "VERSION")]
    pub determined_version: Option<String>,
    /// Where the Determined images come from: a Docker Hub organisation or a registry path
    /// (default determinedai: determinedai/determined-master:VERSION).
    #[arg(long, value_name = "PREFIX")]
    pub image_prefix: Option<String>,
    /// The compute pool's agent instance type (its GPUs are the slots), e.g. g4dn.xlarge.
    #[arg(long, value_name = "TYPE")]
    pub agent_instance_type: Option<String>,
    /// The auxiliary pool's agent instance type (CPU-only tasks), e.g. t3.large.
    #[arg(long, value_name = "TYPE")]
    pub aux_agent_instance_type: Option<String>,
    /// Agents each pool keeps running even when idle.
    #[arg(long, value_name = "N")]
    pub min_agents: Option<u32>,
    /// Agents each pool may run at once.
    #[arg(long, value_name = "N")]
    pub max_agents: Option<u32>,
    /// Launch agents as spot instances.
    #[arg(long, conflicts_with = "no_spot")]
    pub spot: bool,
    /// Launch agents on demand (undoes an earlier --spot).
    #[arg(long)]
    pub no_spot: bool,
    /// The highest hourly price of a spot agent in US dollars, e.g. 1.50 (with --spot; default:
    /// the on-demand price).
    #[arg(long, value_name = "PRICE")]
    pub spot_max_price: Option<String>,
    /// The agents' AMI (default: the region's entry in detcloud's table, shown by `cluster plan`).
    #[arg(long, value_name = "AMI")]
    pub agent_ami: Option<String>,
    /// A tag on every resource (repeatable): --tag team=ml.
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// How to reach the account.
    #[command(flatten)]
    pub access: AccessArgs,
    /// Tags from the config file's [tags] table: below the spec file's and --tag.
    #[arg(skip)]
    pub default_tags: BTreeMap<String, String>,
}

/// `cluster create` flags.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The spec.
    #[command(flatten)]
    pub spec: SpecArgs,
    /// The master's SSH public key (OpenSSH format); without it, detcloud generates an ed25519
    /// pair and writes the private half to ~/.ssh/detcloud-<cluster> (readable only by you).
    #[arg(long, value_name = "FILE")]
    pub ssh_public_key: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Put the master's address in this Route53 hosted zone of yours (Determined's), with your own credentials.
    #[arg(long, value_name = "ZONE_ID", requires = "dns_name")]
    pub dns_zone_id: Option<String>,
    /// The record's name, such as ml-prod.clusters.example.com.
    #[arg(long, value_name = "FQDN")]
    pub dns_name: Option<String>,
    /// Create only this resource and what it needs, like `terraform apply -target` (repeatable).
    /// RESOURCE is a key of `cluster status -o json`: vpc, public-subnet-N, private-subnet-N,
    /// internet-gateway, nat-address, nat-gateway, public-routes, private-routes, security-rules,
    /// key-pair, db-subnet-group, db-cluster, db-instance, bucket, log-group, master,
    /// master-address, master-ready. The cluster stays incomplete until create runs without it.
    #[arg(long = "target", value_name = "RESOURCE")]
    pub targets: Vec<String>,
}

/// `cluster delete` flags.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The cluster's name.
    pub name: String,
    /// Also delete the checkpoint bucket (and its objects) and keep no final database snapshot.
    #[arg(long)]
    pub purge: bool,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Exit 0 when the cluster does not exist (saying so in one line), for scripts that delete
    /// whatever is there; without it, an unknown cluster is an error (exit code 7).
    #[arg(long)]
    pub ignore_missing: bool,
    /// Remove the master's record from this Route53 hosted zone (with --dns-name).
    #[arg(long, value_name = "ZONE_ID", requires = "dns_name")]
    pub dns_zone_id: Option<String>,
    /// The record's name.
    #[arg(long, value_name = "FQDN")]
    pub dns_name: Option<String>,
    /// How to reach the account.
    #[command(flatten)]
    pub access: AccessArgs,
}

/// The cluster name argument, checked.
fn check_name(name: &str) -> Result<(), CliError> {
    detcloud_cluster::spec::validate_cluster_name(name).map_err(|e| CliError::usage(format!("NAME: {e}")))
}

fn validate_dns(zone: &Option<String>, name: &Option<String>) -> Result<(), CliError> {
    if let Some(z) = zone {
        if z.is_empty() || z.len() > 32 || !z.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(CliError::usage(format!(
                "--dns-zone-id: must be a hosted zone id such as Z0123456789ABC (got {z:?})"
            )));
        }
    }
    if let Some(n) = name {
        let ok = n.len() <= 253
            && n.trim_end_matches('.').split('.').count() >= 2
            && n.trim_end_matches('.').split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !l.starts_with('-')
            });
        if !ok {
            return Err(CliError::usage(format!(
                "--dns-name: must be a domain name such as ml-prod.clusters.example.com (got {n:?})"
            )));
        }
    }
    Ok(())
}

/// The `--target` values, checked against a cluster of `az_count` zones; `dns` when the run also
/// writes the master's record, which needs the master's address.
fn parse_targets(raw: &[String], az_count: u32, dns: bool) -> Result<BTreeSet<Node>, CliError> {
    let whole = Graph::new(az_count);
    let mut targets = BTreeSet::new();
    for key in raw {
        let node = Node::from_key(key).ok_or_else(|| {
            CliError::usage(format!(
                "--target: {key:?} is not a resource of a cluster; use one of vpc, public-subnet-N, private-subnet-N, \
                 internet-gateway, nat-address, nat-gateway, public-routes, private-routes, security-rules, key-pair, \
                 db-subnet-group, db-cluster, db-instance, bucket, log-group, master, master-address, master-ready"
            ))
        })?;
        if !whole.nodes.contains(&node) {
            return Err(CliError::usage(format!(
                "--target: {key}: the cluster spans {az_count} zones, so its subnets are numbered 0 to {}",
                az_count.saturating_sub(1)
            )));
        }
        targets.insert(node);
    }
    if dns && !targets.is_empty() && !whole.targeting(&targets).nodes.contains(&Node::MasterAddress) {
        return Err(CliError::usage(
            "--dns-name: the record points at the master's address, which --target leaves out; add --target master-address",
        ));
    }
    Ok(targets)
}

/// The error of a command naming a cluster that does not exist (exit code 7).
fn no_cluster(name: &str, region: &str, account: &str) -> CliError {
    CliError::new(Code::NotFound, format!("no cluster {name} in {region} (account {account})"))
}

/// What is left of the cluster `name`; an error naming it unless something of it exists (or,
/// with `purge`, at least the bucket a delete kept, or one these credentials may not read).
async fn require_cluster(
    cloud: &dyn Cloud,
    name: &str,
    region: &str,
    account: &str,
    purge: bool,
) -> Result<Presence, CliError> {
    match detcloud_cluster::presence(cloud, name, region, account).await? {
        Presence::Exists => Ok(Presence::Exists),
        p @ (Presence::Retained | Presence::BucketUnreadable) if purge => Ok(p),
        _ => Err(no_cluster(name, region, account)),
    }
}

/// A cluster that exists, as a day-two command reaches it.
struct Existing {
    cloud: Arc<dyn Cloud>,
    spec: ClusterSpec,
    names: detcloud_cluster::context::Names,
}

impl Existing {
    /// The cluster `name` in the backend's region, through `reach` (a cloud and its account);
    /// the error of [`no_cluster`] when nothing of it exists.
    async fn find(
        global: &GlobalArgs,
        backend: &Backend,
        (cloud, account): (Arc<dyn Cloud>, String),
        name: &str,
    ) -> Result<Existing, CliError> {
        let spec = ClusterSpec::new(name, &region_of(global, backend));
        require_cluster(cloud.as_ref(), &spec.name, &spec.region, &account, false).await?;
        let names = detcloud_cluster::context::Names::new(&spec, &account).resolve(cloud.as_ref(), &spec).await?;
        Ok(Existing { cloud, spec, names })
    }
}

/// Shows the plan of switching the master of `spec.name` to `database`, asks (unless `yes`), and
/// switches, printing the outcome.
async fn switch_database(
    global: &GlobalArgs,
    cloud: Arc<dyn Cloud>,
    spec: &ClusterSpec,
    account: &str,
    database: &str,
    delete_old: bool,
    yes: bool,
) -> Result<(), CliError> {
    let mut prepared = detcloud_cluster::prepare(cloud.as_ref(), spec, account).await?;
    // Nothing but the database changes: every other value stays the cluster's current one.
    detcloud_cluster::operate::keep_current(&mut prepared, &detcloud_cluster::operate::Explicit::default());
    let mut options = CreateOptions::new(String::new());
    let steps = detcloud_cluster::operate::switch_plan(&prepared, database, delete_old, options.ready_timeout)
        .map_err(|e| match e {
            detcloud_provider::Error::InvalidInput { message } => CliError::usage(message),
            other => CliError::from(other),
        })?;
    eprintln!("Switching the database of cluster {}:", spec.name);
    for (i, step) in steps.iter().enumerate() {
        eprintln!("  {}. {step}", i + 1);
    }
    if !yes {
        let q = format!("Switch cluster {} in {} to {database}? (y/N)", spec.name, spec.region);
        if !confirm(&q, global.output).await? {
            return Err(aborted());
        }
    }
    let view = View::new(Verb::Create, global.verbose, &[]);
    options.progress = Some(view.progress());
    tracing::info!(cluster = %spec.name, database, "switching the master's database");
    let switched =
        detcloud_cluster::operate::switch_database(cloud.as_ref(), &prepared, database, delete_old, &options).await;
    view.finish(switched.is_ok());
    let report = switched?;
    match global.output {
        OutputFormat::Json => crate::output::print_json(&report),
        OutputFormat::Text => {
            if report.switched {
                println!(
                    "The master of {} now uses {} ({}), switched from {}; the master: {}.",
                    spec.name, report.to, report.endpoint, report.from, report.master
                );
            } else {
                println!("The master of {} already uses {}; the master: {}.", spec.name, report.to, report.master);
            }
            for d in &report.deleted {
                println!("deleted: {d}");
            }
            for k in &report.kept {
                println!("kept: {k}");
            }
            for r in &report.retained {
                println!(
                    "kept: database {r} (not in use; `switch-database {} {} --delete-old` removes it)",
                    spec.name, report.to
                );
            }
        }
    }
    Ok(())
}

fn region_of(global: &GlobalArgs, backend: &Backend) -> String {
    global.region.clone().unwrap_or_else(|| backend.cloud.region())
}

impl SpecArgs {
    /// The spec from the file and the flags, validated.
    fn spec(&self, region: &str) -> Result<ClusterSpec, CliError> {
        let mut spec = match &self.spec {
            Some(path) => {
                let text = crate::commands::read_input_file("--spec", path)?;
                ClusterSpec::from_toml(&text)
                    .map_err(|e| CliError::usage(format!("--spec: {}: {e}", path.display())))?
            }
            None => {
                let name =
                    self.name.clone().ok_or_else(|| CliError::usage("NAME: give the cluster's name or --spec FILE"))?;
                ClusterSpec::new(&name, region)
            }
        };
        if let Some(n) = &self.name {
            spec.name = n.clone();
        }
        // What the file says, to name the file rather than a flag when a value it gave is wrong.
        let from_file = FromFile {
            region: self.spec.is_some() && !spec.region.is_empty(),
            peer_cidrs: spec.peer_cidrs.len(),
            inbound_cidrs: spec.master.inbound_cidrs.len(),
        };
        if self.spec.is_none() || spec.region.is_empty() {
            spec.region = region.to_string();
        }
        if let Some(c) = &self.vpc_cidr {
            spec.vpc_cidr = if c == "auto" { VpcCidr::Auto } else { VpcCidr::Fixed(c.clone()) };
        }
        if let Some(n) = self.az_count {
            spec.az_count = n;
        }
        spec.peer_cidrs.extend(self.peer_cidrs.iter().cloned());
        if let Some(t) = &self.master_instance_type {
            spec.master.instance_type = t.clone();
        }
        if let Some(a) = &self.ami {
            spec.master.ami = Some(a.clone());
        }
        spec.master.inbound_cidrs.extend(self.inbound_cidrs.iter().cloned());
        if let Some(c) = &self.db_instance_class {
            spec.database.instance_class = c.clone();
        }
        if let Some(d) = self.backup_retention_days {
            spec.database.backup_retention_days = d;
        }
        if let Some(d) = self.log_retention_days {
            spec.log_retention_days = d;
        }
        if let Some(k) = &self.kms_key_id {
            spec.kms_key_id = Some(k.clone());
        }
        if let Some(p) = &self.master_instance_profile {
            spec.master_instance_profile = p.clone();
        }
        if let Some(p) = &self.agent_instance_profile {
            spec.agent_instance_profile = p.clone();
        }
        if let Some(v) = &self.determined_version {
            spec.determined.version = v.clone();
        }
        if let Some(p) = &self.image_prefix {
            spec.determined.image_prefix = p.clone();
        }
        if let Some(t) = &self.agent_instance_type {
            spec.agents.instance_type = t.clone();
        }
        if let Some(t) = &self.aux_agent_instance_type {
            spec.agents.aux_instance_type = t.clone();
        }
        if let Some(n) = self.min_agents {
            spec.agents.min_instances = n;
        }
        if let Some(n) = self.max_agents {
            spec.agents.max_instances = n;
        }
        if self.spot {
            spec.agents.spot = true;
        }
        if self.no_spot {
            spec.agents.spot = false;
            spec.agents.spot_max_price = None;
        }
        if let Some(p) = &self.spot_max_price {
            spec.agents.spot_max_price = Some(p.clone());
        }
        if let Some(a) = &self.agent_ami {
            spec.agents.ami = Some(a.clone());
        }
        for (k, v) in &self.default_tags {
            spec.tags.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for t in &self.tags {
            let (k, v) = detcloud_connect::options::parse_tag(t)?;
            spec.tags.insert(k, v);
        }
        spec.validate().map_err(|e| match &self.spec {
            Some(path) if !self.given_by_flag(&e.field, &from_file) => {
                CliError::usage(format!("--spec: {}: {}: {}", path.display(), e.field, e.message))
            }
            _ => CliError::usage(format!("{}: {}", flag_for(&e.field), e.message)),
        })?;
        Ok(spec)
    }

    /// True when the value of spec field `field` (a TOML key path, such as `peer_cidrs[2]`) came
    /// from a flag rather than from the spec file.
    fn given_by_flag(&self, field: &str, file: &FromFile) -> bool {
        let index = || field.split_once('[').and_then(|(_, i)| i.trim_end_matches(']').parse::<usize>().ok());
        match field.split('[').next().unwrap_or(field) {
            "name" => self.name.is_some(),
            "region" => !file.region,
            "vpc_cidr" => self.vpc_cidr.is_some(),
            "az_count" => self.az_count.is_some(),
            "peer_cidrs" => index().is_some_and(|i| i >= file.peer_cidrs),
            "master.instance_type" => self.master_instance_type.is_some(),
            "master.ami" => self.ami.is_some(),
            "master.inbound_cidrs" => index().is_some_and(|i| i >= file.inbound_cidrs),
            "database.instance_class" => self.db_instance_class.is_some(),
            "database.backup_retention_days" => self.backup_retention_days.is_some(),
            "log_retention_days" => self.log_retention_days.is_some(),
            "kms_key_id" => self.kms_key_id.is_some(),
            "master_instance_profile" => self.master_instance_profile.is_some(),
            "agent_instance_profile" => self.agent_instance_profile.is_some(),
            "determined.version" => self.determined_version.is_some(),
            "determined.image_prefix" => self.image_prefix.is_some(),
            "agents.instance_type" => self.agent_instance_type.is_some(),
            "agents.aux_instance_type" => self.aux_agent_instance_type.is_some(),
            "agents.min_instances" => self.min_agents.is_some(),
            "agents.max_instances" => self.max_agents.is_some(),
            "agents.spot_max_price" => self.spot_max_price.is_some(),
            "agents.ami" => self.agent_ami.is_some(),
            "tags" => !self.tags.is_empty(),
            _ => false,
        }
    }
}

/// What a spec file held before the flags were applied (see [`SpecArgs::given_by_flag`]).
struct FromFile {
    region: bool,
    peer_cidrs: usize,
    inbound_cidrs: usize,
}

/// The flag that sets a spec field, for error messages (`field` is the TOML key path).
fn flag_for(field: &str) -> String {
    let base = field.split('[').next().unwrap_or(field);
    let flag = match base {
        "name" => "NAME",
        "region" => "--region",
        "vpc_cidr" => "--vpc-cidr",
        "az_count" => "--az-count",
        "peer_cidrs" => "--peer-cidr",
        "master.instance_type" => "--master-instance-type",
        "master.ami" => "--ami",
        "master.inbound_cidrs" => "--inbound-cidr",
        "database.instance_class" => "--db-instance-class",
        "database.backup_retention_days" => "--backup-retention-days",
        "log_retention_days" => "--log-retention-days",
        "kms_key_id" => "--kms-key-id",
        "master_instance_profile" => "--master-instance-profile",
        "agent_instance_profile" => "--agent-instance-profile",
        "determined.version" => "--determined-version",
        "determined.image_prefix" => "--image-prefix",
        "agents.instance_type" => "--agent-instance-type",
        "agents.aux_instance_type" => "--aux-agent-instance-type",
        "agents.min_instances" => "--min-agents",
        "agents.max_instances" => "--max-agents",
        "agents.spot_max_price" => "--spot-max-price",
        "agents.ami" => "--agent-ami",
        "tags" => "--tag",
        other => return format!("--spec field {other}"),
    };
    if field.contains('[') {
        format!("{flag} ({field})")
    } else {
        flag.to_string()
    }
}

/// Fills what the user did not give from the settings (crate::config): the external id of the
/// cross-account role, and the tags of a spec.
pub(crate) fn apply_defaults(command: &mut ClusterCommand, external_id: Option<&str>, tags: &BTreeMap<String, String>) {
    let access = match command {
        ClusterCommand::Plan(s) | ClusterCommand::Modify(ModifyArgs { spec: s, .. }) => {
            s.default_tags = tags.clone();
            &mut s.access
        }
        ClusterCommand::Create(c) => {
            c.spec.default_tags = tags.clone();
            &mut c.spec.access
        }
        ClusterCommand::Status(a) => &mut a.access,
        ClusterCommand::List(a) => a,
        ClusterCommand::Delete(a) => &mut a.access,
        ClusterCommand::Backup(a) => &mut a.access,
        ClusterCommand::Restore(a) => &mut a.access,
        ClusterCommand::SwitchDatabase(a) => &mut a.access,
        ClusterCommand::Logs(a) => &mut a.access,
        ClusterCommand::Peer(_) | ClusterCommand::Unpeer(_) => return,
    };
    if access.external_id.is_none() {
        access.external_id = external_id.map(str::to_string);
    }
}

impl AccessArgs {
    fn validate(&self) -> Result<(), CliError> {
        if self.role_arn.is_some() && self.external_id.is_none() {
            return Err(CliError::usage(
                "--role-arn: needs --external-id ID (or DETCLOUD_EXTERNAL_ID, or external_id in the config file)",
            ));
        }
        if let Some(arn) = &self.role_arn {
            if !arn.parse::<detcloud_policy::Arn>().is_ok_and(|a| a.service == "iam" && a.resource_type() == "role") {
                return Err(CliError::usage(format!("--role-arn: must be the ARN of an IAM role (got {arn:?})")));
            }
        }
        if let Some(id) = &self.external_id {
            detcloud_policy::names::validate_external_id(id)
                .map_err(|e| CliError::usage(format!("--external-id: {e}")))?;
        }
        Ok(())
    }

    /// The cloud to act in, and the customer's account.
    async fn cloud(&self, backend: &Backend) -> Result<(Arc<dyn Cloud>, String), CliError> {
        match &self.role_arn {
            Some(arn) => {
                let account = arn.parse::<detcloud_policy::Arn>().map(|a| a.account).unwrap_or_default();
                let cloud = backend
                    .cloud
                    .assume_role(AssumeRoleRequest {
                        role_arn: arn.clone(),
                        session_name: "detcloud-cluster".into(),
                        external_id: self.external_id.clone(),
                        duration: None,
                    })
                    .await
                    .map_err(|e| CliError::from(e).with_prefix(&format!("cannot assume {arn}")))?;
                Ok((cloud, account))
            }
            None => Self::own(backend).await,
        }
    }

    /// The caller's own credentials (no role assumed), and their account: what `peer` and
    /// `unpeer` act with.
    async fn own(backend: &Backend) -> Result<(Arc<dyn Cloud>, String), CliError> {
        let account = backend.cloud.identity().caller_identity().await?.account;
        Ok((backend.cloud.clone(), account))
    }
}

/// Runs `cluster ...`.
pub(crate) async fn run(global: &GlobalArgs, command: &ClusterCommand) -> Result<(), CliError> {
    match command {
        ClusterCommand::Plan(args) => {
            args.access.validate()?;
            with_backend(global, |backend| async move {
                let spec = args.spec(&region_of(global, &backend))?;
                let (cloud, account) = args.access.cloud(&backend).await?;
                let prepared = detcloud_cluster::prepare(cloud.as_ref(), &spec, &account).await?;
                print_plan(global.output, &prepared, &BTreeSet::new());
                Ok(())
            })
            .await
        }
        ClusterCommand::Create(args) => {
            args.spec.access.validate()?;
            validate_dns(&args.dns_zone_id, &args.dns_name)?;
            let key = match &args.ssh_public_key {
                Some(path) => Some(read_public_key(path)?),
                None => None,
            };
            with_backend(global, |backend| async move {
                let spec = args.spec.spec(&region_of(global, &backend))?;
                let targets = parse_targets(&args.targets, spec.az_count, args.dns_name.is_some())?;
                create(global, &backend, args, spec, key, targets).await
            })
            .await
        }
        ClusterCommand::Status(args) => {
            args.access.validate()?;
            check_name(&args.name)?;
            with_backend(global, |backend| async move {
                let (cloud, account) = args.access.cloud(&backend).await?;
                let region = region_of(global, &backend);
                require_cluster(cloud.as_ref(), &args.name, &region, &account, false).await?;
                let mut st = detcloud_cluster::status(cloud.as_ref(), &args.name, &region, &account).await?;
                // Peerings are made with the customer's own credentials, and only those may read them.
                if args.access.role_arn.is_none() {
                    match detcloud_cluster::status::peerings(cloud.as_ref(), &args.name).await {
                        Ok(rows) => {
                            st.healthy &= rows.iter().all(|r| r.healthy);
                            st.resources.extend(rows);
                        }
                        Err(detcloud_provider::Error::AccessDenied { .. }) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                match global.output {
                    OutputFormat::Json => crate::output::print_json(&st),
                    OutputFormat::Text => {
                        let term = Term::get();
                        let health = if st.healthy { "healthy" } else { "UNHEALTHY" };
                        let color = if st.healthy { Color::Green } else { Color::Red };
                        println!("Cluster {} in {}: {}", st.name, st.region, color.paint(health, term.stdout_color));
                        if let Some(m) = &st.master {
                            let version = m.version.as_ref().map(|v| format!(" (Determined {v})")).unwrap_or_default();
                            let detail = m.detail.as_ref().map(|d| format!(": {d}")).unwrap_or_default();
                            println!(
                                "  master {}: {}{version}{detail}; {}",
                                m.instance_id,
                                m.health,
                                m.url.as_deref().unwrap_or("no public address")
                            );
                        }
                        if term.stdout_tty {
                            let mut table = Table::with_header(&["", "RESOURCE", "ID", "STATE", "DETAIL"]);
                            for r in &st.resources {
                                let (ok, c) = if r.healthy { ("ok", Color::Green) } else { ("BAD", Color::Red) };
                                table.colored_row(vec![
                                    (ok.to_string(), Some(c)),
                                    (r.resource.clone(), None),
                                    (r.id.clone().unwrap_or_else(|| "-".into()), None),
                                    (r.state.clone(), status_color(&r.state)),
                                    (r.detail.clone().unwrap_or_default(), None),
                                ]);
                            }
                            for line in table.render(true, term.stdout_color).lines() {
                                println!("  {line}");
                            }
                        } else {
                            for r in &st.resources {
                                println!(
                                    "  {} {:<22} {:<24} {:<13} {}",
                                    if r.healthy { "ok " } else { "BAD" },
                                    r.resource,
                                    r.id.clone().unwrap_or_else(|| "-".into()),
                                    r.state,
                                    r.detail.clone().unwrap_or_default()
                                );
                            }
                        }
                    }
                }
                if st.healthy {
                    Ok(())
                } else {
                    Err(CliError::new(Code::ChecksFailed, format!("cluster {} is not healthy", st.name)))
                }
            })
            .await
        }
        ClusterCommand::List(access) => {
            access.validate()?;
            with_backend(global, |backend| async move {
                let (cloud, _) = access.cloud(&backend).await?;
                let clusters = detcloud_cluster::list(cloud.as_ref()).await?;
                match global.output {
                    OutputFormat::Json => {
                        let v: Vec<_> = clusters.iter().map(|(n, vpc)| json!({"name": n, "vpc_id": vpc})).collect();
                        crate::output::print_json(&json!({ "clusters": v }));
                    }
                    OutputFormat::Text => {
                        if clusters.is_empty() {
                            println!("No clusters in {}.", region_of(global, &backend));
                        } else if Term::get().stdout_tty {
                            let mut table = Table::with_header(&["NAME", "VPC"]);
                            for (n, vpc) in &clusters {
                                table.row([n.as_str(), vpc.as_str()]);
                            }
                            table.print();
                        } else {
                            // Not a terminal: tab-separated, for scripts.
                            for (n, vpc) in &clusters {
                                println!("{n}\t{vpc}");
                            }
                        }
                    }
                }
                Ok(())
            })
            .await
        }
        ClusterCommand::Delete(args) => {
            args.access.validate()?;
            validate_dns(&args.dns_zone_id, &args.dns_name)?;
            check_name(&args.name)?;
            with_backend(global, |backend| async move {
                let (cloud, account) = args.access.cloud(&backend).await?;
                let region = region_of(global, &backend);
                match require_cluster(cloud.as_ref(), &args.name, &region, &account, args.purge).await {
                    Err(e) if e.code == Code::NotFound && args.ignore_missing => {
                        eprintln!("{}; nothing to delete (--ignore-missing)", e.message);
                        if global.output == OutputFormat::Json {
                            crate::output::print_json(&json!({"deleted": [], "kept": [], "missing": true}));
                        }
                        return Ok(());
                    }
                    result => result?,
                };
                if !args.yes {
                    let what = if args.purge {
                        "including its checkpoint bucket and without a final database snapshot"
                    } else {
                        "keeping its checkpoint bucket and a final database snapshot"
                    };
                    let q = format!(
                        "Will delete cluster {} in {region} of account {account}, {what}, proceed? (y/N)",
                        args.name
                    );
                    if !confirm(&q, global.output).await? {
                        return Err(aborted());
                    }
                }
                let view = View::new(Verb::Delete, global.verbose, &[]);
                // The cross-account role may not touch peerings; the customer's own credentials remove them first.
                let peerings = args.access.role_arn.is_none();
                let options = DeleteOptions {
                    purge: args.purge,
                    progress: Some(view.progress()),
                    peerings,
                    ..Default::default()
                };
                let master_ip =
                    detcloud_cluster::status(cloud.as_ref(), &args.name, &region, &account).await.ok().and_then(|s| {
                        s.resources.iter().find(|r| r.resource == "master elastic IP").and_then(|r| r.id.clone())
                    });
                tracing::info!(cluster = %args.name, %region, purge = args.purge, "deleting the cluster");
                let deleted = detcloud_cluster::delete(cloud.as_ref(), &args.name, &region, &account, &options).await;
                view.finish(deleted.is_ok());
                let report = deleted?;
                if !peerings {
                    eprintln!(
                        "note: VPC peerings not checked (the cross-account role may not describe them); `detcloud cluster unpeer {} --peer-vpc VPC_ID` removes one with your own credentials",
                        args.name
                    );
                }
                if let (Some(zone), Some(name), Some(ip)) = (&args.dns_zone_id, &args.dns_name, master_ip) {
                    detcloud_cluster::operate::dns_record(backend.cloud.as_ref(), zone, name, &ip, true).await?;
                    eprintln!("removed DNS record {name}");
                }
                match global.output {
                    OutputFormat::Json => {
                        crate::output::print_json(&json!({"deleted": report.deleted, "kept": report.kept}))
                    }
                    OutputFormat::Text => {
                        let color = Term::get().stdout_color;
                        for d in &report.deleted {
                            println!("{}: {d}", Color::Green.paint("deleted", color));
                        }
                        for k in &report.kept {
                            println!("{}: {k}", Color::Yellow.paint("kept", color));
                        }
                        println!("Cluster {} deleted.", args.name);
                    }
                }
                Ok(())
            })
            .await
        }
        ClusterCommand::Modify(args) => {
            args.spec.access.validate()?;
            with_backend(global, |backend| async move {
                let spec = args.spec.spec(&region_of(global, &backend))?;
                let (cloud, account) = args.spec.access.cloud(&backend).await?;
                require_cluster(cloud.as_ref(), &spec.name, &spec.region, &account, false).await?;
                let mut prepared = detcloud_cluster::prepare(cloud.as_ref(), &spec, &account).await?;
                // Only what was given changes; a spec file gives everything.
                let file = args.spec.spec.is_some();
                let a = &args.spec;
                let explicit = detcloud_cluster::operate::Explicit {
                    instance_type: file || a.master_instance_type.is_some(),
                    inbound_cidrs: file || !a.inbound_cidrs.is_empty(),
                    backup_retention: file || a.backup_retention_days.is_some(),
                    log_retention: file || a.log_retention_days.is_some(),
                    determined_version: file || a.determined_version.is_some(),
                    image_prefix: file || a.image_prefix.is_some(),
                    agent_instance_type: file || a.agent_instance_type.is_some(),
                    aux_instance_type: file || a.aux_agent_instance_type.is_some(),
                    min_agents: file || a.min_agents.is_some(),
                    max_agents: file || a.max_agents.is_some(),
                    spot: file || a.spot || a.no_spot || a.spot_max_price.is_some(),
                    agent_ami: file || a.agent_ami.is_some(),
                };
                detcloud_cluster::operate::keep_current(&mut prepared, &explicit);
                let changes = detcloud_cluster::operate::modify_plan(&prepared);
                eprintln!("Changes to cluster {}:", spec.name);
                for c in &changes {
                    eprintln!("  ~ {c}");
                }
                if !args.yes {
                    let q = format!("Will modify cluster {} in {}, proceed? (y/N)", spec.name, spec.region);
                    if !confirm(&q, global.output).await? {
                        return Err(aborted());
                    }
                }
                let mut options = CreateOptions::new(String::new());
                let view = View::new(Verb::Create, global.verbose, &[]);
                options.progress = Some(view.progress());
                tracing::info!(cluster = %spec.name, changes = changes.len(), "modifying the cluster");
                let modified = detcloud_cluster::operate::modify(cloud.as_ref(), &prepared, &options).await;
                view.finish(modified.is_ok());
                let (report, _) = modified?;
                match global.output {
                    OutputFormat::Json => crate::output::print_json(&report),
                    OutputFormat::Text => {
                        for c in &report.changes {
                            println!("{}: {c}", Color::Yellow.paint("changed", Term::get().stdout_color));
                        }
                    }
                }
                Ok(())
            })
            .await
        }
        ClusterCommand::Backup(args) => {
            args.access.validate()?;
            check_name(&args.name)?;
            if let Some(d) = args.retention_days {
                if !(1..=35).contains(&d) {
                    return Err(CliError::usage(format!("--retention-days: must be 1-35 (got {d})")));
                }
            }
            with_backend(global, |backend| async move {
                let reach = args.access.cloud(&backend).await?;
                let Existing { cloud, names, .. } = Existing::find(global, &backend, reach, &args.name).await?;
                let report = detcloud_cluster::operate::backup(cloud.as_ref(), &names, args.retention_days).await?;
                match global.output {
                    OutputFormat::Json => crate::output::print_json(&report),
                    OutputFormat::Text => {
                        println!("Backups of {}: kept {} days", args.name, report.retention_days);
                        let t = |s: Option<u64>| {
                            s.map(|s| format!("{s} (seconds since 1970, UTC)")).unwrap_or_else(|| "-".into())
                        };
                        println!(
                            "  restorable from {} to {}",
                            t(report.earliest_restorable),
                            t(report.latest_restorable)
                        );
                        for s in &report.snapshots {
                            println!("  snapshot {s}");
                        }
                    }
                }
                Ok(())
            })
            .await
        }
        ClusterCommand::Restore(args) => {
            args.access.validate()?;
            check_name(&args.name)?;
            let to =
                detcloud_cluster::operate::parse_time(&args.to).map_err(|e| CliError::usage(format!("--to: {e}")))?;
            with_backend(global, |backend| async move {
                let reach = args.access.cloud(&backend).await?;
                let account = reach.1.clone();
                let Existing { cloud, spec, names } = Existing::find(global, &backend, reach, &args.name).await?;
                if args.switch && !args.yes {
                    eprintln!("Will restore the database of {} to {} and point the master at it.", args.name, args.to);
                    let q = format!("Restore and switch cluster {} in {}? (y/N)", spec.name, spec.region);
                    if !confirm(&q, global.output).await? {
                        return Err(aborted());
                    }
                }
                let (id, endpoint) = detcloud_cluster::operate::restore(
                    cloud.as_ref(),
                    &spec,
                    &names,
                    to,
                    std::time::Duration::from_secs(3600),
                )
                .await?;
                if !args.switch {
                    match global.output {
                        OutputFormat::Json => {
                            crate::output::print_json(&json!({"db_cluster": id, "endpoint": endpoint}))
                        }
                        OutputFormat::Text => println!(
                            "Restored the database of {} as {id} ({endpoint}); the master still uses {}. \
                             Switch with `detcloud cluster switch-database {} {id}`.",
                            args.name, names.db_cluster, args.name
                        ),
                    }
                    return Ok(());
                }
                eprintln!("Restored the database of {} as {id} ({endpoint}).", args.name);
                switch_database(global, cloud, &spec, &account, &id, args.delete_old, true).await
            })
            .await
        }
        ClusterCommand::SwitchDatabase(args) => {
            args.access.validate()?;
            check_name(&args.name)?;
            with_backend(global, |backend| async move {
                let reach = args.access.cloud(&backend).await?;
                let account = reach.1.clone();
                let Existing { cloud, spec, .. } = Existing::find(global, &backend, reach, &args.name).await?;
                switch_database(global, cloud, &spec, &account, &args.database, args.delete_old, args.yes).await
            })
            .await
        }
        ClusterCommand::Logs(args) => {
            args.access.validate()?;
            check_name(&args.name)?;
            detcloud_cluster::operate::validate_since(&args.since).map_err(CliError::usage)?;
            if !(1..=100_000).contains(&args.lines) {
                return Err(CliError::usage(format!("--lines: must be 1-100000 (got {})", args.lines)));
            }
            with_backend(global, |backend| async move {
                let reach = args.access.cloud(&backend).await?;
                let Existing { cloud, spec, names } = Existing::find(global, &backend, reach, &args.name).await?;
                let text = detcloud_cluster::operate::logs(cloud.as_ref(), &spec, &names, &args.since, args.lines)
                    .await
                    .map_err(|e| match e {
                        detcloud_provider::Error::InvalidInput { message } => CliError::usage(message),
                        other => CliError::from(other),
                    })?;
                match &args.save {
                    Some(path) => {
                        std::fs::write(path, &text).map_err(|e| {
                            CliError::new(Code::Failure, format!("--save: cannot write {}: {e}", path.display()))
                        })?;
                        eprintln!("saved {} lines to {}", text.lines().count(), path.display());
                    }
                    None => match global.output {
                        OutputFormat::Json => crate::output::print_json(
                            &json!({"cluster": args.name, "lines": text.lines().collect::<Vec<_>>()}),
                        ),
                        OutputFormat::Text => print!("{text}"),
                    },
                }
                Ok(())
            })
            .await
        }
        ClusterCommand::Peer(args) => {
            check_name(&args.name)?;
            check_vpc_id("--vpc-id", &args.vpc_id)?;
            with_backend(global, |backend| async move {
                let own = AccessArgs::own(&backend).await?;
                let Existing { cloud, spec, .. } = Existing::find(global, &backend, own, &args.name).await?;
                let pcx =
                    detcloud_cluster::operate::peer(cloud.as_ref(), &spec, &args.vpc_id).await.map_err(
                        |e| match e {
                            detcloud_provider::Error::InvalidInput { message } => CliError::usage(message),
                            other => CliError::from(other),
                        },
                    )?;
                match global.output {
                    OutputFormat::Json => crate::output::print_json(&json!({"peering_connection": pcx})),
                    OutputFormat::Text => println!(
                        "Peered cluster {} with {} through {pcx}; routes added on both sides.",
                        args.name, args.vpc_id
                    ),
                }
                Ok(())
            })
            .await
        }
        ClusterCommand::Unpeer(args) => {
            check_name(&args.name)?;
            check_vpc_id("--peer-vpc", &args.peer_vpc)?;
            with_backend(global, |backend| async move {
                let own = AccessArgs::own(&backend).await?;
                let Existing { cloud, spec, .. } = Existing::find(global, &backend, own, &args.name).await?;
                let removed = detcloud_cluster::operate::unpeer(cloud.as_ref(), &spec, &args.peer_vpc).await?;
                match (global.output, &removed) {
                    (OutputFormat::Json, Some(u)) => crate::output::print_json(&json!({
                        "peering_connection": u.peering_id,
                        "routes_removed": u.routes.iter().map(|(t, d)| json!({"route_table": t, "destination": d})).collect::<Vec<_>>(),
                    })),
                    (OutputFormat::Json, None) => {
                        crate::output::print_json(&json!({"peering_connection": null, "routes_removed": []}))
                    }
                    (OutputFormat::Text, Some(u)) => {
                        let color = Term::get().stdout_color;
                        for (table, dest) in &u.routes {
                            println!("{}: route {dest} in {table}", Color::Green.paint("removed", color));
                        }
                        println!("Removed peering {} of cluster {} with {}.", u.peering_id, args.name, args.peer_vpc);
                    }
                    (OutputFormat::Text, None) => {
                        println!("Cluster {} has no peering with {}: nothing to remove.", args.name, args.peer_vpc)
                    }
                }
                Ok(())
            })
            .await
        }
    }
}

async fn with_backend<F, Fut>(global: &GlobalArgs, f: F) -> Result<(), CliError>
where
    F: FnOnce(Backend) -> Fut,
    Fut: std::future::Future<Output = Result<(), CliError>>,
{
    let backend = Backend::open(global).await?;
    let finisher = backend.finisher();
    let result = f(backend).await;
    // Invalid input changed nothing: leave the sandbox file as it was.
    if !matches!(&result, Err(e) if e.code == Code::Usage) {
        finisher.finish()?;
    }
    result
}

pub(crate) fn read_public_key(path: &Path) -> Result<String, CliError> {
    let text = crate::commands::read_input_file("--ssh-public-key", path)?;
    let line = text.trim().to_string();
    let ok = ["ssh-ed25519 ", "ssh-rsa ", "ecdsa-sha2-nistp256 ", "ecdsa-sha2-nistp384 ", "ecdsa-sha2-nistp521 "]
        .iter()
        .any(|p| line.starts_with(p))
        && line.lines().count() == 1
        && line.split_whitespace().nth(1).is_some_and(|b| b.len() >= 60);
    if !ok {
        return Err(CliError::usage(format!(
            "--ssh-public-key: {} is not an OpenSSH public key line (ssh-ed25519 AAAA... or ssh-rsa AAAA...); pass the .pub file",
            path.display()
        )));
    }
    Ok(line)
}

/// The cluster's generated key pair: `~/.ssh/detcloud-<cluster>` (mode 0600) and its `.pub`.
/// Generates an ed25519 pair when there is none; reuses the one an earlier, interrupted run
/// generated (so re-running the same command completes it). Returns the public line, the path,
/// and whether it was generated now.
fn generated_key(cluster: &str) -> Result<(String, PathBuf, bool), CliError> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).ok_or_else(|| {
        CliError::usage("--ssh-public-key: HOME is not set, so no key can be generated; pass --ssh-public-key FILE")
    })?;
    let dir = PathBuf::from(home).join(".ssh");
    let path = dir.join(format!("detcloud-{cluster}"));
    let encode = |key: &ssh_key::PrivateKey| {
        key.public_key().to_openssh().map_err(|e| CliError::new(Code::Failure, format!("encoding the SSH key: {e}")))
    };
    let write_public = |public: &str| {
        std::fs::write(path.with_extension("pub"), format!("{public}\n"))
            .map_err(|e| CliError::new(Code::Failure, format!("writing {}.pub: {e}", path.display())))
    };
    if path.exists() {
        let key = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| ssh_key::PrivateKey::from_openssh(text).ok())
            .filter(|k| !k.is_encrypted())
            .ok_or_else(|| {
                CliError::usage(format!(
                    "--ssh-public-key: {} exists but is not an unencrypted OpenSSH private key; pass --ssh-public-key \
                     FILE.pub, or move it away",
                    path.display()
                ))
            })?;
        let public = encode(&key)?;
        write_public(&public)?;
        return Ok((public, path, false));
    }
    let key = ssh_key::PrivateKey::random(&mut rand_core::OsRng, ssh_key::Algorithm::Ed25519)
        .map_err(|e| CliError::new(Code::Failure, format!("generating an SSH key: {e}")))?;
    let public = encode(&key)?;
    let private = key
        .to_openssh(ssh_key::LineEnding::LF)
        .map_err(|e| CliError::new(Code::Failure, format!("encoding the SSH key: {e}")))?;
    // Written to a temporary name, then renamed: a run killed meanwhile leaves no half key.
    let partial = path.with_extension("partial");
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(&dir)?;
        let _ = std::fs::remove_file(&partial);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&partial)?;
        file.write_all(private.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&partial, &path)
    };
    write().map_err(|e| CliError::new(Code::Failure, format!("writing {}: {e}", path.display())))?;
    write_public(&public)?;
    Ok((public, path, true))
}

fn print_plan(format: OutputFormat, p: &detcloud_cluster::Prepared, targets: &BTreeSet<Node>) {
    let whole = Graph::new(p.spec.az_count);
    let graph = whole.targeting(targets);
    let left_out: Vec<String> = whole.nodes.iter().filter(|n| !graph.nodes.contains(n)).map(|n| n.key()).collect();
    let exists = |n: Node| -> bool {
        use Node as N;
        let inv = &p.inventory;
        match n {
            N::Vpc => inv.vpc.is_some(),
            N::PublicSubnet(_) | N::PrivateSubnet(_) => inv.subnet(n).is_some(),
            N::InternetGateway => inv.internet_gateway().is_some(),
            N::NatAddress | N::MasterAddress => inv.address(n).is_some(),
            N::NatGateway => inv.nat_gateway().is_some(),
            N::PublicRoutes | N::PrivateRoutes => inv.route_table(n).is_some(),
            N::KeyPair => inv.key_pair.is_some(),
            N::DbCluster => inv.db_cluster.is_some(),
            N::DbInstance => inv.db_cluster.as_ref().is_some_and(|c| !c.member_instance_ids.is_empty()),
            N::Master => inv.master().is_some(),
            _ => false,
        }
    };
    let rows: Vec<(String, bool)> = graph.topological().into_iter().map(|n| (n.label(), exists(n))).collect();
    match format {
        OutputFormat::Json => {
            let v = json!({
                "name": p.spec.name,
                "region": p.spec.region,
                "account": p.account,
                "vpc_cidr": p.vpc_cidr.to_string(),
                "zones": p.zones,
                "ami": p.ami,
                "ami_source": p.ami_source,
                "agent_ami": p.agent_ami.id,
                "agent_ami_source": p.agent_ami.source,
                "determined": {
                    "master_image": p.spec.determined.master_image(),
                    "agent_image": p.spec.determined.agent_image(),
                },
                "agents": {
                    "instance_type": p.spec.agents.instance_type,
                    "aux_instance_type": p.spec.agents.aux_instance_type,
                    "min_instances": p.spec.agents.min_instances,
                    "max_instances": p.spec.agents.max_instances,
                    "spot": p.spec.agents.spot,
                    "spot_max_price": p.spec.agents.spot_max_price,
                },
                "resources": rows.iter().map(|(r, e)| json!({"resource": r, "action": if *e { "ensure" } else { "create" }})).collect::<Vec<_>>(),
                "left_out": left_out,
                "warnings": p.warnings,
            });
            crate::output::print_json(&v);
        }
        OutputFormat::Text => {
            println!(
                "Plan for cluster {} in {} (account {}): VPC {} over {}; master {} ({})",
                p.spec.name,
                p.spec.region,
                p.account,
                p.vpc_cidr,
                p.zones.join(", "),
                p.spec.master.instance_type,
                p.ami
            );
            let a = &p.spec.agents;
            println!("  master image: {} ({})", p.ami, p.ami_source);
            println!("  agent image:  {} ({})", p.agent_ami.id, p.agent_ami.source);
            println!(
                "  Determined:   {} (agents {})",
                p.spec.determined.master_image(),
                p.spec.determined.agent_image()
            );
            println!(
                "  agents:       compute pool {} ({} GPU each), auxiliary pool {}; {} to {} each, {}",
                a.instance_type,
                p.compute_gpus,
                a.aux_instance_type,
                a.min_instances,
                a.max_instances,
                match (&a.spot, &a.spot_max_price) {
                    (true, Some(price)) => format!("spot up to ${price}/h"),
                    (true, None) => "spot".to_string(),
                    (false, _) => "on demand".to_string(),
                }
            );
            for (r, e) in &rows {
                println!("  {} {r}", if *e { "= (exists, checked)" } else { "+ create" });
            }
            for w in &p.warnings {
                println!("warning: {w}");
            }
            let create = rows.iter().filter(|(_, e)| !e).count();
            if !left_out.is_empty() {
                println!(
                    "warning: --target leaves out {} of {} resources ({}); the cluster is incomplete until create runs without --target",
                    left_out.len(),
                    whole.nodes.len(),
                    left_out.join(", ")
                );
            }
            println!("Plan: {create} to create, {} to check.", rows.len() - create);
        }
    }
}

async fn create(
    global: &GlobalArgs,
    backend: &Backend,
    args: &CreateArgs,
    spec: ClusterSpec,
    key: Option<String>,
    targets: BTreeSet<Node>,
) -> Result<(), CliError> {
    let (cloud, account) = args.spec.access.cloud(backend).await?;
    let prepared = detcloud_cluster::prepare(cloud.as_ref(), &spec, &account).await?;
    for w in &prepared.warnings {
        eprintln!("warning: {w}");
    }
    if global.output == OutputFormat::Text {
        print_plan(OutputFormat::Text, &prepared, &targets);
    }
    if !args.yes {
        let q = format!("Will create cluster {} in {} of account {account}, proceed? (y/N)", spec.name, spec.region);
        if !confirm(&q, global.output).await? {
            return Err(aborted());
        }
    }
    let public_key = match key {
        Some(k) => k,
        None if prepared.inventory.key_pair.is_some() => String::new(),
        None => {
            let (public, path, generated) = generated_key(&spec.name)?;
            if generated {
                eprintln!("Generated an SSH key pair: private key {} (readable only by you)", path.display());
            } else {
                eprintln!("Using the SSH key pair generated earlier: private key {}", path.display());
            }
            public
        }
    };
    let mut options = CreateOptions::new(public_key);
    let expected: Vec<String> =
        Graph::new(spec.az_count).targeting(&targets).topological().into_iter().map(|n| n.label()).collect();
    options.targets = targets;
    let view = View::new(Verb::Create, global.verbose, &expected);
    options.progress = Some(view.progress());
    tracing::info!(cluster = %spec.name, region = %spec.region, "creating the cluster");
    let created = detcloud_cluster::create(cloud.as_ref(), &prepared, &options).await;
    view.finish(created.is_ok());
    let report = created.map_err(|e| {
        CliError::from(e.error.clone()).with_prefix(&format!(
            "creating {} failed; re-run the same command to complete the cluster, or `detcloud cluster delete {}`",
            e.node.label(),
            spec.name
        ))
    })?;
    if let (Some(zone), Some(name)) = (&args.dns_zone_id, &args.dns_name) {
        let ip = report.ids.get(&Node::MasterAddress).cloned().unwrap_or_default();
        // The record lives in Determined's own zone: written with the caller's credentials, not the role's.
        detcloud_cluster::operate::dns_record(backend.cloud.as_ref(), zone, name, &ip, false).await?;
        eprintln!("DNS: {name} -> {ip}");
    }
    match global.output {
        OutputFormat::Json => {
            let ids: serde_json::Map<String, serde_json::Value> =
                report.ids.iter().map(|(n, id)| (n.key(), json!(id))).collect();
            let v = json!({
                "name": spec.name,
                "region": spec.region,
                "created": report.created.iter().map(|n| n.key()).collect::<Vec<_>>(),
                "existing": report.existing.iter().map(|n| n.key()).collect::<Vec<_>>(),
                "resources": ids,
                "left_out": report.left_out.iter().map(|n| n.key()).collect::<Vec<_>>(),
                "master": {
                    "public_ip": report.ids.get(&Node::MasterAddress),
                    "url": report.ids.get(&Node::MasterAddress)
                        .map(|ip| format!("http://{ip}:{}", detcloud_cluster::bootstrap::MASTER_PORT)),
                    "readiness": report.master,
                },
            });
            crate::output::print_json(&v);
        }
        OutputFormat::Text => {
            let ip = report.ids.get(&Node::MasterAddress).cloned().unwrap_or_default();
            let url = format!("http://{ip}:{}", detcloud_cluster::bootstrap::MASTER_PORT);
            let counts = format!("{} created, {} already there", report.created.len(), report.existing.len());
            if !report.left_out.is_empty() {
                println!(
                    "Cluster {} is incomplete: the targeted resources are in place ({counts}); {} left out by --target. \
                     Run create without --target to complete it.",
                    spec.name,
                    report.left_out.len()
                );
                return Ok(());
            }
            match &report.master {
                Some(detcloud_cluster::create::Readiness::Ready { version }) => {
                    println!("Cluster {} is ready: Determined {version} answers at {url} ({counts}).", spec.name)
                }
                Some(detcloud_cluster::create::Readiness::Unverified { reason }) => println!(
                    "Cluster {} is created ({counts}); its master at {url} was not checked: {reason}.",
                    spec.name
                ),
                None => println!("Cluster {} is created ({counts}); master at {url}.", spec.name),
            }
        }
    }
    Ok(())
}
