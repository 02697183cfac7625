//! EC2 networking: ids, the VPC's built-in route table and security group, CIDR rules,
//! dependency violations, NAT gateway lifecycle, quotas, filters, peering and regions.

mod common;

use common::*;
use detcloud_provider::{
    Cloud, CreateNatGateway, Error, Filter, NatGatewayState, PeeringState, RouteTarget, SecurityRule, Tags,
};

fn is_ec2_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(|h| h.len() == 17 && h.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
}

fn nat(subnet_id: &str, allocation_id: &str) -> CreateNatGateway {
    CreateNatGateway {
        subnet_id: subnet_id.into(),
        allocation_id: allocation_id.into(),
        client_token: None,
        tags: Tags::new(),
    }
}

fn tcp(port: i32, cidr: &str) -> SecurityRule {
    SecurityRule {
        protocol: "tcp".into(),
        from_port: port,
        to_port: port,
        cidr: Some(cidr.into()),
        source_group_id: None,
        description: None,
    }
}

#[tokio::test]
async fn a_vpc_comes_with_a_main_route_table_and_a_default_group() {
    let cloud = customer();
    let net = cloud.network();
    let vpc = net.create_vpc("10.0.0.0/16", &tags(&[("Name", "main")])).await.unwrap();
    assert!(is_ec2_id(&vpc.id, "vpc"), "{}", vpc.id);
    assert_eq!((vpc.state.as_str(), vpc.is_default), ("available", false));

    let tables = net.describe_route_tables(&Filter::all().in_vpc(&vpc.id)).await.unwrap();
    assert_eq!(tables.len(), 1);
    let main = &tables[0];
    assert!(is_ec2_id(&main.id, "rtb"));
    assert_eq!(main.routes.len(), 1);
    assert_eq!(main.routes[0].destination_cidr, "10.0.0.0/16");
    assert_eq!(main.routes[0].target, RouteTarget::Local);
    assert_eq!(main.routes[0].state, "active");
    assert!(main.associations[0].main && main.associations[0].subnet_id.is_none());
    assert!(is_ec2_id(&main.associations[0].id, "rtbassoc"));

    let groups = net.describe_security_groups(&Filter::id("default").in_vpc(&vpc.id)).await.unwrap();
    assert_eq!(groups.len(), 1);
    let default = &groups[0];
    assert!(is_ec2_id(&default.id, "sg"));
    assert_eq!(default.egress.len(), 1);
    assert_eq!((default.egress[0].protocol.as_str(), default.egress[0].cidr.as_deref()), ("-1", Some("0.0.0.0/0")));
    assert_eq!(default.ingress[0].source_group_id.as_deref(), Some(default.id.as_str()));

    let zones = net.describe_availability_zones().await.unwrap();
    let names: Vec<(&str, &str)> = zones.iter().map(|z| (z.name.as_str(), z.zone_id.as_str())).collect();
    assert_eq!(
        names,
        [
            ("us-west-2a", "usw2-az1"),
            ("us-west-2b", "usw2-az2"),
            ("us-west-2c", "usw2-az3"),
            ("us-west-2d", "usw2-az4")
        ]
    );
}

#[tokio::test]
async fn ids_are_deterministic() {
    let ids = |cloud: detcloud_fake::FakeCloud| async move {
        let (vpc, subnets) = network(&cloud).await;
        (vpc.id, subnets[1].id.clone())
    };
    assert_eq!(ids(customer()).await, ids(customer()).await);
}

