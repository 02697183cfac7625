//! EC2 networking over `aws-sdk-ec2`: one method per SDK operation, errors mapped by code.

use async_trait::async_trait;
use aws_sdk_ec2::types::{self as ec2, DomainType, IpPermission, IpRange, ResourceType, UserIdGroupPair};
use aws_sdk_ec2::Client;
use detcloud_provider::{
    Address, AvailabilityZone, CreateNatGateway, CreateSubnet, Error, Filter, InternetGateway, NatGateway,
    NatGatewayState, Network, NetworkInterface, PeeringConnection, PeeringState, Result, Route, RouteTable,
    RouteTableAssociation, RouteTarget, SecurityGroup, SecurityRule, Subnet, Tags, Vpc,
};

use crate::ec2::{ec2_filter, ids, keep, keep_vpcless, sdk_tags, server_filters, tag_spec, tags_of, tags_or};
use crate::error::{about, done, every, map, missing};

/// EC2 networking through the AWS SDK.
#[derive(Debug, Clone)]
pub struct AwsNetwork {
    client: Client,
}

impl AwsNetwork {
    /// Wraps an SDK client.
    pub fn new(client: Client) -> Self {
        AwsNetwork { client }
    }
}

fn s(v: Option<&str>) -> String {
    v.unwrap_or_default().to_string()
}

fn vpc_of(v: &ec2::Vpc) -> Vpc {
    Vpc {
        id: s(v.vpc_id()),
        cidr: s(v.cidr_block()),
        state: v.state().map(|x| x.as_str().to_string()).unwrap_or_default(),
        is_default: v.is_default().unwrap_or(false),
        tags: tags_of(v.tags()),
    }
}

fn subnet_of(x: &ec2::Subnet) -> Subnet {
    Subnet {
        id: s(x.subnet_id()),
        vpc_id: s(x.vpc_id()),
        cidr: s(x.cidr_block()),
        availability_zone: s(x.availability_zone()),
        map_public_ip_on_launch: x.map_public_ip_on_launch().unwrap_or(false),
        state: x.state().map(|x| x.as_str().to_string()).unwrap_or_default(),
        tags: tags_of(x.tags()),
    }
}

fn igw_of(g: &ec2::InternetGateway) -> InternetGateway {
    InternetGateway {
        id: s(g.internet_gateway_id()),
        attached_vpc_ids: g.attachments().iter().filter_map(|a| a.vpc_id().map(str::to_string)).collect(),
        tags: tags_of(g.tags()),
    }
}

fn address_of(a: &ec2::Address) -> Address {
    Address {
        allocation_id: s(a.allocation_id()),
        public_ip: s(a.public_ip()),
        association_id: a.association_id().map(str::to_string),
        instance_id: a.instance_id().filter(|i| !i.is_empty()).map(str::to_string),
        network_interface_id: a.network_interface_id().map(str::to_string),
        tags: tags_of(a.tags()),
    }
}

fn nat_state(state: Option<&ec2::NatGatewayState>) -> NatGatewayState {
    use ec2::NatGatewayState as S;
    match state {
        None | Some(S::Pending) => NatGatewayState::Pending,
        Some(S::Available) => NatGatewayState::Available,
        Some(S::Deleting) => NatGatewayState::Deleting,
        Some(S::Deleted) => NatGatewayState::Deleted,
        Some(_) => NatGatewayState::Failed,
    }
}

fn nat_of(n: &ec2::NatGateway) -> NatGateway {
    NatGateway {
        id: s(n.nat_gateway_id()),
        subnet_id: s(n.subnet_id()),
        vpc_id: s(n.vpc_id()),
        state: nat_state(n.state()),
        allocation_id: n.nat_gateway_addresses().iter().find_map(|a| a.allocation_id()).map(str::to_string),
        failure_message: n.failure_message().map(str::to_string),
        tags: tags_of(n.tags()),
    }
}

