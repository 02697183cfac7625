//! Snapshots: the whole world as stable, readable JSON (the CLI's `--sandbox` state file).
//!
//! The file holds a `format` version, the home account (whose administrator a loaded world calls
//! as), the id counters and every account's entities — IAM, S3 buckets, Route53 zones and, per
//! region, EC2, RDS, KMS, Logs, SSM, metrics and quota overrides — with maps sorted by key and
//! timestamps as RFC 3339 text. It holds neither the call log, nor the faults, nor the AWS managed
//! policies and keys (always derived), nor the timings, nor any clock: on load, every change
//! counts as propagated and every transition as complete (a cluster being deleted is gone, a
//! pending instance is running). It does hold secrets the world stores: RDS master passwords and
//! SSM parameter values, in the clear, as a sandbox must read back what it stored.

use std::collections::{BTreeMap, BTreeSet};

use detcloud_policy::names;
use serde::{Deserialize, Serialize};

use crate::cloud::FakeCloud;
use crate::state::RegionState;
use crate::world::{Account, Ids, World};

/// The snapshot format this version writes and reads.
pub const FORMAT: u64 = 1;

/// Why a snapshot could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The text is not JSON, or not a snapshot of this format.
    #[error("not a valid detcloud-fake snapshot: {0}")]
    Malformed(String),
    /// The snapshot has a `format` this version does not read.
    #[error("unsupported detcloud-fake snapshot format {found} (this version reads format {FORMAT} only)")]
    UnsupportedFormat {
        /// The `format` found, as written.
        found: String,
    },
    /// The snapshot parses but describes an impossible world (a dangling reference, a duplicate
    /// name, an invalid account id).
    #[error("inconsistent detcloud-fake snapshot: {0}")]
    Inconsistent(String),
}

/// The file, field by field.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    format: u64,
    home_account: String,
    ids: Ids,
    accounts: BTreeMap<String, Account>,
}

impl FakeCloud {
    /// The whole world as pretty-printed JSON with sorted maps: the same world always gives the
    /// same text.
    pub fn to_json(&self) -> String {
        let shared = self.lock();
        let world = &shared.world;
        let file = File {
            format: FORMAT,
            home_account: world.home_account.clone(),
            ids: world.ids.clone(),
            accounts: world
                .accounts
                .iter()
                .map(|(id, account)| {
                    let mut account = account.clone();
                    for region in account.regions.values_mut() {
                        *region = region.settled();
                    }
                    (id.clone(), account)
                })
                .collect(),
        };
        let mut text = serde_json::to_string_pretty(&file).expect("a world always serializes");
        text.push('\n');
        text
    }

    /// A world loaded from [`to_json`](Self::to_json)'s output, called as the administrator of its
    /// home account. Everything counts as settled (no propagation delay is pending).
    pub fn from_json(json: &str) -> Result<FakeCloud, SnapshotError> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| SnapshotError::Malformed(e.to_string()))?;
        match value.get("format") {
            None => return Err(SnapshotError::Malformed("no \"format\" field".to_string())),
            Some(f) if f.as_u64() == Some(FORMAT) => {}
            Some(f) => return Err(SnapshotError::UnsupportedFormat { found: f.to_string() }),
        }
        let file: File = serde_json::from_value(value).map_err(|e| SnapshotError::Malformed(e.to_string()))?;
        let mut world = World::new(&file.home_account);
        world.accounts = file.accounts;
        world.ids = file.ids;
        check(&world).map_err(SnapshotError::Inconsistent)?;
        Ok(FakeCloud::from_world(world))
    }
}

