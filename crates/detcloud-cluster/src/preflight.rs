//! Preflight: everything checked before the first change, and the decisions made from it (the
//! VPC block, the zones, the AMI).
//!
//! Quotas are checked for the whole plan at once (VPCs, internet gateways, elastic IPs, NAT
//! gateways per zone, vCPUs of the master's instance family), counting what the cluster already
//! has, so a run never stops half-way on a quota another resource of the same plan needed.

use detcloud_provider::{Cloud, Error, Filter, Key, Result};

use crate::ami::{agent_image, master_image, ImageChoice};
use crate::cidr::{choose_vpc_cidr, subnet_plan, Cidr};
use crate::context::{Inventory, Names};
use crate::graph::Node;
use crate::spec::{ClusterSpec, VpcCidr};

/// The decisions a run makes before changing anything.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The spec.
    pub spec: ClusterSpec,
    /// The customer's account.
    pub account: String,
    /// Resource names.
    pub names: Names,
    /// What exists.
    pub inventory: Inventory,
    /// The VPC block.
    pub vpc_cidr: Cidr,
    /// The zones, in order.
    pub zones: Vec<String>,
    /// Public subnet blocks, per zone.
    pub public_cidrs: Vec<Cidr>,
    /// Private subnet blocks, per zone.
    pub private_cidrs: Vec<Cidr>,
    /// The master's AMI.
    pub ami: String,
    /// Where the master's AMI comes from (the spec, or the table of [`crate::ami`]).
    pub ami_source: String,
    /// The agents' AMI and where it comes from.
    pub agent_ami: ImageChoice,
    /// The agent instance profile's ARN (the master gives it to its agents).
    pub agent_instance_profile_arn: String,
    /// GPUs of the compute pool's agent instance type.
    pub compute_gpus: u32,
    /// The instance type `compute_gpus` was read for (`modify` may switch the spec back to the
    /// cluster's current type; `create` then reads that one's).
    pub compute_gpus_of: String,
    /// The customer-managed key, checked.
    pub kms_key: Option<Key>,
    /// Things worth knowing that do not stop the run (a quota that could not be read).
    pub warnings: Vec<String>,
}

/// A quota check: the code, what it counts, how many the plan adds, how many are in use.
#[derive(Debug, Clone, PartialEq)]
pub struct QuotaCheck {
    /// Service Quotas service code (`vpc`, `ec2`).
    pub service: &'static str,
    /// The quota code.
    pub code: &'static str,
    /// What it limits.
    pub what: &'static str,
    /// In use now.
    pub used: f64,
    /// Added by this plan.
    pub needed: f64,
    /// The applied quota, when readable.
    pub limit: Option<f64>,
}

/// The console page where a quota increase is requested.
pub fn quota_link(service: &str, code: &str) -> String {
    format!("https://console.aws.amazon.com/servicequotas/home/services/{service}/quotas/{code}")
}

/// vCPU quota of an instance family: (code, what).
fn vcpu_quota(instance_type: &str) -> (&'static str, &'static str) {
    match instance_type.chars().next() {
        Some('g') => ("L-DB2E81BA", "running on-demand G and VT instance vCPUs"),
        Some('p') => ("L-417A185B", "running on-demand P instance vCPUs"),
        _ => ("L-1216C47A", "running on-demand standard instance vCPUs"),
    }
}