/// A route detcloud can represent: an IPv4 destination to the VPC, a gateway, a NAT gateway, a
/// peering connection or an interface. Others (prefix lists, IPv6, transit gateways) are left out.
fn route_of(r: &ec2::Route) -> Option<Route> {
    let destination_cidr = r.destination_cidr_block()?.to_string();
    let target = if let Some(nat) = r.nat_gateway_id() {
        RouteTarget::NatGateway(nat.to_string())
    } else if let Some(pcx) = r.vpc_peering_connection_id() {
        RouteTarget::Peering(pcx.to_string())
    } else if let Some(gw) = r.gateway_id() {
        if gw == "local" {
            RouteTarget::Local
        } else if gw.starts_with("igw-") {
            RouteTarget::InternetGateway(gw.to_string())
        } else {
            return None;
        }
    } else if let Some(eni) = r.network_interface_id() {
        RouteTarget::NetworkInterface(eni.to_string())
    } else {
        return None;
    };
    Some(Route {
        destination_cidr,
        target,
        state: r.state().map(|x| x.as_str().to_string()).unwrap_or_else(|| "active".into()),
    })
}

fn route_table_of(t: &ec2::RouteTable) -> RouteTable {
    RouteTable {
        id: s(t.route_table_id()),
        vpc_id: s(t.vpc_id()),
        routes: t.routes().iter().filter_map(route_of).collect(),
        associations: t
            .associations()
            .iter()
            .map(|a| RouteTableAssociation {
                id: s(a.route_table_association_id()),
                subnet_id: a.subnet_id().map(str::to_string),
                main: a.main().unwrap_or(false),
            })
            .collect(),
        tags: tags_of(t.tags()),
    }
}

/// One rule per CIDR and per source group of an EC2 permission.
fn rules_of(perms: &[IpPermission]) -> Vec<SecurityRule> {
    let mut out = Vec::new();
    for p in perms {
        let protocol = p.ip_protocol().unwrap_or("-1").to_string();
        let all = protocol == "-1";
        let from_port = if all { 0 } else { p.from_port().unwrap_or(0) };
        let to_port = if all { 0 } else { p.to_port().unwrap_or(0) };
        for r in p.ip_ranges() {
            out.push(SecurityRule {
                protocol: protocol.clone(),
                from_port,
                to_port,
                cidr: r.cidr_ip().map(str::to_string),
                source_group_id: None,
                description: r.description().map(str::to_string),
            });
        }
        for g in p.user_id_group_pairs() {
            out.push(SecurityRule {
                protocol: protocol.clone(),
                from_port,
                to_port,
                cidr: None,
                source_group_id: g.group_id().map(str::to_string),
                description: g.description().map(str::to_string),
            });
        }
    }
    out.sort();
    out
}

/// One EC2 permission per rule.
fn permissions_of(rules: &[SecurityRule]) -> Vec<IpPermission> {
    rules
        .iter()
        .map(|r| {
            let mut p = IpPermission::builder().ip_protocol(&r.protocol);
            if r.protocol != "-1" {
                p = p.from_port(r.from_port).to_port(r.to_port);
            }
            if let Some(cidr) = &r.cidr {
                p = p.ip_ranges(IpRange::builder().cidr_ip(cidr).set_description(r.description.clone()).build());
            }
            if let Some(group) = &r.source_group_id {
                p = p.user_id_group_pairs(
                    UserIdGroupPair::builder().group_id(group).set_description(r.description.clone()).build(),
                );
            }
            p.build()
        })
        .collect()
}

fn security_group_of(g: &ec2::SecurityGroup) -> SecurityGroup {
    SecurityGroup {
        id: s(g.group_id()),
        name: s(g.group_name()),
        vpc_id: s(g.vpc_id()),
        ingress: rules_of(g.ip_permissions()),
        egress: rules_of(g.ip_permissions_egress()),
        tags: tags_of(g.tags()),
    }
}

