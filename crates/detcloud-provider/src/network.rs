//! EC2 networking: availability zones, VPCs, subnets, gateways, elastic IPs, route tables,
//! security groups, network interfaces and VPC peering.

use std::fmt;

use async_trait::async_trait;

use crate::{Filter, Result, Tags};

/// The text of the IPv4 CIDR block `addr`/`prefix` (`10.0.1.0/24`), written digit by digit:
/// plans, describes and checks format thousands of blocks, and `Ipv4Addr`'s `Display` pads.
pub fn format_cidr(addr: u32, prefix: u8) -> String {
    fn decimal(out: &mut String, n: u8) {
        if n >= 100 {
            out.push(char::from(b'0' + n / 100));
        }
        if n >= 10 {
            out.push(char::from(b'0' + n / 10 % 10));
        }
        out.push(char::from(b'0' + n % 10));
    }
    let mut out = String::with_capacity(18);
    for (i, octet) in addr.to_be_bytes().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        decimal(&mut out, octet);
    }
    out.push('/');
    decimal(&mut out, prefix);
    out
}

/// An availability zone of the region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvailabilityZone {
    /// The zone name, such as `us-west-2a`.
    pub name: String,
    /// The zone id, such as `usw2-az1` (the same physical zone in every account).
    pub zone_id: String,
    /// `available`, `impaired`, ...
    pub state: String,
}

/// A VPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vpc {
    /// `vpc-...`.
    pub id: String,
    /// The primary IPv4 CIDR block.
    pub cidr: String,
    /// `pending` or `available`.
    pub state: String,
    /// True for the region's default VPC.
    pub is_default: bool,
    /// Tags.
    pub tags: Tags,
}

/// A subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    /// `subnet-...`.
    pub id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// The IPv4 CIDR block.
    pub cidr: String,
    /// The availability zone name.
    pub availability_zone: String,
    /// True when instances launched in it get a public IPv4 address.
    pub map_public_ip_on_launch: bool,
    /// `pending` or `available`.
    pub state: String,
    /// Tags.
    pub tags: Tags,
}

/// A request to create a subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateSubnet {
    /// The VPC.
    pub vpc_id: String,
    /// The IPv4 CIDR block, inside the VPC's.
    pub cidr: String,
    /// The availability zone name.
    pub availability_zone: String,
    /// Tags, applied atomically with the creation.
    pub tags: Tags,
}

/// An internet gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternetGateway {
    /// `igw-...`.
    pub id: String,
    /// The VPCs it is attached to (at most one).
    pub attached_vpc_ids: Vec<String>,
    /// Tags.
    pub tags: Tags,
}

/// An elastic IP address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// `eipalloc-...`.
    pub allocation_id: String,
    /// The public IPv4 address.
    pub public_ip: String,
    /// `eipassoc-...` when associated.
    pub association_id: Option<String>,
    /// The instance it is associated with.
    pub instance_id: Option<String>,
    /// The network interface it is associated with (a NAT gateway's, for instance).
    pub network_interface_id: Option<String>,
    /// Tags.
    pub tags: Tags,
}

/// The lifecycle state of a NAT gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NatGatewayState {
    /// Being created (about two minutes on AWS).
    Pending,
    /// Routing traffic.
    Available,
    /// Being deleted (about a minute on AWS).
    Deleting,
    /// Deleted; still listed for about an hour.
    Deleted,
    /// Creation failed; the failure message says why.
    Failed,
}

impl fmt::Display for NatGatewayState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NatGatewayState::Pending => "pending",
            NatGatewayState::Available => "available",
            NatGatewayState::Deleting => "deleting",
            NatGatewayState::Deleted => "deleted",
            NatGatewayState::Failed => "failed",
        })
    }
}

/// A NAT gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatGateway {
    /// `nat-...`.
    pub id: String,
    /// The public subnet it lives in.
    pub subnet_id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Its state.
    pub state: NatGatewayState,
    /// The elastic IP allocation it uses.
    pub allocation_id: Option<String>,
    /// Why creation failed, for [`NatGatewayState::Failed`].
    pub failure_message: Option<String>,
    /// Tags.
    pub tags: Tags,
}