async fn quota_value(cloud: &dyn Cloud, service: &str, code: &str) -> Result<Option<f64>> {
    match cloud.quotas().get_service_quota(service, code).await {
        Ok(q) => Ok(Some(q.value)),
        Err(Error::NotFound { .. } | Error::Unsupported { .. } | Error::Unavailable { .. } | Error::Other { .. }) => {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Reads the account, decides the VPC block, zones and AMI, and checks quotas, the instance
/// profile and the KMS key. Read-only.
pub async fn prepare(cloud: &dyn Cloud, spec: &ClusterSpec, account: &str) -> Result<Prepared> {
    spec.validate().map_err(|e| Error::invalid(e.to_string()))?;
    let names = Names::new(spec, account);
    if names.bucket.len() > 63 {
        return Err(Error::invalid(format!(
            "name: the checkpoint bucket name {} would exceed S3's 63 characters; use a shorter cluster name",
            names.bucket
        )));
    }
    let inventory = Inventory::discover(cloud, spec, &names).await?;
    let names = inventory.live_names(names);
    let net = cloud.network();
    let mut warnings = vec![];

    // The VPC block.
    let all_vpcs = net.describe_vpcs(&Filter::all()).await?;
    let vpc_cidr = match (&inventory.vpc, &spec.vpc_cidr) {
        (Some(v), _) => v.cidr.parse::<Cidr>().map_err(Error::invalid)?,
        (None, VpcCidr::Fixed(c)) => {
            let wanted: Cidr = c.parse().map_err(Error::invalid)?;
            if let Some(v) = all_vpcs.iter().find(|v| v.cidr.parse::<Cidr>().is_ok_and(|x| x.overlaps(&wanted))) {
                return Err(Error::invalid(format!("vpc_cidr: {c} overlaps {} ({}) in {}", v.cidr, v.id, spec.region)));
            }
            wanted
        }
        (None, VpcCidr::Auto) => {
            let mut taken: Vec<Cidr> = all_vpcs.iter().filter_map(|v| v.cidr.parse().ok()).collect();
            taken.extend(spec.peer_cidrs.iter().filter_map(|p| p.parse::<Cidr>().ok()));
            choose_vpc_cidr(&taken).ok_or_else(|| {
                Error::invalid("vpc_cidr: every private /16 overlaps an existing VPC or a peer CIDR; set vpc_cidr")
            })?
        }
    };
    let (public_cidrs, private_cidrs) = subnet_plan(vpc_cidr, spec.az_count)
        .ok_or_else(|| Error::invalid(format!("vpc_cidr: {vpc_cidr} is too small for {} zones", spec.az_count)))?;

    // Zones: those of existing subnets first (a re-run keeps its layout), then the region's.
    let mut available: Vec<String> = net
        .describe_availability_zones()
        .await?
        .into_iter()
        .filter(|z| z.state == "available")
        .map(|z| z.name)
        .collect();
    available.sort();
    let mut zones = vec![];
    for i in 0..spec.az_count as u8 {
        let existing = inventory.subnet(Node::PublicSubnet(i)).map(|s| s.availability_zone.clone());
        let zone = existing.or_else(|| available.iter().find(|z| !zones.contains(*z)).cloned());
        match zone {
            Some(z) => zones.push(z),
            None => {
                return Err(Error::invalid(format!(
                    "az_count: {} has only {} available zones, the spec asks for {}",
                    spec.region,
                    available.len(),
                    spec.az_count
                )))
            }
        }
    }

    let master =
        ImageChoice::choose(spec.master.ami.as_deref(), master_image(&spec.region), &spec.region).ok_or_else(|| {
            Error::invalid(format!(
                "master.ami: detcloud has no default master AMI for {}; set master.ami (--ami)",
                spec.region
            ))
        })?;
    let agent_ami = ImageChoice::choose(spec.agents.ami.as_deref(), agent_image(&spec.region), &spec.region)
        .ok_or_else(|| {
            Error::invalid(format!(
                "agents.ami: detcloud has no default agent AMI for {}; set agents.ami (--agent-ami)",
                spec.region
            ))
        })?;

    // The instance profiles from `connect aws`.
    instance_profile(cloud, "master_instance_profile", &spec.master_instance_profile).await?;
    let agent_instance_profile_arn =
        instance_profile(cloud, "agent_instance_profile", &spec.agent_instance_profile).await?;

    let kms_key = match &spec.kms_key_id {
        Some(id) => {
            let key = cloud.keys().describe_key(id).await.map_err(|e| match e {
                Error::NotFound { .. } => Error::invalid(format!("kms_key_id: no KMS key {id} in {}", spec.region)),
                other => other,
            })?;
            if !key.is_usable() {
                return Err(Error::invalid(format!(
                    "kms_key_id: key {} is {} (usage {}); it must be Enabled for ENCRYPT_DECRYPT",
                    key.id, key.state, key.usage
                )));
            }
            Some(key)
        }
        None => None,
    };

    let (checks, compute_gpus) = quota_checks(cloud, spec, &inventory, &zones).await?;
    for c in &checks {
        match c.limit {
            None => warnings.push(format!(
                "quota {} ({}, {}) is not readable here; {} in use, the cluster adds {}",
                c.code, c.service, c.what, c.used, c.needed
            )),
            Some(limit) if c.needed > 0.0 && c.used + c.needed > limit => {
                return Err(Error::QuotaExceeded {
                    quota_code: Some(c.code.to_string()),
                    message: format!(
                        "the cluster needs {} more {}; {} of {} are in use (quota {} of service {}; request an increase at {})",
                        c.needed,
                        c.what,
                        c.used,
                        limit,
                        c.code,
                        c.service,
                        quota_link(c.service, c.code)
                    ),
                });
            }
            Some(_) => {}
        }
    }

    Ok(Prepared {
        spec: spec.clone(),
        account: account.to_string(),
        names,
        inventory,
        vpc_cidr,
        zones,
        public_cidrs,
        private_cidrs,
        ami: master.id,
        ami_source: master.source,
        agent_ami,
        agent_instance_profile_arn,
        compute_gpus,
        compute_gpus_of: spec.agents.instance_type.clone(),
        kms_key,
        warnings,
    })
}

/// The ARN of the instance profile `name` (the spec's field `field`), which must hold a role.
async fn instance_profile(cloud: &dyn Cloud, field: &str, name: &str) -> Result<String> {
    match cloud.iam().get_instance_profile(name).await {
        Ok(p) if p.roles.is_empty() => {
            Err(Error::invalid(format!("{field}: {} holds no role; run `detcloud connect aws` in the account", p.name)))
        }
        Ok(p) => Ok(p.arn),
        Err(e) if e.is_not_found() => Err(Error::invalid(format!(
            "{field}: {name} does not exist; run `detcloud connect aws` in the account first"
        ))),
        Err(e) => Err(e),
    }
}

/// Usage and needs of every quota the plan touches, and the GPUs of the compute pool's agent type
/// (read with the same `DescribeInstanceTypes` call, which also proves every type is offered).
pub async fn quota_checks(
    cloud: &dyn Cloud,
    spec: &ClusterSpec,
    inv: &Inventory,
    zones: &[String],
) -> Result<(Vec<QuotaCheck>, u32)> {
    let net = cloud.network();
    let compute = cloud.compute();
    let vpcs = net.describe_vpcs(&Filter::all()).await?.len() as f64;
    let igws = net.describe_internet_gateways(&Filter::all()).await?.len() as f64;
    let eips = net.describe_addresses(&Filter::all()).await?.len() as f64;
    let nats = net
        .describe_nat_gateways(&Filter::all())
        .await?
        .into_iter()
        .filter(|n| {
            !matches!(n.state, detcloud_provider::NatGatewayState::Deleted | detcloud_provider::NatGatewayState::Failed)
        })
        .collect::<Vec<_>>();
    let nat_subnets: Vec<String> = nats.iter().map(|n| n.subnet_id.clone()).collect();
    let nat_in_zone = if nat_subnets.is_empty() {
        0.0
    } else {
        let subnets = net.describe_subnets(&Filter { ids: nat_subnets, ..Filter::default() }).await?;
        let zone = zones.first().cloned().unwrap_or_default();
        nats.iter().filter(|n| subnets.iter().any(|s| s.id == n.subnet_id && s.availability_zone == zone)).count()
            as f64
    };
    let (code, what) = vcpu_quota(&spec.master.instance_type);
    let running: Vec<String> = compute
        .describe_instances(&Filter::all())
        .await?
        .into_iter()
        .filter(|i| !i.state.is_gone() && vcpu_quota(&i.instance_type).0 == code)
        .map(|i| i.instance_type)
        .collect();
    let mut wanted_types: Vec<String> = running.clone();
    wanted_types.push(spec.master.instance_type.clone());
    wanted_types.push(spec.agents.instance_type.clone());
    wanted_types.push(spec.agents.aux_instance_type.clone());
    wanted_types.sort();
    wanted_types.dedup();
    let infos = compute.describe_instance_types(&wanted_types).await.map_err(|e| match e {
        Error::InvalidInput { message } => {
            let field = [
                ("agents.instance_type", &spec.agents.instance_type),
                ("agents.aux_instance_type", &spec.agents.aux_instance_type),
            ]
            .into_iter()
            .find(|(_, t)| message.contains(t.as_str()) && **t != spec.master.instance_type)
            .map_or("master.instance_type", |(f, _)| f);
            Error::invalid(format!("{field}: {message}"))
        }
        other => other,
    })?;
    let vcpus_of = |t: &str| infos.iter().find(|i| i.name == t).map(|i| f64::from(i.vcpus)).unwrap_or(0.0);
    for (field, wanted) in [
        ("master.instance_type", &spec.master.instance_type),
        ("agents.instance_type", &spec.agents.instance_type),
        ("agents.aux_instance_type", &spec.agents.aux_instance_type),
    ] {
        if !infos.iter().any(|i| i.name == *wanted) {
            return Err(Error::invalid(format!("{field}: {wanted} is not offered in {}", spec.region)));
        }
    }
    let compute_gpus = infos.iter().find(|i| i.name == spec.agents.instance_type).map_or(0, |i| i.gpus);
    let used_vcpus: f64 = running.iter().map(|t| vcpus_of(t)).sum();

    let need = |missing: bool| if missing { 1.0 } else { 0.0 };
    let mut checks = vec![
        QuotaCheck {
            service: "vpc",
            code: "L-F678F1CE",
            what: "VPCs",
            used: vpcs,
            needed: need(inv.vpc.is_none()),
            limit: None,
        },
        QuotaCheck {
            service: "vpc",
            code: "L-A4707A72",
            what: "internet gateways",
            used: igws,
            needed: need(inv.internet_gateway().is_none()),
            limit: None,
        },
        QuotaCheck {
            service: "vpc",
            code: "L-FE5A380F",
            what: "NAT gateways in the first zone",
            used: nat_in_zone,
            needed: need(inv.nat_gateway().is_none()),
            limit: None,
        },
        QuotaCheck {
            service: "ec2",
            code: "L-0263D0A3",
            what: "elastic IPs",
            used: eips,
            needed: need(inv.address(Node::NatAddress).is_none()) + need(inv.address(Node::MasterAddress).is_none()),
            limit: None,
        },
        QuotaCheck {
            service: "ec2",
            code,
            what,
            used: used_vcpus,
            needed: if inv.master().is_none() { vcpus_of(&spec.master.instance_type) } else { 0.0 },
            limit: None,
        },
    ];
    for c in &mut checks {
        c.limit = quota_value(cloud, c.service, c.code).await?;
    }
    Ok((checks, compute_gpus))
}