fn eni_of(n: &ec2::NetworkInterface) -> NetworkInterface {
    let attached_to = n
        .attachment()
        .and_then(|a| a.instance_id())
        .map(str::to_string)
        .or_else(|| {
            n.interface_type().map(|t| t.as_str()).filter(|t| !t.is_empty() && *t != "interface").map(str::to_string)
        })
        .or_else(|| {
            n.requester_id().map(|r| match r {
                "amazon-rds" => "rds".to_string(),
                other => other.to_string(),
            })
        });
    NetworkInterface {
        id: s(n.network_interface_id()),
        subnet_id: s(n.subnet_id()),
        vpc_id: s(n.vpc_id()),
        status: n.status().map(|x| x.as_str().to_string()).unwrap_or_default(),
        private_ip: n.private_ip_address().map(str::to_string),
        attached_to,
        tags: tags_of(n.tag_set()),
    }
}

fn peering_state(code: Option<&ec2::VpcPeeringConnectionStateReasonCode>) -> PeeringState {
    use ec2::VpcPeeringConnectionStateReasonCode as C;
    match code {
        Some(C::Active) | Some(C::Provisioning) => PeeringState::Active,
        Some(C::Deleted) | Some(C::Deleting) | Some(C::Rejected) | Some(C::Expired) => PeeringState::Deleted,
        Some(C::Failed) => PeeringState::Failed,
        _ => PeeringState::PendingAcceptance,
    }
}

fn peering_of(p: &ec2::VpcPeeringConnection) -> PeeringConnection {
    PeeringConnection {
        id: s(p.vpc_peering_connection_id()),
        requester_vpc_id: s(p.requester_vpc_info().and_then(|i| i.vpc_id())),
        accepter_vpc_id: s(p.accepter_vpc_info().and_then(|i| i.vpc_id())),
        state: peering_state(p.status().and_then(|st| st.code())),
        tags: tags_of(p.tags()),
    }
}

#[async_trait]
impl Network for AwsNetwork {
    async fn describe_availability_zones(&self) -> Result<Vec<AvailabilityZone>> {
        let out = self
            .client
            .describe_availability_zones()
            .filters(ec2_filter("state", ["available"]))
            .send()
            .await
            .map_err(|e| map(e, about("availability zones", "")))?;
        let mut zones: Vec<AvailabilityZone> = out
            .availability_zones()
            .iter()
            .map(|z| AvailabilityZone {
                name: s(z.zone_name()),
                zone_id: s(z.zone_id()),
                state: z.state().map(|x| x.as_str().to_string()).unwrap_or_else(|| "available".into()),
            })
            .filter(|z| z.state == "available")
            .collect();
        zones.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(zones)
    }

    async fn create_vpc(&self, cidr: &str, tags: &Tags) -> Result<Vpc> {
        let out = self
            .client
            .create_vpc()
            .cidr_block(cidr)
            .set_tag_specifications(tag_spec(ResourceType::Vpc, tags))
            .send()
            .await
            .map_err(|e| map(e, about("vpc", cidr)))?;
        let v = out.vpc().ok_or_else(|| missing("vpc"))?;
        Ok(Vpc { tags: tags_or(v.tags(), tags), ..vpc_of(v) })
    }

    async fn describe_vpcs(&self, filter: &Filter) -> Result<Vec<Vpc>> {
        let pages = self
            .client
            .describe_vpcs()
            .set_vpc_ids(ids(filter))
            .set_filters(server_filters(filter, Some("vpc-id")))
            .into_paginator()
            .items()
            .send();
        let subject = filter.ids.join(",");
        every(pages, about("vpc", &subject), |item| {
            let v = vpc_of(&item);
            keep(filter, &v.id, &v.tags, Some(&v.id)).then_some(v)
        })
        .await
    }

    async fn delete_vpc(&self, id: &str) -> Result<()> {
        let sent = self.client.delete_vpc().vpc_id(id).send().await;
        done(sent, about("vpc", id))
    }

