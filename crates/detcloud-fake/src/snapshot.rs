//! Snapshots: the whole world as stable, readable JSON (the CLI's `--sandbox` state file).
//!
//! The file holds a `format` version, the home account (whose administrator a loaded world calls
//! as), the id counters and every account's entities, with maps sorted by key. It holds neither
//! the call log, nor the faults, nor the AWS managed policies (always seeded), nor any clock: on
//! load, every change counts as propagated.

use std::collections::{BTreeMap, BTreeSet};

use detcloud_policy::names;
use serde::{Deserialize, Serialize};

use crate::world::{Account, Ids, World};
use crate::FakeCloud;

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
            accounts: world.accounts.clone(),
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
    }
    Ok(())
}
