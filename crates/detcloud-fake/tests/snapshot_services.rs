//! Snapshots of the regional services, S3 and Route53: round trips with every resource kind, a
//! settled loaded world, stable readable JSON; and instant timings.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::*;
use detcloud_fake::{FakeCloud, SnapshotError, Timings};
use detcloud_provider::{
    BucketEncryption, Cloud, CreateNatGateway, Filter, InstanceState, MetricQuery, NatGatewayState, PutParameter,
    RecordSet, RootVolume, RouteTarget, Secret, SecurityRule, SendCommand, Tags,
};

const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm0x3mS9o0y4zYbI9P2Fh8aQ8o1e0rVv5C8m0cXWkQn det@laptop";
const EPOCH: u64 = 1_700_000_000;

fn nat(subnet_id: &str, allocation_id: &str) -> CreateNatGateway {
    CreateNatGateway {
        subnet_id: subnet_id.into(),
        allocation_id: allocation_id.into(),
        client_token: None,
        tags: Tags::new(),
    }
}

/// Ids the observation needs.
struct Rich {
    cloud: FakeCloud,
    zone: String,
    key_id: String,
    command: (String, String),
    instance: String,
}

/// A world with something of every kind, in two regions and two accounts.
async fn rich_world() -> Rich {
    let cloud = customer();
    cloud.set_wall_clock(SystemTime::UNIX_EPOCH + Duration::from_secs(EPOCH));
    let owned = tags(&[("detcloud:managed-by", "detcloud")]);
    let (vpc, subnets) = db_network(&cloud).await;
    let net = cloud.network();
    net.create_tags(std::slice::from_ref(&vpc.id), &owned).await.unwrap();
    let other = net.create_vpc("10.1.0.0/16", &owned).await.unwrap();
    let pcx = net.create_vpc_peering(&vpc.id, &other.id, &owned).await.unwrap();
    net.accept_vpc_peering(&pcx.id).await.unwrap();
    let igw = net.create_internet_gateway(&owned).await.unwrap();
    net.attach_internet_gateway(&igw.id, &vpc.id).await.unwrap();
    cloud.set_map_public_ip_on_launch(&subnets[0].id, true).unwrap();
    let rtb = net.create_route_table(&vpc.id, &owned).await.unwrap();
    net.create_route(&rtb.id, "0.0.0.0/0", &RouteTarget::InternetGateway(igw.id.clone())).await.unwrap();
    net.create_route(&rtb.id, "10.1.0.0/16", &RouteTarget::Peering(pcx.id.clone())).await.unwrap();
    net.associate_route_table(&rtb.id, &subnets[0].id).await.unwrap();
    let eip = net.allocate_address(&owned).await.unwrap();
    let gw = net.create_nat_gateway(nat(&subnets[0].id, &eip.allocation_id)).await.unwrap();
    let main = net.describe_route_tables(&Filter::all().in_vpc(&vpc.id)).await.unwrap();
    let main = main.iter().find(|r| r.associations.iter().any(|a| a.main)).unwrap();
    net.create_route(&main.id, "0.0.0.0/0", &RouteTarget::NatGateway(gw.id.clone())).await.unwrap();
    let sg = net.create_security_group(&vpc.id, "web", "web servers", &owned).await.unwrap();
    let rule = SecurityRule {
        protocol: "tcp".into(),
        from_port: 443,
        to_port: 443,
        cidr: Some("0.0.0.0/0".into()),
        source_group_id: None,
        description: Some("https".into()),
    };
    net.authorize_ingress(&sg.id, &[rule]).await.unwrap();
    let eni = net.create_network_interface(&subnets[1].id, std::slice::from_ref(&sg.id), &owned).await.unwrap();
    net.create_route(&main.id, "192.168.0.0/16", &RouteTarget::NetworkInterface(eni.id.clone())).await.unwrap();

    let key = cloud.keys().create_key("checkpoints", &owned).await.unwrap();
    cloud.create_alias("alias/det", &key.id).unwrap();
    cloud.keys().create_grant(&key.id, "arn:aws:iam::111111111111:role/agent", &["Decrypt".into()]).await.unwrap();
    let disabled = cloud.keys().create_key("old", &Tags::new()).await.unwrap();
    cloud.disable_key(&disabled.id).unwrap();

    cloud.compute().import_key_pair("det", KEY, &owned).await.unwrap();
    cloud.iam().create_role(role("agent")).await.unwrap();
    cloud.iam().create_instance_profile("agent", "/", &Tags::new()).await.unwrap();
    cloud.iam().add_role_to_instance_profile("agent", "agent").await.unwrap();
    let mut request = instance(&subnets[0].id);
    request.key_name = Some("det".into());
    request.instance_profile_name = Some("agent".into());
    request.user_data = Some("#!/bin/sh\necho hello\n".into());
    request.root_volume = Some(RootVolume {
        size_gib: 100,
        volume_type: "gp3".into(),
        encrypted: true,
        kms_key_id: Some(key.id.clone()),
    });
    request.client_token = Some("agent-1".into());
    request.tags = owned.clone();
    let i = cloud.compute().run_instance(request).await.unwrap();
    let doomed = cloud.compute().run_instance(instance(&subnets[1].id)).await.unwrap();
    cloud.compute().terminate_instances(&[doomed.id]).await.unwrap();
    let mut spot = typed(&subnets[1].id, "g4dn.xlarge");
    spot.tags = tags(&[("detcloud:cluster", "c1")]);
    let (request, _) = cloud.request_spot_instance(spot);
    cloud.compute().cancel_spot_requests(&[request.id]).await.unwrap();
    let eip2 = net.allocate_address(&Tags::new()).await.unwrap();

    let mut c = cluster("det-db", "db");
    c.kms_key_id = Some("alias/det".into());
    c.tags = owned.clone();
    cloud.database().create_db_cluster(c).await.unwrap();
    cloud.database().create_db_instance(db_instance("det-db-1", "det-db")).await.unwrap();
    cloud.database().create_db_cluster(cluster("old-db", "db")).await.unwrap();

    cloud.storage().create_bucket("det-ckpt-111111111111", "us-west-2").await.unwrap();
    cloud
        .storage()
        .put_bucket_encryption("det-ckpt-111111111111", &BucketEncryption::Kms(Some(key.arn.clone())))
        .await
        .unwrap();
    cloud.storage().put_bucket_policy("det-ckpt-111111111111", &allow_bucket("det-ckpt-111111111111")).await.unwrap();
    cloud.storage().put_object("det-ckpt-111111111111", "c1/ckpt-1", b"weights").await.unwrap();
    cloud.admin_of("222222222222").storage().create_bucket("vendor-bucket", "us-east-1").await.unwrap();

    cloud.logs().create_log_group("/detcloud/c1", &owned).await.unwrap();
    cloud.logs().put_retention_policy("/detcloud/c1", 30).await.unwrap();
    let mut secret = PutParameter {
        name: "/detcloud/c1/db-password".into(),
        value: Secret::new(PASSWORD),
        secure: true,
        kms_key_id: Some(key.id.clone()),
        overwrite: false,
        description: Some("database".into()),
    };
    cloud.parameters().put_parameter(secret.clone()).await.unwrap();
    secret.overwrite = true;
    cloud.parameters().put_parameter(secret).await.unwrap();
    cloud.metrics().put_metric("detcloud", "QueueDepth", &[("Cluster".into(), "c1".into())], 3.0).await.unwrap();
    cloud.set_quota("ec2", "L-DB2E81BA", 64.0);
    let zone = cloud.create_hosted_zone("det.example.com");
    let record = RecordSet {
        name: "c1.det.example.com".into(),
        record_type: "A".into(),
        ttl: 60,
        values: vec!["10.0.1.4".into()],
    };
    cloud.dns().upsert_record(&zone, &record).await.unwrap();

    let eu = cloud.with_region("eu-west-1");
    eu.network().create_vpc("10.9.0.0/16", &Tags::new()).await.unwrap();
    eu.logs().create_log_group("/eu", &Tags::new()).await.unwrap();

    // Let everything settle, then one more change of each kind that takes time, and a command.
    advance(3600).await;
    net.associate_address(&eip2.allocation_id, &i.id).await.unwrap();
    cloud.database().delete_db_cluster("old-db", Some("old-db-final")).await.unwrap();
    advance(60).await;
    let command = cloud
        .parameters()
        .send_command(SendCommand {
            instance_ids: vec![i.id.clone()],
            commands: vec!["uptime".into()],
            comment: None,
            timeout_seconds: None,
        })
        .await
        .unwrap();
    advance(5).await;
    Rich { cloud, zone, key_id: key.id, command: (command, i.id.clone()), instance: i.id }
}

