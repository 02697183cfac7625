//! RDS's records (subnet groups, Aurora clusters, DB instances, snapshots) and what follows
//! from them alone.

use std::collections::BTreeMap;
use std::time::SystemTime;

use detcloud_provider::{NetworkInterface, Secret, Tags};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::clock::{self, Timings};
use crate::rng::LOWER_ALNUM;
use crate::state::secret_text;

// ---------------------------------------------------------------------------------------------
// State.

/// The RDS state of one account in one region; identifiers are stored in lower case, as RDS does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RdsRegion {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) subnet_groups: BTreeMap<String, SubnetGroupRec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) clusters: BTreeMap<String, ClusterRec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) instances: BTreeMap<String, DbInstanceRec>,
    /// Manual cluster snapshots, by id (automated ones are derived from their clusters).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) snapshots: BTreeMap<String, SnapshotRec>,
}

/// A DB subnet group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubnetGroupRec {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) vpc_id: String,
    pub(crate) subnet_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub(crate) tags: Tags,
}

/// An Aurora cluster: `creating` → `available`; once deleted, `deleting` → gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClusterRec {
    pub(crate) id: String,
    pub(crate) engine: String,
    pub(crate) engine_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) database_name: Option<String>,
    pub(crate) master_username: String,
    /// The master password, in the clear (snapshots keep it).
    #[serde(with = "secret_text")]
    pub(crate) master_password: Secret,
    pub(crate) subnet_group: String,
    pub(crate) security_group_ids: Vec<String>,
    pub(crate) backup_retention_days: u32,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) storage_encrypted: bool,
    /// The key ARN, for an encrypted cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) kms_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) deletion_protection: bool,
    #[serde(with = "crate::clock::rfc3339")]
    pub(crate) created: SystemTime,
    /// The cluster it was restored from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) restored_from: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) deleting: bool,
    /// When the current phase (creation or deletion) began; never saved.
    #[serde(skip)]
    pub(crate) since: Option<Instant>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub(crate) tags: Tags,
}

/// A DB instance of a cluster: `creating` → `available`; once deleted, `deleting` → gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DbInstanceRec {
    pub(crate) id: String,
    pub(crate) cluster_id: String,
    pub(crate) instance_class: String,
    pub(crate) engine: String,
    /// The subnet its network interface is in.
    pub(crate) subnet_id: String,
    pub(crate) network_interface_id: String,
    pub(crate) private_ip: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) deleting: bool,
    /// When the current phase began (creation: once its cluster is available); never saved.
    #[serde(skip)]
    pub(crate) since: Option<Instant>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub(crate) tags: Tags,
}

/// A manual cluster snapshot: `creating` → `available`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SnapshotRec {
    pub(crate) id: String,
    pub(crate) cluster_id: String,
    #[serde(with = "crate::clock::rfc3339")]
    pub(crate) created: SystemTime,
    #[serde(skip)]
    pub(crate) since: Option<Instant>,
}

// ---------------------------------------------------------------------------------------------
// Derived state.

/// Removes the clusters and instances whose deletion is complete (all of those being deleted,
/// with `all`).
pub(crate) fn settle(rds: &mut RdsRegion, t: &Timings, all: bool) {
    let gone_cluster = |c: &ClusterRec| c.deleting && (all || clock::reached(c.since, t.db_cluster_deletion));
    let gone_instance = |i: &DbInstanceRec| i.deleting && (all || clock::reached(i.since, t.db_instance_deletion));
    // Most calls find nothing to remove: look before rebuilding the maps.
    if rds.clusters.values().any(gone_cluster) {
        rds.clusters.retain(|_, c| !gone_cluster(c));
    }
    if rds.instances.values().any(gone_instance) {
        rds.instances.retain(|_, i| !gone_instance(i));
    }
}

pub(crate) fn cluster_status(c: &ClusterRec, t: &Timings) -> &'static str {
    if c.deleting {
        "deleting"
    } else if clock::reached(c.since, t.db_cluster_creation) {
        "available"
    } else {
        "creating"
    }
}

pub(crate) fn instance_status(i: &DbInstanceRec, t: &Timings) -> &'static str {
    if i.deleting {
        "deleting"
    } else if clock::reached(i.since, t.db_instance_creation) {
        "available"
    } else {
        "creating"
    }
}

impl RdsRegion {
    /// The network interfaces of the DB instances.
    pub(crate) fn interfaces(&self) -> Vec<NetworkInterface> {
        let rds = self;
        rds.instances
            .values()
            .map(|i| NetworkInterface {
                id: i.network_interface_id.clone(),
                subnet_id: i.subnet_id.clone(),
                vpc_id: rds
                    .clusters
                    .get(&i.cluster_id)
                    .and_then(|c| rds.subnet_groups.get(&c.subnet_group))
                    .map(|g| g.vpc_id.clone())
                    .unwrap_or_default(),
                status: "in-use".into(),
                private_ip: Some(i.private_ip.clone()),
                attached_to: Some("rds".into()),
                tags: Tags::new(),
            })
            .collect()
    }

    /// True when a cluster uses the security group `id`.
    pub(crate) fn uses_security_group(&self, id: &str) -> bool {
        self.clusters.values().any(|c| c.security_group_ids.iter().any(|g| g == id))
    }
}

/// The writer endpoint of the cluster `id` in an account's region:
/// `<id>.cluster-<12 characters of the account and region>.<region>.rds.amazonaws.com`.
pub(crate) fn writer_endpoint(id: &str, account: &str, region: &str) -> String {
    let seed = [account, "/", region, "/rds"].concat();
    let h = detcloud_provider::tags::stable_hash(seed.as_bytes());
    let suffix = crate::rng::SplitMix64::new(crate::rng::mix(h)).string(LOWER_ALNUM, 12);
    [id, ".cluster-", &suffix, ".", region, ".rds.amazonaws.com"].concat()
}
