//! EC2 networking: zones, VPCs, subnets, gateways, elastic IPs, NAT, route tables, security groups,
//! network interfaces, peering.

use std::net::Ipv4Addr;
use std::time::Duration;

use detcloud_provider::{
    Cloud, CreateNatGateway, CreateSubnet, Filter, NatGateway, NatGatewayState, PeeringConnection, PeeringState,
    RouteTable, RouteTarget, SecurityGroup, SecurityRule,
};

use crate::fixtures::{address, default_group, network, subnet, vpc, zones, NetworkSetup};
use crate::kit::{ensure, ensure_eq, expect_err, skipped, Backoff, Ctx, Fail, Needs, Res, Scope, Step, Want};
use crate::{Capabilities, CaseResult, Namer, RUN_TAG};

/// How long a NAT gateway may take to become available or deleted (about two minutes on AWS).
const NAT_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// How long a peering connection may take to change state.
const PEERING_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Ids that are well formed and exist nowhere.
const NO_VPC: &str = "vpc-0123456789abcdef0";

fn ingress_443() -> SecurityRule {
    SecurityRule {
        protocol: "tcp".into(),
        from_port: 443,
        to_port: 443,
        cidr: Some("10.0.0.0/16".into()),
        source_group_id: None,
        description: None,
    }
}

/// True when `rules` hold `rule`, ignoring descriptions.
fn holds(rules: &[SecurityRule], rule: &SecurityRule) -> bool {
    rules.iter().any(|r| {
        r.protocol == rule.protocol
            && r.from_port == rule.from_port
            && r.to_port == rule.to_port
            && r.cidr == rule.cidr
            && r.source_group_id == rule.source_group_id
    })
}

async fn describe_group(s: &Scope<'_>, id: &str) -> Step<SecurityGroup> {
    let list = s.cloud.network().describe_security_groups(&Filter::id(id)).await.ctx("describe_security_groups")?;
    ensure!(list.len() == 1 && list[0].id == id, "describe_security_groups({id}): {list:?}");
    Ok(list.into_iter().next().expect("one group"))
}

async fn describe_route_table(s: &Scope<'_>, id: &str) -> Step<RouteTable> {
    let list = s.cloud.network().describe_route_tables(&Filter::id(id)).await.ctx("describe_route_tables")?;
    ensure!(list.len() == 1 && list[0].id == id, "describe_route_tables({id}): {list:?}");
    Ok(list.into_iter().next().expect("one route table"))
}

async fn describe_nat(s: &Scope<'_>, id: &str) -> Step<NatGateway> {
    let list = s.cloud.network().describe_nat_gateways(&Filter::id(id)).await.ctx("describe_nat_gateways")?;
    ensure!(list.len() == 1 && list[0].id == id, "describe_nat_gateways({id}): {list:?}");
    Ok(list.into_iter().next().expect("one NAT gateway"))
}

async fn wait_nat(s: &Scope<'_>, id: &str, state: NatGatewayState) -> Step<NatGateway> {
    let mut backoff = Backoff::new(format!("NAT gateway {id} to be {state}"), NAT_TIMEOUT);
    loop {
        let nat = describe_nat(s, id).await?;
        if nat.state == state {
            return Ok(nat);
        }
        ensure!(nat.state != NatGatewayState::Failed, "NAT gateway {id} failed: {:?}", nat.failure_message);
        backoff.wait(nat.state).await?;
    }
}

/// Waits until a deleted NAT gateway reads `deleted` or is no longer found, then
/// [`forget`](Scope::forget)s it.
async fn wait_nat_deleted(s: &Scope<'_>, id: &str) -> Step<()> {
    let mut backoff = Backoff::new(format!("NAT gateway {id} to be deleted"), NAT_TIMEOUT);
    loop {
        match s.cloud.network().describe_nat_gateways(&Filter::id(id)).await {
            Err(e) if e.is_not_found() => break,
            Ok(list) if list.iter().all(|n| n.state == NatGatewayState::Deleted) => break,
            Ok(list) => backoff.wait(list.iter().map(|n| n.state).collect::<Vec<_>>()).await?,
            Err(e) => return Err(Fail(format!("describe_nat_gateways({id}): unexpected error {e:?}"))),
        }
    }
    s.forget(&Res::NatGateway(id.to_string()));
    Ok(())
}

/// What a `delete_*_with_*_conflicts` case tries to delete.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Refused {
    /// The VPC.
    Vpc,
    /// The first subnet.
    Subnet,
}