fn allow_bucket(bucket: &str) -> detcloud_policy::PolicyDocument {
    detcloud_policy::PolicyDocument::new(vec![detcloud_policy::Statement {
        principal: Some(detcloud_policy::PrincipalBlock::Only(detcloud_policy::Principal::single(
            "AWS",
            "arn:aws:iam::111111111111:role/agent",
        ))),
        ..detcloud_policy::Statement::allow(["s3:GetObject", "s3:PutObject"], [format!("arn:aws:s3:::{bucket}/*")])
    }])
}

/// Everything the contract can observe about the world, as text.
async fn observe(rich: &Rich, cloud: &FakeCloud) -> String {
    let all = Filter::all();
    let (net, compute, db) = (cloud.network(), cloud.compute(), cloud.database());
    let mut out = vec![
        format!("{:?}", net.describe_vpcs(&all).await.unwrap()),
        format!("{:?}", net.describe_subnets(&all).await.unwrap()),
        format!("{:?}", net.describe_internet_gateways(&all).await.unwrap()),
        format!("{:?}", net.describe_addresses(&all).await.unwrap()),
        format!("{:?}", net.describe_nat_gateways(&all).await.unwrap()),
        format!("{:?}", net.describe_route_tables(&all).await.unwrap()),
        format!("{:?}", net.describe_security_groups(&all).await.unwrap()),
        format!("{:?}", net.describe_network_interfaces(&all).await.unwrap()),
        format!("{:?}", net.describe_vpc_peerings(&all).await.unwrap()),
        format!("{:?}", compute.describe_key_pairs(&all).await.unwrap()),
        format!("{:?}", compute.describe_instances(&all).await.unwrap()),
        format!("{:?}", compute.describe_instance_status(&[]).await.unwrap()),
        format!("{:?}", compute.describe_spot_requests(&all).await.unwrap()),
        format!("{:?}", db.describe_db_subnet_groups(&all).await.unwrap()),
        format!("{:?}", db.describe_db_clusters(&all).await.unwrap()),
        format!("{:?}", db.describe_db_instances(&all).await.unwrap()),
        format!("{:?}", db.describe_db_cluster_snapshots("det-db").await.unwrap()),
        format!("{:?}", db.describe_db_cluster_snapshots("old-db").await.unwrap()),
        format!("{:?}", cloud.storage().describe_bucket("det-ckpt-111111111111").await.unwrap()),
        format!("{:?}", cloud.admin_of("222222222222").storage().describe_bucket("vendor-bucket").await.unwrap()),
        format!("{:?}", cloud.keys().describe_key(&rich.key_id).await.unwrap()),
        format!("{:?}", cloud.keys().describe_key("alias/det").await.unwrap()),
        format!("{:?}", cloud.keys().describe_key("alias/aws/rds").await.unwrap()),
        format!("{:?}", cloud.logs().describe_log_groups("/").await.unwrap()),
        format!("{:?}", cloud.with_region("eu-west-1").logs().describe_log_groups("/").await.unwrap()),
        format!("{:?}", cloud.with_region("eu-west-1").network().describe_vpcs(&all).await.unwrap()),
        format!("{:?}", cloud.parameters().get_parameter("/detcloud/c1/db-password").await.unwrap().version),
        format!("{:?}", cloud.parameters().get_command_invocation(&rich.command.0, &rich.command.1).await.unwrap()),
        format!("{:?}", cloud.quotas().get_service_quota("ec2", "L-DB2E81BA").await.unwrap()),
        format!("{:?}", cloud.dns().list_records(&rich.zone).await.unwrap()),
    ];
    let now = cloud.wall_clock();
    let query = MetricQuery {
        id: "q".into(),
        namespace: "detcloud".into(),
        metric_name: "QueueDepth".into(),
        dimensions: vec![("Cluster".into(), "c1".into())],
        stat: "Sum".into(),
        period_seconds: 3600,
    };
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(EPOCH);
    out.push(format!("{:?}", cloud.metrics().get_metric_data(&[query], start, now).await.unwrap()));
    out.join("\n")
}

