//! EC2's records (networking and compute) and what follows from them alone.

use std::collections::BTreeMap;
use std::time::SystemTime;

use detcloud_provider::{
    Error, InstanceState, NatGatewayState, NetworkInterface, PeeringState, Result, SecurityRule, Tags,
};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::cidr::Cidr;
use crate::clock::{self, Timings};

// ---------------------------------------------------------------------------------------------
// State.

/// The EC2 resources of one account in one region, each map keyed by id (key pairs by name).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Ec2Region {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) vpcs: BTreeMap<String, VpcRec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) subnets: BTreeMap<String, SubnetRec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) internet_gateways: BTreeMap<String, IgwRec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) addresses: BTreeMap<String, AddressRec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) nat_gateways: BTreeMap<String, NatRec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) route_tables: BTreeMap<String, RouteTableRec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) security_groups: BTreeMap<String, SecurityGroupRec>,
    /// Interfaces created with `CreateNetworkInterface` (those of instances, NAT gateways and DB
    /// instances are derived from their owners).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) network_interfaces: BTreeMap<String, InterfaceRec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) peerings: BTreeMap<String, PeeringRec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) key_pairs: BTreeMap<String, KeyPairRec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) instances: BTreeMap<String, InstanceRec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) spot_requests: BTreeMap<String, SpotRec>,
}

/// A VPC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VpcRec {
    pub(crate) id: String,
    pub(crate) cidr: String,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub(crate) tags: Tags,
}

/// A subnet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubnetRec {
    pub(crate) id: String,
    pub(crate) vpc_id: String,
    pub(crate) cidr: String,
    pub(crate) availability_zone: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) map_public_ip_on_launch: bool,
    /// The host number the next private address gets (AWS reserves the first four).
    pub(crate) next_host: u32,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub(crate) tags: Tags,
}

/// An internet gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IgwRec {
    pub(crate) id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) attached_vpc_id: Option<String>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub(crate) tags: Tags,
}

/// An elastic IP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddressRec {
    pub(crate) allocation_id: String,
    pub(crate) public_ip: String,
    /// Its association with an instance (a NAT gateway's is derived from the gateway).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) association: Option<AssociationRec>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub(crate) tags: Tags,
}

/// An elastic IP's association with an instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssociationRec {
    pub(crate) id: String,
    pub(crate) instance_id: String,
}

/// A NAT gateway: `pending` → `available`, or `failed`; once deleted, `deleting` → `deleted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NatRec {
    pub(crate) id: String,
    pub(crate) subnet_id: String,
    pub(crate) vpc_id: String,
    pub(crate) allocation_id: String,
    pub(crate) association_id: String,
    pub(crate) network_interface_id: String,
    pub(crate) private_ip: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) client_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) failure_message: Option<String>,
    /// Deleted (the gateway is `deleting`, then `deleted`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) deleted: bool,
    /// When the current phase (creation or deletion) began; never saved.
    #[serde(skip)]
    pub(crate) since: Option<Instant>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub(crate) tags: Tags,
}

/// A route table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RouteTableRec {
    pub(crate) id: String,
    pub(crate) vpc_id: String,
    /// The VPC's main route table.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) main: bool,
    pub(crate) routes: Vec<RouteRec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) associations: Vec<RouteAssociationRec>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub(crate) tags: Tags,
}

/// A route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RouteRec {
    pub(crate) destination_cidr: String,
    pub(crate) target: TargetRec,
}

/// Where a route goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum TargetRec {
    Local,
    InternetGateway(String),
    NatGateway(String),
    Peering(String),
    NetworkInterface(String),
}

/// A route table association.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RouteAssociationRec {
    pub(crate) id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) subnet_id: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) main: bool,
}

/// A security group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SecurityGroupRec {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) vpc_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) ingress: Vec<RuleRec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) egress: Vec<RuleRec>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub(crate) tags: Tags,
}

/// A security group rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleRec {
    pub(crate) protocol: String,
    pub(crate) from_port: i32,
    pub(crate) to_port: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cidr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) source_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
}

/// A network interface created on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InterfaceRec {
    pub(crate) id: String,
    pub(crate) subnet_id: String,
    pub(crate) vpc_id: String,
    pub(crate) private_ip: String,
    pub(crate) security_group_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub(crate) tags: Tags,
}

/// A VPC peering connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PeeringRec {
    pub(crate) id: String,
    pub(crate) requester_vpc_id: String,
    pub(crate) accepter_vpc_id: String,
    /// `pending-acceptance`, `active`, `deleted` or `failed`.
    pub(crate) state: String,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub(crate) tags: Tags,
}

