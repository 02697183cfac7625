//! EC2 networking with EC2's rules: VPCs (with their main route table and `default` security
//! group), subnets, internet gateways, elastic IPs, NAT gateways (pending → available, deleting →
//! deleted), route tables, security groups, network interfaces, VPC peering and tags.
//!
//! Deleting what something still needs fails with `DependencyViolation` and changes nothing; ids
//! look like EC2's (`vpc-` and 17 hex digits) and come from the world's id counter.

use std::collections::HashMap;

use async_trait::async_trait;
use detcloud_provider::{
    Address, AvailabilityZone, CreateNatGateway, CreateSubnet, Error, Filter, InternetGateway, NatGateway,
    NatGatewayState, Network, NetworkInterface, PeeringConnection, Result, Route, RouteTable, RouteTableAssociation,
    RouteTarget, SecurityGroup, SecurityRule, Subnet, Tags, Vpc,
};
use foldhash::fast::FixedState;

use crate::cidr::Cidr;
use crate::clock::{self, Timings};
use crate::cloud::FakeCloud;
use crate::ec2::{arn_type, check_client_token, check_on, creating, groups_for, on, public_ip};
use crate::query::{self, check_filter_ids, select};
use crate::quotas;
use crate::region::{self, check_tags, At};
use crate::state::ec2::*;
use crate::target::Target;
use crate::world::World;

fn dependency(kind: &str, id: &str) -> Error {
    Error::DependencyViolation {
        message: format!("DependencyViolation: The {kind} '{id}' has dependencies and cannot be deleted."),
    }
}

fn invalid_cidr(cidr: &str, parameter: &str) -> Error {
    Error::invalid(format!(
        "InvalidParameterValue: Value ({cidr}) for parameter {parameter} is invalid. This is not a valid CIDR block."
    ))
}

// ---------------------------------------------------------------------------------------------
// VPCs and subnets.

fn vpc_out(v: &VpcRec) -> Vpc {
    Vpc { id: v.id.clone(), cidr: v.cidr.clone(), state: "available".into(), is_default: false, tags: v.tags.clone() }
}

fn create_vpc(w: &mut World, at: At<'_>, cidr: &str, tags: &Tags) -> Result<Vpc> {
    let block = Cidr::parse(cidr).ok_or_else(|| invalid_cidr(cidr, "cidrBlock"))?;
    if !(16..=28).contains(&block.prefix) {
        return Err(Error::invalid(format!("InvalidVpc.Range: The CIDR '{cidr}' is invalid.")));
    }
    check_tags(tags)?;
    let limit = quotas::applied(w, at, "vpc", quotas::VPCS);
    if w.region(at.account(), at.region).ec2.vpcs.len() as f64 >= limit {
        return Err(quotas::exceeded(quotas::VPCS, "VpcLimitExceeded: The maximum number of VPCs has been reached."));
    }
    let (id, rtb, assoc, sg) = (w.ids.ec2("vpc"), w.ids.ec2("rtb"), w.ids.ec2("rtbassoc"), w.ids.ec2("sg"));
    let vpc = VpcRec { id: id.clone(), cidr: block.to_string(), tags: tags.clone() };
    let out = vpc_out(&vpc);
    let ec2 = &mut w.region_mut(at.account(), at.region).ec2;
    ec2.route_tables.insert(
        rtb.clone(),
        RouteTableRec {
            id: rtb,
            vpc_id: id.clone(),
            main: true,
            routes: vec![RouteRec { destination_cidr: block.to_string(), target: TargetRec::Local }],
            associations: vec![RouteAssociationRec { id: assoc, subnet_id: None, main: true }],
            tags: Tags::new(),
        },
    );
    ec2.security_groups.insert(
        sg.clone(),
        SecurityGroupRec {
            id: sg.clone(),
            name: "default".into(),
            description: "default VPC security group".into(),
            vpc_id: id.clone(),
            ingress: vec![RuleRec::all_traffic_to(None, Some(&sg))],
            egress: vec![RuleRec::all_traffic_to(Some("0.0.0.0/0"), None)],
            tags: Tags::new(),
        },
    );
    ec2.vpcs.insert(id, vpc);
    Ok(out)
}

fn describe_vpcs(w: &World, at: At<'_>, filter: &Filter) -> Result<Vec<Vpc>> {
    let ec2 = &w.region(at.account(), at.region).ec2;
    let exists = |id: &str| check_id(id, "vpc", "InvalidVpcID").map(|()| ec2.vpcs.contains_key(id));
    select(ec2.vpcs.values(), filter, "vpc", exists, |v| (&v.id, &v.tags, Some(&v.id)), vpc_out)
}

fn delete_vpc(w: &mut World, at: At<'_>, id: &str) -> Result<()> {
    let t = w.timings;
    let ec2 = &w.region(at.account(), at.region).ec2;
    ec2.vpc(id)?;
    let blocked = ec2.subnets.values().any(|s| s.vpc_id == id)
        || ec2.internet_gateways.values().any(|g| g.attached_vpc_id.as_deref() == Some(id))
        || ec2.route_tables.values().any(|r| r.vpc_id == id && !r.main)
        || ec2.security_groups.values().any(|g| g.vpc_id == id && g.name != "default")
        || ec2.network_interfaces.values().any(|e| e.vpc_id == id)
        || ec2.nat_gateways.values().any(|n| n.vpc_id == id && nat_is_live(n, &t))
        || ec2.peerings.values().any(|p| {
            (p.requester_vpc_id == id || p.accepter_vpc_id == id)
                && matches!(p.state.as_str(), "pending-acceptance" | "active")
        });
    if blocked {
        return Err(dependency("vpc", id));
    }
    let ec2 = &mut w.region_mut(at.account(), at.region).ec2;
    ec2.route_tables.retain(|_, r| r.vpc_id != id);
    ec2.security_groups.retain(|_, g| g.vpc_id != id);
    ec2.vpcs.remove(id);
    Ok(())
}

fn subnet_out(s: &SubnetRec) -> Subnet {
    Subnet {
        id: s.id.clone(),
        vpc_id: s.vpc_id.clone(),
        cidr: s.cidr.clone(),
        availability_zone: s.availability_zone.clone(),
        map_public_ip_on_launch: s.map_public_ip_on_launch,
        state: "available".into(),
        tags: s.tags.clone(),
    }
}

fn create_subnet(w: &mut World, at: At<'_>, request: &CreateSubnet) -> Result<Subnet> {
    let ec2 = &w.region(at.account(), at.region).ec2;
    let vpc = ec2.vpc(&request.vpc_id)?;
    let cidr = &request.cidr;
    let block = Cidr::parse(cidr).ok_or_else(|| invalid_cidr(cidr, "cidrBlock"))?;
    let vpc_block = Cidr::parse(&vpc.cidr).expect("stored VPC CIDRs are valid");
    if !(16..=28).contains(&block.prefix) || !vpc_block.contains(block) {
        return Err(Error::invalid(format!("InvalidSubnet.Range: The CIDR '{cidr}' is invalid.")));
    }
    let sibling = ec2
        .subnets
        .values()
        .filter(|s| s.vpc_id == vpc.id)
        .find(|s| Cidr::parse(&s.cidr).is_some_and(|c| c.overlaps(block)));
    if sibling.is_some() {
        return Err(Error::invalid(format!("InvalidSubnet.Conflict: The CIDR '{cidr}' conflicts with another subnet")));
    }
    if !region::is_zone_of(&request.availability_zone, at.region) {
        let zones: Vec<String> = region::availability_zones(at.region).into_iter().map(|z| z.name).collect();
        return Err(Error::invalid(format!(
            "InvalidParameterValue: Value ({}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: {}.",
            request.availability_zone,
            zones.join(", ")
        )));
    }
    check_tags(&request.tags)?;
    let id = w.ids.ec2("subnet");
    let subnet = SubnetRec {
        id: id.clone(),
        vpc_id: request.vpc_id.clone(),
        cidr: block.to_string(),
        availability_zone: request.availability_zone.clone(),
        map_public_ip_on_launch: false,
        next_host: 4,
        tags: request.tags.clone(),
    };
    let out = subnet_out(&subnet);
    w.region_mut(at.account(), at.region).ec2.subnets.insert(id, subnet);
    Ok(out)
}