#[tokio::test(start_paused = true)]
async fn round_trip_with_every_resource_kind() {
    let rich = rich_world().await;
    let json = rich.cloud.to_json();
    let loaded = FakeCloud::from_json(&json).unwrap();
    assert_eq!(loaded.to_json(), json);
    loaded.set_wall_clock(rich.cloud.wall_clock());
    assert_eq!(observe(&rich, &loaded).await, observe(&rich, &rich.cloud).await);

    // Id counters continue: the same call draws the same new id in both worlds.
    let mut ids = Vec::new();
    for cloud in [&rich.cloud, &loaded] {
        ids.push(cloud.network().create_vpc("10.7.0.0/16", &Tags::new()).await.unwrap().id);
    }
    assert_eq!(ids[0], ids[1]);
    assert!(!json.contains(&ids[0]));
    // The loaded world enforces the same rules.
    assert!(is_conflict(&loaded.storage().delete_bucket("det-ckpt-111111111111").await));
    assert!(loaded.storage().create_bucket("vendor-bucket", "us-west-2").await.unwrap_err().is_already_exists());
    let running = loaded.compute().describe_instances(&Filter::id(&rich.instance)).await.unwrap().remove(0);
    assert_eq!(running.state, InstanceState::Running);
}

#[tokio::test(start_paused = true)]
async fn the_file_is_stable_readable_json() {
    let json = rich_world().await.cloud.to_json();
    assert_eq!(json, rich_world().await.cloud.to_json(), "ids, times and order are deterministic");
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let region = &value["accounts"][CUSTOMER]["regions"]["us-west-2"];
    let instances = region["ec2"]["instances"].as_object().unwrap();
    let launched = instances.values().find(|i| i["key_name"] == "det").unwrap();
    assert_eq!(launched["launch_time"], "2023-11-14T22:13:20.000Z");
    assert_eq!(launched["user_data"], "#!/bin/sh\necho hello\n");
    assert_eq!(launched["imdsv2_required"], true);
    assert_eq!(launched["root_volume"]["size_gib"], 100);
    assert_eq!(region["rds"]["clusters"]["det-db"]["engine"], "aurora-postgresql");
    assert_eq!(region["log_groups"]["/detcloud/c1"]["retention_days"], 30);
    assert_eq!(region["quotas"]["ec2/L-DB2E81BA"], 64.0);
    assert_eq!(value["accounts"]["222222222222"]["s3"]["vendor-bucket"]["region"], "us-east-1");
    assert!(value["accounts"][CUSTOMER]["route53"].as_object().unwrap().len() == 1);
    assert!(value["accounts"][CUSTOMER]["regions"]["eu-west-1"]["ec2"]["vpcs"].is_object());
    assert!(json.contains("\n      \"regions\": {\n"), "pretty-printed");
    // Documented: the sandbox keeps the secrets it stores (and nothing else secret).
    assert!(json.contains(PASSWORD));
    assert!(!json.contains("ASIA"));
    // AWS managed keys are derived, not saved.
    assert!(!json.contains("alias/aws/"));
}

