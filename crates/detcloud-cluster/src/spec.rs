//! The cluster spec: what a cluster is made of, loadable from TOML and validated with errors that
//! name the field and the rule.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use detcloud_policy::names;
use serde::{Deserialize, Serialize};

use crate::cidr::Cidr;

/// A rejected spec value: the field (as its TOML key path, which is also its flag's name) and the
/// rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SpecError {
    /// The field, such as `master.instance_type`.
    pub field: String,
    /// The rule it breaks.
    pub message: String,
}

fn err(field: &str, message: impl Into<String>) -> SpecError {
    SpecError { field: field.to_string(), message: message.into() }
}

/// Where the VPC's addresses come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(untagged)]
pub enum VpcCidr {
    /// A /16 chosen to overlap no VPC of the region and no peer CIDR.
    #[default]
    Auto,
    /// This block (a /16 to /24).
    Fixed(String),
}

/// The master instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MasterSpec {
    /// The EC2 instance type.
    pub instance_type: String,
    /// The AMI; default: the region's entry in [`crate::ami::default_ami`].
    pub ami: Option<String>,
    /// Root volume size in GiB (encrypted gp3).
    pub root_volume_gib: u32,
    /// The CIDRs allowed to reach the master (ports 22, 443 and 8080).
    pub inbound_cidrs: Vec<String>,
}

impl Default for MasterSpec {
    fn default() -> Self {
        MasterSpec { instance_type: "m6i.large".into(), ami: None, root_volume_gib: 100, inbound_cidrs: vec![] }
    }
}

/// The Aurora PostgreSQL database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSpec {
    /// The DB instance class.
    pub instance_class: String,
    /// The engine version; default: AWS's default.
    pub engine_version: Option<String>,
    /// Days of automated backups (1-35), the window for point-in-time restores.
    pub backup_retention_days: u32,
}

impl Default for DatabaseSpec {
    fn default() -> Self {
        DatabaseSpec { instance_class: "db.t4g.medium".into(), engine_version: None, backup_retention_days: 7 }
    }
}

/// The Determined software the master runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeterminedSpec {
    /// The release (the tag of the `determined-master` and `determined-agent` images).
    pub version: String,
    /// Where the images come from: `<image_prefix>/determined-master:<version>` (Docker Hub's
    /// `determinedai` by default; a registry such as `123456789012.dkr.ecr.us-west-2.amazonaws.com/det`
    /// for a mirror).
    pub image_prefix: String,
}

/// The Determined release a cluster runs unless its spec names another.
pub const DEFAULT_DETERMINED_VERSION: &str = "0.32.1";

impl Default for DeterminedSpec {
    fn default() -> Self {
        DeterminedSpec { version: DEFAULT_DETERMINED_VERSION.into(), image_prefix: "determinedai".into() }
    }
}

impl DeterminedSpec {
    /// The master's container image.
    pub fn master_image(&self) -> String {
        [&self.image_prefix, "/determined-master:", &self.version].concat()
    }

    /// The agents' container image.
    pub fn agent_image(&self) -> String {
        [&self.image_prefix, "/determined-agent:", &self.version].concat()
    }
}

/// The agents the master launches itself, on demand (Determined's `aws` resource provider): a
/// compute pool for GPU work and an auxiliary pool for CPU tasks, both between `min_instances`
/// and `max_instances` instances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentsSpec {
    /// The compute pool's instance type (its GPUs are the pool's slots; a type without GPUs
    /// offers one CPU slot).
    pub instance_type: String,
    /// The auxiliary pool's instance type (CPU-only tasks: notebooks, TensorBoards, commands).
    pub aux_instance_type: String,
    /// Instances each pool keeps running even when idle.
    pub min_instances: u32,
    /// Instances each pool may run at once.
    pub max_instances: u32,
    /// Launch agents as spot instances.
    pub spot: bool,
    /// The highest hourly price for a spot instance, in US dollars such as "1.50"; default: the
    /// on-demand price.
    pub spot_max_price: Option<String>,
    /// The agents' AMI; default: the region's entry in [`crate::ami`].
    pub ami: Option<String>,
    /// Root volume size in GiB (Determined requires at least 100).
    pub root_volume_gib: u32,
    /// How long an agent may stay idle before the master terminates it, in minutes.
    pub max_idle_minutes: u32,
}