fn describe_subnets(w: &World, at: At<'_>, filter: &Filter) -> Result<Vec<Subnet>> {
    let ec2 = &w.region(at.account(), at.region).ec2;
    let exists = |id: &str| check_id(id, "subnet", "InvalidSubnetID").map(|()| ec2.subnets.contains_key(id));
    select(ec2.subnets.values(), filter, "subnet", exists, |s| (&s.id, &s.tags, Some(&s.vpc_id)), subnet_out)
}

fn delete_subnet(w: &mut World, at: At<'_>, id: &str) -> Result<()> {
    let t = w.timings;
    let region = w.region(at.account(), at.region);
    let ec2 = &region.ec2;
    ec2.subnet(id)?;
    if query::subnet_in_use(region, id, &t) {
        return Err(dependency("subnet", id));
    }
    let ec2 = &mut w.region_mut(at.account(), at.region).ec2;
    for table in ec2.route_tables.values_mut() {
        table.associations.retain(|a| a.subnet_id.as_deref() != Some(id));
    }
    ec2.subnets.remove(id);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Internet gateways and elastic IPs.

fn igw_out(g: &IgwRec) -> InternetGateway {
    InternetGateway {
        id: g.id.clone(),
        attached_vpc_ids: g.attached_vpc_id.iter().cloned().collect(),
        tags: g.tags.clone(),
    }
}

fn create_igw(w: &mut World, at: At<'_>, tags: &Tags) -> Result<InternetGateway> {
    check_tags(tags)?;
    let limit = quotas::applied(w, at, "vpc", quotas::INTERNET_GATEWAYS);
    if w.region(at.account(), at.region).ec2.internet_gateways.len() as f64 >= limit {
        return Err(quotas::exceeded(
            quotas::INTERNET_GATEWAYS,
            "InternetGatewayLimitExceeded: The maximum number of internet gateways has been reached.",
        ));
    }
    let id = w.ids.ec2("igw");
    let igw = IgwRec { id: id.clone(), attached_vpc_id: None, tags: tags.clone() };
    let out = igw_out(&igw);
    w.region_mut(at.account(), at.region).ec2.internet_gateways.insert(id, igw);
    Ok(out)
}

fn attach_igw(w: &mut World, at: At<'_>, igw_id: &str, vpc_id: &str) -> Result<()> {
    let ec2 = &w.region(at.account(), at.region).ec2;
    let igw = ec2.igw(igw_id)?;
    ec2.vpc(vpc_id)?;
    if let Some(attached) = &igw.attached_vpc_id {
        return Err(Error::invalid(format!(
            "Resource.AlreadyAssociated: resource {igw_id} is already attached to network {attached}"
        )));
    }
    if ec2.internet_gateways.values().any(|g| g.attached_vpc_id.as_deref() == Some(vpc_id)) {
        return Err(Error::invalid(format!(
            "InvalidParameterValue: Network {vpc_id} already has an internet gateway attached"
        )));
    }
    let ec2 = &mut w.region_mut(at.account(), at.region).ec2;
    ec2.internet_gateways.get_mut(igw_id).expect("checked above").attached_vpc_id = Some(vpc_id.to_string());
    Ok(())
}

/// True when some instance or NAT gateway of the VPC has a public address.
fn has_mapped_public_addresses(ec2: &Ec2Region, vpc_id: &str, t: &Timings) -> bool {
    let instances = ec2.instances.values().any(|i| {
        i.vpc_id == vpc_id
            && instance_state(i, t) != detcloud_provider::InstanceState::Terminated
            && (i.public_ip.is_some()
                || ec2.addresses.values().any(|a| a.association.as_ref().is_some_and(|x| x.instance_id == i.id)))
    });
    instances || ec2.nat_gateways.values().any(|n| n.vpc_id == vpc_id && nat_is_live(n, t))
}

fn detach_igw(w: &mut World, at: At<'_>, igw_id: &str, vpc_id: &str) -> Result<()> {
    let t = w.timings;
    let ec2 = &w.region(at.account(), at.region).ec2;
    let igw = ec2.igw(igw_id)?;
    ec2.vpc(vpc_id)?;
    if igw.attached_vpc_id.as_deref() != Some(vpc_id) {
        return Err(Error::invalid(format!(
            "Gateway.NotAttached: resource {igw_id} is not attached to network {vpc_id}"
        )));
    }
    if has_mapped_public_addresses(ec2, vpc_id, &t) {
        return Err(Error::DependencyViolation {
            message: format!("DependencyViolation: Network {vpc_id} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway."),
        });
    }
    let ec2 = &mut w.region_mut(at.account(), at.region).ec2;
    ec2.internet_gateways.get_mut(igw_id).expect("checked above").attached_vpc_id = None;
    Ok(())
}

fn delete_igw(w: &mut World, at: At<'_>, id: &str) -> Result<()> {
    let ec2 = &w.region(at.account(), at.region).ec2;
    if ec2.igw(id)?.attached_vpc_id.is_some() {
        return Err(dependency("internetGateway", id));
    }
    w.region_mut(at.account(), at.region).ec2.internet_gateways.remove(id);
    Ok(())
}

fn describe_igws(w: &World, at: At<'_>, filter: &Filter) -> Result<Vec<InternetGateway>> {
    let ec2 = &w.region(at.account(), at.region).ec2;
    let exists =
        |id: &str| check_id(id, "igw", "InvalidInternetGatewayID").map(|()| ec2.internet_gateways.contains_key(id));
    select(
        ec2.internet_gateways.values(),
        filter,
        "internet gateway",
        exists,
        |g| (g.id.as_str(), &g.tags, g.attached_vpc_id.as_deref()),
        igw_out,
    )
}

fn address_out(ec2: &Ec2Region, a: &AddressRec, t: &Timings) -> Address {
    let nat = ec2.nat_gateways.values().find(|n| n.allocation_id == a.allocation_id && nat_is_live(n, t));
    address_with(ec2, a, nat)
}

/// The live NAT gateway of every allocation that has one, by allocation id: one pass over the
/// NAT gateways for a describe of many addresses (not one per address).
fn live_nats<'e>(ec2: &'e Ec2Region, t: &Timings) -> HashMap<&'e str, &'e NatRec, FixedState> {
    let mut nats = HashMap::default();
    for n in ec2.nat_gateways.values().filter(|n| nat_is_live(n, t)) {
        nats.entry(n.allocation_id.as_str()).or_insert(n);
    }
    nats
}

/// An address as EC2 describes it, with the live NAT gateway that holds it, if any.
fn address_with(ec2: &Ec2Region, a: &AddressRec, nat: Option<&NatRec>) -> Address {
    let (association_id, instance_id, network_interface_id) = match (&a.association, nat) {
        (Some(x), _) => (
            Some(x.id.clone()),
            Some(x.instance_id.clone()),
            ec2.instances.get(&x.instance_id).map(|i| i.network_interface_id.clone()),
        ),
        (None, Some(n)) => (Some(n.association_id.clone()), None, Some(n.network_interface_id.clone())),
        (None, None) => (None, None, None),
    };
    Address {
        allocation_id: a.allocation_id.clone(),
        public_ip: a.public_ip.clone(),
        association_id,
        instance_id,
        network_interface_id,
        tags: a.tags.clone(),
    }
}