/// The `delete_vpc_with_*_conflicts` and `delete_subnet_with_*_conflicts` cases (here and in
/// `compute`), which differ only in their set-up: deleting the VPC or the first subnet of `setup`
/// fails with DependencyViolation (`what`) and leaves it (a VPC with its subnets).
pub(crate) async fn refused_delete(
    case: &'static str,
    cloud: &dyn Cloud,
    caps: &Capabilities,
    names: &Namer,
    setup: NetworkSetup,
    refused: Refused,
    what: &str,
) -> CaseResult {
    let s = Scope::new(case, cloud, caps, names);
    s.run(Needs::vpcs(1), async {
        let net = s.cloud.network();
        let built = setup.build(&s).await?;
        let subnets_left = match refused {
            Refused::Vpc => {
                expect_err(net.delete_vpc(&built.vpc.id).await, Want::DependencyViolation, what)?;
                let vpcs = net.describe_vpcs(&Filter::id(&built.vpc.id)).await.ctx("describe_vpcs")?;
                ensure_eq!(vpcs.len(), 1, "VPCs after the refusal");
                &built.subnets[..]
            }
            Refused::Subnet => {
                let subnet = built.subnet()?;
                expect_err(net.delete_subnet(&subnet.id).await, Want::DependencyViolation, what)?;
                std::slice::from_ref(subnet)
            }
        };
        let label = if matches!(refused, Refused::Vpc) { "subnets after the refusal" } else { "subnets" };
        for subnet in subnets_left {
            ensure_eq!(
                net.describe_subnets(&Filter::id(&subnet.id)).await.ctx("describe_subnets")?.len(),
                1,
                "{label}"
            );
        }
        Ok(())
    })
    .await
}

/// A NAT gateway created (tracked) with the run tag, and the request that created it (with a
/// client token when `token`), in a new VPC with a subnet, an attached internet gateway and an
/// elastic IP: what it needs.
async fn new_nat(s: &Scope<'_>, token: bool) -> Step<(CreateNatGateway, NatGateway)> {
    let built = network().subnets(1).internet_gateway().address().build(s).await?;
    let request = CreateNatGateway {
        subnet_id: built.subnet()?.id.clone(),
        allocation_id: built.address()?.allocation_id.clone(),
        client_token: token.then(|| s.name("token")),
        tags: s.tags(),
    };
    let nat = s.cloud.network().create_nat_gateway(request.clone()).await.ctx("create_nat_gateway")?;
    s.track(Res::NatGateway(nat.id.clone()));
    Ok((request, nat))
}

async fn describe_peering(s: &Scope<'_>, id: &str) -> Step<PeeringConnection> {
    let list = s.cloud.network().describe_vpc_peerings(&Filter::id(id)).await.ctx("describe_vpc_peerings")?;
    ensure!(list.len() == 1 && list[0].id == id, "describe_vpc_peerings({id}): {list:?}");
    Ok(list.into_iter().next().expect("one peering"))
}

async fn wait_peering(s: &Scope<'_>, id: &str, state: PeeringState) -> Step<PeeringConnection> {
    let mut backoff = Backoff::new(format!("peering {id} to be {state:?}"), PEERING_TIMEOUT);
    loop {
        let peering = describe_peering(s, id).await?;
        if peering.state == state {
            return Ok(peering);
        }
        ensure!(peering.state != PeeringState::Failed, "peering {id} failed");
        backoff.wait(peering.state).await?;
    }
}

/// At least two zones are available, named after the region.
pub async fn availability_zones(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("availability_zones", cloud, caps, names);
    s.run(Needs::NONE, async {
        let region = s.cloud.region();
        let zones = s.cloud.network().describe_availability_zones().await.ctx("describe_availability_zones")?;
        ensure!(zones.len() >= 2, "expected at least two zones, got {zones:?}");
        for zone in &zones {
            ensure!(zone.name.starts_with(&region), "zone {} is not in region {region}", zone.name);
            ensure!(!zone.zone_id.is_empty(), "zone {} has no zone id", zone.name);
        }
        Ok(())
    })
    .await
}

/// Create (tagged atomically), describe by id, delete, then NotFound for describe and delete.
pub async fn vpc_lifecycle(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("vpc_lifecycle", cloud, caps, names);
    s.run(Needs::vpcs(1), async {
        let net = s.cloud.network();
        let created = vpc(&s, "10.0.0.0/16").await?;
        ensure!(created.id.starts_with("vpc-"), "VPC id {:?}", created.id);
        ensure_eq!(created.cidr, "10.0.0.0/16", "create_vpc CIDR");
        ensure!(!created.is_default, "a new VPC is the default VPC");
        ensure!(matches!(created.state.as_str(), "pending" | "available"), "create_vpc state {:?}", created.state);
        ensure_eq!(created.tags.get(RUN_TAG).map(String::as_str), Some(s.run_id()), "create_vpc tags");
        let listed = net.describe_vpcs(&Filter::id(&created.id)).await.ctx("describe_vpcs")?;
        ensure!(listed.len() == 1 && listed[0].id == created.id, "describe_vpcs by id: {listed:?}");
        ensure_eq!(listed[0].cidr, "10.0.0.0/16", "describe_vpcs CIDR");
        ensure_eq!(listed[0].tags.get(RUN_TAG).map(String::as_str), Some(s.run_id()), "describe_vpcs tags");
        s.delete(&Res::Vpc(created.id.clone()), "delete_vpc").await?;
        expect_err(net.describe_vpcs(&Filter::id(&created.id)).await, Want::NotFound, "describe_vpcs after delete")?;
        expect_err(net.delete_vpc(&created.id).await, Want::NotFound, "delete_vpc twice")?;
        Ok(())
    })
    .await
}