#[tokio::test]
async fn cidrs_and_zones_are_validated() {
    let cloud = customer();
    let net = cloud.network();
    for bad in ["10.0.0.0/15", "10.0.0.0/29", "10.0.0.1/16", "10.0.0.0", "300.0.0.0/16"] {
        invalid_message(net.create_vpc(bad, &Tags::new()).await);
    }
    let vpc = net.create_vpc("10.0.0.0/16", &Tags::new()).await.unwrap();
    net.create_subnet(subnet(&vpc.id, "10.0.1.0/24", "us-west-2a")).await.unwrap();
    let outside = invalid_message(net.create_subnet(subnet(&vpc.id, "10.1.0.0/24", "us-west-2a")).await);
    assert!(outside.starts_with("InvalidSubnet.Range"), "{outside}");
    let overlap = invalid_message(net.create_subnet(subnet(&vpc.id, "10.0.1.128/25", "us-west-2b")).await);
    assert!(overlap.starts_with("InvalidSubnet.Conflict"), "{overlap}");
    let zone = invalid_message(net.create_subnet(subnet(&vpc.id, "10.0.2.0/24", "us-west-2z")).await);
    assert!(zone.contains("us-west-2a, us-west-2b"), "{zone}");
    invalid_message(net.create_subnet(subnet(&vpc.id, "10.0.2.0/24", "eu-west-1a")).await);
    invalid_message(net.create_subnet(subnet(&vpc.id, "10.0.2.0/29", "us-west-2a")).await);
    assert!(net
        .create_subnet(subnet("vpc-0123456789abcdef0", "10.0.2.0/24", "us-west-2a"))
        .await
        .unwrap_err()
        .is_not_found());
    let malformed = invalid_message(net.describe_vpcs(&Filter::id("vpc-nope")).await);
    assert!(malformed.starts_with("InvalidVpcID.Malformed"), "{malformed}");
    assert_eq!(net.describe_subnets(&Filter::all()).await.unwrap().len(), 1, "failures created nothing");
}

#[tokio::test]
async fn delete_vpc_refuses_while_anything_depends_on_it() {
    let cloud = customer();
    let net = cloud.network();
    let vpc = net.create_vpc("10.0.0.0/16", &Tags::new()).await.unwrap();
    let other = net.create_vpc("10.1.0.0/16", &Tags::new()).await.unwrap();
    // A refused delete changes nothing at all.
    let blocked = || async {
        let before = cloud.to_json();
        let message = conflict_message(net.delete_vpc(&vpc.id).await);
        assert_eq!(cloud.to_json(), before);
        message
    };

    let s = net.create_subnet(subnet(&vpc.id, "10.0.1.0/24", "us-west-2a")).await.unwrap();
    assert!(blocked().await.contains(&vpc.id));
    net.delete_subnet(&s.id).await.unwrap();

    let igw = net.create_internet_gateway(&Tags::new()).await.unwrap();
    net.attach_internet_gateway(&igw.id, &vpc.id).await.unwrap();
    blocked().await;
    net.detach_internet_gateway(&igw.id, &vpc.id).await.unwrap();

    let rtb = net.create_route_table(&vpc.id, &Tags::new()).await.unwrap();
    blocked().await;
    net.delete_route_table(&rtb.id).await.unwrap();

    let sg = net.create_security_group(&vpc.id, "web", "web servers", &Tags::new()).await.unwrap();
    blocked().await;
    net.delete_security_group(&sg.id).await.unwrap();

    let pcx = net.create_vpc_peering(&vpc.id, &other.id, &Tags::new()).await.unwrap();
    blocked().await;
    net.delete_vpc_peering(&pcx.id).await.unwrap();

    // Nothing changed along the way: the VPC kept its route table and group.
    assert_eq!(net.describe_route_tables(&Filter::all().in_vpc(&vpc.id)).await.unwrap().len(), 1);
    assert_eq!(net.describe_security_groups(&Filter::all().in_vpc(&vpc.id)).await.unwrap().len(), 1);
    net.delete_vpc(&vpc.id).await.unwrap();
    assert!(net.describe_vpcs(&Filter::id(&vpc.id)).await.unwrap_err().is_not_found());
    assert!(net.describe_route_tables(&Filter::all().in_vpc(&vpc.id)).await.unwrap().is_empty());
    assert!(net.delete_vpc(&vpc.id).await.unwrap_err().is_not_found());
}