fn allocate_address(w: &mut World, at: At<'_>, tags: &Tags) -> Result<Address> {
    check_tags(tags)?;
    let limit = quotas::applied(w, at, "ec2", quotas::ELASTIC_IPS);
    if w.region(at.account(), at.region).ec2.addresses.len() as f64 >= limit {
        return Err(quotas::exceeded(
            quotas::ELASTIC_IPS,
            "AddressLimitExceeded: The maximum number of addresses has been reached.",
        ));
    }
    let id = w.ids.ec2("eipalloc");
    let ip = public_ip(w);
    let rec = AddressRec { allocation_id: id.clone(), public_ip: ip, association: None, tags: tags.clone() };
    let t = w.timings;
    let ec2 = &mut w.region_mut(at.account(), at.region).ec2;
    let out = address_out(ec2, &rec, &t);
    ec2.addresses.insert(id, rec);
    Ok(out)
}

fn associate_address(w: &mut World, at: At<'_>, allocation_id: &str, instance_id: &str) -> Result<String> {
    let t = w.timings;
    let ec2 = &w.region(at.account(), at.region).ec2;
    let address = ec2.address(allocation_id)?;
    let instance = crate::ec2::instance(ec2, instance_id)?;
    let state = instance_state(instance, &t);
    if !matches!(state, detcloud_provider::InstanceState::Pending | detcloud_provider::InstanceState::Running) {
        return Err(Error::invalid(format!(
            "IncorrectInstanceState: The instance '{instance_id}' is not in a valid state for this operation."
        )));
    }
    let current = address_out(ec2, address, &t);
    // AllowReassociation: an address on another instance moves; one a NAT gateway uses does not.
    if let (Some(existing), None) = (current.association_id, &address.association) {
        return Err(Error::invalid(format!(
            "Resource.AlreadyAssociated: resource {allocation_id} is already associated with associate-id {existing}"
        )));
    }
    let id = w.ids.ec2("eipassoc");
    let ec2 = &mut w.region_mut(at.account(), at.region).ec2;
    // An instance has one public address: its previous elastic IP is disassociated.
    for other in ec2.addresses.values_mut() {
        if other.association.as_ref().is_some_and(|x| x.instance_id == instance_id) {
            other.association = None;
        }
    }
    ec2.addresses.get_mut(allocation_id).expect("checked above").association =
        Some(AssociationRec { id: id.clone(), instance_id: instance_id.to_string() });
    Ok(id)
}

fn release_address(w: &mut World, at: At<'_>, allocation_id: &str) -> Result<()> {
    let t = w.timings;
    let ec2 = &w.region(at.account(), at.region).ec2;
    let address = ec2.address(allocation_id)?;
    if address_out(ec2, address, &t).association_id.is_some() {
        return Err(Error::DependencyViolation {
            message: format!("InvalidIPAddress.InUse: Address {allocation_id} is in use."),
        });
    }
    w.region_mut(at.account(), at.region).ec2.addresses.remove(allocation_id);
    Ok(())
}

fn describe_addresses(w: &World, at: At<'_>, filter: &Filter) -> Result<Vec<Address>> {
    let t = w.timings;
    let ec2 = &w.region(at.account(), at.region).ec2;
    let exists = |id: &str| check_id(id, "eipalloc", "InvalidAllocationID").map(|()| ec2.addresses.contains_key(id));
    let nats = live_nats(ec2, &t);
    let out = |a: &AddressRec| address_with(ec2, a, nats.get(a.allocation_id.as_str()).copied());
    select(ec2.addresses.values(), filter, "address", exists, |a| (&a.allocation_id, &a.tags, None), out)
}

// ---------------------------------------------------------------------------------------------
// NAT gateways.

fn nat_out(n: &NatRec, t: &Timings) -> NatGateway {
    NatGateway {
        id: n.id.clone(),
        subnet_id: n.subnet_id.clone(),
        vpc_id: n.vpc_id.clone(),
        state: nat_state(n, t),
        allocation_id: Some(n.allocation_id.clone()),
        failure_message: n.failure_message.clone(),
        tags: n.tags.clone(),
    }
}

fn create_nat(w: &mut World, at: At<'_>, request: &CreateNatGateway) -> Result<NatGateway> {
    let t = w.timings;
    check_client_token(request.client_token.as_ref())?;
    let ec2 = &w.region(at.account(), at.region).ec2;
    if let Some(token) = &request.client_token {
        if let Some(existing) = ec2.nat_gateways.values().find(|n| n.client_token.as_ref() == Some(token)) {
            if existing.subnet_id != request.subnet_id || existing.allocation_id != request.allocation_id {
                return Err(Error::invalid(format!(
                    "IdempotentParameterMismatch: The client token {token} was used with different parameters."
                )));
            }
            return Ok(nat_out(existing, &t));
        }
    }
    let subnet = ec2.subnet(&request.subnet_id)?;
    let address = ec2.address(&request.allocation_id)?;
    check_tags(&request.tags)?;
    check_free_address(subnet)?;
    let zone = subnet.availability_zone.clone();
    let in_zone = ec2
        .nat_gateways
        .values()
        .filter(|n| nat_is_live(n, &t))
        .filter(|n| ec2.subnets.get(&n.subnet_id).is_some_and(|s| s.availability_zone == zone))
        .count();
    if in_zone as f64 >= quotas::applied(w, at, "vpc", quotas::NAT_GATEWAYS_PER_AZ) {
        return Err(quotas::exceeded(
            quotas::NAT_GATEWAYS_PER_AZ,
            "NatGatewayLimitExceeded: The maximum number of NAT gateways has been reached.",
        ));
    }
    // EC2 accepts the request; the gateway fails when its address is taken.
    let failure = address_out(ec2, address, &t)
        .association_id
        .map(|_| format!("Elastic IP address [{}] is already associated", request.allocation_id));
    let vpc_id = subnet.vpc_id.clone();
    let (id, eni, assoc) = (w.ids.ec2("nat"), w.ids.ec2("eni"), w.ids.ec2("eipassoc"));
    let ec2 = &mut w.region_mut(at.account(), at.region).ec2;
    let private_ip = next_private_ip(ec2.subnets.get_mut(&request.subnet_id).expect("checked above"));
    let nat = NatRec {
        id: id.clone(),
        subnet_id: request.subnet_id.clone(),
        vpc_id,
        allocation_id: request.allocation_id.clone(),
        association_id: assoc,
        network_interface_id: eni,
        private_ip,
        client_token: request.client_token.clone(),
        failure_message: failure,
        deleted: false,
        since: Some(clock::now()),
        tags: request.tags.clone(),
    };
    let out = nat_out(&nat, &t);
    ec2.nat_gateways.insert(id, nat);
    Ok(out)
}

fn delete_nat(w: &mut World, at: At<'_>, id: &str) -> Result<()> {
    let t = w.timings;
    let ec2 = &w.region(at.account(), at.region).ec2;
    match nat_state(ec2.nat(id)?, &t) {
        NatGatewayState::Deleted => return Err(Error::not_found("NAT gateway", id)),
        NatGatewayState::Deleting => return Ok(()),
        _ => {}
    }
    let nat = w.region_mut(at.account(), at.region).ec2.nat_gateways.get_mut(id).expect("checked above");
    nat.deleted = true;
    nat.since = Some(clock::now());
    Ok(())
}

fn describe_nats(w: &World, at: At<'_>, filter: &Filter) -> Result<Vec<NatGateway>> {
    let t = w.timings;
    let ec2 = &w.region(at.account(), at.region).ec2;
    let exists = |id: &str| check_id(id, "nat", "InvalidNatGatewayID").map(|()| ec2.nat_gateways.contains_key(id));
    select(
        ec2.nat_gateways.values(),
        filter,
        "NAT gateway",
        exists,
        |n| (n.id.as_str(), &n.tags, Some(n.vpc_id.as_str())),
        |n| nat_out(n, &t),
    )
}

// ---------------------------------------------------------------------------------------------
// Route tables.

