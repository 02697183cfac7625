//! IAM enforcement, the call log and fault injection for the regional services, S3 and Route53.

mod common;

use std::time::Duration;

use common::*;
use detcloud_fake::{FakeCloud, Timings};
use detcloud_provider::{
    BucketEncryption, Cloud, CreateNatGateway, Error, Filter, MetricQuery, ModifyDbCluster, PutParameter, RecordSet,
    RestoreDbCluster, RouteTarget, Secret, SecurityRule, SendCommand, Tags,
};

const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm0x3mS9o0y4zYbI9P2Fh8aQ8o1e0rVv5C8m0cXWkQn det@laptop";

fn ec2(resource: &str) -> String {
    format!("arn:aws:ec2:us-west-2:111111111111:{resource}")
}

fn rds(resource: &str) -> String {
    format!("arn:aws:rds:us-west-2:111111111111:{resource}")
}

fn rule() -> SecurityRule {
    SecurityRule {
        protocol: "tcp".into(),
        from_port: 22,
        to_port: 22,
        cidr: Some("10.0.0.0/8".into()),
        source_group_id: None,
        description: None,
    }
}

type Case = (&'static str, String, detcloud_provider::Result<()>);

#[tokio::test]
async fn every_call_is_checked_with_its_action_and_resource() {
    let (admin, session) = session_allowing(&["sts:GetCallerIdentity"]).await;
    admin.set_timings(Timings::instant());
    let (vpc, subnets) = db_network(&admin).await;
    let net = admin.network();
    let other = net.create_vpc("10.1.0.0/16", &Tags::new()).await.unwrap();
    let igw = net.create_internet_gateway(&Tags::new()).await.unwrap().id;
    let eip = net.allocate_address(&Tags::new()).await.unwrap().allocation_id;
    let nat = net
        .create_nat_gateway(CreateNatGateway {
            subnet_id: subnets[0].id.clone(),
            allocation_id: eip.clone(),
            client_token: None,
            tags: Tags::new(),
        })
        .await
        .unwrap()
        .id;
    let rtb = net.create_route_table(&vpc.id, &Tags::new()).await.unwrap().id;
    let assoc = net.associate_route_table(&rtb, &subnets[1].id).await.unwrap();
    let sg = net.create_security_group(&vpc.id, "web", "web", &Tags::new()).await.unwrap().id;
    let eni = net.create_network_interface(&subnets[0].id, &[], &Tags::new()).await.unwrap().id;
    let pcx = net.create_vpc_peering(&vpc.id, &other.id, &Tags::new()).await.unwrap().id;
    admin.compute().import_key_pair("det", KEY, &Tags::new()).await.unwrap();
    let i = admin.compute().run_instance(instance(&subnets[0].id)).await.unwrap().id;
    let (spot, _) = admin.request_spot_instance(instance(&subnets[0].id));
    admin.database().create_db_cluster(cluster("c1", "db")).await.unwrap();
    admin.database().create_db_instance(db_instance("i1", "c1")).await.unwrap();
    admin.storage().create_bucket("det-ckpt", "us-west-2").await.unwrap();
    let key = admin.keys().create_key("k", &Tags::new()).await.unwrap();
    admin.logs().create_log_group("/g", &Tags::new()).await.unwrap();
    let zone = admin.create_hosted_zone("det.example.com");
    let before = admin.to_json();

    let (n, c, d, s) = (session.network(), session.compute(), session.database(), session.storage());
    let t = tags(&[("k", "v")]);
    let ids = |id: &str| vec![id.to_string()];
    let record = RecordSet {
        name: "a.det.example.com".into(),
        record_type: "A".into(),
        ttl: 60,
        values: vec!["1.2.3.4".into()],
    };
    let query = MetricQuery {
        id: "q".into(),
        namespace: "AWS/EC2".into(),
        metric_name: "CPUUtilization".into(),
        dimensions: Vec::new(),
        stat: "Average".into(),
        period_seconds: 60,
    };
    let now = std::time::SystemTime::now();
    let cases: Vec<Case> = vec![
        ("ec2:DescribeAvailabilityZones", "*".into(), n.describe_availability_zones().await.map(drop)),
        ("ec2:CreateVpc", ec2("vpc/*"), n.create_vpc("10.2.0.0/16", &Tags::new()).await.map(drop)),
        ("ec2:DescribeVpcs", "*".into(), n.describe_vpcs(&Filter::all()).await.map(drop)),
        ("ec2:DeleteVpc", ec2(&format!("vpc/{}", other.id)), n.delete_vpc(&other.id).await),
        (
            "ec2:CreateSubnet",
            ec2("subnet/*"),
            n.create_subnet(subnet(&vpc.id, "10.0.9.0/24", "us-west-2a")).await.map(drop),
        ),
        ("ec2:DescribeSubnets", "*".into(), n.describe_subnets(&Filter::all()).await.map(drop)),
        ("ec2:DeleteSubnet", ec2(&format!("subnet/{}", subnets[1].id)), n.delete_subnet(&subnets[1].id).await),
        (
            "ec2:CreateInternetGateway",
            ec2("internet-gateway/*"),
            n.create_internet_gateway(&Tags::new()).await.map(drop),
        ),
        (
            "ec2:AttachInternetGateway",
            ec2(&format!("internet-gateway/{igw}")),
            n.attach_internet_gateway(&igw, &vpc.id).await,
        ),
        (
            "ec2:DetachInternetGateway",
            ec2(&format!("internet-gateway/{igw}")),
            n.detach_internet_gateway(&igw, &vpc.id).await,
        ),
        ("ec2:DeleteInternetGateway", ec2(&format!("internet-gateway/{igw}")), n.delete_internet_gateway(&igw).await),
        ("ec2:DescribeInternetGateways", "*".into(), n.describe_internet_gateways(&Filter::all()).await.map(drop)),
        ("ec2:AllocateAddress", ec2("elastic-ip/*"), n.allocate_address(&Tags::new()).await.map(drop)),
        ("ec2:AssociateAddress", ec2(&format!("elastic-ip/{eip}")), n.associate_address(&eip, &i).await.map(drop)),
        ("ec2:ReleaseAddress", ec2(&format!("elastic-ip/{eip}")), n.release_address(&eip).await),
        ("ec2:DescribeAddresses", "*".into(), n.describe_addresses(&Filter::all()).await.map(drop)),
        (
            "ec2:CreateNatGateway",
            ec2("natgateway/*"),
            n.create_nat_gateway(CreateNatGateway {
                subnet_id: subnets[0].id.clone(),
                allocation_id: eip.clone(),
                client_token: None,
                tags: Tags::new(),
            })
            .await
            .map(drop),
        ),
        ("ec2:DeleteNatGateway", ec2(&format!("natgateway/{nat}")), n.delete_nat_gateway(&nat).await),
        ("ec2:DescribeNatGateways", "*".into(), n.describe_nat_gateways(&Filter::all()).await.map(drop)),
        ("ec2:CreateRouteTable", ec2("route-table/*"), n.create_route_table(&vpc.id, &Tags::new()).await.map(drop)),
        (
            "ec2:CreateRoute",
            ec2(&format!("route-table/{rtb}")),
            n.create_route(&rtb, "0.0.0.0/0", &RouteTarget::InternetGateway(igw.clone())).await,
        ),
        (
            "ec2:AssociateRouteTable",
            ec2(&format!("route-table/{rtb}")),
            n.associate_route_table(&rtb, &subnets[0].id).await.map(drop),
        ),
        ("ec2:DisassociateRouteTable", ec2(&format!("route-table/{rtb}")), n.disassociate_route_table(&assoc).await),
        ("ec2:DeleteRouteTable", ec2(&format!("route-table/{rtb}")), n.delete_route_table(&rtb).await),
        ("ec2:DescribeRouteTables", "*".into(), n.describe_route_tables(&Filter::all()).await.map(drop)),
        (
            "ec2:CreateSecurityGroup",
            ec2("security-group/*"),
            n.create_security_group(&vpc.id, "x", "x", &Tags::new()).await.map(drop),
        ),
        ("ec2:DeleteSecurityGroup", ec2(&format!("security-group/{sg}")), n.delete_security_group(&sg).await),
        ("ec2:DescribeSecurityGroups", "*".into(), n.describe_security_groups(&Filter::all()).await.map(drop)),
        (
            "ec2:AuthorizeSecurityGroupIngress",
            ec2(&format!("security-group/{sg}")),
            n.authorize_ingress(&sg, &[rule()]).await,
        ),
        (
            "ec2:AuthorizeSecurityGroupEgress",
            ec2(&format!("security-group/{sg}")),
            n.authorize_egress(&sg, &[rule()]).await,
        ),
        (
            "ec2:RevokeSecurityGroupIngress",
            ec2(&format!("security-group/{sg}")),
            n.revoke_ingress(&sg, &[rule()]).await,
        ),
        (
            "ec2:CreateNetworkInterface",
            ec2("network-interface/*"),
            n.create_network_interface(&subnets[0].id, &[], &Tags::new()).await.map(drop),
        ),
        (
            "ec2:DeleteNetworkInterface",
            ec2(&format!("network-interface/{eni}")),
            n.delete_network_interface(&eni).await,
        ),
        ("ec2:DescribeNetworkInterfaces", "*".into(), n.describe_network_interfaces(&Filter::all()).await.map(drop)),
        (
            "ec2:CreateVpcPeeringConnection",
            ec2("vpc-peering-connection/*"),
            n.create_vpc_peering(&vpc.id, &other.id, &Tags::new()).await.map(drop),
        ),
        (
            "ec2:AcceptVpcPeeringConnection",
            ec2(&format!("vpc-peering-connection/{pcx}")),
            n.accept_vpc_peering(&pcx).await.map(drop),
        ),
        (
            "ec2:DeleteVpcPeeringConnection",
            ec2(&format!("vpc-peering-connection/{pcx}")),
            n.delete_vpc_peering(&pcx).await,
        ),
        ("ec2:DescribeVpcPeeringConnections", "*".into(), n.describe_vpc_peerings(&Filter::all()).await.map(drop)),
        ("ec2:CreateTags", ec2(&format!("vpc/{}", vpc.id)), n.create_tags(&ids(&vpc.id), &t).await),
        ("ec2:DescribeInstanceTypes", "*".into(), c.describe_instance_types(&[]).await.map(drop)),
        ("ec2:ImportKeyPair", ec2("key-pair/det2"), c.import_key_pair("det2", KEY, &Tags::new()).await.map(drop)),
        ("ec2:DeleteKeyPair", ec2("key-pair/det"), c.delete_key_pair("det").await),
        ("ec2:DescribeKeyPairs", "*".into(), c.describe_key_pairs(&Filter::all()).await.map(drop)),
        ("ec2:RunInstances", ec2("instance/*"), c.run_instance(instance(&subnets[0].id)).await.map(drop)),
        ("ec2:DescribeInstances", "*".into(), c.describe_instances(&Filter::all()).await.map(drop)),
        ("ec2:DescribeInstanceStatus", "*".into(), c.describe_instance_status(&[]).await.map(drop)),
        ("ec2:TerminateInstances", ec2(&format!("instance/{i}")), c.terminate_instances(&ids(&i)).await),
        ("ec2:DescribeSpotInstanceRequests", "*".into(), c.describe_spot_requests(&Filter::all()).await.map(drop)),
        (
            "ec2:CancelSpotInstanceRequests",
            ec2(&format!("spot-instances-request/{}", spot.id)),
            c.cancel_spot_requests(&ids(&spot.id)).await,
        ),
        (
            "rds:CreateDBSubnetGroup",
            rds("subgrp:db2"),
            d.create_db_subnet_group("db2", "d", &[subnets[0].id.clone(), subnets[1].id.clone()], &Tags::new())
                .await
                .map(drop),
        ),
        ("rds:DescribeDBSubnetGroups", "*".into(), d.describe_db_subnet_groups(&Filter::all()).await.map(drop)),
        ("rds:DeleteDBSubnetGroup", rds("subgrp:db"), d.delete_db_subnet_group("db").await),
        ("rds:CreateDBCluster", rds("cluster:c2"), d.create_db_cluster(cluster("c2", "db")).await.map(drop)),
        ("rds:DescribeDBClusters", "*".into(), d.describe_db_clusters(&Filter::all()).await.map(drop)),
        (
            "rds:ModifyDBCluster",
            rds("cluster:c1"),
            d.modify_db_cluster(ModifyDbCluster { id: "c1".into(), ..Default::default() }).await.map(drop),
        ),
        ("rds:DeleteDBCluster", rds("cluster:c1"), d.delete_db_cluster("c1", None).await),
        (
            "rds:RestoreDBClusterToPointInTime",
            rds("cluster:c3"),
            d.restore_db_cluster(RestoreDbCluster {
                source_id: "c1".into(),
                target_id: "c3".into(),
                restore_time: None,
                subnet_group: "db".into(),
                security_group_ids: Vec::new(),
                kms_key_id: None,
                tags: Tags::new(),
            })
            .await
            .map(drop),
        ),
        ("rds:CreateDBInstance", rds("db:i2"), d.create_db_instance(db_instance("i2", "c1")).await.map(drop)),
        ("rds:DescribeDBInstances", "*".into(), d.describe_db_instances(&Filter::all()).await.map(drop)),
        ("rds:DeleteDBInstance", rds("db:i1"), d.delete_db_instance("i1").await),
        ("rds:DescribeDBClusterSnapshots", "*".into(), d.describe_db_cluster_snapshots("c1").await.map(drop)),
        ("s3:CreateBucket", "arn:aws:s3:::det-new".into(), s.create_bucket("det-new", "us-west-2").await.map(drop)),
        (
            "s3:PutEncryptionConfiguration",
            "arn:aws:s3:::det-ckpt".into(),
            s.put_bucket_encryption("det-ckpt", &BucketEncryption::S3Managed).await,
        ),
        (
            "s3:PutBucketPolicy",
            "arn:aws:s3:::det-ckpt".into(),
            s.put_bucket_policy("det-ckpt", &allow(&["s3:*"], &["arn:aws:s3:::det-ckpt"])).await,
        ),
        ("s3:DeleteBucket", "arn:aws:s3:::det-ckpt".into(), s.delete_bucket("det-ckpt").await),
        ("s3:GetBucketLocation", "arn:aws:s3:::det-ckpt".into(), s.describe_bucket("det-ckpt").await.map(drop)),
        ("s3:PutObject", "arn:aws:s3:::det-ckpt/a/b".into(), s.put_object("det-ckpt", "a/b", b"x").await),
        ("s3:ListBucket", "arn:aws:s3:::det-ckpt".into(), s.empty_bucket("det-ckpt").await.map(drop)),
        ("kms:CreateKey", "*".into(), session.keys().create_key("k", &Tags::new()).await.map(drop)),
        ("kms:DescribeKey", key.arn.clone(), session.keys().describe_key(&key.id).await.map(drop)),
        (
            "kms:CreateGrant",
            key.arn.clone(),
            session
                .keys()
                .create_grant(&key.id, "arn:aws:iam::111111111111:role/x", &["Decrypt".into()])
                .await
                .map(drop),
        ),
        (
            "logs:CreateLogGroup",
            "arn:aws:logs:us-west-2:111111111111:log-group:/h".into(),
            session.logs().create_log_group("/h", &Tags::new()).await,
        ),
        (
            "logs:PutRetentionPolicy",
            "arn:aws:logs:us-west-2:111111111111:log-group:/g".into(),
            session.logs().put_retention_policy("/g", 7).await,
        ),
        (
            "logs:TagResource",
            "arn:aws:logs:us-west-2:111111111111:log-group:/g".into(),
            session.logs().tag_log_group("/g", &t).await,
        ),
        (
            "logs:DeleteLogGroup",
            "arn:aws:logs:us-west-2:111111111111:log-group:/g".into(),
            session.logs().delete_log_group("/g").await,
        ),
        ("logs:DescribeLogGroups", "*".into(), session.logs().describe_log_groups("/").await.map(drop)),
        (
            "ssm:PutParameter",
            "arn:aws:ssm:us-west-2:111111111111:parameter/det/p".into(),
            session
                .parameters()
                .put_parameter(PutParameter {
                    name: "/det/p".into(),
                    value: Secret::new("v"),
                    secure: false,
                    kms_key_id: None,
                    overwrite: false,
                    description: None,
                })
                .await
                .map(drop),
        ),
        (
            "ssm:GetParameter",
            "arn:aws:ssm:us-west-2:111111111111:parameter/det/p".into(),
            session.parameters().get_parameter("/det/p").await.map(drop),
        ),
        (
            "ssm:DeleteParameter",
            "arn:aws:ssm:us-west-2:111111111111:parameter/det/p".into(),
            session.parameters().delete_parameter("/det/p").await,
        ),
        (
            "ssm:SendCommand",
            "arn:aws:ssm:us-west-2::document/AWS-RunShellScript".into(),
            session
                .parameters()
                .send_command(SendCommand {
                    instance_ids: ids(&i),
                    commands: vec!["uptime".into()],
                    comment: None,
                    timeout_seconds: None,
                })
                .await
                .map(drop),
        ),
        ("ssm:GetCommandInvocation", "*".into(), session.parameters().get_command_invocation("x", &i).await.map(drop)),
        (
            "servicequotas:GetServiceQuota",
            "arn:aws:servicequotas:us-west-2:111111111111:vpc/L-F678F1CE".into(),
            session.quotas().get_service_quota("vpc", "L-F678F1CE").await.map(drop),
        ),
        (
            "cloudwatch:GetMetricData",
            "*".into(),
            session.metrics().get_metric_data(&[query], now - Duration::from_secs(60), now).await.map(drop),
        ),
        ("cloudwatch:PutMetricData", "*".into(), session.metrics().put_metric("det", "m", &[], 1.0).await),
        (
            "route53:ChangeResourceRecordSets",
            format!("arn:aws:route53:::hostedzone/{zone}"),
            session.dns().upsert_record(&zone, &record).await,
        ),
        (
            "route53:ChangeResourceRecordSets",
            format!("arn:aws:route53:::hostedzone/{zone}"),
            session.dns().delete_record(&zone, &record).await,
        ),
        (
            "route53:ListResourceRecordSets",
            format!("arn:aws:route53:::hostedzone/{zone}"),
            session.dns().list_records(&zone).await.map(drop),
        ),
    ];
    let expected: std::collections::BTreeSet<String> = cases.iter().map(|c| c.0.to_string()).collect();
    for (action, resource, result) in cases {
        let (denied_action, message) = denied(result);
        assert_eq!(denied_action.as_deref(), Some(action));
        assert!(message.contains(&format!("perform: {action} on resource: {resource} because")), "{message}");
    }
    assert_eq!(admin.to_json(), before, "denied calls change nothing");
    let used = admin.actions_used();
    assert!(expected.is_subset(&used), "missing: {:?}", expected.difference(&used).collect::<Vec<_>>());
    // Actions a request needs besides its own are recorded too.
    for extra in ["s3:GetEncryptionConfiguration", "s3:GetBucketPolicy", "s3:DeleteObject"] {
        assert!(used.contains(extra), "{extra}");
    }
}

#[tokio::test]
async fn creating_with_tags_needs_the_tagging_action() {
    let (admin, session) = session_allowing(&[
        "ec2:CreateVpc",
        "ec2:CreateSubnet",
        "rds:CreateDBSubnetGroup",
        "logs:CreateLogGroup",
        "kms:CreateKey",
    ])
    .await;
    let t = tags(&[("detcloud:managed-by", "detcloud")]);
    session.network().create_vpc("10.0.0.0/16", &Tags::new()).await.unwrap();
    let (action, message) = denied(session.network().create_vpc("10.1.0.0/16", &t).await);
    assert_eq!(action.as_deref(), Some("ec2:CreateTags"));
    assert!(message.contains("vpc/*"), "{message}");
    assert_eq!(denied(session.logs().create_log_group("/g", &t).await).0.as_deref(), Some("logs:TagResource"));
    assert_eq!(denied(session.keys().create_key("k", &t).await).0.as_deref(), Some("kms:TagResource"));
    let (_, subnets) = network(&admin).await;
    let ids: Vec<String> = subnets.iter().map(|s| s.id.clone()).collect();
    let (action, _) = denied(session.database().create_db_subnet_group("db", "d", &ids, &t).await);
    assert_eq!(action.as_deref(), Some("rds:AddTagsToResource"));
    let mut doc = allow(&["ec2:CreateVpc", "rds:CreateDBSubnetGroup", "rds:AddTagsToResource"], &["*"]);
    doc.statements.push(allow_when("ec2:CreateTags", "ec2:CreateAction", "CreateVpc"));
    admin.iam().put_inline_policy("deployer", "inline", &doc).await.unwrap();
    session.network().create_vpc("10.1.0.0/16", &t).await.unwrap();
    session.database().create_db_subnet_group("db", "d", &ids, &t).await.unwrap();
    assert_eq!(admin.network().describe_vpcs(&Filter::tag("detcloud:managed-by", "detcloud")).await.unwrap().len(), 1);
}

#[tokio::test]
async fn tag_conditions_on_existing_resources() {
    let mut doc = allow(&["ec2:RunInstances", "ec2:CreateTags", "ec2:DescribeInstances"], &["*"]);
    doc.statements.push(allow_when("ec2:TerminateInstances", "aws:ResourceTag/detcloud:managed-by", "detcloud"));
    let (admin, session) = session_allowing(&[]).await;
    admin.iam().put_inline_policy("deployer", "inline", &doc).await.unwrap();
    let (_, subnets) = network(&admin).await;
    let mut ours = instance(&subnets[0].id);
    ours.tags = tags(&[("detcloud:managed-by", "detcloud")]);
    let ours = session.compute().run_instance(ours).await.unwrap().id;
    let theirs = admin.compute().run_instance(instance(&subnets[0].id)).await.unwrap().id;
    // One instance the policy does not cover denies the whole request.
    let (_, message) = denied(session.compute().terminate_instances(&[ours.clone(), theirs.clone()]).await);
    assert!(message.contains(&theirs), "{message}");
    session.compute().terminate_instances(std::slice::from_ref(&ours)).await.unwrap();
}

#[tokio::test]
async fn a_regional_call_carries_its_region() {
    let mut doc = allow(&["sts:GetCallerIdentity"], &["*"]);
    doc.statements.push(allow_when("ec2:DescribeVpcs", "aws:RequestedRegion", "us-west-2"));
    let (admin, session) = session_allowing(&[]).await;
    admin.iam().put_inline_policy("deployer", "inline", &doc).await.unwrap();
    session.network().describe_vpcs(&Filter::all()).await.unwrap();
    let (_, message) = denied(session.with_region("eu-west-1").network().describe_vpcs(&Filter::all()).await);
    assert!(message.contains("ec2:DescribeVpcs"), "{message}");
}

/// Runs the calls of a small deployment as `session` (each independent of the others' success,
/// on a network `admin` creates) and returns the calls that failed.
async fn deploy(session: &FakeCloud, admin: &FakeCloud) -> Vec<String> {
    let (vpc, subnets) = network(admin).await;
    let n = session.network();
    let t = tags(&[("detcloud:managed-by", "detcloud")]);
    let results: Vec<(&str, detcloud_provider::Result<()>)> = vec![
        ("describe_availability_zones", n.describe_availability_zones().await.map(drop)),
        ("create_vpc", n.create_vpc("10.5.0.0/16", &t).await.map(drop)),
        ("create_subnet", n.create_subnet(subnet(&vpc.id, "10.0.9.0/24", "us-west-2c")).await.map(drop)),
        ("describe_subnets", n.describe_subnets(&Filter::all().in_vpc(&vpc.id)).await.map(drop)),
        ("create_internet_gateway", n.create_internet_gateway(&t).await.map(drop)),
        ("create_route_table", n.create_route_table(&vpc.id, &t).await.map(drop)),
        ("allocate_address", n.allocate_address(&t).await.map(drop)),
        ("run_instance", session.compute().run_instance(instance(&subnets[0].id)).await.map(drop)),
        ("describe_instances", session.compute().describe_instances(&Filter::all()).await.map(drop)),
        ("create_log_group", session.logs().create_log_group("/det", &t).await),
    ];
    results.into_iter().filter(|(_, r)| r.is_err()).map(|(name, _)| name.to_string()).collect()
}

#[tokio::test]
async fn a_policy_with_one_action_removed_fails_exactly_that_call() {
    let granted = [
        "ec2:DescribeAvailabilityZones",
        "ec2:CreateVpc",
        "ec2:CreateSubnet",
        "ec2:DescribeSubnets",
        "ec2:CreateInternetGateway",
        "ec2:CreateRouteTable",
        "ec2:AllocateAddress",
        "ec2:CreateTags",
        "ec2:RunInstances",
        "ec2:DescribeInstances",
        "logs:CreateLogGroup",
        "logs:TagResource",
    ];
    let (admin, session) = session_allowing(&granted).await;
    assert!(deploy(&session, &admin).await.is_empty());
    let used: Vec<String> = session.actions_used().into_iter().collect();
    let mut sorted = granted.map(String::from).to_vec();
    sorted.sort();
    assert_eq!(used, sorted, "the policy is exactly what the calls used");

    let without: Vec<&str> = granted.iter().copied().filter(|a| *a != "ec2:CreateSubnet").collect();
    let (admin, session) = session_allowing(&without).await;
    assert_eq!(deploy(&session, &admin).await, ["create_subnet"]);
}

#[tokio::test(start_paused = true)]
async fn faults_apply_to_every_service_before_any_effect() {
    let cloud = customer();
    let throttled = Error::Throttled { message: "Rate exceeded".into() };
    cloud.faults().fail("ec2:CreateVpc", throttled.clone(), 2);
    let before = cloud.to_json();
    assert_eq!(cloud.network().create_vpc("10.0.0.0/16", &Tags::new()).await.unwrap_err(), throttled);
    assert_eq!(cloud.network().create_vpc("10.0.0.0/16", &Tags::new()).await.unwrap_err(), throttled);
    assert_eq!(cloud.to_json(), before, "no id drawn, nothing created");
    let (_, subnets) = db_network(&cloud).await;

    for action in ["rds:CreateDBCluster", "s3:CreateBucket", "ssm:PutParameter", "route53:ListResourceRecordSets"] {
        cloud.faults().fail(action, Error::Unavailable { message: "boom".into() }, 1);
    }
    assert!(matches!(cloud.database().create_db_cluster(cluster("c1", "db")).await, Err(Error::Unavailable { .. })));
    assert!(cloud.database().describe_db_clusters(&Filter::all()).await.unwrap().is_empty());
    assert!(cloud.storage().create_bucket("det-ckpt", "us-west-2").await.is_err());
    assert!(cloud.storage().describe_bucket("det-ckpt").await.unwrap_err().is_not_found());
    let zone = cloud.create_hosted_zone("det.example.com");
    assert!(cloud.dns().list_records(&zone).await.is_err());
    cloud.dns().list_records(&zone).await.unwrap();
    assert_eq!(cloud.faults().injected("rds:CreateDBCluster"), 1);

    // Delays are tokio sleeps: a paused clock skips them.
    cloud.faults().delay("ec2:RunInstances", Duration::from_secs(5));
    let start = tokio::time::Instant::now();
    let i = cloud.compute().run_instance(instance(&subnets[0].id)).await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    assert_eq!(i.state, detcloud_provider::InstanceState::Pending);
    let outcomes: Vec<_> =
        cloud.calls().into_iter().filter(|c| c.action == "ec2:CreateVpc").map(|c| c.outcome).collect();
    assert_eq!(outcomes[..2], [Err("Throttling".to_string()), Err("Throttling".to_string())]);
    // Failed calls are logged with the service's error code.
    let missing = cloud.network().delete_vpc("vpc-0123456789abcdef0").await;
    assert!(missing.is_err());
    assert_eq!(cloud.calls().last().unwrap().outcome, Err("InvalidVpcID.NotFound".to_string()));
}

/// A role whose policies read tags gets them on every kind of target: an EC2 create's request
/// tags, an RDS cluster's and a log group's resource tags. (A role whose policies read none is
/// spared copying them: this is the path that must still carry them.)
#[tokio::test]
async fn tag_conditions_see_the_tags_of_requests_and_resources_of_every_service() {
    let mut doc = allow(&["ec2:CreateTags", "rds:DescribeDBClusters"], &["*"]);
    doc.statements.push(allow_when("ec2:CreateVpc", "aws:RequestTag/owner", "ours"));
    doc.statements.push(allow_when("rds:DeleteDBCluster", "aws:ResourceTag/owner", "ours"));
    doc.statements.push(allow_when("logs:DeleteLogGroup", "aws:ResourceTag/owner", "ours"));
    let (admin, session) = session_allowing(&[]).await;
    admin.set_timings(Timings::instant());
    admin.iam().put_inline_policy("deployer", "inline", &doc).await.unwrap();
    let ours = tags(&[("owner", "ours")]);
    let theirs = tags(&[("owner", "theirs")]);

    session.network().create_vpc("10.0.0.0/16", &ours).await.unwrap();
    denied(session.network().create_vpc("10.1.0.0/16", &theirs).await);

    db_network(&admin).await;
    let db = admin.database();
    for (id, t) in [("ours", &ours), ("theirs", &theirs)] {
        let mut c = cluster(id, "db");
        c.tags = t.clone();
        db.create_db_cluster(c).await.unwrap();
    }
    session.database().delete_db_cluster("ours", None).await.unwrap();
    denied(session.database().delete_db_cluster("theirs", None).await);

    admin.logs().create_log_group("/ours", &ours).await.unwrap();
    admin.logs().create_log_group("/theirs", &theirs).await.unwrap();
    session.logs().delete_log_group("/ours").await.unwrap();
    denied(session.logs().delete_log_group("/theirs").await);
}
