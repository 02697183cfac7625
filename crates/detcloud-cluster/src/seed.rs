//! Fixtures for fleet-scale tests and benchmarks: the tagged resources a status reads, created
//! directly (as an account administrator) instead of through [`create`](crate::create::create),
//! so that a thousand clusters take a thousand times a dozen calls and no CIDR planning.

use detcloud_provider::{
    Cloud, CreateDbCluster, CreateDbInstance, CreateNatGateway, CreateSubnet, Result, RunInstance, Secret,
};

use crate::context::{node_tags, Names};
use crate::graph::Node;
use crate::spec::ClusterSpec;

/// The image the seeded masters run.
pub const SEED_AMI: &str = "ami-0123456789abcdef0";

/// The Service Quotas an account needs to hold `clusters` seeded clusters, with room for five
/// more, as `(service, quota code, value)`: VPCs, internet gateways and NAT gateways per zone
/// (one each per cluster), elastic IPs (two) and standard on-demand vCPUs (eight). For a test
/// backend's quota overrides (`FakeCloud::set_quota`).
pub fn quotas_for(clusters: usize) -> [(&'static str, &'static str, f64); 5] {
    let n = clusters as f64 + 5.0;
    [
        ("vpc", "L-F678F1CE", n),
        ("vpc", "L-A4707A72", n),
        ("vpc", "L-FE5A380F", n),
        ("ec2", "L-0263D0A3", 2.0 * n),
        ("ec2", "L-1216C47A", 8.0 * n),
    ]
}

/// Creates, in `cloud` (an administrator of the account, with quotas raised as needed: see
/// [`quotas_for`]), what a
/// [`status`](crate::status::status) of `spec` reads, with the cluster's tags: the VPC
/// (`10.0.0.0/16`; seeded VPCs may overlap), its four subnets, an attached internet gateway, the
/// NAT gateway and its address, the master and its address, the DB subnet group, the Aurora
/// cluster and its instance. No route tables, security rules, bucket, log group or key pair.
pub async fn seed_cluster(cloud: &dyn Cloud, spec: &ClusterSpec, account: &str) -> Result<()> {
    let net = cloud.network();
    let tags = |node| node_tags(spec, node);
    let names = Names::new(spec, account);
    let vpc = net.create_vpc("10.0.0.0/16", &tags(Node::Vpc)).await?;
    let zones = [format!("{}a", spec.region), format!("{}b", spec.region)];
    let mut public = vec![];
    let mut private = vec![];
    for (i, zone) in zones.iter().enumerate() {
        for (node, third, out) in
            [(Node::PublicSubnet(i as u8), i, &mut public), (Node::PrivateSubnet(i as u8), 10 + i, &mut private)]
        {
            let subnet = net
                .create_subnet(CreateSubnet {
                    vpc_id: vpc.id.clone(),
                    cidr: format!("10.0.{third}.0/24"),
                    availability_zone: zone.clone(),
                    tags: tags(node),
                })
                .await?;
            out.push(subnet.id);
        }
    }
    let igw = net.create_internet_gateway(&tags(Node::InternetGateway)).await?;
    net.attach_internet_gateway(&igw.id, &vpc.id).await?;
    let nat_address = net.allocate_address(&tags(Node::NatAddress)).await?;
    net.create_nat_gateway(CreateNatGateway {
        subnet_id: public[0].clone(),
        allocation_id: nat_address.allocation_id,
        client_token: None,
        tags: tags(Node::NatGateway),
    })
    .await?;
    let master = cloud
        .compute()
        .run_instance(RunInstance {
            image_id: SEED_AMI.into(),
            instance_type: spec.master.instance_type.clone(),
            subnet_id: public[0].clone(),
            security_group_ids: vec![],
            key_name: None,
            instance_profile_name: None,
            user_data: None,
            imdsv2_required: true,
            root_volume: None,
            client_token: None,
            tags: tags(Node::Master),
        })
        .await?;
    let master_address = net.allocate_address(&tags(Node::MasterAddress)).await?;
    net.associate_address(&master_address.allocation_id, &master.id).await?;
    let rds = cloud.database();
    rds.create_db_subnet_group(&names.db_subnet_group, "detcloud seed", &private, &tags(Node::DbSubnetGroup)).await?;
    rds.create_db_cluster(CreateDbCluster {
        id: names.db_cluster.clone(),
        engine: "aurora-postgresql".into(),
        engine_version: spec.database.engine_version.clone(),
        database_name: Some("determined".into()),
        master_username: "determined".into(),
        master_password: Secret::new("seeded-password-0123"),
        subnet_group: names.db_subnet_group.clone(),
        security_group_ids: vec![],
        backup_retention_days: spec.database.backup_retention_days,
        storage_encrypted: true,
        kms_key_id: None,
        deletion_protection: false,
        tags: tags(Node::DbCluster),
    })
    .await?;
    rds.create_db_instance(CreateDbInstance {
        id: names.db_instance.clone(),
        cluster_id: names.db_cluster.clone(),
        instance_class: spec.database.instance_class.clone(),
        engine: "aurora-postgresql".into(),
        tags: tags(Node::DbInstance),
    })
    .await?;
    Ok(())
}

/// [`seed_cluster`], plus what [drift detection](crate::drift::detect) compares with the spec:
/// both route tables with their default routes and subnet associations, the default group's
/// inbound rules and the log group with its retention. A reconciler finds such a cluster exactly
/// as declared (Ready, no drift), as it would one that `create` made.
pub async fn seed_converged_cluster(cloud: &dyn Cloud, spec: &ClusterSpec, account: &str) -> Result<()> {
    use detcloud_provider::{Error, RouteTarget};
    seed_cluster(cloud, spec, account).await?;
    let net = cloud.network();
    let filter = crate::context::cluster_filter(&spec.name);
    let vpc = net.describe_vpcs(&filter).await?.pop().ok_or_else(|| Error::not_found("vpc of", spec.name.clone()))?;
    let subnets = net.describe_subnets(&filter).await?;
    let igw = net
        .describe_internet_gateways(&filter)
        .await?
        .pop()
        .ok_or_else(|| Error::not_found("igw of", spec.name.clone()))?;
    let nat =
        net.describe_nat_gateways(&filter).await?.pop().ok_or_else(|| Error::not_found("nat of", spec.name.clone()))?;
    for (node, target, public) in [
        (Node::PublicRoutes, RouteTarget::InternetGateway(igw.id.clone()), true),
        (Node::PrivateRoutes, RouteTarget::NatGateway(nat.id.clone()), false),
    ] {
        let table = net.create_route_table(&vpc.id, &node_tags(spec, node)).await?;
        net.create_route(&table.id, "0.0.0.0/0", &target).await?;
        for i in 0..2u8 {
            let kind = if public { Node::PublicSubnet(i) } else { Node::PrivateSubnet(i) };
            if let Some(s) = subnets.iter().find(|s| crate::create::is_node(&s.tags, kind)) {
                net.associate_route_table(&table.id, &s.id).await?;
            }
        }
    }
    let group = crate::context::default_group(cloud, &vpc.id)
        .await?
        .ok_or_else(|| Error::not_found("default security group of", vpc.id.clone()))?;
    net.authorize_ingress(&group.id, &crate::create::ingress_rules_for(spec, &vpc.cidr)).await?;
    let names = Names::new(spec, account);
    let logs = cloud.logs();
    logs.create_log_group(&names.log_group, &node_tags(spec, Node::LogGroup)).await?;
    logs.put_retention_policy(&names.log_group, spec.log_retention_days).await?;
    Ok(())
}