fn target_rec(target: &RouteTarget) -> TargetRec {
    match target {
        RouteTarget::Local => TargetRec::Local,
        RouteTarget::InternetGateway(id) => TargetRec::InternetGateway(id.clone()),
        RouteTarget::NatGateway(id) => TargetRec::NatGateway(id.clone()),
        RouteTarget::Peering(id) => TargetRec::Peering(id.clone()),
        RouteTarget::NetworkInterface(id) => TargetRec::NetworkInterface(id.clone()),
    }
}

fn route_out(ec2: &Ec2Region, vpc_id: &str, r: &RouteRec, t: &Timings, db: &[NetworkInterface]) -> Route {
    let (target, active) = match &r.target {
        TargetRec::Local => (RouteTarget::Local, true),
        TargetRec::InternetGateway(id) => (
            RouteTarget::InternetGateway(id.clone()),
            ec2.internet_gateways.get(id).is_some_and(|g| g.attached_vpc_id.as_deref() == Some(vpc_id)),
        ),
        TargetRec::NatGateway(id) => (
            RouteTarget::NatGateway(id.clone()),
            ec2.nat_gateways
                .get(id)
                .is_some_and(|n| matches!(nat_state(n, t), NatGatewayState::Pending | NatGatewayState::Available)),
        ),
        TargetRec::Peering(id) => {
            (RouteTarget::Peering(id.clone()), ec2.peerings.get(id).is_some_and(|p| p.state == "active"))
        }
        TargetRec::NetworkInterface(id) => {
            (RouteTarget::NetworkInterface(id.clone()), ec2.interfaces(t, db).iter().any(|e| e.id == *id))
        }
    };
    Route {
        destination_cidr: r.destination_cidr.clone(),
        target,
        state: if active { "active" } else { "blackhole" }.to_string(),
    }
}

fn route_table_out(ec2: &Ec2Region, r: &RouteTableRec, t: &Timings, db: &[NetworkInterface]) -> RouteTable {
    RouteTable {
        id: r.id.clone(),
        vpc_id: r.vpc_id.clone(),
        routes: r.routes.iter().map(|route| route_out(ec2, &r.vpc_id, route, t, db)).collect(),
        associations: r
            .associations
            .iter()
            .map(|a| RouteTableAssociation { id: a.id.clone(), subnet_id: a.subnet_id.clone(), main: a.main })
            .collect(),
        tags: r.tags.clone(),
    }
}

fn create_route_table(w: &mut World, at: At<'_>, vpc_id: &str, tags: &Tags) -> Result<RouteTable> {
    let t = w.timings;
    let vpc = w.region(at.account(), at.region).ec2.vpc(vpc_id)?;
    let cidr = vpc.cidr.clone();
    check_tags(tags)?;
    let id = w.ids.ec2("rtb");
    let table = RouteTableRec {
        id: id.clone(),
        vpc_id: vpc_id.to_string(),
        main: false,
        routes: vec![RouteRec { destination_cidr: cidr, target: TargetRec::Local }],
        associations: Vec::new(),
        tags: tags.clone(),
    };
    let ec2 = &mut w.region_mut(at.account(), at.region).ec2;
    let out = route_table_out(ec2, &table, &t, &[]);
    ec2.route_tables.insert(id, table);
    Ok(out)
}

/// `ec2:CreateRoute`, or with `replace` `ec2:ReplaceRoute` (the route must exist; its target
/// changes).
fn create_route(
    w: &mut World,
    at: At<'_>,
    table_id: &str,
    destination: &str,
    target: &RouteTarget,
    replace: bool,
) -> Result<()> {
    let t = w.timings;
    let region = w.region(at.account(), at.region);
    let ec2 = &region.ec2;
    let table = ec2.route_table(table_id)?;
    let block = Cidr::parse(destination).ok_or_else(|| invalid_cidr(destination, "destinationCidrBlock"))?;
    let vpc = ec2.vpc(&table.vpc_id)?;
    let different = |what: &str, id: &str| {
        Error::invalid(format!(
            "InvalidParameterValue: route table {table_id} and {what} {id} belong to different networks"
        ))
    };
    match target {
        RouteTarget::Local => {
            return Err(Error::invalid("InvalidParameterValue: cannot create a route to the local target"));
        }
        RouteTarget::InternetGateway(id) => {
            if ec2.igw(id)?.attached_vpc_id.as_deref() != Some(table.vpc_id.as_str()) {
                return Err(different("network gateway", id));
            }
        }
        RouteTarget::NatGateway(id) => {
            let nat = ec2.nat(id)?;
            if nat.vpc_id != table.vpc_id {
                return Err(different("NAT gateway", id));
            }
            if !matches!(nat_state(nat, &t), NatGatewayState::Pending | NatGatewayState::Available) {
                return Err(Error::invalid(format!(
                    "InvalidNatGatewayID.NotFound: The NAT gateway {id} is not usable"
                )));
            }
        }
        RouteTarget::Peering(id) => {
            let p = ec2.peering(id)?;
            if p.requester_vpc_id != table.vpc_id && p.accepter_vpc_id != table.vpc_id {
                return Err(different("VPC peering connection", id));
            }
            if p.state != "active" {
                return Err(Error::invalid(format!(
                    "InvalidParameterValue: The VPC peering connection {id} is not active (state {})",
                    p.state
                )));
            }
        }
        RouteTarget::NetworkInterface(id) => {
            check_id(id, "eni", "InvalidNetworkInterfaceID")?;
            let eni = query::interfaces(region, &t).into_iter().find(|e| e.id == *id);
            match eni {
                None => return Err(Error::not_found("network interface", id)),
                Some(e) if e.vpc_id != table.vpc_id => return Err(different("network interface", id)),
                Some(_) => {}
            }
        }
    }
    let vpc_block = Cidr::parse(&vpc.cidr).expect("stored VPC CIDRs are valid");
    if vpc_block.contains(block) && !matches!(target, RouteTarget::NetworkInterface(_)) {
        return Err(Error::invalid(format!(
            "InvalidParameterValue: The destination CIDR block {destination} is equal to or more specific than one of this VPC's CIDR blocks. This route can target only an interface or an instance."
        )));
    }
    let canonical = block.to_string();
    let exists = table.routes.iter().any(|r| r.destination_cidr == canonical);
    if exists && !replace {
        return Err(Error::already_exists("route", format!("{canonical} in {table_id}")));
    }
    if !exists && replace {
        return Err(Error::not_found("route", format!("{canonical} in {table_id}")));
    }
    let table = w.region_mut(at.account(), at.region).ec2.route_tables.get_mut(table_id).expect("checked above");
    table.routes.retain(|r| r.destination_cidr != canonical);
    table.routes.push(RouteRec { destination_cidr: canonical, target: target_rec(target) });
    Ok(())
}

fn delete_route(w: &mut World, at: At<'_>, table_id: &str, destination: &str) -> Result<()> {
    let block = Cidr::parse(destination).ok_or_else(|| invalid_cidr(destination, "destinationCidrBlock"))?;
    let canonical = block.to_string();
    let ec2 = &w.region(at.account(), at.region).ec2;
    let table = ec2.route_table(table_id)?;
    let vpc = ec2.vpc(&table.vpc_id)?;
    if vpc.cidr == canonical {
        return Err(Error::invalid(format!(
            "InvalidParameterValue: cannot remove local route {canonical} in route table {table_id}"
        )));
    }
    if !table.routes.iter().any(|r| r.destination_cidr == canonical) {
        return Err(Error::not_found("route", format!("{canonical} in {table_id}")));
    }
    let table = w.region_mut(at.account(), at.region).ec2.route_tables.get_mut(table_id).expect("checked above");
    table.routes.retain(|r| r.destination_cidr != canonical);
    Ok(())
}