impl Default for AgentsSpec {
    fn default() -> Self {
        AgentsSpec {
            instance_type: "g4dn.xlarge".into(),
            aux_instance_type: "t3.large".into(),
            min_instances: 0,
            max_instances: 5,
            spot: false,
            spot_max_price: None,
            ami: None,
            root_volume_gib: 200,
            max_idle_minutes: 10,
        }
    }
}

/// A cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    /// The cluster's name: 1-24 lower-case letters, digits and hyphens, starting with a letter.
    /// It names and tags every resource.
    pub name: String,
    /// The AWS region.
    pub region: String,
    /// The VPC CIDR, or `auto`.
    #[serde(default, with = "vpc_cidr_serde")]
    pub vpc_cidr: VpcCidr,
    /// How many availability zones (2-4); each gets a public and a private subnet.
    #[serde(default = "default_az_count")]
    pub az_count: u32,
    /// CIDRs the VPC must not overlap (networks to be peered later).
    #[serde(default)]
    pub peer_cidrs: Vec<String>,
    /// The master.
    #[serde(default)]
    pub master: MasterSpec,
    /// The database.
    #[serde(default)]
    pub database: DatabaseSpec,
    /// The Determined release and where its images come from.
    #[serde(default)]
    pub determined: DeterminedSpec,
    /// The agents the master launches.
    #[serde(default)]
    pub agents: AgentsSpec,
    /// CloudWatch log retention in days (one of CloudWatch's values).
    #[serde(default = "default_log_retention")]
    pub log_retention_days: u32,
    /// A customer-managed KMS key (id, ARN or alias) for EBS, Aurora, S3 and the SSM parameter;
    /// default: the AWS-managed keys.
    #[serde(default)]
    pub kms_key_id: Option<String>,
    /// The master instance profile (from `detcloud connect aws`).
    #[serde(default = "default_master_profile")]
    pub master_instance_profile: String,
    /// The agent instance profile (from `detcloud connect aws`), which the master gives its agents.
    #[serde(default = "default_agent_profile")]
    pub agent_instance_profile: String,
    /// Extra tags on every resource.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

fn default_az_count() -> u32 {
    2
}

fn default_log_retention() -> u32 {
    30
}

fn default_master_profile() -> String {
    "det-cloud-customer-master".into()
}

fn default_agent_profile() -> String {
    "det-cloud-customer-agent".into()
}

mod vpc_cidr_serde {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::VpcCidr;