/// The invariants the IAM functions maintain, checked on a loaded world.
fn check(world: &World) -> Result<(), String> {
    names::validate_account_id(&world.home_account).map_err(|e| format!("home_account {e}"))?;
    let mut ids = BTreeSet::new();
    let mut unique =
        |id: &str| if ids.insert(id.to_string()) { Ok(()) } else { Err(format!("unique id {id} is used twice")) };
    for (account_id, account) in &world.accounts {
        names::validate_account_id(account_id).map_err(|e| format!("account {account_id:?}: account ids {e}"))?;
        let iam = &account.iam;
        let at = |kind: &str, name: &str| format!("account {account_id}, {kind} {name:?}");
        for (key, role) in &iam.roles {
            if *key != role.name.to_ascii_lowercase() {
                return Err(format!(
                    "{}: stored under key {key:?}, expected its lower-case name",
                    at("role", &role.name)
                ));
            }
            names::validate_role_name(&role.name).map_err(|e| format!("{}: name {e}", at("role", &role.name)))?;
            names::validate_path(&role.path).map_err(|e| format!("{}: path {e}", at("role", &role.name)))?;
            unique(&role.id)?;
            for arn in role.attached_policies.iter().chain(role.permissions_boundary.as_ref()) {
                world
                    .managed_policy(account_id, arn)
                    .map_err(|_| format!("{}: policy {arn} does not exist", at("role", &role.name)))?;
            }
        }
        for (key, policy) in &iam.policies {
            let here = at("policy", &policy.name);
            if *key != policy.name.to_ascii_lowercase() {
                return Err(format!("{here}: stored under key {key:?}, expected its lower-case name"));
            }
            names::validate_policy_name(&policy.name).map_err(|e| format!("{here}: name {e}"))?;
            names::validate_path(&policy.path).map_err(|e| format!("{here}: path {e}"))?;
            unique(&policy.id)?;
            if policy.versions.is_empty() || policy.versions.len() > crate::limits::MAX_POLICY_VERSIONS {
                return Err(format!("{here}: must have 1 to {} versions", crate::limits::MAX_POLICY_VERSIONS));
            }
            if !policy.versions.iter().any(|v| v.id == policy.default_version) {
                return Err(format!("{here}: default version {} does not exist", policy.default_version));
            }
            for v in &policy.versions {
                let n: u32 =
                    v.id.strip_prefix('v')
                        .and_then(|n| n.parse().ok())
                        .ok_or_else(|| format!("{here}: bad version id {:?}", v.id))?;
                if n >= policy.next_version {
                    return Err(format!("{here}: version {} is not below next_version {}", v.id, policy.next_version));
                }
            }
        }
        for (key, profile) in &iam.instance_profiles {
            let here = at("instance profile", &profile.name);
            if *key != profile.name.to_ascii_lowercase() {
                return Err(format!("{here}: stored under key {key:?}, expected its lower-case name"));
            }
            names::validate_instance_profile_name(&profile.name).map_err(|e| format!("{here}: name {e}"))?;
            names::validate_path(&profile.path).map_err(|e| format!("{here}: path {e}"))?;
            unique(&profile.id)?;
            if profile.roles.len() > crate::limits::MAX_ROLES_PER_INSTANCE_PROFILE {
                return Err(format!("{here}: holds more than one role"));
            }
            for role in &profile.roles {
                if !iam.roles.contains_key(&role.to_ascii_lowercase()) {
                    return Err(format!("{here}: role {role:?} does not exist"));
                }
            }
        }
        for name in account.s3.keys() {
            let owners = world.accounts.values().filter(|a| a.s3.contains_key(name)).count();
            if owners > 1 {
                return Err(format!("bucket {name:?} belongs to {owners} accounts (bucket names are global)"));
            }
        }
        for (region, state) in &account.regions {
            if !crate::region::is_region(region) {
                return Err(format!("account {account_id}: {region:?} is not a region name"));
            }
            check_region(state).map_err(|e| format!("account {account_id}, region {region}: {e}"))?;
        }
    }
    Ok(())
}

/// The references between regional resources that the service functions maintain.
fn check_region(state: &RegionState) -> Result<(), String> {
    let ec2 = &state.ec2;
    let vpc = |what: &str, id: &str, vpc_id: &str| {
        if ec2.vpcs.contains_key(vpc_id) {
            Ok(())
        } else {
            Err(format!("{what} {id}: VPC {vpc_id} does not exist"))
        }
    };
    let subnet = |what: &str, id: &str, subnet_id: &str| {
        if ec2.subnets.contains_key(subnet_id) {
            Ok(())
        } else {
            Err(format!("{what} {id}: subnet {subnet_id} does not exist"))
        }
    };
    for (key, s) in &ec2.subnets {
        crate::cidr::Cidr::parse(&s.cidr).ok_or_else(|| format!("subnet {key}: bad CIDR {:?}", s.cidr))?;
        vpc("subnet", key, &s.vpc_id)?;
    }
    for (key, v) in &ec2.vpcs {
        crate::cidr::Cidr::parse(&v.cidr).ok_or_else(|| format!("VPC {key}: bad CIDR {:?}", v.cidr))?;
    }
    for (key, r) in &ec2.route_tables {
        vpc("route table", key, &r.vpc_id)?;
        for a in &r.associations {
            if let Some(s) = &a.subnet_id {
                subnet("route table", key, s)?;
            }
        }
    }
    for (key, g) in &ec2.security_groups {
        vpc("security group", key, &g.vpc_id)?;
    }
    for (key, e) in &ec2.network_interfaces {
        subnet("network interface", key, &e.subnet_id)?;
    }
    for (key, i) in &ec2.instances {
        if !i.terminated {
            subnet("instance", key, &i.subnet_id)?;
        }
    }
    for (key, n) in &ec2.nat_gateways {
        if !n.deleted && n.failure_message.is_none() {
            subnet("NAT gateway", key, &n.subnet_id)?;
            if !ec2.addresses.contains_key(&n.allocation_id) {
                return Err(format!("NAT gateway {key}: address {} does not exist", n.allocation_id));
            }
        }
    }
    for (key, a) in &ec2.addresses {
        if let Some(x) = &a.association {
            if !ec2.instances.contains_key(&x.instance_id) {
                return Err(format!("address {key}: instance {} does not exist", x.instance_id));
            }
        }
    }
    let rds = &state.rds;
    for (key, c) in &rds.clusters {
        if !rds.subnet_groups.contains_key(&c.subnet_group) {
            return Err(format!("DB cluster {key}: subnet group {} does not exist", c.subnet_group));
        }
    }
    for (key, i) in &rds.instances {
        if !rds.clusters.contains_key(&i.cluster_id) {
            return Err(format!("DB instance {key}: cluster {} does not exist", i.cluster_id));
        }
    }
    for (alias, key) in &state.kms.aliases {
        if !state.kms.keys.contains_key(key) {
            return Err(format!("KMS alias {alias}: key {key} does not exist"));
        }
    }
    Ok(())
}