/// A tag filter finds exactly the resources carrying the tag; id and tag filters combine.
pub async fn describe_vpcs_by_tag(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("describe_vpcs_by_tag", cloud, caps, names);
    s.run(Needs::vpcs(2), async {
        let net = s.cloud.network();
        let a = vpc(&s, "10.0.0.0/16").await?;
        let b = vpc(&s, "10.0.0.0/16").await?;
        let marker = s.name("marker");
        let marker_tags = [("dcc:marker".to_string(), marker.clone())].into_iter().collect();
        net.create_tags(std::slice::from_ref(&a.id), &marker_tags).await.ctx("create_tags")?;
        let found = net.describe_vpcs(&Filter::tag("dcc:marker", &marker)).await.ctx("describe_vpcs by tag")?;
        let ids: Vec<&str> = found.iter().map(|v| v.id.as_str()).collect();
        ensure_eq!(ids, vec![a.id.as_str()], "describe_vpcs by the marker tag");
        ensure_eq!(found[0].tags.get("dcc:marker"), Some(&marker), "the marker tag");
        let both = Filter { ids: vec![a.id.clone(), b.id.clone()], ..Filter::tag(RUN_TAG, s.run_id()) };
        let mut ids: Vec<String> =
            net.describe_vpcs(&both).await.ctx("describe_vpcs by ids and tag")?.into_iter().map(|v| v.id).collect();
        ids.sort();
        let mut want = vec![a.id.clone(), b.id.clone()];
        want.sort();
        ensure_eq!(ids, want, "describe_vpcs by both ids and the run tag");
        let none = net.describe_vpcs(&Filter::id(&b.id).and_tag("dcc:marker", &marker)).await.ctx("describe_vpcs")?;
        ensure!(none.is_empty(), "describe_vpcs of b with a's marker: {none:?}");
        Ok(())
    })
    .await
}

/// Describing or deleting ids that exist nowhere fails with NotFound, for every kind.
pub async fn unknown_ids_not_found(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.strict_not_found {
        return skipped(
            "strict_not_found",
            "some describes of unknown ids answer an empty list, some deletes HTTP 500",
        );
    }
    let s = Scope::new("unknown_ids_not_found", cloud, caps, names);
    s.run(Needs::NONE, async {
        let net = s.cloud.network();
        let mut problems = Vec::new();
        let mut check = |r: Step<detcloud_provider::Error>| {
            if let Err(Fail(m)) = r {
                problems.push(m);
            }
        };
        let id = |prefix: &str| Filter::id(format!("{prefix}-0123456789abcdef0"));
        check(expect_err(net.describe_vpcs(&id("vpc")).await, Want::NotFound, "describe_vpcs"));
        check(expect_err(net.describe_subnets(&id("subnet")).await, Want::NotFound, "describe_subnets"));
        check(expect_err(
            net.describe_internet_gateways(&id("igw")).await,
            Want::NotFound,
            "describe_internet_gateways",
        ));
        check(expect_err(net.describe_addresses(&id("eipalloc")).await, Want::NotFound, "describe_addresses"));
        check(expect_err(net.describe_nat_gateways(&id("nat")).await, Want::NotFound, "describe_nat_gateways"));
        check(expect_err(net.describe_route_tables(&id("rtb")).await, Want::NotFound, "describe_route_tables"));
        check(expect_err(net.describe_security_groups(&id("sg")).await, Want::NotFound, "describe_security_groups"));
        check(expect_err(
            net.describe_network_interfaces(&id("eni")).await,
            Want::NotFound,
            "describe_network_interfaces",
        ));
        check(expect_err(net.describe_vpc_peerings(&id("pcx")).await, Want::NotFound, "describe_vpc_peerings"));
        let id = |prefix: &str| format!("{prefix}-0123456789abcdef0");
        check(expect_err(net.delete_vpc(NO_VPC).await, Want::NotFound, "delete_vpc"));
        check(expect_err(net.delete_subnet(&id("subnet")).await, Want::NotFound, "delete_subnet"));
        check(expect_err(net.delete_internet_gateway(&id("igw")).await, Want::NotFound, "delete_internet_gateway"));
        check(expect_err(net.release_address(&id("eipalloc")).await, Want::NotFound, "release_address"));
        check(expect_err(net.delete_nat_gateway(&id("nat")).await, Want::NotFound, "delete_nat_gateway"));
        check(expect_err(net.delete_route_table(&id("rtb")).await, Want::NotFound, "delete_route_table"));
        check(expect_err(net.delete_security_group(&id("sg")).await, Want::NotFound, "delete_security_group"));
        check(expect_err(net.delete_network_interface(&id("eni")).await, Want::NotFound, "delete_network_interface"));
        check(expect_err(net.delete_vpc_peering(&id("pcx")).await, Want::NotFound, "delete_vpc_peering"));
        ensure!(problems.is_empty(), "{}", problems.join("; "));
        Ok(())
    })
    .await
}