    async fn create_subnet(&self, req: CreateSubnet) -> Result<Subnet> {
        let out = self
            .client
            .create_subnet()
            .vpc_id(&req.vpc_id)
            .cidr_block(&req.cidr)
            .availability_zone(&req.availability_zone)
            .set_tag_specifications(tag_spec(ResourceType::Subnet, &req.tags))
            .send()
            .await
            .map_err(|e| map(e, about("vpc", &req.vpc_id)))?;
        let x = out.subnet().ok_or_else(|| missing("subnet"))?;
        Ok(Subnet { tags: tags_or(x.tags(), &req.tags), ..subnet_of(x) })
    }

    async fn describe_subnets(&self, filter: &Filter) -> Result<Vec<Subnet>> {
        let pages = self
            .client
            .describe_subnets()
            .set_subnet_ids(ids(filter))
            .set_filters(server_filters(filter, Some("vpc-id")))
            .into_paginator()
            .items()
            .send();
        let subject = filter.ids.join(",");
        every(pages, about("subnet", &subject), |item| {
            let x = subnet_of(&item);
            keep(filter, &x.id, &x.tags, Some(&x.vpc_id)).then_some(x)
        })
        .await
    }

    async fn delete_subnet(&self, id: &str) -> Result<()> {
        let sent = self.client.delete_subnet().subnet_id(id).send().await;
        done(sent, about("subnet", id))
    }

    async fn create_internet_gateway(&self, tags: &Tags) -> Result<InternetGateway> {
        let out = self
            .client
            .create_internet_gateway()
            .set_tag_specifications(tag_spec(ResourceType::InternetGateway, tags))
            .send()
            .await
            .map_err(|e| map(e, about("internet gateway", "")))?;
        let g = out.internet_gateway().ok_or_else(|| missing("internet gateway"))?;
        Ok(InternetGateway { tags: tags_or(g.tags(), tags), ..igw_of(g) })
    }

    async fn attach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> Result<()> {
        let sent = self.client.attach_internet_gateway().internet_gateway_id(igw_id).vpc_id(vpc_id).send().await;
        done(sent, about("internet gateway", igw_id))
    }

    async fn detach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> Result<()> {
        let sent = self.client.detach_internet_gateway().internet_gateway_id(igw_id).vpc_id(vpc_id).send().await;
        done(sent, about("internet gateway", igw_id))
    }

    async fn delete_internet_gateway(&self, id: &str) -> Result<()> {
        let sent = self.client.delete_internet_gateway().internet_gateway_id(id).send().await;
        done(sent, about("internet gateway", id))
    }

    async fn describe_internet_gateways(&self, filter: &Filter) -> Result<Vec<InternetGateway>> {
        let pages = self
            .client
            .describe_internet_gateways()
            .set_internet_gateway_ids(ids(filter))
            .set_filters(server_filters(filter, Some("attachment.vpc-id")))
            .into_paginator()
            .items()
            .send();
        let subject = filter.ids.join(",");
        every(pages, about("internet gateway", &subject), |item| {
            let g = igw_of(&item);
            let vpc = match &filter.vpc_id {
                Some(want) => g.attached_vpc_ids.iter().find(|v| *v == want).map(String::as_str),
                None => None,
            };
            keep(filter, &g.id, &g.tags, vpc).then_some(g)
        })
        .await
    }

    async fn allocate_address(&self, tags: &Tags) -> Result<Address> {
        let out = self
            .client
            .allocate_address()
            .domain(DomainType::Vpc)
            .set_tag_specifications(tag_spec(ResourceType::ElasticIp, tags))
            .send()
            .await
            .map_err(|e| map(e, about("elastic ip", "")))?;
        Ok(Address {
            allocation_id: out.allocation_id().ok_or_else(|| missing("allocation id"))?.to_string(),
            public_ip: s(out.public_ip()),
            association_id: None,
            instance_id: None,
            network_interface_id: None,
            tags: tags.clone(),
        })
    }

    async fn associate_address(&self, allocation_id: &str, instance_id: &str) -> Result<String> {
        let out = self
            .client
            .associate_address()
            .allocation_id(allocation_id)
            .instance_id(instance_id)
            .allow_reassociation(true)
            .send()
            .await
            .map_err(|e| map(e, about("elastic ip", allocation_id)))?;
        Ok(out.association_id().ok_or_else(|| missing("association id"))?.to_string())
    }