#[tokio::test(start_paused = true)]
async fn delete_subnet_refuses_while_instances_interfaces_or_nat_gateways_use_it() {
    let cloud = customer();
    let net = cloud.network();
    let (_, subnets) = network(&cloud).await;
    let s = &subnets[0].id;

    let i = cloud.compute().run_instance(instance(s)).await.unwrap();
    conflict_message(net.delete_subnet(s).await);
    cloud.compute().terminate_instances(std::slice::from_ref(&i.id)).await.unwrap();
    assert!(is_conflict(&net.delete_subnet(s).await), "shutting-down still holds the subnet");
    advance(30).await;

    let eni = net.create_network_interface(s, &[], &Tags::new()).await.unwrap();
    assert_eq!(eni.status, "available");
    conflict_message(net.delete_subnet(s).await);
    net.delete_network_interface(&eni.id).await.unwrap();

    let eip = net.allocate_address(&Tags::new()).await.unwrap();
    let gw = net.create_nat_gateway(nat(s, &eip.allocation_id)).await.unwrap();
    conflict_message(net.delete_subnet(s).await);
    net.delete_nat_gateway(&gw.id).await.unwrap();
    assert!(is_conflict(&net.delete_subnet(s).await), "a deleting NAT gateway still holds the subnet");
    advance(60).await;

    net.delete_subnet(s).await.unwrap();
    // A terminated instance and a deleted NAT gateway are still listed.
    assert_eq!(cloud.compute().describe_instances(&Filter::all()).await.unwrap().len(), 1);
    assert_eq!(net.describe_nat_gateways(&Filter::all()).await.unwrap()[0].state, NatGatewayState::Deleted);
}