// ---------------------------------------------------------------------------------------------
// Conversions and derived state.

impl RuleRec {
    pub(crate) fn from_rule(r: &SecurityRule) -> Self {
        RuleRec {
            protocol: r.protocol.clone(),
            from_port: r.from_port,
            to_port: r.to_port,
            cidr: r.cidr.clone(),
            source_group_id: r.source_group_id.clone(),
            description: r.description.clone(),
        }
    }

    pub(crate) fn to_rule(&self) -> SecurityRule {
        SecurityRule {
            protocol: self.protocol.clone(),
            from_port: self.from_port,
            to_port: self.to_port,
            cidr: self.cidr.clone(),
            source_group_id: self.source_group_id.clone(),
            description: self.description.clone(),
        }
    }

    /// The same rule, description aside (how EC2 finds duplicates).
    pub(crate) fn same(&self, other: &RuleRec) -> bool {
        (&self.protocol, self.from_port, self.to_port, &self.cidr, &self.source_group_id)
            == (&other.protocol, other.from_port, other.to_port, &other.cidr, &other.source_group_id)
    }

    pub(crate) fn all_traffic_to(cidr: Option<&str>, group: Option<&str>) -> RuleRec {
        RuleRec {
            protocol: "-1".into(),
            from_port: 0,
            to_port: 0,
            cidr: cidr.map(str::to_string),
            source_group_id: group.map(str::to_string),
            description: None,
        }
    }
}

/// The state of a NAT gateway now.
pub(crate) fn nat_state(nat: &NatRec, t: &Timings) -> NatGatewayState {
    if nat.deleted {
        if clock::reached(nat.since, t.nat_gateway_deletion) {
            NatGatewayState::Deleted
        } else {
            NatGatewayState::Deleting
        }
    } else if nat.failure_message.is_some() {
        NatGatewayState::Failed
    } else if clock::reached(nat.since, t.nat_gateway_creation) {
        NatGatewayState::Available
    } else {
        NatGatewayState::Pending
    }
}

/// True while a NAT gateway holds its elastic IP and network interface.
pub(crate) fn nat_is_live(nat: &NatRec, t: &Timings) -> bool {
    !matches!(nat_state(nat, t), NatGatewayState::Deleted | NatGatewayState::Failed)
}

/// Forgets terminated instances and deleted NAT gateways once they have been listed for
/// [`Timings::finished_listed`], as AWS does. Those of a loaded snapshot (whose end is unknown)
/// are kept: a snapshot loses nothing.
pub(crate) fn settle(ec2: &mut Ec2Region, t: &Timings) {
    // The clock is read only for a finished resource (most calls find none).
    let over =
        |since: Option<Instant>, phase: std::time::Duration| clock::known_and_reached(since, phase + t.finished_listed);
    // Most calls find nothing to forget: look before rebuilding the maps.
    if ec2.instances.values().any(|i| i.terminated && over(i.since, t.instance_termination)) {
        ec2.instances.retain(|_, i| !(i.terminated && over(i.since, t.instance_termination)));
    }
    if ec2.nat_gateways.values().any(|n| n.deleted && over(n.since, t.nat_gateway_deletion)) {
        ec2.nat_gateways.retain(|_, n| !(n.deleted && over(n.since, t.nat_gateway_deletion)));
    }
}

pub(crate) fn to_peering_state(state: &str) -> PeeringState {
    match state {
        "pending-acceptance" => PeeringState::PendingAcceptance,
        "active" => PeeringState::Active,
        "failed" => PeeringState::Failed,
        _ => PeeringState::Deleted,
    }
}

impl Ec2Region {
    pub(crate) fn vpc(&self, id: &str) -> Result<&VpcRec> {
        check_id(id, "vpc", "InvalidVpcID")?;
        self.vpcs.get(id).ok_or_else(|| Error::not_found("vpc", id))
    }

    pub(crate) fn subnet(&self, id: &str) -> Result<&SubnetRec> {
        check_id(id, "subnet", "InvalidSubnetID")?;
        self.subnets.get(id).ok_or_else(|| Error::not_found("subnet", id))
    }

    pub(crate) fn igw(&self, id: &str) -> Result<&IgwRec> {
        check_id(id, "igw", "InvalidInternetGatewayID")?;
        self.internet_gateways.get(id).ok_or_else(|| Error::not_found("internet gateway", id))
    }

    pub(crate) fn address(&self, id: &str) -> Result<&AddressRec> {
        check_id(id, "eipalloc", "InvalidAllocationID")?;
        self.addresses.get(id).ok_or_else(|| Error::not_found("address", id))
    }