    pub(super) fn serialize<S: Serializer>(v: &VpcCidr, s: S) -> Result<S::Ok, S::Error> {
        match v {
            VpcCidr::Auto => s.serialize_str("auto"),
            VpcCidr::Fixed(c) => s.serialize_str(c),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<VpcCidr, D::Error> {
        let text = String::deserialize(d)?;
        Ok(if text == "auto" { VpcCidr::Auto } else { VpcCidr::Fixed(text) })
    }
}

/// CloudWatch Logs' allowed retention values, in days.
pub const LOG_RETENTION_DAYS: [u32; 22] =
    [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

impl ClusterSpec {
    /// A spec with defaults for everything but the name and region.
    pub fn new(name: &str, region: &str) -> ClusterSpec {
        ClusterSpec {
            name: name.into(),
            region: region.into(),
            vpc_cidr: VpcCidr::Auto,
            az_count: default_az_count(),
            peer_cidrs: vec![],
            master: MasterSpec::default(),
            database: DatabaseSpec::default(),
            determined: DeterminedSpec::default(),
            agents: AgentsSpec::default(),
            log_retention_days: default_log_retention(),
            kms_key_id: None,
            master_instance_profile: default_master_profile(),
            agent_instance_profile: default_agent_profile(),
            tags: BTreeMap::new(),
        }
    }

    /// Parses a TOML spec (unknown keys are errors: a typo must not be ignored).
    pub fn from_toml(text: &str) -> Result<ClusterSpec, SpecError> {
        toml::from_str(text).map_err(|e| {
            let message = e.message().to_string();
            let field = e
                .span()
                .map(|span| {
                    // Bytes, not a str slice: a span need not fall on a character boundary.
                    let line =
                        text.as_bytes()[..span.start.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1;
                    format!("spec line {line}")
                })
                .unwrap_or_else(|| "spec".to_string());
            SpecError { field, message }
        })
    }

    /// The spec as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a spec always serializes")
    }

    /// Checks every field; the first broken rule is returned.
    pub fn validate(&self) -> Result<(), SpecError> {
        validate_cluster_name(&self.name).map_err(|m| err("name", m))?;
        validate_region(&self.region).map_err(|m| err("region", m))?;
        if let VpcCidr::Fixed(c) = &self.vpc_cidr {
            let cidr: Cidr = c.parse().map_err(|e: String| err("vpc_cidr", e))?;
            if !(16..=24).contains(&cidr.prefix) {
                return Err(err("vpc_cidr", format!("must be a /16 to /24 block, got /{}", cidr.prefix)));
            }
            if !cidr.is_private() {
                return Err(err(
                    "vpc_cidr",
                    "must be a private (RFC 1918) block: 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
                ));
            }
            for p in &self.peer_cidrs {
                if let Ok(peer) = p.parse::<Cidr>() {
                    if peer.overlaps(&cidr) {
                        return Err(err("vpc_cidr", format!("{c} overlaps peer CIDR {p}")));
                    }
                }
            }
        }
        if !(2..=4).contains(&self.az_count) {
            return Err(err("az_count", format!("must be 2, 3 or 4 (got {})", self.az_count)));
        }
        for (i, p) in self.peer_cidrs.iter().enumerate() {
            p.parse::<Cidr>().map_err(|e| err(&format!("peer_cidrs[{i}]"), e))?;
        }
        validate_instance_type(&self.master.instance_type).map_err(|m| err("master.instance_type", m))?;
        if let Some(ami) = &self.master.ami {
            validate_ami(ami).map_err(|m| err("master.ami", m))?;
        }
        if !(8..=16384).contains(&self.master.root_volume_gib) {
            return Err(err(
                "master.root_volume_gib",
                format!("must be 8-16384 GiB (got {})", self.master.root_volume_gib),
            ));
        }
        for (i, c) in self.master.inbound_cidrs.iter().enumerate() {
            c.parse::<Cidr>().map_err(|e| err(&format!("master.inbound_cidrs[{i}]"), e))?;
        }
        let class = &self.database.instance_class;
        if !(class.starts_with("db.")
            && (4..=64).contains(&class.len())
            && class[3..].chars().all(|c| c.is_ascii_alphanumeric() || c == '.'))
        {
            return Err(err(
                "database.instance_class",
                format!("must be an RDS class such as db.t4g.medium or db.serverless (got {class:?})"),
            ));
        }
        if let Some(v) = &self.database.engine_version {
            if v.is_empty() || v.len() > 32 || !v.chars().all(|c| c.is_ascii_digit() || c == '.') {
                return Err(err("database.engine_version", format!("must look like 16.4 (got {v:?})")));
            }
        }
        if !(1..=35).contains(&self.database.backup_retention_days) {
            return Err(err(
                "database.backup_retention_days",
                format!("must be 1-35 days (got {})", self.database.backup_retention_days),
            ));
        }
        if !LOG_RETENTION_DAYS.contains(&self.log_retention_days) {
            return Err(err(
                "log_retention_days",
                format!("must be one of CloudWatch's values {LOG_RETENTION_DAYS:?} (got {})", self.log_retention_days),
            ));
        }
        if let Some(k) = &self.kms_key_id {
            let ok =
                !k.is_empty() && k.len() <= 2048 && k.chars().all(|c| c.is_ascii_alphanumeric() || "-_/:".contains(c));
            if !ok {
                return Err(err("kms_key_id", format!("must be a KMS key id, ARN or alias/NAME (got {k:?})")));
            }
        }
        validate_image_tag(&self.determined.version).map_err(|m| err("determined.version", m))?;
        validate_image_prefix(&self.determined.image_prefix).map_err(|m| err("determined.image_prefix", m))?;
        self.agents.validate()?;
        names::validate_role_name(&self.master_instance_profile).map_err(|e| err("master_instance_profile", e.0))?;
        names::validate_role_name(&self.agent_instance_profile).map_err(|e| err("agent_instance_profile", e.0))?;
        if self.tags.len() > 40 {
            return Err(err("tags", format!("at most 40 tags (got {})", self.tags.len())));
        }
        for (k, v) in &self.tags {
            names::validate_tag_key(k).map_err(|e| err("tags", format!("{k:?}: {}", e.0)))?;
            names::validate_tag_value(v).map_err(|e| err("tags", format!("{k}={v:?}: {}", e.0)))?;
            if k.to_ascii_lowercase().starts_with("detcloud:") {
                return Err(err("tags", format!("{k:?}: the prefix 'detcloud:' is reserved for ownership tags")));
            }
        }
        Ok(())
    }
}

impl AgentsSpec {
    fn validate(&self) -> Result<(), SpecError> {
        validate_instance_type(&self.instance_type).map_err(|m| err("agents.instance_type", m))?;
        validate_instance_type(&self.aux_instance_type).map_err(|m| err("agents.aux_instance_type", m))?;
        if !(1..=1000).contains(&self.max_instances) {
            return Err(err("agents.max_instances", format!("must be 1-1000 (got {})", self.max_instances)));
        }
        if self.min_instances > self.max_instances {
            return Err(err(
                "agents.min_instances",
                format!("must be at most agents.max_instances ({}), got {}", self.max_instances, self.min_instances),
            ));
        }
        if let Some(price) = &self.spot_max_price {
            if !self.spot {
                return Err(err("agents.spot_max_price", "applies to spot agents only: set agents.spot = true"));
            }
            let ok = !price.is_empty()
                && price.len() <= 16
                && price.matches('.').count() <= 1
                && price.chars().all(|c| c.is_ascii_digit() || c == '.')
                && price.chars().any(|c| c.is_ascii_digit());
            if !ok {
                return Err(err(
                    "agents.spot_max_price",
                    format!("must be a price in US dollars such as 1.50 (got {price:?})"),
                ));
            }
        }
        if let Some(ami) = &self.ami {
            validate_ami(ami).map_err(|m| err("agents.ami", m))?;
        }
        if !(100..=16384).contains(&self.root_volume_gib) {
            return Err(err(
                "agents.root_volume_gib",
                format!("must be 100-16384 GiB, Determined's minimum being 100 (got {})", self.root_volume_gib),
            ));
        }
        if !(1..=10080).contains(&self.max_idle_minutes) {
            return Err(err("agents.max_idle_minutes", format!("must be 1-10080 (got {})", self.max_idle_minutes)));
        }
        Ok(())
    }
}

/// Docker image tags: 1-128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`.
pub fn validate_image_tag(tag: &str) -> Result<(), String> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && tag.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        && !tag.starts_with(['.', '-']);
    if ok {
        Ok(())
    } else {
        Err(format!("must be a Determined release such as {DEFAULT_DETERMINED_VERSION} (an image tag; got {tag:?})"))
    }
}

/// Image repository prefixes: a registry host (with an optional port) and path, or a Docker Hub
/// organisation: lower-case letters, digits, `.`, `_`, `-`, `:` and `/`, at most 200 characters,
/// no empty path part.
pub fn validate_image_prefix(prefix: &str) -> Result<(), String> {
    let ok = !prefix.is_empty()
        && prefix.len() <= 200
        && prefix.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-:/".contains(c))
        && prefix.split('/').all(|p| !p.is_empty());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "must be a registry path such as determinedai or 123456789012.dkr.ecr.us-west-2.amazonaws.com/det (got {prefix:?})"
        ))
    }
}