/// A request to create a NAT gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateNatGateway {
    /// A public subnet.
    pub subnet_id: String,
    /// An unassociated elastic IP allocation.
    pub allocation_id: String,
    /// An idempotency token: the same token returns the same gateway.
    pub client_token: Option<String>,
    /// Tags.
    pub tags: Tags,
}

/// Where a route sends traffic.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RouteTarget {
    /// The VPC itself (`local`).
    Local,
    /// An internet gateway.
    InternetGateway(String),
    /// A NAT gateway.
    NatGateway(String),
    /// A VPC peering connection.
    Peering(String),
    /// A network interface.
    NetworkInterface(String),
}

/// One route of a route table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Route {
    /// The destination IPv4 CIDR block.
    pub destination_cidr: String,
    /// Where it goes.
    pub target: RouteTarget,
    /// `active`, or `blackhole` when the target is gone.
    pub state: String,
}

/// A subnet's association with a route table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTableAssociation {
    /// `rtbassoc-...`.
    pub id: String,
    /// The subnet, unless this is the main association.
    pub subnet_id: Option<String>,
    /// True for the VPC's main route table association.
    pub main: bool,
}

/// A route table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTable {
    /// `rtb-...`.
    pub id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Its routes, the `local` route included.
    pub routes: Vec<Route>,
    /// Its associations.
    pub associations: Vec<RouteTableAssociation>,
    /// Tags.
    pub tags: Tags,
}

/// One security group rule (ingress or egress).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecurityRule {
    /// `tcp`, `udp`, `icmp` or `-1` (all).
    pub protocol: String,
    /// The first port (or ICMP type); `-1`-protocol rules use 0.
    pub from_port: i32,
    /// The last port (or ICMP code).
    pub to_port: i32,
    /// An IPv4 CIDR the rule admits, or
    pub cidr: Option<String>,
    /// a security group the rule admits.
    pub source_group_id: Option<String>,
    /// A description.
    pub description: Option<String>,
}

/// A security group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroup {
    /// `sg-...`.
    pub id: String,
    /// Its name (`default` for the VPC's default group).
    pub name: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Inbound rules.
    pub ingress: Vec<SecurityRule>,
    /// Outbound rules.
    pub egress: Vec<SecurityRule>,
    /// Tags.
    pub tags: Tags,
}

/// A network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkInterface {
    /// `eni-...`.
    pub id: String,
    /// Its subnet.
    pub subnet_id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// `available` (detached) or `in-use`.
    pub status: String,
    /// The private IPv4 address.
    pub private_ip: Option<String>,
    /// What it belongs to: an instance id, `nat_gateway`, `rds`, ...
    pub attached_to: Option<String>,
    /// Tags.
    pub tags: Tags,
}

/// The state of a VPC peering connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeeringState {
    /// Waiting for the accepter.
    PendingAcceptance,
    /// Routing.
    Active,
    /// Deleted or rejected.
    Deleted,
    /// Could not be established (overlapping CIDRs, ...).
    Failed,
}

/// A VPC peering connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeeringConnection {
    /// `pcx-...`.
    pub id: String,
    /// The requester's VPC.
    pub requester_vpc_id: String,
    /// The accepter's VPC.
    pub accepter_vpc_id: String,
    /// Its state.
    pub state: PeeringState,
    /// Tags.
    pub tags: Tags,
}