    pub(crate) fn nat(&self, id: &str) -> Result<&NatRec> {
        check_id(id, "nat", "InvalidNatGatewayID")?;
        self.nat_gateways.get(id).ok_or_else(|| Error::not_found("NAT gateway", id))
    }

    pub(crate) fn route_table(&self, id: &str) -> Result<&RouteTableRec> {
        check_id(id, "rtb", "InvalidRouteTableID")?;
        self.route_tables.get(id).ok_or_else(|| Error::not_found("route table", id))
    }

    pub(crate) fn security_group(&self, id: &str) -> Result<&SecurityGroupRec> {
        check_id(id, "sg", "InvalidGroupId")?;
        self.security_groups.get(id).ok_or_else(|| Error::not_found("security group", id))
    }

    pub(crate) fn peering(&self, id: &str) -> Result<&PeeringRec> {
        check_id(id, "pcx", "InvalidVpcPeeringConnectionID")?;
        self.peerings.get(id).ok_or_else(|| Error::not_found("VPC peering connection", id))
    }

    /// The `default` security group of a VPC.
    pub(crate) fn default_group(&self, vpc_id: &str) -> Option<&SecurityGroupRec> {
        self.security_groups.values().find(|g| g.vpc_id == vpc_id && g.name == "default")
    }