fn associate_route_table(w: &mut World, at: At<'_>, table_id: &str, subnet_id: &str) -> Result<String> {
    let ec2 = &w.region(at.account(), at.region).ec2;
    let table = ec2.route_table(table_id)?;
    let subnet = ec2.subnet(subnet_id)?;
    if table.vpc_id != subnet.vpc_id {
        return Err(Error::invalid(format!(
            "InvalidParameterValue: Route table {table_id} and subnet {subnet_id} belong to different networks"
        )));
    }
    if let Some(current) =
        ec2.route_tables.values().find(|r| r.associations.iter().any(|a| a.subnet_id.as_deref() == Some(subnet_id)))
    {
        if current.id == table_id {
            return Err(Error::already_exists("route table association", format!("{subnet_id} with {table_id}")));
        }
        return Err(Error::invalid(format!(
            "Resource.AlreadyAssociated: the specified association for route table {table_id} conflicts with an existing association"
        )));
    }
    let id = w.ids.ec2("rtbassoc");
    let table = w.region_mut(at.account(), at.region).ec2.route_tables.get_mut(table_id).expect("checked above");
    table.associations.push(RouteAssociationRec {
        id: id.clone(),
        subnet_id: Some(subnet_id.to_string()),
        main: false,
    });
    Ok(id)
}

fn disassociate_route_table(w: &mut World, at: At<'_>, association_id: &str) -> Result<()> {
    check_id(association_id, "rtbassoc", "InvalidAssociationID")?;
    let ec2 = &w.region(at.account(), at.region).ec2;
    let found = ec2
        .route_tables
        .values()
        .find_map(|r| r.associations.iter().find(|a| a.id == association_id).map(|a| (r.id.clone(), a.main)));
    match found {
        None => Err(Error::not_found("route table association", association_id)),
        Some((_, true)) => Err(Error::invalid(format!(
            "InvalidParameterValue: cannot disassociate the main route table association {association_id}"
        ))),
        Some((table_id, false)) => {
            let table = w.region_mut(at.account(), at.region).ec2.route_tables.get_mut(&table_id).expect("found");
            table.associations.retain(|a| a.id != association_id);
            Ok(())
        }
    }
}

fn delete_route_table(w: &mut World, at: At<'_>, id: &str) -> Result<()> {
    let table = w.region(at.account(), at.region).ec2.route_table(id)?;
    if table.main || !table.associations.is_empty() {
        return Err(dependency("routeTable", id));
    }
    w.region_mut(at.account(), at.region).ec2.route_tables.remove(id);
    Ok(())
}

fn describe_route_tables(w: &World, at: At<'_>, filter: &Filter) -> Result<Vec<RouteTable>> {
    let t = w.timings;
    let region = w.region(at.account(), at.region);
    let ec2 = &region.ec2;
    let exists = |id: &str| check_id(id, "rtb", "InvalidRouteTableID").map(|()| ec2.route_tables.contains_key(id));
    let db = query::db_interfaces(region);
    select(
        ec2.route_tables.values(),
        filter,
        "route table",
        exists,
        |r| (r.id.as_str(), &r.tags, Some(r.vpc_id.as_str())),
        |r| route_table_out(ec2, r, &t, &db),
    )
}

// ---------------------------------------------------------------------------------------------
// Security groups.

fn group_out(g: &SecurityGroupRec) -> SecurityGroup {
    SecurityGroup {
        id: g.id.clone(),
        name: g.name.clone(),
        vpc_id: g.vpc_id.clone(),
        ingress: g.ingress.iter().map(RuleRec::to_rule).collect(),
        egress: g.egress.iter().map(RuleRec::to_rule).collect(),
        tags: g.tags.clone(),
    }
}

fn check_group_text(field: &str, value: &str) -> Result<()> {
    let len = value.chars().count();
    if len == 0 || len > 255 || !value.chars().all(|c| (' '..='~').contains(&c)) {
        return Err(Error::invalid(format!(
            "InvalidParameterValue: Value ({value}) for parameter {field} is invalid. It must be 1-255 printable ASCII characters."
        )));
    }
    Ok(())
}

fn create_group(
    w: &mut World,
    at: At<'_>,
    vpc_id: &str,
    name: &str,
    description: &str,
    tags: &Tags,
) -> Result<SecurityGroup> {
    let ec2 = &w.region(at.account(), at.region).ec2;
    ec2.vpc(vpc_id)?;
    check_group_text("GroupName", name)?;
    check_group_text("GroupDescription", description)?;
    if name.eq_ignore_ascii_case("default") {
        return Err(Error::invalid("InvalidParameterValue: Cannot use reserved security group name: default"));
    }
    if name.starts_with("sg-") {
        return Err(Error::invalid("InvalidParameterValue: Group names may not be in the format sg-*"));
    }
    check_tags(tags)?;
    if ec2.security_groups.values().any(|g| g.vpc_id == vpc_id && g.name == name) {
        return Err(Error::already_exists("security group", format!("{name} in {vpc_id}")));
    }
    let id = w.ids.ec2("sg");
    let group = SecurityGroupRec {
        id: id.clone(),
        name: name.to_string(),
        description: description.to_string(),
        vpc_id: vpc_id.to_string(),
        ingress: Vec::new(),
        egress: vec![RuleRec::all_traffic_to(Some("0.0.0.0/0"), None)],
        tags: tags.clone(),
    };
    let out = group_out(&group);
    w.region_mut(at.account(), at.region).ec2.security_groups.insert(id, group);
    Ok(out)
}

fn delete_group(w: &mut World, at: At<'_>, id: &str) -> Result<()> {
    let t = w.timings;
    let region = w.region(at.account(), at.region);
    let ec2 = &region.ec2;
    let group = ec2.security_group(id)?;
    if group.name == "default" {
        return Err(Error::invalid(format!(
            "CannotDelete: the specified group: \"{id}\" name: \"default\" cannot be deleted by a user"
        )));
    }
    if query::group_in_use(region, id, &t) {
        return Err(Error::DependencyViolation {
            message: format!("DependencyViolation: resource {id} has a dependent object"),
        });
    }
    w.region_mut(at.account(), at.region).ec2.security_groups.remove(id);
    Ok(())
}

fn describe_groups(w: &World, at: At<'_>, filter: &Filter) -> Result<Vec<SecurityGroup>> {
    let ec2 = &w.region(at.account(), at.region).ec2;
    check_filter_ids(filter, "security group", |id| {
        Ok(ec2.security_groups.values().any(|g| g.id == id || g.name == id))
    })?;
    Ok(ec2
        .security_groups
        .values()
        .filter(|g| {
            let by_name = Filter { ids: Vec::new(), ..filter.clone() };
            filter.matches(&g.id, &g.tags, Some(&g.vpc_id))
                || (filter.ids.contains(&g.name) && by_name.matches(&g.id, &g.tags, Some(&g.vpc_id)))
        })
        .map(group_out)
        .collect())
}

/// A rule as EC2 stores it, or why EC2 rejects it.
fn check_rule(ec2: &Ec2Region, vpc_id: &str, rule: &SecurityRule) -> Result<RuleRec> {
    let bad = |what: String| Error::invalid(format!("InvalidParameterValue: {what}"));
    let mut rec = RuleRec::from_rule(rule);
    match rule.protocol.as_str() {
        "tcp" | "udp" => {
            if !(0..=65535).contains(&rule.from_port)
                || !(0..=65535).contains(&rule.to_port)
                || rule.from_port > rule.to_port
            {
                return Err(bad(format!(
                    "Invalid port range {}-{} for protocol {}",
                    rule.from_port, rule.to_port, rule.protocol
                )));
            }
        }
        "icmp" => {
            if !(-1..=255).contains(&rule.from_port) || !(-1..=255).contains(&rule.to_port) {
                return Err(bad(format!("Invalid ICMP type {} or code {}", rule.from_port, rule.to_port)));
            }
        }
        "-1" => {
            rec.from_port = 0;
            rec.to_port = 0;
        }
        other => return Err(bad(format!("Invalid value '{other}' for IP protocol (tcp, udp, icmp or -1)"))),
    }
    match (&rule.cidr, &rule.source_group_id) {
        (Some(cidr), None) => {
            rec.cidr =
                Some(Cidr::parse(cidr).ok_or_else(|| bad(format!("CIDR block {cidr} is malformed")))?.to_string());
        }
        (None, Some(group)) => {
            let source = ec2.security_group(group)?;
            if source.vpc_id != vpc_id {
                return Err(bad(format!("The security group {group} is in another VPC")));
            }
        }
        _ => return Err(bad("A rule admits exactly one of a CIDR block or a source security group".into())),
    }
    if rule.description.as_ref().is_some_and(|d| d.chars().count() > 255) {
        return Err(bad("Rule descriptions have at most 255 characters".into()));
    }
    Ok(rec)
}