#[tokio::test(start_paused = true)]
async fn a_loaded_world_has_finished_its_transitions() {
    let cloud = customer();
    let (_, subnets) = db_network(&cloud).await;
    let i = cloud.compute().run_instance(instance(&subnets[0].id)).await.unwrap();
    let gone = cloud.compute().run_instance(instance(&subnets[0].id)).await.unwrap();
    cloud.compute().terminate_instances(std::slice::from_ref(&gone.id)).await.unwrap();
    let eip = cloud.network().allocate_address(&Tags::new()).await.unwrap();
    let gw = cloud.network().create_nat_gateway(nat(&subnets[1].id, &eip.allocation_id)).await.unwrap();
    cloud.database().create_db_cluster(cluster("creating", "db")).await.unwrap();
    cloud.database().create_db_instance(db_instance("creating-1", "creating")).await.unwrap();
    cloud.database().create_db_cluster(cluster("deleting", "db")).await.unwrap();
    advance(480).await;
    cloud.database().delete_db_cluster("deleting", Some("deleting-final")).await.unwrap();
    cloud.network().delete_nat_gateway(&gw.id).await.unwrap();
    advance(1).await;
    let command = cloud
        .parameters()
        .send_command(SendCommand {
            instance_ids: vec![i.id.clone()],
            commands: vec!["ls".into()],
            comment: None,
            timeout_seconds: None,
        })
        .await
        .unwrap();
    assert!(is_not_ready(&cloud.parameters().get_command_invocation(&command, &i.id).await));

    let loaded = FakeCloud::from_json(&cloud.to_json()).unwrap();
    let instances = loaded.compute().describe_instances(&Filter::all()).await.unwrap();
    let states: Vec<InstanceState> =
        [&i.id, &gone.id].iter().map(|id| instances.iter().find(|x| x.id == **id).unwrap().state).collect();
    assert_eq!(states, [InstanceState::Running, InstanceState::Terminated]);
    assert_eq!(loaded.compute().describe_instance_status(&[]).await.unwrap()[0].system_status, "ok");
    assert_eq!(
        loaded.network().describe_nat_gateways(&Filter::all()).await.unwrap()[0].state,
        NatGatewayState::Deleted
    );
    let db = loaded.database();
    assert_eq!(db.describe_db_clusters(&Filter::id("creating")).await.unwrap()[0].status, "available");
    assert_eq!(db.describe_db_instances(&Filter::id("creating-1")).await.unwrap()[0].status, "available");
    assert!(db.describe_db_clusters(&Filter::id("deleting")).await.unwrap_err().is_not_found());
    assert_eq!(db.describe_db_cluster_snapshots("deleting").await.unwrap()[0].status, "available");
    assert_eq!(loaded.parameters().get_command_invocation(&command, &i.id).await.unwrap().status, "Success");
    // The live world is still mid-way.
    assert_eq!(cloud.database().describe_db_clusters(&Filter::id("deleting")).await.unwrap()[0].status, "deleting");
}