/// A subnet lands in the zone asked for, is found by a VPC filter, and a CIDR outside the VPC's
/// fails with InvalidInput.
pub async fn subnet_in_zone(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("subnet_in_zone", cloud, caps, names);
    s.run(Needs::vpcs(1), async {
        let net = s.cloud.network();
        let zones = zones(&s, 2).await?;
        let vpc = vpc(&s, "10.0.0.0/16").await?;
        let created = subnet(&s, &vpc.id, "10.0.1.0/24", &zones[1]).await?;
        ensure!(created.id.starts_with("subnet-"), "subnet id {:?}", created.id);
        ensure_eq!(created.vpc_id, vpc.id, "subnet VPC");
        ensure_eq!(created.cidr, "10.0.1.0/24", "subnet CIDR");
        ensure_eq!(created.availability_zone, zones[1], "subnet zone");
        ensure_eq!(created.tags.get(RUN_TAG).map(String::as_str), Some(s.run_id()), "create_subnet tags");
        let listed = net.describe_subnets(&Filter::all().in_vpc(&vpc.id)).await.ctx("describe_subnets in the VPC")?;
        let ids: Vec<&str> = listed.iter().map(|x| x.id.as_str()).collect();
        ensure_eq!(ids, vec![created.id.as_str()], "describe_subnets in the VPC");
        let outside = CreateSubnet {
            vpc_id: vpc.id.clone(),
            cidr: "10.99.0.0/24".into(),
            availability_zone: zones[0].clone(),
            tags: s.tags(),
        };
        let refused = net.create_subnet(outside).await;
        if let Ok(x) = &refused {
            s.track(Res::Subnet(x.id.clone()));
        }
        expect_err(refused, Want::InvalidInput, "create_subnet with a CIDR outside the VPC")?;
        s.delete(&Res::Subnet(created.id.clone()), "delete_subnet").await?;
        let missing = net.describe_subnets(&Filter::id(&created.id)).await;
        expect_err(missing, Want::NotFound, "describe_subnets after delete")?;
        Ok(())
    })
    .await
}

/// `delete_vpc` with a subnet fails with DependencyViolation and changes nothing.
pub async fn delete_vpc_with_subnet_conflicts(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let (setup, what) = (network().subnets(1), "delete_vpc with a subnet");
    refused_delete("delete_vpc_with_subnet_conflicts", cloud, caps, names, setup, Refused::Vpc, what).await
}

/// `delete_vpc` with an attached internet gateway fails with DependencyViolation.
pub async fn delete_vpc_with_attached_igw_conflicts(
    cloud: &dyn Cloud,
    caps: &Capabilities,
    names: &Namer,
) -> CaseResult {
    if !caps.delete_vpc_checks_gateways {
        return skipped("delete_vpc_checks_gateways", "the endpoint deletes a VPC with an internet gateway attached");
    }
    let (setup, what) = (network().internet_gateway(), "delete_vpc with an attached gateway");
    refused_delete("delete_vpc_with_attached_igw_conflicts", cloud, caps, names, setup, Refused::Vpc, what).await
}

/// An internet gateway attaches (found by a VPC filter), cannot be deleted while attached
/// (DependencyViolation), detaches, and deletes.
pub async fn internet_gateway_attach_detach(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("internet_gateway_attach_detach", cloud, caps, names);
    s.run(Needs::vpcs(1), async {
        let net = s.cloud.network();
        let vpc = vpc(&s, "10.0.0.0/16").await?;
        let igw = net.create_internet_gateway(&s.tags()).await.ctx("create_internet_gateway")?;
        s.track(Res::InternetGateway(igw.id.clone()));
        ensure!(igw.id.starts_with("igw-"), "gateway id {:?}", igw.id);
        ensure!(igw.attached_vpc_ids.is_empty(), "a new gateway is attached to {:?}", igw.attached_vpc_ids);
        ensure_eq!(igw.tags.get(RUN_TAG).map(String::as_str), Some(s.run_id()), "create_internet_gateway tags");
        net.attach_internet_gateway(&igw.id, &vpc.id).await.ctx("attach_internet_gateway")?;
        let attachment = Res::IgwAttachment { igw: igw.id.clone(), vpc: vpc.id.clone() };
        s.track(attachment.clone());
        let in_vpc =
            net.describe_internet_gateways(&Filter::all().in_vpc(&vpc.id)).await.ctx("describe_internet_gateways")?;
        ensure!(
            in_vpc.len() == 1 && in_vpc[0].id == igw.id && in_vpc[0].attached_vpc_ids == vec![vpc.id.clone()],
            "describe_internet_gateways attached to the VPC: {in_vpc:?}"
        );
        expect_err(
            net.delete_internet_gateway(&igw.id).await,
            Want::DependencyViolation,
            "delete_internet_gateway while attached",
        )?;
        s.delete(&attachment, "detach_internet_gateway").await?;
        let got = net.describe_internet_gateways(&Filter::id(&igw.id)).await.ctx("describe_internet_gateways")?;
        ensure!(got.len() == 1 && got[0].attached_vpc_ids.is_empty(), "after detach: {got:?}");
        s.delete(&Res::InternetGateway(igw.id.clone()), "delete_internet_gateway").await?;
        let missing = net.describe_internet_gateways(&Filter::id(&igw.id)).await;
        expect_err(missing, Want::NotFound, "describe after delete")?;
        Ok(())
    })
    .await
}