    async fn release_address(&self, allocation_id: &str) -> Result<()> {
        let sent = self.client.release_address().allocation_id(allocation_id).send().await;
        done(sent, about("elastic ip", allocation_id))
    }

    async fn describe_addresses(&self, filter: &Filter) -> Result<Vec<Address>> {
        // DescribeAddresses has no pages.
        let out = self
            .client
            .describe_addresses()
            .set_allocation_ids(ids(filter))
            .set_filters(server_filters(filter, None))
            .send()
            .await
            .map_err(|e| map(e, about("elastic ip", &filter.ids.join(","))))?;
        Ok(out.addresses().iter().map(address_of).filter(|a| keep_vpcless(filter, &a.allocation_id, &a.tags)).collect())
    }

    async fn create_nat_gateway(&self, req: CreateNatGateway) -> Result<NatGateway> {
        let out = self
            .client
            .create_nat_gateway()
            .subnet_id(&req.subnet_id)
            .allocation_id(&req.allocation_id)
            .set_client_token(req.client_token.clone())
            .set_tag_specifications(tag_spec(ResourceType::Natgateway, &req.tags))
            .send()
            .await
            .map_err(|e| map(e, about("subnet", &req.subnet_id)))?;
        let n = out.nat_gateway().ok_or_else(|| missing("nat gateway"))?;
        let mut nat = NatGateway { tags: tags_or(n.tags(), &req.tags), ..nat_of(n) };
        nat.allocation_id = nat.allocation_id.or(Some(req.allocation_id));
        if nat.subnet_id.is_empty() {
            nat.subnet_id = req.subnet_id;
        }
        Ok(nat)
    }

    async fn delete_nat_gateway(&self, id: &str) -> Result<()> {
        let sent = self.client.delete_nat_gateway().nat_gateway_id(id).send().await;
        done(sent, about("nat gateway", id))
    }

    async fn describe_nat_gateways(&self, filter: &Filter) -> Result<Vec<NatGateway>> {
        let pages = self
            .client
            .describe_nat_gateways()
            .set_nat_gateway_ids(ids(filter))
            .set_filter(server_filters(filter, Some("vpc-id")))
            .into_paginator()
            .items()
            .send();
        let subject = filter.ids.join(",");
        every(pages, about("nat gateway", &subject), |item| {
            let n = nat_of(&item);
            keep(filter, &n.id, &n.tags, Some(&n.vpc_id)).then_some(n)
        })
        .await
    }

    async fn create_route_table(&self, vpc_id: &str, tags: &Tags) -> Result<RouteTable> {
        let out = self
            .client
            .create_route_table()
            .vpc_id(vpc_id)
            .set_tag_specifications(tag_spec(ResourceType::RouteTable, tags))
            .send()
            .await
            .map_err(|e| map(e, about("vpc", vpc_id)))?;
        let t = out.route_table().ok_or_else(|| missing("route table"))?;
        Ok(RouteTable { tags: tags_or(t.tags(), tags), ..route_table_of(t) })
    }