/// The direction of a rule change.
#[derive(Clone, Copy)]
enum Direction {
    Ingress,
    Egress,
}

fn authorize(w: &mut World, at: At<'_>, group_id: &str, rules: &[SecurityRule], dir: Direction) -> Result<()> {
    let ec2 = &w.region(at.account(), at.region).ec2;
    let group = ec2.security_group(group_id)?;
    if rules.is_empty() {
        return Err(Error::invalid("MissingParameter: The request must contain the parameter ipPermissions"));
    }
    let existing = match dir {
        Direction::Ingress => &group.ingress,
        Direction::Egress => &group.egress,
    };
    let mut new: Vec<RuleRec> = Vec::new();
    for rule in rules {
        let rec = check_rule(ec2, &group.vpc_id, rule)?;
        if existing.iter().chain(&new).any(|r| r.same(&rec)) {
            return Err(Error::already_exists("security group rule", format!("{rule:?} in {group_id}")));
        }
        new.push(rec);
    }
    let group = w.region_mut(at.account(), at.region).ec2.security_groups.get_mut(group_id).expect("checked above");
    match dir {
        Direction::Ingress => group.ingress.extend(new),
        Direction::Egress => group.egress.extend(new),
    }
    Ok(())
}

fn revoke_ingress(w: &mut World, at: At<'_>, group_id: &str, rules: &[SecurityRule]) -> Result<()> {
    let ec2 = &w.region(at.account(), at.region).ec2;
    let group = ec2.security_group(group_id)?;
    let mut remaining = group.ingress.clone();
    for rule in rules {
        let mut rec = RuleRec::from_rule(rule);
        if rec.protocol == "-1" {
            (rec.from_port, rec.to_port) = (0, 0);
        }
        if let Some(cidr) = rec.cidr.as_deref().and_then(Cidr::parse) {
            rec.cidr = Some(cidr.to_string());
        }
        let before = remaining.len();
        remaining.retain(|r| !r.same(&rec));
        if remaining.len() == before {
            return Err(Error::not_found("security group rule", format!("{rule:?} in {group_id}")));
        }
    }
    w.region_mut(at.account(), at.region).ec2.security_groups.get_mut(group_id).expect("checked above").ingress =
        remaining;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Network interfaces.

fn create_interface(
    w: &mut World,
    at: At<'_>,
    subnet_id: &str,
    group_ids: &[String],
    tags: &Tags,
) -> Result<NetworkInterface> {
    let ec2 = &w.region(at.account(), at.region).ec2;
    let subnet = ec2.subnet(subnet_id)?;
    let vpc_id = subnet.vpc_id.clone();
    let groups = groups_for(ec2, &vpc_id, subnet_id, group_ids)?;
    check_tags(tags)?;
    check_free_address(subnet)?;
    let id = w.ids.ec2("eni");
    let ec2 = &mut w.region_mut(at.account(), at.region).ec2;
    let private_ip = next_private_ip(ec2.subnets.get_mut(subnet_id).expect("checked above"));
    let rec = InterfaceRec {
        id: id.clone(),
        subnet_id: subnet_id.to_string(),
        vpc_id: vpc_id.clone(),
        private_ip: private_ip.clone(),
        security_group_ids: groups,
        tags: tags.clone(),
    };
    ec2.network_interfaces.insert(id.clone(), rec);
    Ok(NetworkInterface {
        id,
        subnet_id: subnet_id.to_string(),
        vpc_id,
        status: "available".into(),
        private_ip: Some(private_ip),
        attached_to: None,
        tags: tags.clone(),
    })
}

fn delete_interface(w: &mut World, at: At<'_>, id: &str) -> Result<()> {
    check_id(id, "eni", "InvalidNetworkInterfaceID")?;
    let t = w.timings;
    let region = w.region(at.account(), at.region);
    if !region.ec2.network_interfaces.contains_key(id) {
        if query::interfaces(region, &t).iter().any(|e| e.id == id) {
            return Err(Error::DependencyViolation {
                message: format!("InvalidNetworkInterface.InUse: Interface: [{id}] in use."),
            });
        }
        return Err(Error::not_found("network interface", id));
    }
    w.region_mut(at.account(), at.region).ec2.network_interfaces.remove(id);
    Ok(())
}

fn describe_interfaces(w: &World, at: At<'_>, filter: &Filter) -> Result<Vec<NetworkInterface>> {
    let t = w.timings;
    let region = w.region(at.account(), at.region);
    let all = query::interfaces(region, &t);
    let exists = |id: &str| check_id(id, "eni", "InvalidNetworkInterfaceID").map(|()| all.iter().any(|e| e.id == id));
    select(&all, filter, "network interface", exists, |e| (&e.id, &e.tags, Some(&e.vpc_id)), NetworkInterface::clone)
}

// ---------------------------------------------------------------------------------------------
// VPC peering.

fn peering_out(p: &PeeringRec) -> PeeringConnection {
    PeeringConnection {
        id: p.id.clone(),
        requester_vpc_id: p.requester_vpc_id.clone(),
        accepter_vpc_id: p.accepter_vpc_id.clone(),
        state: to_peering_state(&p.state),
        tags: p.tags.clone(),
    }
}

fn create_peering(w: &mut World, at: At<'_>, vpc_id: &str, peer_id: &str, tags: &Tags) -> Result<PeeringConnection> {
    let ec2 = &w.region(at.account(), at.region).ec2;
    let a = ec2.vpc(vpc_id)?;
    let b = ec2.vpc(peer_id)?;
    if vpc_id == peer_id {
        return Err(Error::invalid(format!("InvalidParameterValue: A VPC cannot be peered with itself ({vpc_id})")));
    }
    check_tags(tags)?;
    let overlap = Cidr::parse(&a.cidr).zip(Cidr::parse(&b.cidr)).is_some_and(|(x, y)| x.overlaps(y));
    let id = w.ids.ec2("pcx");
    let rec = PeeringRec {
        id: id.clone(),
        requester_vpc_id: vpc_id.to_string(),
        accepter_vpc_id: peer_id.to_string(),
        state: if overlap { "failed" } else { "pending-acceptance" }.to_string(),
        tags: tags.clone(),
    };
    let out = peering_out(&rec);
    w.region_mut(at.account(), at.region).ec2.peerings.insert(id, rec);
    Ok(out)
}

fn accept_peering(w: &mut World, at: At<'_>, id: &str) -> Result<PeeringConnection> {
    let p = w.region(at.account(), at.region).ec2.peering(id)?;
    if p.state != "pending-acceptance" {
        return Err(Error::invalid(format!(
            "InvalidStateTransition: Invalid state transition for {id}, attempted to transition from {} to active",
            p.state
        )));
    }
    let p = w.region_mut(at.account(), at.region).ec2.peerings.get_mut(id).expect("checked above");
    p.state = "active".into();
    Ok(peering_out(p))
}

fn delete_peering(w: &mut World, at: At<'_>, id: &str) -> Result<()> {
    w.region(at.account(), at.region).ec2.peering(id)?;
    w.region_mut(at.account(), at.region).ec2.peerings.get_mut(id).expect("checked above").state = "deleted".into();
    Ok(())
}

fn describe_peerings(w: &World, at: At<'_>, filter: &Filter) -> Result<Vec<PeeringConnection>> {
    let ec2 = &w.region(at.account(), at.region).ec2;
    check_filter_ids(filter, "VPC peering connection", |id| {
        check_id(id, "pcx", "InvalidVpcPeeringConnectionID").map(|()| ec2.peerings.contains_key(id))
    })?;
    Ok(ec2
        .peerings
        .values()
        .filter(|p| {
            filter.matches(&p.id, &p.tags, Some(&p.requester_vpc_id))
                || filter.matches(&p.id, &p.tags, Some(&p.accepter_vpc_id))
        })
        .map(peering_out)
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Tags.

fn create_tags(w: &mut World, at: At<'_>, ids: &[String], tags: &Tags) -> Result<()> {
    if ids.is_empty() || tags.is_empty() {
        return Err(Error::invalid("MissingParameter: CreateTags needs at least one resource id and one tag"));
    }
    let ec2 = &w.region(at.account(), at.region).ec2;
    let mut merged = Vec::new();
    for id in ids {
        let existing = ec2.tags_of(id).ok_or_else(|| {
            let kind = match arn_type(id) {
                "vpc" => "vpc",
                "subnet" => "subnet",
                "instance" => "instance",
                "security-group" => "security group",
                _ => "EC2 resource",
            };
            Error::not_found(kind, id)
        })?;
        merged.push(region::merged_tags(&existing, tags)?);
    }
    let ec2 = &mut w.region_mut(at.account(), at.region).ec2;
    for (id, tags) in ids.iter().zip(merged) {
        *ec2.tags_mut(id).expect("checked above") = tags;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The contract.

#[async_trait]
impl Network for FakeCloud {
    async fn describe_availability_zones(&self) -> Result<Vec<AvailabilityZone>> {
        self.regional(
            "ec2:DescribeAvailabilityZones",
            |_, _| Target::new("*"),
            |_, at| Ok(region::availability_zones(at.region)),
        )
        .await
    }

    async fn create_vpc(&self, cidr: &str, tags: &Tags) -> Result<Vpc> {
        self.regional(
            "ec2:CreateVpc",
            |_, at| creating(at, "vpc", tags, "CreateVpc"),
            |w, at| create_vpc(w, at, cidr, tags),
        )
        .await
    }

    async fn describe_vpcs(&self, filter: &Filter) -> Result<Vec<Vpc>> {
        self.regional("ec2:DescribeVpcs", |_, _| Target::new("*"), |w, at| describe_vpcs(w, at, filter)).await
    }

    async fn delete_vpc(&self, id: &str) -> Result<()> {
        self.regional("ec2:DeleteVpc", |w, at| on(w, at, id), |w, at| delete_vpc(w, at, id)).await
    }

    async fn create_subnet(&self, request: CreateSubnet) -> Result<Subnet> {
        self.regional(
            "ec2:CreateSubnet",
            |w, at| {
                creating(at, "subnet", &request.tags, "CreateSubnet").after(check_on(
                    w,
                    at,
                    "ec2:CreateSubnet",
                    &request.vpc_id,
                ))
            },
            |w, at| create_subnet(w, at, &request),
        )
        .await
    }

    async fn describe_subnets(&self, filter: &Filter) -> Result<Vec<Subnet>> {
        self.regional("ec2:DescribeSubnets", |_, _| Target::new("*"), |w, at| describe_subnets(w, at, filter)).await
    }

    async fn delete_subnet(&self, id: &str) -> Result<()> {
        self.regional("ec2:DeleteSubnet", |w, at| on(w, at, id), |w, at| delete_subnet(w, at, id)).await
    }

    async fn create_internet_gateway(&self, tags: &Tags) -> Result<InternetGateway> {
        self.regional(
            "ec2:CreateInternetGateway",
            |_, at| creating(at, "internet-gateway", tags, "CreateInternetGateway"),
            |w, at| create_igw(w, at, tags),
        )
        .await
    }

    async fn attach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> Result<()> {
        self.regional(
            "ec2:AttachInternetGateway",
            |w, at| on(w, at, igw_id).after(check_on(w, at, "ec2:AttachInternetGateway", vpc_id)),
            |w, at| attach_igw(w, at, igw_id, vpc_id),
        )
        .await
    }

    async fn detach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> Result<()> {
        self.regional(
            "ec2:DetachInternetGateway",
            |w, at| on(w, at, igw_id).after(check_on(w, at, "ec2:DetachInternetGateway", vpc_id)),
            |w, at| detach_igw(w, at, igw_id, vpc_id),
        )
        .await
    }

    async fn delete_internet_gateway(&self, id: &str) -> Result<()> {
        self.regional("ec2:DeleteInternetGateway", |w, at| on(w, at, id), |w, at| delete_igw(w, at, id)).await
    }

    async fn describe_internet_gateways(&self, filter: &Filter) -> Result<Vec<InternetGateway>> {
        self.regional("ec2:DescribeInternetGateways", |_, _| Target::new("*"), |w, at| describe_igws(w, at, filter))
            .await
    }

    async fn allocate_address(&self, tags: &Tags) -> Result<Address> {
        self.regional(
            "ec2:AllocateAddress",
            |_, at| creating(at, "elastic-ip", tags, "AllocateAddress"),
            |w, at| allocate_address(w, at, tags),
        )
        .await
    }

    async fn associate_address(&self, allocation_id: &str, instance_id: &str) -> Result<String> {
        self.regional(
            "ec2:AssociateAddress",
            |w, at| on(w, at, allocation_id).after(check_on(w, at, "ec2:AssociateAddress", instance_id)),
            |w, at| associate_address(w, at, allocation_id, instance_id),
        )
        .await
    }

    async fn release_address(&self, allocation_id: &str) -> Result<()> {
        self.regional(
            "ec2:ReleaseAddress",
            |w, at| on(w, at, allocation_id),
            |w, at| release_address(w, at, allocation_id),
        )
        .await
    }

    async fn describe_addresses(&self, filter: &Filter) -> Result<Vec<Address>> {
        self.regional("ec2:DescribeAddresses", |_, _| Target::new("*"), |w, at| describe_addresses(w, at, filter)).await
    }

    async fn create_nat_gateway(&self, request: CreateNatGateway) -> Result<NatGateway> {
        self.regional(
            "ec2:CreateNatGateway",
            |w, at| {
                creating(at, "natgateway", &request.tags, "CreateNatGateway")
                    .after(check_on(w, at, "ec2:CreateNatGateway", &request.subnet_id))
                    .after(check_on(w, at, "ec2:CreateNatGateway", &request.allocation_id))
            },
            |w, at| create_nat(w, at, &request),
        )
        .await
    }

    async fn delete_nat_gateway(&self, id: &str) -> Result<()> {
        self.regional("ec2:DeleteNatGateway", |w, at| on(w, at, id), |w, at| delete_nat(w, at, id)).await
    }

    async fn describe_nat_gateways(&self, filter: &Filter) -> Result<Vec<NatGateway>> {
        self.regional("ec2:DescribeNatGateways", |_, _| Target::new("*"), |w, at| describe_nats(w, at, filter)).await
    }

    async fn create_route_table(&self, vpc_id: &str, tags: &Tags) -> Result<RouteTable> {
        self.regional(
            "ec2:CreateRouteTable",
            |w, at| {
                creating(at, "route-table", tags, "CreateRouteTable").after(check_on(
                    w,
                    at,
                    "ec2:CreateRouteTable",
                    vpc_id,
                ))
            },
            |w, at| create_route_table(w, at, vpc_id, tags),
        )
        .await
    }

    async fn create_route(&self, route_table_id: &str, destination_cidr: &str, target: &RouteTarget) -> Result<()> {
        self.regional(
            "ec2:CreateRoute",
            |w, at| on(w, at, route_table_id),
            |w, at| create_route(w, at, route_table_id, destination_cidr, target, false),
        )
        .await
    }

    async fn replace_route(&self, route_table_id: &str, destination_cidr: &str, target: &RouteTarget) -> Result<()> {
        self.regional(
            "ec2:ReplaceRoute",
            |w, at| on(w, at, route_table_id),
            |w, at| create_route(w, at, route_table_id, destination_cidr, target, true),
        )
        .await
    }

    async fn delete_route(&self, route_table_id: &str, destination_cidr: &str) -> Result<()> {
        self.regional(
            "ec2:DeleteRoute",
            |w, at| on(w, at, route_table_id),
            |w, at| delete_route(w, at, route_table_id, destination_cidr),
        )
        .await
    }

    async fn associate_route_table(&self, route_table_id: &str, subnet_id: &str) -> Result<String> {
        self.regional(
            "ec2:AssociateRouteTable",
            |w, at| on(w, at, route_table_id).after(check_on(w, at, "ec2:AssociateRouteTable", subnet_id)),
            |w, at| associate_route_table(w, at, route_table_id, subnet_id),
        )
        .await
    }

    async fn disassociate_route_table(&self, association_id: &str) -> Result<()> {
        self.regional(
            "ec2:DisassociateRouteTable",
            |w, at| {
                let table = w
                    .region(at.account(), at.region)
                    .ec2
                    .route_tables
                    .values()
                    .find(|r| r.associations.iter().any(|a| a.id == association_id))
                    .map(|r| r.id.clone());
                match table {
                    Some(id) => on(w, at, &id),
                    None => Target::new(at.ec2("route-table", "*")),
                }
            },
            |w, at| disassociate_route_table(w, at, association_id),
        )
        .await
    }

    async fn delete_route_table(&self, id: &str) -> Result<()> {
        self.regional("ec2:DeleteRouteTable", |w, at| on(w, at, id), |w, at| delete_route_table(w, at, id)).await
    }

    async fn describe_route_tables(&self, filter: &Filter) -> Result<Vec<RouteTable>> {
        self.regional("ec2:DescribeRouteTables", |_, _| Target::new("*"), |w, at| describe_route_tables(w, at, filter))
            .await
    }

    async fn create_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        description: &str,
        tags: &Tags,
    ) -> Result<SecurityGroup> {
        self.regional(
            "ec2:CreateSecurityGroup",
            |w, at| {
                creating(at, "security-group", tags, "CreateSecurityGroup").after(check_on(
                    w,
                    at,
                    "ec2:CreateSecurityGroup",
                    vpc_id,
                ))
            },
            |w, at| create_group(w, at, vpc_id, name, description, tags),
        )
        .await
    }

    async fn delete_security_group(&self, id: &str) -> Result<()> {
        self.regional("ec2:DeleteSecurityGroup", |w, at| on(w, at, id), |w, at| delete_group(w, at, id)).await
    }

    async fn describe_security_groups(&self, filter: &Filter) -> Result<Vec<SecurityGroup>> {
        self.regional("ec2:DescribeSecurityGroups", |_, _| Target::new("*"), |w, at| describe_groups(w, at, filter))
            .await
    }

    async fn authorize_ingress(&self, group_id: &str, rules: &[SecurityRule]) -> Result<()> {
        self.regional(
            "ec2:AuthorizeSecurityGroupIngress",
            |w, at| on(w, at, group_id),
            |w, at| authorize(w, at, group_id, rules, Direction::Ingress),
        )
        .await
    }

    async fn authorize_egress(&self, group_id: &str, rules: &[SecurityRule]) -> Result<()> {
        self.regional(
            "ec2:AuthorizeSecurityGroupEgress",
            |w, at| on(w, at, group_id),
            |w, at| authorize(w, at, group_id, rules, Direction::Egress),
        )
        .await
    }

    async fn revoke_ingress(&self, group_id: &str, rules: &[SecurityRule]) -> Result<()> {
        self.regional(
            "ec2:RevokeSecurityGroupIngress",
            |w, at| on(w, at, group_id),
            |w, at| revoke_ingress(w, at, group_id, rules),
        )
        .await
    }

    async fn create_network_interface(
        &self,
        subnet_id: &str,
        group_ids: &[String],
        tags: &Tags,
    ) -> Result<NetworkInterface> {
        self.regional(
            "ec2:CreateNetworkInterface",
            |w, at| {
                creating(at, "network-interface", tags, "CreateNetworkInterface").after(check_on(
                    w,
                    at,
                    "ec2:CreateNetworkInterface",
                    subnet_id,
                ))
            },
            |w, at| create_interface(w, at, subnet_id, group_ids, tags),
        )
        .await
    }

    async fn delete_network_interface(&self, id: &str) -> Result<()> {
        self.regional("ec2:DeleteNetworkInterface", |w, at| on(w, at, id), |w, at| delete_interface(w, at, id)).await
    }

    async fn describe_network_interfaces(&self, filter: &Filter) -> Result<Vec<NetworkInterface>> {
        self.regional(
            "ec2:DescribeNetworkInterfaces",
            |_, _| Target::new("*"),
            |w, at| describe_interfaces(w, at, filter),
        )
        .await
    }

    async fn create_vpc_peering(&self, vpc_id: &str, peer_vpc_id: &str, tags: &Tags) -> Result<PeeringConnection> {
        self.regional(
            "ec2:CreateVpcPeeringConnection",
            |w, at| {
                creating(at, "vpc-peering-connection", tags, "CreateVpcPeeringConnection").after(check_on(
                    w,
                    at,
                    "ec2:CreateVpcPeeringConnection",
                    vpc_id,
                ))
            },
            |w, at| create_peering(w, at, vpc_id, peer_vpc_id, tags),
        )
        .await
    }

    async fn accept_vpc_peering(&self, id: &str) -> Result<PeeringConnection> {
        self.regional("ec2:AcceptVpcPeeringConnection", |w, at| on(w, at, id), |w, at| accept_peering(w, at, id)).await
    }

    async fn delete_vpc_peering(&self, id: &str) -> Result<()> {
        self.regional("ec2:DeleteVpcPeeringConnection", |w, at| on(w, at, id), |w, at| delete_peering(w, at, id)).await
    }

    async fn describe_vpc_peerings(&self, filter: &Filter) -> Result<Vec<PeeringConnection>> {
        self.regional(
            "ec2:DescribeVpcPeeringConnections",
            |_, _| Target::new("*"),
            |w, at| describe_peerings(w, at, filter),
        )
        .await
    }

    async fn create_tags(&self, resource_ids: &[String], tags: &Tags) -> Result<()> {
        self.regional(
            "ec2:CreateTags",
            |w, at| {
                let mut target = match resource_ids.first() {
                    Some(id) => on(w, at, id),
                    None => Target::new(at.ec2("*", "*")),
                }
                .with_request_tags(tags, None);
                for id in resource_ids.iter().skip(1) {
                    let mut check = check_on(w, at, "ec2:CreateTags", id);
                    for (k, v) in tags {
                        check = check.with(&format!("aws:RequestTag/{k}"), vec![v.clone()]);
                    }
                    target = target.after(check.with("aws:TagKeys", tags.keys().cloned()));
                }
                target
            },
            |w, at| create_tags(w, at, resource_ids, tags),
        )
        .await
    }
}

impl FakeCloud {
    /// Sets a subnet's `MapPublicIpOnLaunch` (`ec2:ModifySubnetAttribute`, which the contract
    /// lacks): instances launched in it get a public IPv4 address. A test helper: not logged, not
    /// authorized, no faults; acts in this view's account and region.
    pub fn set_map_public_ip_on_launch(&self, subnet_id: &str, map: bool) -> Result<()> {
        let mut shared = self.lock();
        let (account, region) = (self.caller.account.clone(), self.region.to_string());
        shared.world.region(&account, &region).ec2.subnet(subnet_id)?;
        shared
            .world
            .region_mut(&account, &region)
            .ec2
            .subnets
            .get_mut(subnet_id)
            .expect("checked above")
            .map_public_ip_on_launch = map;
        Ok(())
    }
}