#[test]
fn inconsistent_regional_snapshots_are_rejected() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let cloud = customer();
    let json = rt.block_on(async {
        network(&cloud).await;
        cloud.to_json()
    });
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["accounts"][CUSTOMER]["regions"]["us-west-2"]["ec2"]["vpcs"].as_object_mut().unwrap().clear();
    let err = FakeCloud::from_json(&value.to_string()).unwrap_err();
    assert!(matches!(&err, SnapshotError::Inconsistent(m) if m.contains("VPC")), "{err}");
    let bad_region = json.replace("\"us-west-2\": {", "\"mars\": {");
    assert!(matches!(FakeCloud::from_json(&bad_region), Err(SnapshotError::Inconsistent(m)) if m.contains("mars")));
    let bad_time = json.replace("\"next_host\": 4", "\"next_host\": \"four\"");
    assert!(matches!(FakeCloud::from_json(&bad_time), Err(SnapshotError::Malformed(_))));
}

#[tokio::test(start_paused = true)]
async fn instant_timings_settle_everything_at_once() {
    let cloud = customer();
    cloud.set_timings(Timings::instant());
    assert_eq!(cloud.timings(), Timings::instant());
    assert_eq!(customer().timings(), Timings::aws_like());
    let (_, subnets) = db_network(&cloud).await;
    let i = cloud.compute().run_instance(instance(&subnets[0].id)).await.unwrap();
    assert_eq!(i.state, InstanceState::Running);
    assert_eq!(cloud.compute().describe_instance_status(&[]).await.unwrap()[0].instance_status, "ok");
    let eip = cloud.network().allocate_address(&Tags::new()).await.unwrap();
    let gw = cloud.network().create_nat_gateway(nat(&subnets[0].id, &eip.allocation_id)).await.unwrap();
    assert_eq!(gw.state, NatGatewayState::Available);
    let c = cloud.database().create_db_cluster(cluster("det-db", "db")).await.unwrap();
    assert_eq!(c.status, "available");
    assert!(c.latest_restorable_time.is_some());
    let db = cloud.database().create_db_instance(db_instance("det-db-1", "det-db")).await.unwrap();
    assert_eq!(db.status, "available");
    cloud.set_command_handler(Arc::new(|_: &[String]| (0, "ok".into(), String::new())));
    let command = cloud
        .parameters()
        .send_command(SendCommand {
            instance_ids: vec![i.id.clone()],
            commands: vec!["true".into()],
            comment: None,
            timeout_seconds: None,
        })
        .await
        .unwrap();
    let invocation = cloud.parameters().get_command_invocation(&command, &i.id).await.unwrap();
    assert_eq!((invocation.status.as_str(), invocation.stdout.as_str()), ("Success", "ok"));
    cloud.database().delete_db_instance("det-db-1").await.unwrap();
    cloud.database().delete_db_cluster("det-db", None).await.unwrap();
    assert!(cloud.database().describe_db_clusters(&Filter::all()).await.unwrap().is_empty());
    cloud.compute().terminate_instances(std::slice::from_ref(&i.id)).await.unwrap();
    let terminated = cloud.compute().describe_instances(&Filter::id(&i.id)).await.unwrap().remove(0);
    assert_eq!(terminated.state, InstanceState::Terminated);
}