    async fn create_route(&self, route_table_id: &str, destination_cidr: &str, target: &RouteTarget) -> Result<()> {
        let mut call =
            self.client.create_route().route_table_id(route_table_id).destination_cidr_block(destination_cidr);
        call = match target {
            RouteTarget::Local => {
                return Err(Error::invalid("the local route exists with the VPC and cannot be created"))
            }
            RouteTarget::InternetGateway(id) => call.gateway_id(id),
            RouteTarget::NatGateway(id) => call.nat_gateway_id(id),
            RouteTarget::Peering(id) => call.vpc_peering_connection_id(id),
            RouteTarget::NetworkInterface(id) => call.network_interface_id(id),
        };
        let out = call
            .send()
            .await
            .map_err(|e| map(e, about("route", &format!("{destination_cidr} in {route_table_id}"))))?;
        if out.r#return() == Some(false) {
            return Err(Error::Other { code: "RouteNotCreated".into(), message: "CreateRoute returned false".into() });
        }
        Ok(())
    }

    async fn replace_route(&self, route_table_id: &str, destination_cidr: &str, target: &RouteTarget) -> Result<()> {
        let mut call =
            self.client.replace_route().route_table_id(route_table_id).destination_cidr_block(destination_cidr);
        call = match target {
            RouteTarget::Local => return Err(Error::invalid("the local route of a VPC cannot be replaced")),
            RouteTarget::InternetGateway(id) => call.gateway_id(id),
            RouteTarget::NatGateway(id) => call.nat_gateway_id(id),
            RouteTarget::Peering(id) => call.vpc_peering_connection_id(id),
            RouteTarget::NetworkInterface(id) => call.network_interface_id(id),
        };
        let sent = call.send().await;
        done(sent, about("route", &format!("{destination_cidr} in {route_table_id}")))
    }

    async fn delete_route(&self, route_table_id: &str, destination_cidr: &str) -> Result<()> {
        let sent = self
            .client
            .delete_route()
            .route_table_id(route_table_id)
            .destination_cidr_block(destination_cidr)
            .send()
            .await;
        done(sent, about("route", &format!("{destination_cidr} in {route_table_id}")))
    }

    async fn associate_route_table(&self, route_table_id: &str, subnet_id: &str) -> Result<String> {
        let out = self
            .client
            .associate_route_table()
            .route_table_id(route_table_id)
            .subnet_id(subnet_id)
            .send()
            .await
            .map_err(|e| map(e, about("route table", route_table_id)))?;
        Ok(out.association_id().ok_or_else(|| missing("association id"))?.to_string())
    }

    async fn disassociate_route_table(&self, association_id: &str) -> Result<()> {
        let sent = self.client.disassociate_route_table().association_id(association_id).send().await;
        done(sent, about("association", association_id))
    }

    async fn delete_route_table(&self, id: &str) -> Result<()> {
        let sent = self.client.delete_route_table().route_table_id(id).send().await;
        done(sent, about("route table", id))
    }

    async fn describe_route_tables(&self, filter: &Filter) -> Result<Vec<RouteTable>> {
        let pages = self
            .client
            .describe_route_tables()
            .set_route_table_ids(ids(filter))
            .set_filters(server_filters(filter, Some("vpc-id")))
            .into_paginator()
            .items()
            .send();
        let subject = filter.ids.join(",");
        every(pages, about("route table", &subject), |item| {
            let t = route_table_of(&item);
            keep(filter, &t.id, &t.tags, Some(&t.vpc_id)).then_some(t)
        })
        .await
    }

    async fn create_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        description: &str,
        tags: &Tags,
    ) -> Result<SecurityGroup> {
        let out = self
            .client
            .create_security_group()
            .vpc_id(vpc_id)
            .group_name(name)
            .description(description)
            .set_tag_specifications(tag_spec(ResourceType::SecurityGroup, tags))
            .send()
            .await
            .map_err(|e| map(e, about("security group", name)))?;
        Ok(SecurityGroup {
            id: out.group_id().ok_or_else(|| missing("group id"))?.to_string(),
            name: name.to_string(),
            vpc_id: vpc_id.to_string(),
            ingress: Vec::new(),
            // Every new group allows all outbound traffic.
            egress: vec![SecurityRule {
                protocol: "-1".into(),
                from_port: 0,
                to_port: 0,
                cidr: Some("0.0.0.0/0".into()),
                source_group_id: None,
                description: None,
            }],
            tags: tags_or(out.tags(), tags),
        })
    }

    async fn delete_security_group(&self, id: &str) -> Result<()> {
        let sent = self.client.delete_security_group().group_id(id).send().await;
        done(sent, about("security group", id))
    }

    async fn describe_security_groups(&self, filter: &Filter) -> Result<Vec<SecurityGroup>> {
        // `ids` match group ids or names: ids go in GroupIds, names in a `group-name` filter;
        // a mix is matched in memory.
        let (group_ids, names): (Vec<String>, Vec<String>) =
            filter.ids.iter().cloned().partition(|i| i.starts_with("sg-"));
        let mut filters = server_filters(filter, Some("vpc-id")).unwrap_or_default();
        let mut call = self.client.describe_security_groups();
        if names.is_empty() && !group_ids.is_empty() {
            call = call.set_group_ids(Some(group_ids));
        } else if group_ids.is_empty() && !names.is_empty() {
            filters.push(ec2_filter("group-name", names));
        }
        let pages = call.set_filters((!filters.is_empty()).then_some(filters)).into_paginator().items().send();
        let subject = filter.ids.join(",");
        every(pages, about("security group", &subject), |item| {
            let g = security_group_of(&item);
            let id_ok = filter.ids.is_empty() || filter.ids.iter().any(|i| *i == g.id || *i == g.name);
            let rest = Filter { ids: Vec::new(), ..filter.clone() };
            (id_ok && keep(&rest, &g.id, &g.tags, Some(&g.vpc_id))).then_some(g)
        })
        .await
    }

    async fn authorize_ingress(&self, group_id: &str, rules: &[SecurityRule]) -> Result<()> {
        let sent = self
            .client
            .authorize_security_group_ingress()
            .group_id(group_id)
            .set_ip_permissions(Some(permissions_of(rules)))
            .send()
            .await;
        done(sent, about("security group rule", group_id))
    }

    async fn authorize_egress(&self, group_id: &str, rules: &[SecurityRule]) -> Result<()> {
        let sent = self
            .client
            .authorize_security_group_egress()
            .group_id(group_id)
            .set_ip_permissions(Some(permissions_of(rules)))
            .send()
            .await;
        done(sent, about("security group rule", group_id))
    }

    async fn revoke_ingress(&self, group_id: &str, rules: &[SecurityRule]) -> Result<()> {
        let sent = self
            .client
            .revoke_security_group_ingress()
            .group_id(group_id)
            .set_ip_permissions(Some(permissions_of(rules)))
            .send()
            .await;
        done(sent, about("security group rule", group_id))
    }

    async fn create_network_interface(
        &self,
        subnet_id: &str,
        group_ids: &[String],
        tags: &Tags,
    ) -> Result<NetworkInterface> {
        let out = self
            .client
            .create_network_interface()
            .subnet_id(subnet_id)
            .set_groups((!group_ids.is_empty()).then(|| group_ids.to_vec()))
            .set_tag_specifications(tag_spec(ResourceType::NetworkInterface, tags))
            .send()
            .await
            .map_err(|e| map(e, about("subnet", subnet_id)))?;
        let n = out.network_interface().ok_or_else(|| missing("network interface"))?;
        Ok(NetworkInterface { tags: tags_or(n.tag_set(), tags), ..eni_of(n) })
    }

    async fn delete_network_interface(&self, id: &str) -> Result<()> {
        let sent = self.client.delete_network_interface().network_interface_id(id).send().await;
        done(sent, about("network interface", id))
    }

    async fn describe_network_interfaces(&self, filter: &Filter) -> Result<Vec<NetworkInterface>> {
        let pages = self
            .client
            .describe_network_interfaces()
            .set_network_interface_ids(ids(filter))
            .set_filters(server_filters(filter, Some("vpc-id")))
            .into_paginator()
            .items()
            .send();
        let subject = filter.ids.join(",");
        every(pages, about("network interface", &subject), |item| {
            let n = eni_of(&item);
            keep(filter, &n.id, &n.tags, Some(&n.vpc_id)).then_some(n)
        })
        .await
    }

    async fn create_vpc_peering(&self, vpc_id: &str, peer_vpc_id: &str, tags: &Tags) -> Result<PeeringConnection> {
        let out = self
            .client
            .create_vpc_peering_connection()
            .vpc_id(vpc_id)
            .peer_vpc_id(peer_vpc_id)
            .set_tag_specifications(tag_spec(ResourceType::VpcPeeringConnection, tags))
            .send()
            .await
            .map_err(|e| map(e, about("vpc", &format!("{vpc_id} / {peer_vpc_id}"))))?;
        let p = out.vpc_peering_connection().ok_or_else(|| missing("vpc peering connection"))?;
        let mut peering = PeeringConnection { tags: tags_or(p.tags(), tags), ..peering_of(p) };
        if peering.requester_vpc_id.is_empty() {
            peering.requester_vpc_id = vpc_id.to_string();
        }
        if peering.accepter_vpc_id.is_empty() {
            peering.accepter_vpc_id = peer_vpc_id.to_string();
        }
        Ok(peering)
    }

    async fn accept_vpc_peering(&self, id: &str) -> Result<PeeringConnection> {
        let out = self
            .client
            .accept_vpc_peering_connection()
            .vpc_peering_connection_id(id)
            .send()
            .await
            .map_err(|e| map(e, about("vpc peering connection", id)))?;
        let p = out.vpc_peering_connection().ok_or_else(|| missing("vpc peering connection"))?;
        Ok(peering_of(p))
    }

    async fn delete_vpc_peering(&self, id: &str) -> Result<()> {
        let sent = self.client.delete_vpc_peering_connection().vpc_peering_connection_id(id).send().await;
        done(sent, about("vpc peering connection", id))
    }

    async fn describe_vpc_peerings(&self, filter: &Filter) -> Result<Vec<PeeringConnection>> {
        // `vpc_id` matches either side: filtered in memory.
        let pages = self
            .client
            .describe_vpc_peering_connections()
            .set_vpc_peering_connection_ids(ids(filter))
            .set_filters(server_filters(filter, None))
            .into_paginator()
            .items()
            .send();
        let subject = filter.ids.join(",");
        every(pages, about("vpc peering connection", &subject), |item| {
            let p = peering_of(&item);
            let vpc = match &filter.vpc_id {
                Some(want) if *want == p.accepter_vpc_id => Some(p.accepter_vpc_id.as_str()),
                _ => Some(p.requester_vpc_id.as_str()),
            };
            keep(filter, &p.id, &p.tags, vpc).then_some(p)
        })
        .await
    }

    async fn create_tags(&self, resource_ids: &[String], tags: &Tags) -> Result<()> {
        let sent = self
            .client
            .create_tags()
            .set_resources(Some(resource_ids.to_vec()))
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await;
        done(sent, about("resource", &resource_ids.join(",")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_round_trip_through_permissions() {
        let rules = vec![
            SecurityRule {
                protocol: "tcp".into(),
                from_port: 443,
                to_port: 443,
                cidr: Some("10.0.0.0/16".into()),
                source_group_id: None,
                description: Some("https".into()),
            },
            SecurityRule {
                protocol: "-1".into(),
                from_port: 0,
                to_port: 0,
                cidr: None,
                source_group_id: Some("sg-1".into()),
                description: None,
            },
        ];
        let mut back = rules_of(&permissions_of(&rules));
        back.sort();
        let mut want = rules.clone();
        want.sort();
        assert_eq!(back, want);
    }

    #[test]
    fn routes_map_their_targets() {
        let local = ec2::Route::builder().destination_cidr_block("10.0.0.0/16").gateway_id("local").build();
        let igw = ec2::Route::builder().destination_cidr_block("0.0.0.0/0").gateway_id("igw-1").build();
        let nat = ec2::Route::builder().destination_cidr_block("0.0.0.0/0").nat_gateway_id("nat-1").build();
        let v6 = ec2::Route::builder().destination_ipv6_cidr_block("::/0").gateway_id("igw-1").build();
        assert_eq!(route_of(&local).map(|r| r.target), Some(RouteTarget::Local));
        assert_eq!(route_of(&igw).map(|r| r.target), Some(RouteTarget::InternetGateway("igw-1".into())));
        assert_eq!(route_of(&nat).map(|r| r.target), Some(RouteTarget::NatGateway("nat-1".into())));
        assert_eq!(route_of(&v6), None);
    }
}