#[tokio::test(start_paused = true)]
async fn gateways_and_addresses_refuse_while_in_use() {
    let cloud = customer();
    let net = cloud.network();
    let (vpc, subnets) = network(&cloud).await;
    let igw = net.create_internet_gateway(&Tags::new()).await.unwrap();
    net.attach_internet_gateway(&igw.id, &vpc.id).await.unwrap();
    invalid_message(net.attach_internet_gateway(&igw.id, &vpc.id).await);
    conflict_message(net.delete_internet_gateway(&igw.id).await);

    // An elastic IP on an instance: neither releasable nor detachable.
    let i = cloud.compute().run_instance(instance(&subnets[0].id)).await.unwrap();
    let eip = net.allocate_address(&Tags::new()).await.unwrap();
    assert!(is_ec2_id(&eip.allocation_id, "eipalloc"));
    let assoc = net.associate_address(&eip.allocation_id, &i.id).await.unwrap();
    assert!(is_ec2_id(&assoc, "eipassoc"));
    let described = net.describe_addresses(&Filter::id(&eip.allocation_id)).await.unwrap();
    assert_eq!(described[0].instance_id.as_deref(), Some(i.id.as_str()));
    assert!(conflict_message(net.release_address(&eip.allocation_id).await).starts_with("InvalidIPAddress.InUse"));
    let detach = conflict_message(net.detach_internet_gateway(&igw.id, &vpc.id).await);
    assert!(detach.contains("mapped public address"), "{detach}");
    // Terminating the instance disassociates the address, as EC2 does.
    cloud.compute().terminate_instances(std::slice::from_ref(&i.id)).await.unwrap();
    assert_eq!(net.describe_addresses(&Filter::all()).await.unwrap()[0].association_id, None);

    // An elastic IP on a NAT gateway: held until the gateway is deleted.
    let gw = net.create_nat_gateway(nat(&subnets[0].id, &eip.allocation_id)).await.unwrap();
    let used = &net.describe_addresses(&Filter::all()).await.unwrap()[0];
    assert!(used.network_interface_id.as_deref().is_some_and(|e| is_ec2_id(e, "eni")));
    conflict_message(net.release_address(&eip.allocation_id).await);
    conflict_message(net.detach_internet_gateway(&igw.id, &vpc.id).await);
    net.delete_nat_gateway(&gw.id).await.unwrap();
    conflict_message(net.release_address(&eip.allocation_id).await);
    advance(60).await;
    net.release_address(&eip.allocation_id).await.unwrap();
    advance(30).await;
    net.detach_internet_gateway(&igw.id, &vpc.id).await.unwrap();
    net.delete_internet_gateway(&igw.id).await.unwrap();
    assert!(net.describe_internet_gateways(&Filter::all()).await.unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn nat_gateways_are_pending_then_available_then_deleting_then_deleted() {
    let cloud = customer();
    let net = cloud.network();
    let (_, subnets) = network(&cloud).await;
    let eip = net.allocate_address(&Tags::new()).await.unwrap();
    let mut request = nat(&subnets[0].id, &eip.allocation_id);
    request.client_token = Some("token-1".into());
    let gw = net.create_nat_gateway(request.clone()).await.unwrap();
    assert!(is_ec2_id(&gw.id, "nat"));
    assert_eq!(gw.state, NatGatewayState::Pending);
    assert_eq!(net.create_nat_gateway(request).await.unwrap().id, gw.id, "client token");
    let state = || async { net.describe_nat_gateways(&Filter::id(&gw.id)).await.unwrap()[0].state };
    advance(119).await;
    assert_eq!(state().await, NatGatewayState::Pending);
    advance(1).await;
    assert_eq!(state().await, NatGatewayState::Available);
    net.delete_nat_gateway(&gw.id).await.unwrap();
    assert_eq!(state().await, NatGatewayState::Deleting);
    net.delete_nat_gateway(&gw.id).await.unwrap();
    advance(60).await;
    assert_eq!(state().await, NatGatewayState::Deleted);
    assert!(net.delete_nat_gateway(&gw.id).await.unwrap_err().is_not_found());
    // Listed as deleted for an hour, then gone, as in AWS.
    advance(3599).await;
    assert_eq!(state().await, NatGatewayState::Deleted);
    advance(1).await;
    assert!(net.describe_nat_gateways(&Filter::all()).await.unwrap().is_empty());

    // An address already in use makes the gateway fail, as on AWS.
    let i = cloud.compute().run_instance(instance(&subnets[0].id)).await.unwrap();
    advance(30).await;
    net.associate_address(&eip.allocation_id, &i.id).await.unwrap();
    let failed = net.create_nat_gateway(nat(&subnets[1].id, &eip.allocation_id)).await.unwrap();
    assert_eq!(failed.state, NatGatewayState::Failed);
    assert!(failed.failure_message.unwrap().contains(&eip.allocation_id));
}

#[tokio::test(start_paused = true)]
async fn route_tables_routes_and_associations() {
    let cloud = customer();
    let net = cloud.network();
    let (vpc, subnets) = network(&cloud).await;
    let main = net.describe_route_tables(&Filter::all()).await.unwrap().remove(0);
    conflict_message(net.delete_route_table(&main.id).await);
    invalid_message(net.disassociate_route_table(&main.associations[0].id).await);

    let rtb = net.create_route_table(&vpc.id, &tags(&[("tier", "public")])).await.unwrap();
    let assoc = net.associate_route_table(&rtb.id, &subnets[0].id).await.unwrap();
    assert!(net.associate_route_table(&rtb.id, &subnets[0].id).await.unwrap_err().is_already_exists());
    conflict_message(net.delete_route_table(&rtb.id).await);

    let igw = net.create_internet_gateway(&Tags::new()).await.unwrap();
    let to_igw = RouteTarget::InternetGateway(igw.id.clone());
    invalid_message(net.create_route(&rtb.id, "0.0.0.0/0", &to_igw).await);
    net.attach_internet_gateway(&igw.id, &vpc.id).await.unwrap();
    net.create_route(&rtb.id, "0.0.0.0/0", &to_igw).await.unwrap();
    assert!(net.create_route(&rtb.id, "0.0.0.0/0", &to_igw).await.unwrap_err().is_already_exists());
    invalid_message(net.create_route(&rtb.id, "10.0.5.0/24", &to_igw).await);
    invalid_message(net.create_route(&rtb.id, "192.168.0.0/16", &RouteTarget::Local).await);

    // A route to a NAT gateway turns into a blackhole once the gateway is gone.
    let eip = net.allocate_address(&Tags::new()).await.unwrap();
    let gw = net.create_nat_gateway(nat(&subnets[0].id, &eip.allocation_id)).await.unwrap();
    net.create_route(&main.id, "0.0.0.0/0", &RouteTarget::NatGateway(gw.id.clone())).await.unwrap();
    let route_state = || async {
        let main = net.describe_route_tables(&Filter::id(&main.id)).await.unwrap().remove(0);
        main.routes.iter().find(|r| r.destination_cidr == "0.0.0.0/0").unwrap().state.clone()
    };
    assert_eq!(route_state().await, "active");
    net.delete_nat_gateway(&gw.id).await.unwrap();
    advance(60).await;
    assert_eq!(route_state().await, "blackhole");

    net.disassociate_route_table(&assoc).await.unwrap();
    assert!(net.disassociate_route_table(&assoc).await.unwrap_err().is_not_found());
    net.delete_route_table(&rtb.id).await.unwrap();
}

#[tokio::test]
async fn security_groups_and_their_rules() {
    let cloud = customer();
    let net = cloud.network();
    let (vpc, subnets) = network(&cloud).await;
    let default = net.describe_security_groups(&Filter::id("default")).await.unwrap().remove(0);
    let message = invalid_message(net.delete_security_group(&default.id).await);
    assert!(message.starts_with("CannotDelete"), "{message}");
    invalid_message(net.create_security_group(&vpc.id, "default", "again", &Tags::new()).await);

    let web = net.create_security_group(&vpc.id, "web", "web servers", &Tags::new()).await.unwrap();
    assert!(net.create_security_group(&vpc.id, "web", "twice", &Tags::new()).await.unwrap_err().is_already_exists());
    net.authorize_ingress(&web.id, &[tcp(443, "0.0.0.0/0")]).await.unwrap();
    assert!(net.authorize_ingress(&web.id, &[tcp(443, "0.0.0.0/0")]).await.unwrap_err().is_already_exists());
    invalid_message(net.authorize_ingress(&web.id, &[tcp(70000, "0.0.0.0/0")]).await);
    let mut both = tcp(22, "10.0.0.0/8");
    both.source_group_id = Some(default.id.clone());
    invalid_message(net.authorize_ingress(&web.id, &[both]).await);
    net.authorize_egress(&web.id, &[tcp(5432, "10.0.0.0/16")]).await.unwrap();
    let described = net.describe_security_groups(&Filter::id(&web.id)).await.unwrap().remove(0);
    assert_eq!(described.ingress, [tcp(443, "0.0.0.0/0")]);
    assert_eq!(described.egress.len(), 2);
    net.revoke_ingress(&web.id, &[tcp(443, "0.0.0.0/0")]).await.unwrap();
    assert!(net.revoke_ingress(&web.id, &[tcp(443, "0.0.0.0/0")]).await.unwrap_err().is_not_found());

    // A group an instance or another group's rule uses cannot be deleted.
    let mut request = instance(&subnets[0].id);
    request.security_group_ids = vec![web.id.clone()];
    let i = cloud.compute().run_instance(request).await.unwrap();
    assert_eq!(i.security_group_ids, [web.id.as_str()]);
    conflict_message(net.delete_security_group(&web.id).await);
    let db = net.create_security_group(&vpc.id, "db", "database", &Tags::new()).await.unwrap();
    let mut from_db = tcp(80, "0.0.0.0/0");
    from_db.cidr = None;
    from_db.source_group_id = Some(db.id.clone());
    net.authorize_ingress(&default.id, &[from_db]).await.unwrap();
    conflict_message(net.delete_security_group(&db.id).await);
}

#[tokio::test]
async fn network_interfaces_of_instances_are_listed_and_in_use() {
    let cloud = customer();
    let net = cloud.network();
    let (_, subnets) = network(&cloud).await;
    let i = cloud.compute().run_instance(instance(&subnets[0].id)).await.unwrap();
    let enis = net.describe_network_interfaces(&Filter::all()).await.unwrap();
    assert_eq!(enis.len(), 1);
    assert_eq!((enis[0].status.as_str(), enis[0].attached_to.as_deref()), ("in-use", Some(i.id.as_str())));
    assert_eq!(enis[0].private_ip, i.private_ip);
    conflict_message(net.delete_network_interface(&enis[0].id).await);
    assert!(net.delete_network_interface("eni-0123456789abcdef0").await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn quotas_per_region() {
    let cloud = customer();
    let net = cloud.network();
    for i in 0..5 {
        net.create_vpc(&format!("10.{i}.0.0/16"), &Tags::new()).await.unwrap();
    }
    assert_eq!(quota_code(net.create_vpc("10.9.0.0/16", &Tags::new()).await), "L-F678F1CE");
    // Another region has its own quota; an approved increase lifts it.
    cloud.with_region("eu-west-1").network().create_vpc("10.9.0.0/16", &Tags::new()).await.unwrap();
    cloud.set_quota("vpc", "L-F678F1CE", 6.0);
    let vpc = net.create_vpc("10.9.0.0/16", &Tags::new()).await.unwrap();
    assert_eq!(cloud.quotas().get_service_quota("vpc", "L-F678F1CE").await.unwrap().value, 6.0);

    for _ in 0..5 {
        net.create_internet_gateway(&Tags::new()).await.unwrap();
    }
    assert_eq!(quota_code(net.create_internet_gateway(&Tags::new()).await), "L-A4707A72");

    let mut eips = Vec::new();
    for _ in 0..5 {
        eips.push(net.allocate_address(&Tags::new()).await.unwrap().allocation_id);
    }
    assert_eq!(quota_code(net.allocate_address(&Tags::new()).await), "L-0263D0A3");

    let a = net.create_subnet(subnet(&vpc.id, "10.9.1.0/24", "us-west-2a")).await.unwrap();
    let b = net.create_subnet(subnet(&vpc.id, "10.9.2.0/24", "us-west-2b")).await.unwrap();
    cloud.set_quota("vpc", "L-FE5A380F", 2.0);
    net.create_nat_gateway(nat(&a.id, &eips[0])).await.unwrap();
    net.create_nat_gateway(nat(&a.id, &eips[1])).await.unwrap();
    assert_eq!(quota_code(net.create_nat_gateway(nat(&a.id, &eips[2])).await), "L-FE5A380F");
    net.create_nat_gateway(nat(&b.id, &eips[2])).await.unwrap();
}

#[tokio::test]
async fn filters_by_id_tag_and_vpc() {
    let cloud = customer();
    let net = cloud.network();
    let owned = tags(&[("detcloud:managed-by", "detcloud"), ("detcloud:cluster", "c1")]);
    let a = net.create_vpc("10.0.0.0/16", &owned).await.unwrap();
    let b = net.create_vpc("10.1.0.0/16", &tags(&[("detcloud:managed-by", "detcloud")])).await.unwrap();
    net.create_vpc("10.2.0.0/16", &Tags::new()).await.unwrap();
    let ids = |v: Vec<detcloud_provider::Vpc>| v.into_iter().map(|v| v.id).collect::<Vec<_>>();
    let managed = Filter::tag("detcloud:managed-by", "detcloud");
    let mut both = vec![a.id.clone(), b.id.clone()];
    both.sort();
    assert_eq!(ids(net.describe_vpcs(&managed).await.unwrap()), both);
    assert_eq!(
        ids(net.describe_vpcs(&managed.clone().and_tag("detcloud:cluster", "c1")).await.unwrap()),
        [a.id.as_str()]
    );
    assert!(net.describe_vpcs(&Filter::tag("detcloud:cluster", "c2")).await.unwrap().is_empty());
    assert_eq!(net.describe_vpcs(&Filter::all()).await.unwrap().len(), 3);
    let missing = net.describe_vpcs(&Filter::id("vpc-0123456789abcdef0")).await.unwrap_err();
    assert!(missing.is_not_found());
    assert_eq!(detcloud_fake::error_code(&missing), "InvalidVpcID.NotFound");

    let sa = net.create_subnet(subnet(&a.id, "10.0.1.0/24", "us-west-2a")).await.unwrap();
    net.create_subnet(subnet(&b.id, "10.1.1.0/24", "us-west-2a")).await.unwrap();
    let in_a = net.describe_subnets(&Filter::all().in_vpc(&a.id)).await.unwrap();
    assert_eq!(in_a.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), [sa.id.as_str()]);

    let igw = net.create_internet_gateway(&Tags::new()).await.unwrap();
    net.create_internet_gateway(&Tags::new()).await.unwrap();
    net.attach_internet_gateway(&igw.id, &a.id).await.unwrap();
    let attached = net.describe_internet_gateways(&Filter::all().in_vpc(&a.id)).await.unwrap();
    assert_eq!(attached.len(), 1);
    assert_eq!(attached[0].attached_vpc_ids, [a.id.as_str()]);

    // Tags added later are filtered on too.
    net.create_tags(&[sa.id.clone(), igw.id.clone()], &tags(&[("k", "v")])).await.unwrap();
    assert_eq!(net.describe_subnets(&Filter::tag("k", "v")).await.unwrap().len(), 1);
    assert!(net
        .create_tags(&["subnet-0123456789abcdef0".into()], &tags(&[("k", "v")]))
        .await
        .unwrap_err()
        .is_not_found());
}

#[tokio::test]
async fn peering_connections() {
    let cloud = customer();
    let net = cloud.network();
    let a = net.create_vpc("10.0.0.0/16", &Tags::new()).await.unwrap();
    let b = net.create_vpc("10.1.0.0/16", &Tags::new()).await.unwrap();
    let c = net.create_vpc("10.0.0.0/20", &Tags::new()).await.unwrap();
    let pcx = net.create_vpc_peering(&a.id, &b.id, &tags(&[("k", "v")])).await.unwrap();
    assert!(is_ec2_id(&pcx.id, "pcx"));
    assert_eq!(pcx.state, PeeringState::PendingAcceptance);
    let rtb = net.describe_route_tables(&Filter::all().in_vpc(&a.id)).await.unwrap().remove(0);
    invalid_message(net.create_route(&rtb.id, "10.1.0.0/16", &RouteTarget::Peering(pcx.id.clone())).await);
    assert_eq!(net.accept_vpc_peering(&pcx.id).await.unwrap().state, PeeringState::Active);
    invalid_message(net.accept_vpc_peering(&pcx.id).await);
    net.create_route(&rtb.id, "10.1.0.0/16", &RouteTarget::Peering(pcx.id.clone())).await.unwrap();
    assert_eq!(net.describe_vpc_peerings(&Filter::all().in_vpc(&b.id)).await.unwrap().len(), 1, "either side");
    // Overlapping CIDRs: the connection fails.
    assert_eq!(net.create_vpc_peering(&a.id, &c.id, &Tags::new()).await.unwrap().state, PeeringState::Failed);
    invalid_message(net.create_vpc_peering(&a.id, &a.id, &Tags::new()).await);
    net.delete_vpc_peering(&pcx.id).await.unwrap();
    let listed = net.describe_vpc_peerings(&Filter::id(&pcx.id)).await.unwrap();
    assert_eq!(listed[0].state, PeeringState::Deleted);
}

#[tokio::test]
async fn regions_are_separate() {
    let cloud = customer();
    let eu = cloud.with_region("eu-west-1");
    assert_eq!(Cloud::region(&eu), "eu-west-1");
    assert_eq!(Cloud::region(&cloud), "us-west-2");
    let vpc = eu.network().create_vpc("10.0.0.0/16", &Tags::new()).await.unwrap();
    assert!(cloud.network().describe_vpcs(&Filter::id(&vpc.id)).await.unwrap_err().is_not_found());
    let zones = eu.network().describe_availability_zones().await.unwrap();
    assert_eq!((zones[0].name.as_str(), zones[0].zone_id.as_str()), ("eu-west-1a", "euw1-az1"));
    eu.network().create_subnet(subnet(&vpc.id, "10.0.1.0/24", "eu-west-1a")).await.unwrap();
    // Views derived from a regional view keep its region.
    assert_eq!(Cloud::region(&eu.admin_of("222222222222")), "eu-west-1");
    let err = cloud.network().delete_vpc(&vpc.id).await.unwrap_err();
    assert_eq!(err, Error::not_found("vpc", &vpc.id));
}