/// Cluster names: 1-24 characters of `[a-z0-9-]`, a letter first, no `--`, no trailing `-`.
/// Short, because they name S3 buckets and RDS identifiers.
pub fn validate_cluster_name(name: &str) -> Result<(), String> {
    let ok_chars = name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if name.is_empty() || name.len() > 24 {
        return Err(format!("must be 1-24 characters (got {})", name.chars().count()));
    }
    if !ok_chars || !name.starts_with(|c: char| c.is_ascii_lowercase()) || name.ends_with('-') || name.contains("--") {
        return Err(format!(
            "must be lower-case letters, digits and single hyphens, starting with a letter and not ending with a hyphen (got {name:?})"
        ));
    }
    Ok(())
}

/// Region names: `xx-name-N` (lower-case letters, digits, hyphens).
pub fn validate_region(region: &str) -> Result<(), String> {
    let parts: Vec<&str> = region.split('-').collect();
    let ok = parts.len() >= 3
        && region.len() <= 32
        && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
        && parts.last().is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(format!("must be a region name such as us-west-2 (got {region:?})"))
    }
}

/// Instance types: `family.size`, such as `m6i.large`, at most 64 characters.
pub fn validate_instance_type(t: &str) -> Result<(), String> {
    let ok = t.len() <= 64
        && t.split_once('.').is_some_and(|(f, s)| {
            !f.is_empty()
                && !s.is_empty()
                && f.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        });
    if ok {
        Ok(())
    } else {
        Err(format!("must be an EC2 instance type such as m6i.large (got {t:?})"))
    }
}