/// An elastic IP allocates (tagged, unassociated, a public IPv4 address), describes, releases,
/// and is then NotFound.
pub async fn elastic_ip_allocate_release(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("elastic_ip_allocate_release", cloud, caps, names);
    s.run(Needs::vpcs(0).addresses(1), async {
        let net = s.cloud.network();
        let address = address(&s).await?;
        ensure!(address.allocation_id.starts_with("eipalloc-"), "allocation id {:?}", address.allocation_id);
        ensure!(address.public_ip.parse::<Ipv4Addr>().is_ok(), "public IP {:?}", address.public_ip);
        ensure!(
            address.association_id.is_none() && address.instance_id.is_none(),
            "a new address is associated: {address:?}"
        );
        let got = net.describe_addresses(&Filter::id(&address.allocation_id)).await.ctx("describe_addresses")?;
        ensure!(got.len() == 1 && got[0].public_ip == address.public_ip, "describe_addresses: {got:?}");
        ensure_eq!(got[0].tags.get(RUN_TAG).map(String::as_str), Some(s.run_id()), "address tags");
        s.delete(&Res::Address(address.allocation_id.clone()), "release_address").await?;
        let missing = net.describe_addresses(&Filter::id(&address.allocation_id)).await;
        expect_err(missing, Want::NotFound, "describe after release")?;
        expect_err(net.release_address(&address.allocation_id).await, Want::NotFound, "release_address twice")?;
        Ok(())
    })
    .await
}

/// Associating an elastic IP with a running instance shows in describe_addresses.
pub async fn associate_address(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("associate_address", cloud, caps, names);
    s.run(Needs::vpcs(1).addresses(1), async {
        associated_address(&s).await?;
        Ok(())
    })
    .await
}

/// An address associated with a running instance (in a VPC with an internet gateway); returns the
/// allocation id.
async fn associated_address(s: &Scope<'_>) -> Step<String> {
    let net = s.cloud.network();
    // The address is allocated before the instance: cleanup terminates the instance (which
    // disassociates) first.
    let built = network().subnets(1).internet_gateway().address().running_instance().build(s).await?;
    let (address, instance) = (built.address()?, built.instance()?);
    let association = net.associate_address(&address.allocation_id, &instance.id).await.ctx("associate_address")?;
    ensure!(!association.is_empty(), "associate_address returned an empty association id");
    let got = net.describe_addresses(&Filter::id(&address.allocation_id)).await.ctx("describe_addresses")?;
    ensure!(got.len() == 1, "describe_addresses: {got:?}");
    ensure_eq!(got[0].association_id.as_deref(), Some(association.as_str()), "association id");
    ensure_eq!(got[0].instance_id.as_deref(), Some(instance.id.as_str()), "associated instance");
    Ok(address.allocation_id.clone())
}

/// Releasing an associated elastic IP fails with DependencyViolation.
pub async fn release_associated_address_conflicts(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.release_address_checks_association {
        return skipped("release_address_checks_association", "the endpoint releases associated addresses");
    }
    let s = Scope::new("release_associated_address_conflicts", cloud, caps, names);
    s.run(Needs::vpcs(1).addresses(1), async {
        let allocation_id = associated_address(&s).await?;
        let net = s.cloud.network();
        expect_err(
            net.release_address(&allocation_id).await,
            Want::DependencyViolation,
            "release_address while associated",
        )?;
        ensure_eq!(
            net.describe_addresses(&Filter::id(&allocation_id)).await.ctx("describe_addresses")?.len(),
            1,
            "addresses"
        );
        Ok(())
    })
    .await
}

/// A NAT gateway becomes available (polled with bounded backoff) with its subnet, VPC and
/// address, and is deleted.
pub async fn nat_gateway_lifecycle(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("nat_gateway_lifecycle", cloud, caps, names);
    s.run(Needs::vpcs(1).addresses(1), async {
        let (request, nat) = new_nat(&s, true).await?;
        let (subnet_id, allocation_id) = (request.subnet_id, request.allocation_id);
        ensure!(nat.id.starts_with("nat-"), "NAT gateway id {:?}", nat.id);
        ensure_eq!(nat.subnet_id, subnet_id, "NAT subnet");
        ensure_eq!(nat.allocation_id.as_deref(), Some(allocation_id.as_str()), "NAT allocation");
        ensure!(
            matches!(nat.state, NatGatewayState::Pending | NatGatewayState::Available),
            "new NAT state {}",
            nat.state
        );
        ensure_eq!(nat.tags.get(RUN_TAG).map(String::as_str), Some(s.run_id()), "NAT tags");
        let available = wait_nat(&s, &nat.id, NatGatewayState::Available).await?;
        let subnets = s.cloud.network().describe_subnets(&Filter::id(&subnet_id)).await.ctx("describe_subnets")?;
        ensure_eq!(Some(&available.vpc_id), subnets.first().map(|x| &x.vpc_id), "NAT VPC");
        let found =
            s.cloud.network().describe_nat_gateways(&Filter::tag(RUN_TAG, s.run_id()).in_vpc(&available.vpc_id)).await;
        let found = found.ctx("describe_nat_gateways by tag and VPC")?;
        ensure!(found.iter().any(|n| n.id == nat.id), "describe_nat_gateways by tag and VPC: {found:?}");
        s.cloud.network().delete_nat_gateway(&nat.id).await.ctx("delete_nat_gateway")?;
        wait_nat_deleted(&s, &nat.id).await?;
        Ok(())
    })
    .await
}