    /// Every network interface: those created on their own and those of instances, NAT gateways
    /// and DB instances.
    pub(crate) fn interfaces(&self, t: &Timings, db: &[NetworkInterface]) -> Vec<NetworkInterface> {
        let mut out: Vec<NetworkInterface> = self
            .network_interfaces
            .values()
            .map(|e| NetworkInterface {
                id: e.id.clone(),
                subnet_id: e.subnet_id.clone(),
                vpc_id: e.vpc_id.clone(),
                status: "available".into(),
                private_ip: Some(e.private_ip.clone()),
                attached_to: None,
                tags: e.tags.clone(),
            })
            .collect();
        for i in self.instances.values() {
            if instance_state(i, t) != detcloud_provider::InstanceState::Terminated {
                out.push(NetworkInterface {
                    id: i.network_interface_id.clone(),
                    subnet_id: i.subnet_id.clone(),
                    vpc_id: i.vpc_id.clone(),
                    status: "in-use".into(),
                    private_ip: Some(i.private_ip.clone()),
                    attached_to: Some(i.id.clone()),
                    tags: Tags::new(),
                });
            }
        }
        for n in self.nat_gateways.values().filter(|n| nat_is_live(n, t)) {
            out.push(NetworkInterface {
                id: n.network_interface_id.clone(),
                subnet_id: n.subnet_id.clone(),
                vpc_id: n.vpc_id.clone(),
                status: "in-use".into(),
                private_ip: Some(n.private_ip.clone()),
                attached_to: Some("nat_gateway".into()),
                tags: Tags::new(),
            });
        }
        out.extend(db.iter().cloned());
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// The tags of the resource `id`, whatever its kind (key pairs by `key-` id).
    pub(crate) fn tags_mut(&mut self, id: &str) -> Option<&mut Tags> {
        let prefix = id.split('-').next().unwrap_or("");
        match prefix {
            "vpc" => self.vpcs.get_mut(id).map(|r| &mut r.tags),
            "subnet" => self.subnets.get_mut(id).map(|r| &mut r.tags),
            "igw" => self.internet_gateways.get_mut(id).map(|r| &mut r.tags),
            "eipalloc" => self.addresses.get_mut(id).map(|r| &mut r.tags),
            "nat" => self.nat_gateways.get_mut(id).map(|r| &mut r.tags),
            "rtb" => self.route_tables.get_mut(id).map(|r| &mut r.tags),
            "sg" => self.security_groups.get_mut(id).map(|r| &mut r.tags),
            "eni" => self.network_interfaces.get_mut(id).map(|r| &mut r.tags),
            "pcx" => self.peerings.get_mut(id).map(|r| &mut r.tags),
            "i" => self.instances.get_mut(id).map(|r| &mut r.tags),
            "key" => self.key_pairs.values_mut().find(|k| k.id == id).map(|r| &mut r.tags),
            "sir" => self.spot_requests.get_mut(id).map(|r| &mut r.tags),
            _ => None,
        }
    }

    /// A copy of the tags of the resource `id`, whatever its kind.
    pub(crate) fn tags_of(&self, id: &str) -> Option<Tags> {
        let prefix = id.split('-').next().unwrap_or("");
        match prefix {
            "vpc" => self.vpcs.get(id).map(|r| r.tags.clone()),
            "subnet" => self.subnets.get(id).map(|r| r.tags.clone()),
            "igw" => self.internet_gateways.get(id).map(|r| r.tags.clone()),
            "eipalloc" => self.addresses.get(id).map(|r| r.tags.clone()),
            "nat" => self.nat_gateways.get(id).map(|r| r.tags.clone()),
            "rtb" => self.route_tables.get(id).map(|r| r.tags.clone()),
            "sg" => self.security_groups.get(id).map(|r| r.tags.clone()),
            "eni" => self.network_interfaces.get(id).map(|r| r.tags.clone()),
            "pcx" => self.peerings.get(id).map(|r| r.tags.clone()),
            "i" => self.instances.get(id).map(|r| r.tags.clone()),
            "key" => self.key_pairs.values().find(|k| k.id == id).map(|r| r.tags.clone()),
            "sir" => self.spot_requests.get(id).map(|r| r.tags.clone()),
            _ => None,
        }
    }
}

/// The next private address of a subnet (mutates: call last).
pub(crate) fn next_private_ip(subnet: &mut SubnetRec) -> String {
    let cidr = Cidr::parse(&subnet.cidr).expect("stored subnet CIDRs are valid");
    let ip = cidr.address(subnet.next_host).to_string();
    subnet.next_host += 1;
    ip
}

/// Fails when a subnet has no private address left (AWS reserves four and the last).
pub(crate) fn check_free_address(subnet: &SubnetRec) -> Result<()> {
    let cidr = Cidr::parse(&subnet.cidr).expect("stored subnet CIDRs are valid");
    if u64::from(subnet.next_host) >= cidr.size() - 1 {
        return Err(Error::invalid(format!(
            "InsufficientFreeAddressesInSubnet: There are not enough free addresses in subnet '{}' to satisfy the requested number of instances.",
            subnet.id
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// State.

/// A key pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyPairRec {
    pub(crate) name: String,
    pub(crate) id: String,
    pub(crate) fingerprint: String,
    pub(crate) public_key: String,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub(crate) tags: Tags,
}

/// An instance: `pending` → `running`; once terminated, `shutting-down` → `terminated` (and still
/// listed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InstanceRec {
    pub(crate) id: String,
    pub(crate) instance_type: String,
    pub(crate) image_id: String,
    pub(crate) subnet_id: String,
    pub(crate) vpc_id: String,
    pub(crate) private_ip: String,
    /// The address assigned at launch in a subnet that maps public IPs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) public_ip: Option<String>,
    pub(crate) network_interface_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) key_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) instance_profile_arn: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) imdsv2_required: bool,
    pub(crate) security_group_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) root_volume: Option<RootVolumeRec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) user_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) client_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) spot_request_id: Option<String>,
    #[serde(with = "crate::clock::rfc3339")]
    pub(crate) launch_time: SystemTime,
    /// Terminated (the instance is `shutting-down`, then `terminated`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) terminated: bool,
    /// When the current phase (launch or termination) began; never saved.
    #[serde(skip)]
    pub(crate) since: Option<Instant>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub(crate) tags: Tags,
    /// The bootstrap script a reconfiguration through SSM sent last (the master model runs it
    /// instead of the user data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) bootstrap: Option<String>,
    /// When that reconfiguration restarted the master; never saved.
    #[serde(skip)]
    pub(crate) restarted: Option<Instant>,
}

/// A root volume as requested.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RootVolumeRec {
    pub(crate) size_gib: u32,
    pub(crate) volume_type: String,
    pub(crate) encrypted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) kms_key_id: Option<String>,
}

/// A spot instance request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SpotRec {
    pub(crate) id: String,
    /// `open`, `active`, `closed`, `cancelled` or `failed`.
    pub(crate) state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub(crate) tags: Tags,
}

/// The state of an instance now.
pub(crate) fn instance_state(i: &InstanceRec, t: &Timings) -> InstanceState {
    match (i.terminated, clock::reached(i.since, if i.terminated { t.instance_termination } else { t.instance_launch }))
    {
        (false, false) => InstanceState::Pending,
        (false, true) => InstanceState::Running,
        (true, false) => InstanceState::ShuttingDown,
        (true, true) => InstanceState::Terminated,
    }
}

/// An EC2 id must be `prefix-` and 8 or 17 hex digits (`InvalidVpcID.Malformed` otherwise).
pub(crate) fn check_id(id: &str, prefix: &str, code: &str) -> Result<()> {
    let ok = id
        .strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(|h| (h.len() == 8 || h.len() == 17) && h.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!("{code}.Malformed: Invalid id: \"{id}\"")))
    }
}