/// EC2 networking.
///
/// # Contract
/// - Every `create_*` that takes tags applies them atomically (`TagSpecifications`): a resource
///   never exists untagged.
/// - Every `describe_*` returns all pages; an id in the filter that does not exist fails with
///   [`Error::NotFound`](crate::Error::NotFound), as EC2 does (`InvalidVpcID.NotFound`, ...).
/// - Deleting something another resource still needs fails with
///   [`Error::DependencyViolation`](crate::Error::DependencyViolation) and changes nothing: a VPC
///   with subnets, an attached internet gateway, or interfaces; a subnet with instances or
///   interfaces; an attached internet gateway; an associated elastic IP; a route table with
///   subnet associations.
/// - Deleting what does not exist fails with NotFound; engines treat that as done.
/// - Quotas (VPCs, elastic IPs, NAT gateways per AZ, internet gateways) fail with
///   [`Error::QuotaExceeded`](crate::Error::QuotaExceeded) carrying the quota code where known.
#[async_trait]
pub trait Network: Send + Sync + fmt::Debug + 'static {
    /// `ec2:DescribeAvailabilityZones` (available zones of the region).
    async fn describe_availability_zones(&self) -> Result<Vec<AvailabilityZone>>;

    /// `ec2:CreateVpc`.
    async fn create_vpc(&self, cidr: &str, tags: &Tags) -> Result<Vpc>;
    /// `ec2:DescribeVpcs`.
    async fn describe_vpcs(&self, filter: &Filter) -> Result<Vec<Vpc>>;
    /// `ec2:DeleteVpc`.
    async fn delete_vpc(&self, id: &str) -> Result<()>;

    /// `ec2:CreateSubnet`.
    async fn create_subnet(&self, request: CreateSubnet) -> Result<Subnet>;
    /// `ec2:DescribeSubnets`.
    async fn describe_subnets(&self, filter: &Filter) -> Result<Vec<Subnet>>;
    /// `ec2:DeleteSubnet`.
    async fn delete_subnet(&self, id: &str) -> Result<()>;

    /// `ec2:CreateInternetGateway`.
    async fn create_internet_gateway(&self, tags: &Tags) -> Result<InternetGateway>;
    /// `ec2:AttachInternetGateway`.
    async fn attach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> Result<()>;
    /// `ec2:DetachInternetGateway`.
    async fn detach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> Result<()>;
    /// `ec2:DeleteInternetGateway`.
    async fn delete_internet_gateway(&self, id: &str) -> Result<()>;
    /// `ec2:DescribeInternetGateways` (`vpc_id` filters by attachment).
    async fn describe_internet_gateways(&self, filter: &Filter) -> Result<Vec<InternetGateway>>;

    /// `ec2:AllocateAddress` (domain `vpc`).
    async fn allocate_address(&self, tags: &Tags) -> Result<Address>;
    /// `ec2:AssociateAddress` with an instance; returns the association id. An address on another
    /// instance moves (`AllowReassociation`); one a NAT gateway uses fails with InvalidInput.
    async fn associate_address(&self, allocation_id: &str, instance_id: &str) -> Result<String>;
    /// `ec2:ReleaseAddress`.
    async fn release_address(&self, allocation_id: &str) -> Result<()>;
    /// `ec2:DescribeAddresses`.
    async fn describe_addresses(&self, filter: &Filter) -> Result<Vec<Address>>;

    /// `ec2:CreateNatGateway`; the gateway starts `pending`.
    async fn create_nat_gateway(&self, request: CreateNatGateway) -> Result<NatGateway>;
    /// `ec2:DeleteNatGateway`; the gateway goes `deleting`, then `deleted`.
    async fn delete_nat_gateway(&self, id: &str) -> Result<()>;
    /// `ec2:DescribeNatGateways`.
    async fn describe_nat_gateways(&self, filter: &Filter) -> Result<Vec<NatGateway>>;

    /// `ec2:CreateRouteTable`.
    async fn create_route_table(&self, vpc_id: &str, tags: &Tags) -> Result<RouteTable>;
    /// `ec2:CreateRoute`; an existing route to the same destination fails with AlreadyExists.
    async fn create_route(&self, route_table_id: &str, destination_cidr: &str, target: &RouteTarget) -> Result<()>;
    /// `ec2:ReplaceRoute`: points the existing route to `destination_cidr` at `target` (NotFound
    /// when there is no such route).
    async fn replace_route(&self, route_table_id: &str, destination_cidr: &str, target: &RouteTarget) -> Result<()>;
    /// `ec2:DeleteRoute`: removes the route to `destination_cidr` (NotFound when there is none;
    /// the `local` route cannot be deleted).
    async fn delete_route(&self, route_table_id: &str, destination_cidr: &str) -> Result<()>;
    /// `ec2:AssociateRouteTable`; returns the association id.
    async fn associate_route_table(&self, route_table_id: &str, subnet_id: &str) -> Result<String>;
    /// `ec2:DisassociateRouteTable`.
    async fn disassociate_route_table(&self, association_id: &str) -> Result<()>;
    /// `ec2:DeleteRouteTable`.
    async fn delete_route_table(&self, id: &str) -> Result<()>;
    /// `ec2:DescribeRouteTables`.
    async fn describe_route_tables(&self, filter: &Filter) -> Result<Vec<RouteTable>>;

    /// `ec2:CreateSecurityGroup` (not granted to the cross-account role: clusters use the VPC's
    /// default group).
    async fn create_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        description: &str,
        tags: &Tags,
    ) -> Result<SecurityGroup>;
    /// `ec2:DeleteSecurityGroup`.
    async fn delete_security_group(&self, id: &str) -> Result<()>;
    /// `ec2:DescribeSecurityGroups` (`ids` match group ids or names).
    async fn describe_security_groups(&self, filter: &Filter) -> Result<Vec<SecurityGroup>>;
    /// `ec2:AuthorizeSecurityGroupIngress`; a duplicate rule fails with AlreadyExists.
    async fn authorize_ingress(&self, group_id: &str, rules: &[SecurityRule]) -> Result<()>;
    /// `ec2:AuthorizeSecurityGroupEgress`; a duplicate rule fails with AlreadyExists.
    async fn authorize_egress(&self, group_id: &str, rules: &[SecurityRule]) -> Result<()>;
    /// `ec2:RevokeSecurityGroupIngress`.
    async fn revoke_ingress(&self, group_id: &str, rules: &[SecurityRule]) -> Result<()>;

    /// `ec2:CreateNetworkInterface`.
    async fn create_network_interface(
        &self,
        subnet_id: &str,
        group_ids: &[String],
        tags: &Tags,
    ) -> Result<NetworkInterface>;
    /// `ec2:DeleteNetworkInterface` (in-use interfaces fail with DependencyViolation).
    async fn delete_network_interface(&self, id: &str) -> Result<()>;
    /// `ec2:DescribeNetworkInterfaces`.
    async fn describe_network_interfaces(&self, filter: &Filter) -> Result<Vec<NetworkInterface>>;

    /// `ec2:CreateVpcPeeringConnection` in the same account and region.
    async fn create_vpc_peering(&self, vpc_id: &str, peer_vpc_id: &str, tags: &Tags) -> Result<PeeringConnection>;
    /// `ec2:AcceptVpcPeeringConnection`.
    async fn accept_vpc_peering(&self, id: &str) -> Result<PeeringConnection>;
    /// `ec2:DeleteVpcPeeringConnection`.
    async fn delete_vpc_peering(&self, id: &str) -> Result<()>;
    /// `ec2:DescribeVpcPeeringConnections` (`vpc_id` matches either side).
    async fn describe_vpc_peerings(&self, filter: &Filter) -> Result<Vec<PeeringConnection>>;

    /// `ec2:CreateTags` on any EC2 resource ids.
    async fn create_tags(&self, resource_ids: &[String], tags: &Tags) -> Result<()>;
}

#[cfg(test)]
mod tests {
    #[test]
    fn cidrs_are_formatted_as_ipv4_addr_does() {
        for (addr, prefix) in [(0u32, 0u8), (0x0a00_0100, 24), (0xffff_ffff, 32), (0xac10_0a09, 9), (0x6463_0001, 100)]
        {
            let want = format!("{}/{prefix}", std::net::Ipv4Addr::from(addr));
            assert_eq!(super::format_cidr(addr, prefix), want);
        }
    }
}