/// A NAT gateway is `pending` when created, and `deleting` right after the delete call.
pub async fn nat_gateway_states(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.intermediate_states {
        return skipped("intermediate_states", "NAT gateways are available at once and deleted at once");
    }
    let s = Scope::new("nat_gateway_states", cloud, caps, names);
    s.run(Needs::vpcs(1).addresses(1), async {
        let (_, nat) = new_nat(&s, false).await?;
        ensure_eq!(nat.state, NatGatewayState::Pending, "create_nat_gateway state");
        ensure_eq!(describe_nat(&s, &nat.id).await?.state, NatGatewayState::Pending, "state right after creation");
        wait_nat(&s, &nat.id, NatGatewayState::Available).await?;
        s.cloud.network().delete_nat_gateway(&nat.id).await.ctx("delete_nat_gateway")?;
        let state = describe_nat(&s, &nat.id).await?.state;
        ensure!(matches!(state, NatGatewayState::Deleting), "state right after delete: expected deleting, got {state}");
        wait_nat_deleted(&s, &nat.id).await?;
        Ok(())
    })
    .await
}

/// Creating a NAT gateway twice with the same client token returns the same gateway.
pub async fn nat_gateway_client_token(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.ec2_client_token {
        return skipped("ec2_client_token", "the endpoint ignores client tokens");
    }
    let s = Scope::new("nat_gateway_client_token", cloud, caps, names);
    s.run(Needs::vpcs(1).addresses(1), async {
        let (request, first) = new_nat(&s, true).await?;
        let again = s.cloud.network().create_nat_gateway(request).await;
        let again = again.ctx("create_nat_gateway with the same client token")?;
        if again.id != first.id {
            s.track(Res::NatGateway(again.id.clone()));
        }
        ensure_eq!(again.id, first.id, "the repeated create_nat_gateway");
        Ok(())
    })
    .await
}

/// A route table starts with the local route, takes a route (a duplicate: AlreadyExists) and a
/// subnet association, cannot be deleted while associated (DependencyViolation), and deletes once
/// disassociated. The VPC's main route table is marked main.
pub async fn route_table_associations(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("route_table_associations", cloud, caps, names);
    s.run(Needs::vpcs(1), async {
        let net = s.cloud.network();
        let built = network().subnets(1).internet_gateway().build(&s).await?;
        let (vpc, subnet) = (&built.vpc, built.subnet()?);
        let igw = built.internet_gateway()?;
        let all =
            net.describe_route_tables(&Filter::all().in_vpc(&vpc.id)).await.ctx("describe_route_tables in the VPC")?;
        ensure!(
            all.iter().filter(|t| t.associations.iter().any(|a| a.main)).count() == 1,
            "the VPC should have exactly one main route table: {all:?}"
        );
        let table = net.create_route_table(&vpc.id, &s.tags()).await.ctx("create_route_table")?;
        s.track(Res::RouteTable(table.id.clone()));
        ensure_eq!(table.vpc_id, vpc.id, "route table VPC");
        ensure!(table.associations.is_empty(), "a new table has associations: {:?}", table.associations);
        ensure!(
            table.routes.iter().any(|r| r.destination_cidr == vpc.cidr && r.target == RouteTarget::Local),
            "no local route for {}: {:?}",
            vpc.cidr,
            table.routes
        );
        let to_igw = RouteTarget::InternetGateway(igw.id.clone());
        net.create_route(&table.id, "0.0.0.0/0", &to_igw).await.ctx("create_route")?;
        let got = describe_route_table(&s, &table.id).await?;
        ensure!(
            got.routes.iter().any(|r| r.destination_cidr == "0.0.0.0/0" && r.target == to_igw && r.state == "active"),
            "no active default route to the gateway: {:?}",
            got.routes
        );
        expect_err(net.create_route(&table.id, "0.0.0.0/0", &to_igw).await, Want::AlreadyExists, "create_route twice")?;
        let association = net.associate_route_table(&table.id, &subnet.id).await.ctx("associate_route_table")?;
        s.track(Res::RouteAssociation(association.clone()));
        let got = describe_route_table(&s, &table.id).await?;
        ensure!(
            got.associations
                .iter()
                .any(|a| a.id == association && a.subnet_id.as_deref() == Some(&subnet.id) && !a.main),
            "association {association} of {} missing: {:?}",
            subnet.id,
            got.associations
        );
        expect_err(
            net.delete_route_table(&table.id).await,
            Want::DependencyViolation,
            "delete_route_table while associated",
        )?;
        s.delete(&Res::RouteAssociation(association.clone()), "disassociate_route_table").await?;
        ensure!(
            describe_route_table(&s, &table.id).await?.associations.is_empty(),
            "still associated after disassociate"
        );
        s.delete(&Res::RouteTable(table.id.clone()), "delete_route_table").await?;
        expect_err(net.describe_route_tables(&Filter::id(&table.id)).await, Want::NotFound, "describe after delete")?;
        Ok(())
    })
    .await
}