/// AMI ids: `ami-` and 8 or 17 hex digits.
pub fn validate_ami(ami: &str) -> Result<(), String> {
    let ok = ami.strip_prefix("ami-").is_some_and(|h| {
        (h.len() == 8 || h.len() == 17) && h.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    });
    if ok {
        Ok(())
    } else {
        Err(format!("must be an AMI id such as ami-0123456789abcdef0 (got {ami:?})"))
    }
}

/// An IPv4 address for display.
pub fn ip(a: u32) -> Ipv4Addr {
    Ipv4Addr::from(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(f: impl FnOnce(&mut ClusterSpec)) -> Result<(), SpecError> {
        let mut s = ClusterSpec::new("ml-prod", "us-west-2");
        f(&mut s);
        s.validate()
    }

    #[test]
    fn defaults_are_valid_and_round_trip_through_toml() {
        let s = ClusterSpec::new("ml-prod", "us-west-2");
        s.validate().unwrap();
        assert_eq!(ClusterSpec::from_toml(&s.to_toml()).unwrap(), s);
        let parsed = ClusterSpec::from_toml(
            "name = \"a1\"\nregion = \"eu-central-1\"\nvpc_cidr = \"10.9.0.0/16\"\n[master]\ninstance_type = \"t3.large\"\n",
        )
        .unwrap();
        assert_eq!(parsed.vpc_cidr, VpcCidr::Fixed("10.9.0.0/16".into()));
        assert_eq!(parsed.master.root_volume_gib, 100);
    }

    #[test]
    fn unknown_keys_and_bad_types_are_errors_with_a_line() {
        let e = ClusterSpec::from_toml("name = \"a\"\nregion = \"us-west-2\"\nmaster_type = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("unknown field") && e.field.contains("line 3"), "{e}");
        let e = ClusterSpec::from_toml("name = \"a\"\nregion = \"us-west-2\"\naz_count = \"two\"\n").unwrap_err();
        assert!(e.to_string().contains("line 3"), "{e}");
    }

    #[test]
    fn each_rule_names_its_field() {
        type Edit = Box<dyn FnOnce(&mut ClusterSpec)>;
        let cases: Vec<(Edit, &str)> = vec![
            (Box::new(|s| s.name = "ML".into()), "name"),
            (Box::new(|s| s.name = "a".repeat(25)), "name"),
            (Box::new(|s| s.name = "a--b".into()), "name"),
            (Box::new(|s| s.region = "mars".into()), "region"),
            (Box::new(|s| s.vpc_cidr = VpcCidr::Fixed("10.0.0.0/8".into())), "vpc_cidr"),
            (Box::new(|s| s.vpc_cidr = VpcCidr::Fixed("8.8.0.0/16".into())), "vpc_cidr"),
            (Box::new(|s| s.vpc_cidr = VpcCidr::Fixed("10.0.0.300/16".into())), "vpc_cidr"),
            (
                Box::new(|s| {
                    s.vpc_cidr = VpcCidr::Fixed("10.1.0.0/16".into());
                    s.peer_cidrs = vec!["10.1.2.0/24".into()];
                }),
                "vpc_cidr",
            ),
            (Box::new(|s| s.az_count = 1), "az_count"),
            (Box::new(|s| s.peer_cidrs = vec!["nope".into()]), "peer_cidrs[0]"),
            (Box::new(|s| s.master.instance_type = "large".into()), "master.instance_type"),
            (Box::new(|s| s.master.instance_type = format!("{}.large", "m".repeat(10_000))), "master.instance_type"),
            (Box::new(|s| s.database.instance_class = format!("db.{}", "t".repeat(10_000))), "database.instance_class"),
            (Box::new(|s| s.database.engine_version = Some("1".repeat(33))), "database.engine_version"),
            (Box::new(|s| s.master.ami = Some("ami-XYZ".into())), "master.ami"),
            (Box::new(|s| s.master.root_volume_gib = 4), "master.root_volume_gib"),
            (Box::new(|s| s.master.inbound_cidrs = vec!["0.0.0.0/33".into()]), "master.inbound_cidrs[0]"),
            (Box::new(|s| s.database.instance_class = "t4g".into()), "database.instance_class"),
            (Box::new(|s| s.database.backup_retention_days = 36), "database.backup_retention_days"),
            (Box::new(|s| s.log_retention_days = 2), "log_retention_days"),
            (Box::new(|s| s.kms_key_id = Some("key id".into())), "kms_key_id"),
            (Box::new(|s| s.determined.version = "0.32 1".into()), "determined.version"),
            (Box::new(|s| s.determined.version = String::new()), "determined.version"),
            (Box::new(|s| s.determined.image_prefix = "Det/AI".into()), "determined.image_prefix"),
            (Box::new(|s| s.determined.image_prefix = "det//ai".into()), "determined.image_prefix"),
            (Box::new(|s| s.agents.instance_type = "gpu".into()), "agents.instance_type"),
            (Box::new(|s| s.agents.aux_instance_type = "t3".into()), "agents.aux_instance_type"),
            (Box::new(|s| s.agents.max_instances = 0), "agents.max_instances"),
            (
                Box::new(|s| {
                    s.agents.min_instances = 3;
                    s.agents.max_instances = 2;
                }),
                "agents.min_instances",
            ),
            (Box::new(|s| s.agents.spot_max_price = Some("1.5".into())), "agents.spot_max_price"),
            (
                Box::new(|s| {
                    s.agents.spot = true;
                    s.agents.spot_max_price = Some("1.2.3".into());
                }),
                "agents.spot_max_price",
            ),
            (Box::new(|s| s.agents.ami = Some("ami-1".into())), "agents.ami"),
            (Box::new(|s| s.agents.root_volume_gib = 99), "agents.root_volume_gib"),
            (Box::new(|s| s.agents.max_idle_minutes = 0), "agents.max_idle_minutes"),
            (Box::new(|s| s.agent_instance_profile = "a b".into()), "agent_instance_profile"),
            (
                Box::new(|s| {
                    s.tags.insert("detcloud:x".into(), "y".into());
                }),
                "tags",
            ),
        ];
        for (edit, field) in cases {
            let e = check(edit).unwrap_err();
            assert_eq!(e.field, field, "{e}");
        }
    }
}