/// Every VPC has one security group named `default` with an allow-all egress rule; an ingress rule
/// is authorized (a duplicate: AlreadyExists) and revoked.
pub async fn default_security_group_rules(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("default_security_group_rules", cloud, caps, names);
    s.run(Needs::vpcs(1), async {
        let net = s.cloud.network();
        let vpc = vpc(&s, "10.0.0.0/16").await?;
        let group = default_group(&s, &vpc.id).await?;
        ensure!(
            group.egress.iter().any(|r| r.protocol == "-1" && r.cidr.as_deref() == Some("0.0.0.0/0")),
            "the default group has no allow-all egress rule: {:?}",
            group.egress
        );
        let all_out = SecurityRule {
            protocol: "-1".into(),
            from_port: 0,
            to_port: 0,
            cidr: Some("0.0.0.0/0".into()),
            source_group_id: None,
            description: None,
        };
        expect_err(
            net.authorize_egress(&group.id, &[all_out]).await,
            Want::AlreadyExists,
            "authorize_egress of the default rule",
        )?;
        let rule = ingress_443();
        net.authorize_ingress(&group.id, std::slice::from_ref(&rule)).await.ctx("authorize_ingress")?;
        ensure!(holds(&describe_group(&s, &group.id).await?.ingress, &rule), "the ingress rule is missing");
        expect_err(
            net.authorize_ingress(&group.id, std::slice::from_ref(&rule)).await,
            Want::AlreadyExists,
            "authorize_ingress twice",
        )?;
        net.revoke_ingress(&group.id, std::slice::from_ref(&rule)).await.ctx("revoke_ingress")?;
        ensure!(!holds(&describe_group(&s, &group.id).await?.ingress, &rule), "the rule survived revoke_ingress");
        Ok(())
    })
    .await
}

/// A security group is created (tagged), found by id and by name, admits its own members, refuses
/// a duplicate name (AlreadyExists), and deletes.
pub async fn security_group_lifecycle(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("security_group_lifecycle", cloud, caps, names);
    s.run(Needs::vpcs(1), async {
        let net = s.cloud.network();
        let vpc = vpc(&s, "10.0.0.0/16").await?;
        let name = s.name("sg");
        let group = net
            .create_security_group(&vpc.id, &name, "detcloud conformance", &s.tags())
            .await
            .ctx("create_security_group")?;
        s.track(Res::SecurityGroup(group.id.clone()));
        ensure!(group.id.starts_with("sg-"), "group id {:?}", group.id);
        ensure_eq!(group.name, name, "group name");
        ensure_eq!(group.vpc_id, vpc.id, "group VPC");
        ensure_eq!(group.tags.get(RUN_TAG).map(String::as_str), Some(s.run_id()), "group tags");
        let by_name = net.describe_security_groups(&Filter::id(&name).in_vpc(&vpc.id)).await.ctx("describe by name")?;
        ensure!(by_name.len() == 1 && by_name[0].id == group.id, "describe_security_groups by name: {by_name:?}");
        let dup = net.create_security_group(&vpc.id, &name, "again", &s.tags()).await;
        if let Ok(g) = &dup {
            s.track(Res::SecurityGroup(g.id.clone()));
        }
        expect_err(dup, Want::AlreadyExists, "create_security_group with a taken name")?;
        let members = SecurityRule {
            protocol: "tcp".into(),
            from_port: 0,
            to_port: 65535,
            cidr: None,
            source_group_id: Some(group.id.clone()),
            description: Some("members".into()),
        };
        net.authorize_ingress(&group.id, std::slice::from_ref(&members)).await.ctx("authorize_ingress from itself")?;
        ensure!(holds(&describe_group(&s, &group.id).await?.ingress, &members), "the self-referencing rule is missing");
        s.delete(&Res::SecurityGroup(group.id.clone()), "delete_security_group").await?;
        let missing = net.describe_security_groups(&Filter::id(&group.id)).await;
        expect_err(missing, Want::NotFound, "describe after delete")?;
        Ok(())
    })
    .await
}

/// A network interface is created `available` in its subnet with a private address, found by id
/// and VPC, and deleted.
pub async fn network_interface_lifecycle(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("network_interface_lifecycle", cloud, caps, names);
    s.run(Needs::vpcs(1), async {
        let net = s.cloud.network();
        let built = network().subnets(1).interface().build(&s).await?;
        let (vpc, subnet, eni) = (&built.vpc, built.subnet()?, built.interface()?);
        ensure!(eni.id.starts_with("eni-"), "interface id {:?}", eni.id);
        ensure_eq!(eni.subnet_id, subnet.id, "interface subnet");
        ensure_eq!(eni.vpc_id, vpc.id, "interface VPC");
        ensure_eq!(eni.status, "available", "interface status");
        ensure!(
            eni.private_ip.as_deref().is_some_and(|ip| ip.starts_with("10.0.1.")),
            "private IP {:?}",
            eni.private_ip
        );
        ensure_eq!(eni.tags.get(RUN_TAG).map(String::as_str), Some(s.run_id()), "interface tags");
        let in_vpc =
            net.describe_network_interfaces(&Filter::all().in_vpc(&vpc.id)).await.ctx("describe in the VPC")?;
        ensure!(in_vpc.iter().any(|e| e.id == eni.id), "describe_network_interfaces in the VPC: {in_vpc:?}");
        s.delete(&Res::NetworkInterface(eni.id.clone()), "delete_network_interface").await?;
        let missing = net.describe_network_interfaces(&Filter::id(&eni.id)).await;
        expect_err(missing, Want::NotFound, "describe after delete")?;
        expect_err(net.delete_network_interface(&eni.id).await, Want::NotFound, "delete_network_interface twice")?;
        Ok(())
    })
    .await
}

/// `delete_subnet` with a network interface in it fails with DependencyViolation.
pub async fn delete_subnet_with_interface_conflicts(
    cloud: &dyn Cloud,
    caps: &Capabilities,
    names: &Namer,
) -> CaseResult {
    if !caps.delete_subnet_checks_dependents {
        return skipped("delete_subnet_checks_dependents", "the endpoint deletes subnets that still hold interfaces");
    }
    let (setup, what) = (network().subnets(1).interface(), "delete_subnet with an interface");
    refused_delete("delete_subnet_with_interface_conflicts", cloud, caps, names, setup, Refused::Subnet, what).await
}

/// An instance's interface shows `in-use`, attached to the instance, and cannot be deleted
/// (DependencyViolation).
pub async fn delete_in_use_interface_conflicts(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.delete_interface_checks_attachment {
        return skipped("delete_interface_checks_attachment", "the endpoint deletes interfaces attached to instances");
    }
    let s = Scope::new("delete_in_use_interface_conflicts", cloud, caps, names);
    s.run(Needs::vpcs(1), async {
        let net = s.cloud.network();
        let built = network().subnets(1).running_instance().build(&s).await?;
        let (vpc, instance) = (&built.vpc, built.instance()?);
        let interfaces =
            net.describe_network_interfaces(&Filter::all().in_vpc(&vpc.id)).await.ctx("describe_network_interfaces")?;
        let eni = interfaces.iter().find(|e| e.attached_to.as_deref() == Some(instance.id.as_str()));
        let eni = eni.ok_or_else(|| Fail(format!("no interface attached to {}: {interfaces:?}", instance.id)))?;
        ensure_eq!(eni.status, "in-use", "status of the instance's interface");
        expect_err(
            net.delete_network_interface(&eni.id).await,
            Want::DependencyViolation,
            "delete_network_interface in use",
        )?;
        ensure_eq!(net.describe_network_interfaces(&Filter::id(&eni.id)).await.ctx("describe")?.len(), 1, "interfaces");
        Ok(())
    })
    .await
}

/// A peering connection between two VPCs waits for acceptance, becomes active when accepted,
/// carries a route, is found from either side, and is deleted.
pub async fn vpc_peering(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("vpc_peering", cloud, caps, names);
    s.run(Needs::vpcs(2), async {
        let net = s.cloud.network();
        let a = vpc(&s, "10.1.0.0/16").await?;
        let b = vpc(&s, "10.2.0.0/16").await?;
        let peering = net.create_vpc_peering(&a.id, &b.id, &s.tags()).await.ctx("create_vpc_peering")?;
        s.track(Res::Peering(peering.id.clone()));
        ensure!(peering.id.starts_with("pcx-"), "peering id {:?}", peering.id);
        ensure_eq!(peering.requester_vpc_id, a.id, "requester");
        ensure_eq!(peering.accepter_vpc_id, b.id, "accepter");
        ensure!(matches!(peering.state, PeeringState::PendingAcceptance), "new peering state {:?}", peering.state);
        wait_peering(&s, &peering.id, PeeringState::PendingAcceptance).await?;
        net.accept_vpc_peering(&peering.id).await.ctx("accept_vpc_peering")?;
        wait_peering(&s, &peering.id, PeeringState::Active).await?;
        let from_b =
            net.describe_vpc_peerings(&Filter::all().in_vpc(&b.id)).await.ctx("describe_vpc_peerings from b")?;
        ensure!(from_b.iter().any(|p| p.id == peering.id), "describe_vpc_peerings from the accepter: {from_b:?}");
        let table = net.create_route_table(&a.id, &s.tags()).await.ctx("create_route_table")?;
        s.track(Res::RouteTable(table.id.clone()));
        let target = RouteTarget::Peering(peering.id.clone());
        net.create_route(&table.id, &b.cidr, &target).await.ctx("create_route to the peering")?;
        let got = describe_route_table(&s, &table.id).await?;
        ensure!(
            got.routes.iter().any(|r| r.destination_cidr == b.cidr && r.target == target),
            "route: {:?}",
            got.routes
        );
        s.delete(&Res::RouteTable(table.id.clone()), "delete_route_table").await?;
        s.delete(&Res::Peering(peering.id.clone()), "delete_vpc_peering").await?;
        match net.describe_vpc_peerings(&Filter::id(&peering.id)).await {
            Err(e) if e.is_not_found() => {}
            Ok(list) if list.iter().all(|p| p.state == PeeringState::Deleted) => {}
            other => {
                return Err(Fail(format!(
                    "describe_vpc_peerings after delete: expected deleted or NotFound, got {other:?}"
                )))
            }
        }
        Ok(())
    })
    .await
}
