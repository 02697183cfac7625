//! The whole cluster lifecycle on the fake, as the cross-account role with exactly the catalog's
//! policy (the fake enforces it on every call), on tokio's paused clock: an Aurora cluster's eight
//! minutes cost nothing.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use detcloud_cluster::context::{cluster_filter, Names};
use detcloud_cluster::graph::Node;
use detcloud_cluster::{create, delete, prepare, status, ClusterSpec, CreateOptions, DeleteOptions};
use detcloud_connect::{Catalog, ConnectOptions};
use detcloud_fake::FakeCloud;
use detcloud_provider::{BucketEncryption, Cloud, CreateSubnet, Filter, Tags};

mod common;

use common::{connect, instance, vendor_session, CUSTOMER, SSH_KEY};

/// A customer account connected with `connect aws`, and the vendor's session as its
/// cross-account role.
async fn connected() -> (FakeCloud, Arc<dyn Cloud>) {
    let cloud = FakeCloud::new(CUSTOMER);
    connect(&cloud, Some("tenant-1")).await;
    let xacct = vendor_session(&cloud, CUSTOMER, Some("tenant-1")).await;
    (cloud, Arc::new(xacct))
}

fn spec() -> ClusterSpec {
    common::spec("ml-prod")
}

/// Resources of the customer's own, present before the cluster.
async fn customer_resources(cloud: &FakeCloud) -> String {
    let net = cloud.network();
    let mut tags = Tags::new();
    tags.insert("team".into(), "data".into());
    let vpc = net.create_vpc("10.0.0.0/16", &tags).await.unwrap();
    let subnet = net
        .create_subnet(CreateSubnet {
            vpc_id: vpc.id.clone(),
            cidr: "10.0.1.0/24".into(),
            availability_zone: "us-west-2a".into(),
            tags: tags.clone(),
        })
        .await
        .unwrap();
    cloud.compute().run_instance(instance(&subnet.id, "t3.micro", &tags)).await.unwrap();
    cloud.storage().create_bucket("their-data", "us-west-2").await.unwrap();
    cloud.storage().put_object("their-data", "k", b"v").await.unwrap();
    // Let the customer's instance finish booting: the snapshot compares states, not time.
    tokio::time::sleep(std::time::Duration::from_secs(300)).await;
    snapshot_of_customer(cloud).await
}

/// Everything observable about the customer's resources (without the cluster's).
async fn snapshot_of_customer(cloud: &FakeCloud) -> String {
    let net = cloud.network();
    let theirs = Filter::tag("team", "data");
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}",
        net.describe_vpcs(&theirs).await.unwrap(),
        net.describe_subnets(&theirs).await.unwrap(),
        cloud.compute().describe_instances(&theirs).await.unwrap(),
        cloud.storage().describe_bucket("their-data").await.unwrap(),
    )
}

#[tokio::test(start_paused = true)]
async fn create_converges_status_is_healthy_and_delete_keeps_the_data() {
    let (cloud, xacct) = connected().await;
    let before = customer_resources(&cloud).await;
    let spec = spec();

    let prepared = prepare(xacct.as_ref(), &spec, CUSTOMER).await.unwrap();
    assert_eq!(prepared.vpc_cidr.to_string(), "10.1.0.0/16", "the automatic block avoids the customer's VPC");
    let report = create(xacct.as_ref(), &prepared, &CreateOptions::new(SSH_KEY)).await.unwrap();
    assert!(report.existing.is_empty(), "{report:?}");
    assert_eq!(report.created.len(), detcloud_cluster::Graph::new(2).nodes.len(), "{report:?}");

    // What AWS holds, as the customer sees it.
    let names = Names::new(&spec, CUSTOMER);
    let net = cloud.network();
    let vpcs = net.describe_vpcs(&cluster_filter("ml-prod")).await.unwrap();
    assert_eq!(vpcs.len(), 1);
    let subnets = net.describe_subnets(&cluster_filter("ml-prod")).await.unwrap();
    assert_eq!(subnets.len(), 4);
    assert_eq!(subnets.iter().map(|s| s.availability_zone.clone()).collect::<BTreeSet<_>>().len(), 2);
    let master = cloud
        .compute()
        .describe_instances(&cluster_filter("ml-prod"))
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.tags.get("detcloud:resource").map(String::as_str) == Some("master"))
        .unwrap();
    assert!(master.imdsv2_required, "IMDSv2 is required");
    assert!(master
        .instance_profile_arn
        .as_deref()
        .unwrap_or_default()
        .ends_with("instance-profile/det-cloud-customer-master"));
    assert!(master.public_ip.is_some());
    let bucket = cloud.storage().describe_bucket(&names.bucket).await.unwrap();
    assert_eq!(bucket.encryption, Some(BucketEncryption::S3Managed));
    assert!(bucket.policy.unwrap().to_json().contains("aws:SecureTransport"));
    let db = cloud.database().describe_db_clusters(&Filter::id(&names.db_cluster)).await.unwrap();
    assert_eq!(db[0].status, "available");
    assert!(db[0].storage_encrypted);
    assert_eq!(db[0].tags.get("detcloud:cluster").map(String::as_str), Some("ml-prod"));
    let password = cloud.parameters().get_parameter(&names.password_parameter).await.unwrap();
    assert_eq!(password.kind, "SecureString");
    assert_eq!(password.value.expose().len(), 32);

    // A second run finds everything and creates nothing.
    cloud.clear_calls();
    let prepared = prepare(xacct.as_ref(), &spec, CUSTOMER).await.unwrap();
    let again = create(xacct.as_ref(), &prepared, &CreateOptions::new(SSH_KEY)).await.unwrap();
    assert!(again.created.is_empty(), "a converged cluster was changed: {:?}", again.created);
    let writes: Vec<String> = cloud
        .calls()
        .into_iter()
        .map(|c| c.action.to_string())
        .filter(|a| {
            ["Create", "Run", "Allocate", "Import", "Put", "Associate"]
                .iter()
                .any(|w| a.split(':').nth(1).is_some_and(|n| n.starts_with(w)))
        })
        .filter(|a| {
            a != "s3:CreateBucket"
                && a != "s3:PutEncryptionConfiguration"
                && a != "s3:PutBucketPolicy"
                && a != "logs:CreateLogGroup"
                && a != "logs:PutRetentionPolicy"
                && a != "rds:CreateDBSubnetGroup"
        })
        .collect();
    assert!(writes.is_empty(), "the second run wrote: {writes:?}");

    let st = status(xacct.as_ref(), "ml-prod", "us-west-2", CUSTOMER).await.unwrap();
    assert!(st.healthy, "{st:#?}");

    // Delete keeps the bucket and a final snapshot; the customer's resources never change.
    let deleted = delete(xacct.as_ref(), "ml-prod", "us-west-2", CUSTOMER, &DeleteOptions::default()).await.unwrap();
    assert!(deleted.kept.iter().any(|k| k.contains(&names.bucket)), "{deleted:?}");
    assert!(deleted.kept.iter().any(|k| k.contains("final database snapshot")), "{deleted:?}");
    assert!(net.describe_vpcs(&cluster_filter("ml-prod")).await.unwrap().is_empty());
    assert!(net.describe_addresses(&cluster_filter("ml-prod")).await.unwrap().is_empty());
    assert!(cloud.storage().describe_bucket(&names.bucket).await.is_ok(), "the checkpoint bucket was deleted");
    let snapshots = cloud.database().describe_db_cluster_snapshots(&names.db_cluster).await.unwrap();
    assert_eq!(snapshots.len(), 1);
    assert_eq!(snapshot_of_customer(&cloud).await, before, "the customer's resources changed");
    let st = status(xacct.as_ref(), "ml-prod", "us-west-2", CUSTOMER).await.unwrap();
    assert!(!st.healthy);

    // Purge removes the bucket too; a second delete has nothing left to do.
    let purged =
        delete(xacct.as_ref(), "ml-prod", "us-west-2", CUSTOMER, &DeleteOptions { purge: true, ..Default::default() })
            .await
            .unwrap();
    assert!(purged.deleted.iter().any(|d| d.contains(&names.bucket)), "{purged:?}");
    let gone = cloud.storage().describe_bucket(&names.bucket).await;
    assert!(gone.as_ref().is_err_and(|e| e.is_not_found()), "{gone:?}");
}

#[tokio::test(start_paused = true)]
async fn the_lifecycle_uses_only_the_catalog_s_actions_and_the_report_is_a_fixture() {
    let (cloud, xacct) = connected().await;
    cloud.clear_calls();
    let spec = spec();
    let prepared = prepare(xacct.as_ref(), &spec, CUSTOMER).await.unwrap();
    let report = create(xacct.as_ref(), &prepared, &CreateOptions::new(SSH_KEY)).await.unwrap();
    status(xacct.as_ref(), "ml-prod", "us-west-2", CUSTOMER).await.unwrap();
    // The control plane's reading of the account, for drift: a new cluster has none.
    let memory = std::sync::Mutex::new(detcloud_cluster::fleet::CpuMemory::default());
    let managed = Filter::tag("detcloud:managed-by", "detcloud");
    let reading =
        detcloud_cluster::fleet::AccountReading::read_for_drift(xacct.as_ref(), &managed, None, &memory).await.unwrap();
    assert!(reading.drift_read && reading.log_groups_read);
    let drift = detcloud_cluster::drift::detect(&spec, &reading.clusters["ml-prod"], true);
    assert!(drift.is_empty(), "a new cluster has drifted: {drift:?}");
    // The master launches a spot agent for the cluster (tagged with it); delete must remove it.
    let mut tags = Tags::new();
    tags.insert("detcloud:managed-by".into(), "detcloud".into());
    tags.insert("detcloud:cluster".into(), "ml-prod".into());
    let mut request = instance(&report.ids[&Node::PrivateSubnet(0)], "g4dn.xlarge", &tags);
    request.imdsv2_required = true;
    let (spot, agent) = cloud.request_spot_instance(request);
    delete(xacct.as_ref(), "ml-prod", "us-west-2", CUSTOMER, &DeleteOptions::default()).await.unwrap();
    let agent_now = cloud.compute().describe_instances(&Filter::id(&agent.id)).await.unwrap();
    assert!(agent_now[0].state.is_gone(), "the master's spot agent survived: {agent_now:?}");
    let spot_now = cloud.compute().describe_spot_requests(&Filter::id(&spot.id)).await.unwrap();
    assert_eq!(spot_now[0].state, "cancelled");
    delete(xacct.as_ref(), "ml-prod", "us-west-2", CUSTOMER, &DeleteOptions { purge: true, ..Default::default() })
        .await
        .unwrap();
    let denied: Vec<_> = cloud
        .calls()
        .into_iter()
        .filter(|c| c.enforced && matches!(&c.outcome, Err(code) if code.contains("AccessDenied")))
        .collect();
    assert!(denied.is_empty(), "the catalog's policy lacks: {denied:#?}");

    // Every action used is granted by the catalog (spec + additions).
    let catalog = Catalog::new(&ConnectOptions::default(), CUSTOMER);
    let granted: BTreeSet<String> = catalog
        .role(detcloud_connect::Component::Xacct)
        .permissions
        .allowed_action_patterns()
        .iter()
        .map(|a| a.to_ascii_lowercase())
        .collect();
    let used: BTreeSet<String> = cloud.actions_used();
    for a in &used {
        assert!(granted.contains(&a.to_ascii_lowercase()), "{a} is used but not in the catalog");
    }
    // The report of actions used is a fixture: a change to it is a change to review.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cluster-actions.json");
    let text = serde_json::to_string_pretty(&used).unwrap() + "\n";
    if std::env::var_os("DETCLOUD_UPDATE_FIXTURES").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let recorded = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(recorded, text, "the lifecycle's actions changed; review, then re-run with DETCLOUD_UPDATE_FIXTURES=1");
    // And each addition to the spec is actually used (none is dead weight).
    for a in detcloud_connect::catalog::ADDITIONS {
        assert!(
            used.iter().any(|u| u.eq_ignore_ascii_case(a.action))
                // modify and backup, which use these, are not part of this run.
                || a.action == "ec2:RevokeSecurityGroupIngress"
                || a.action == "rds:DescribeDBClusterSnapshots"
                // Only the repair of a NAT gateway deleted behind our back (tested below).
                || a.action == "ec2:ReplaceRoute",
            "{} is in ADDITIONS but the lifecycle does not use it",
            a.action
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_nat_gateway_deleted_behind_our_back_is_replaced_and_the_private_route_follows() {
    let (cloud, xacct) = connected().await;
    let spec = spec();
    let prepared = prepare(xacct.as_ref(), &spec, CUSTOMER).await.unwrap();
    let first = create(xacct.as_ref(), &prepared, &CreateOptions::new(SSH_KEY)).await.unwrap();
    let old = first.ids[&Node::NatGateway].clone();
    // The account's administrator deletes it; the elastic IP stays with it until it is gone.
    cloud.network().delete_nat_gateway(&old).await.unwrap();
    let prepared = prepare(xacct.as_ref(), &spec, CUSTOMER).await.unwrap();
    let again = create(xacct.as_ref(), &prepared, &CreateOptions::new(SSH_KEY)).await.unwrap();
    let new = again.ids[&Node::NatGateway].clone();
    assert_ne!(new, old, "a replacement, not the deleted one (its client token is new)");
    assert!(again.created.contains(&Node::NatGateway));
    let tables = cloud.network().describe_route_tables(&cluster_filter(&spec.name)).await.unwrap();
    let nat_routes: Vec<_> = tables
        .iter()
        .flat_map(|t| &t.routes)
        .filter_map(|r| match &r.target {
            detcloud_provider::RouteTarget::NatGateway(id) => Some(id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(nat_routes, [new], "the default route was pointed at the replacement");
    assert!(status(xacct.as_ref(), &spec.name, &spec.region, CUSTOMER).await.unwrap().healthy);
    // A third run changes nothing.
    let prepared = prepare(xacct.as_ref(), &spec, CUSTOMER).await.unwrap();
    let third = create(xacct.as_ref(), &prepared, &CreateOptions::new(SSH_KEY)).await.unwrap();
    assert!(third.created.is_empty(), "{:?}", third.created);
}

#[tokio::test(start_paused = true)]
async fn a_crash_at_any_point_resumes_without_duplicates() {
    let (cloud, xacct) = connected().await;
    let spec = spec();
    // Stop the run after 1, 2, 4, ... seconds of virtual time by dropping its future, then resume.
    for stop_after in [1u64, 3, 60, 200, 500, 700] {
        let prepared = prepare(xacct.as_ref(), &spec, CUSTOMER).await.unwrap();
        let options = CreateOptions::new(SSH_KEY);
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(stop_after),
            create(xacct.as_ref(), &prepared, &options),
        )
        .await;
    }
    let prepared = prepare(xacct.as_ref(), &spec, CUSTOMER).await.unwrap();
    create(xacct.as_ref(), &prepared, &CreateOptions::new(SSH_KEY)).await.unwrap();
    let net = cloud.network();
    let f = cluster_filter("ml-prod");
    assert_eq!(net.describe_vpcs(&f).await.unwrap().len(), 1);
    assert_eq!(net.describe_subnets(&f).await.unwrap().len(), 4);
    assert_eq!(net.describe_internet_gateways(&f).await.unwrap().len(), 1);
    assert_eq!(net.describe_addresses(&f).await.unwrap().len(), 2);
    let nats: Vec<_> = net.describe_nat_gateways(&f).await.unwrap();
    assert_eq!(nats.len(), 1, "{nats:?}");
    let live: Vec<_> =
        cloud.compute().describe_instances(&f).await.unwrap().into_iter().filter(|i| !i.state.is_gone()).collect();
    assert_eq!(live.len(), 1, "{live:?}");
    assert_eq!(net.describe_route_tables(&f).await.unwrap().len(), 2);
    delete(xacct.as_ref(), "ml-prod", "us-west-2", CUSTOMER, &DeleteOptions::default()).await.unwrap();
    assert!(net.describe_vpcs(&f).await.unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn concurrency_reaches_the_critical_path() {
    let (_cloud, xacct) = connected().await;
    let spec = spec();
    let prepared = prepare(xacct.as_ref(), &spec, CUSTOMER).await.unwrap();
    let start = tokio::time::Instant::now();
    create(xacct.as_ref(), &prepared, &CreateOptions::new(SSH_KEY)).await.unwrap();
    let elapsed = start.elapsed();
    let bound = detcloud_cluster::Graph::new(2).critical_path(Node::typical_duration);
    // Polling granularity (at most 30 s per wait) is the only slack.
    assert!(elapsed >= bound.saturating_sub(std::time::Duration::from_secs(5)), "{elapsed:?} < {bound:?}");
    assert!(elapsed <= bound + std::time::Duration::from_secs(90), "{elapsed:?} vs bound {bound:?}");
}

#[tokio::test(start_paused = true)]
async fn preflight_refuses_before_any_change() {
    let (cloud, xacct) = connected().await;
    // Five VPCs already: the sixth would exceed L-F678F1CE.
    for i in 0..5 {
        cloud.network().create_vpc(&format!("10.{}.0.0/16", 100 + i), &Tags::new()).await.unwrap();
    }
    cloud.clear_calls();
    let err = prepare(xacct.as_ref(), &spec(), CUSTOMER).await.unwrap_err();
    assert!(err.to_string().contains("L-F678F1CE"), "{err}");
    assert!(err.to_string().contains("servicequotas"), "{err}");
    let writes = cloud.calls().into_iter().filter(|c| c.action.contains(":Create")).count();
    assert_eq!(writes, 0);

    // Without connect's instance profile, preflight says what to do.
    let bare = FakeCloud::new("210987654321");
    let mut s = spec();
    s.master_instance_profile = "missing-profile".into();
    let err = prepare(&bare, &s, "210987654321").await.unwrap_err();
    assert!(err.to_string().contains("detcloud connect aws"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_customer_managed_key_encrypts_the_bucket_database_and_volume() {
    let (cloud, xacct) = connected().await;
    let key = cloud.keys().create_key("determined", &Tags::new()).await.unwrap();
    let mut s = spec();
    s.kms_key_id = Some(key.arn.clone());
    let prepared = prepare(xacct.as_ref(), &s, CUSTOMER).await.unwrap();
    assert_eq!(prepared.kms_key.as_ref().map(|k| k.id.clone()), Some(key.id.clone()));
    create(xacct.as_ref(), &prepared, &CreateOptions::new(SSH_KEY)).await.unwrap();
    let names = Names::new(&s, CUSTOMER);
    let bucket = cloud.storage().describe_bucket(&names.bucket).await.unwrap();
    assert_eq!(bucket.encryption, Some(BucketEncryption::Kms(Some(key.arn.clone()))));
    let db = cloud.database().describe_db_clusters(&Filter::id(&names.db_cluster)).await.unwrap();
    assert_eq!(db[0].kms_key_id.as_deref(), Some(key.arn.as_str()));

    // A disabled key is refused before any change.
    cloud.disable_key(&key.id).unwrap();
    let mut t = spec();
    t.name = "other".into();
    t.kms_key_id = Some(key.arn);
    let err = prepare(xacct.as_ref(), &t, CUSTOMER).await.unwrap_err();
    assert!(err.to_string().contains("kms_key_id"), "{err}");
}

/// Everything but the database and what needs it: what an endpoint without RDS can hold.
fn network_and_storage() -> BTreeSet<Node> {
    BTreeSet::from([
        Node::PublicRoutes,
        Node::PrivateRoutes,
        Node::SecurityRules,
        Node::KeyPair,
        Node::Bucket,
        Node::LogGroup,
    ])
}

fn without_database() -> BTreeSet<Node> {
    BTreeSet::from([
        Node::DbSubnetGroup,
        Node::DbCluster,
        Node::DbInstance,
        Node::Master,
        Node::MasterAddress,
        Node::MasterReady,
    ])
}

#[tokio::test(start_paused = true)]
async fn a_targeted_create_makes_only_what_the_targets_need_and_a_whole_run_completes_it() {
    let (cloud, xacct) = connected().await;
    let spec = spec();
    let prepared = prepare(xacct.as_ref(), &spec, CUSTOMER).await.unwrap();
    let mut options = CreateOptions::new(SSH_KEY);
    options.targets = network_and_storage();
    cloud.clear_calls();
    let report = create(xacct.as_ref(), &prepared, &options).await.unwrap();
    let whole = detcloud_cluster::Graph::new(2);
    let targeted: BTreeSet<Node> = whole.targeting(&options.targets).nodes.into_iter().collect();
    assert_eq!(report.created, targeted, "{report:?}");
    assert_eq!(report.left_out, without_database(), "{report:?}");
    assert_eq!(report.master, None);
    let touched: Vec<&str> = cloud
        .calls()
        .iter()
        .map(|c| c.action)
        .filter(|a| a.starts_with("rds:") || *a == "ec2:RunInstances" || *a == "ssm:PutParameter")
        .collect();
    assert!(touched.is_empty(), "a targeted run reached past its targets: {touched:?}");
    let st = status(xacct.as_ref(), "ml-prod", "us-west-2", CUSTOMER).await.unwrap();
    assert!(!st.healthy, "an incomplete cluster is not healthy: {st:#?}");

    // The same targets again: nothing new. Then the whole run makes exactly the rest.
    let prepared = prepare(xacct.as_ref(), &spec, CUSTOMER).await.unwrap();
    let again = create(xacct.as_ref(), &prepared, &options).await.unwrap();
    assert!(again.created.is_empty(), "{again:?}");
    let prepared = prepare(xacct.as_ref(), &spec, CUSTOMER).await.unwrap();
    let rest = create(xacct.as_ref(), &prepared, &CreateOptions::new(SSH_KEY)).await.unwrap();
    assert_eq!(rest.created, without_database(), "{rest:?}");
    assert_eq!(rest.existing, targeted, "{rest:?}");
    assert!(rest.left_out.is_empty());
    let st = status(xacct.as_ref(), "ml-prod", "us-west-2", CUSTOMER).await.unwrap();
    assert!(st.healthy, "{st:#?}");

    // A target the cluster does not have is refused before any change.
    cloud.clear_calls();
    options.targets = BTreeSet::from([Node::PublicSubnet(2)]);
    let err = create(xacct.as_ref(), &prepared, &options).await.unwrap_err();
    assert!(err.to_string().contains("target public-subnet-2: the cluster has no such resource"), "{err}");
    assert!(cloud.calls().is_empty(), "{:?}", cloud.calls());
}

#[tokio::test(start_paused = true)]
async fn an_endpoint_without_rds_carries_the_rest_of_the_lifecycle() {
    // As LocalStack without RDS: every RDS call is answered 501 Not Implemented.
    let (cloud, xacct) = connected().await;
    let absent = || detcloud_provider::Error::Unsupported { operation: "rds (HTTP 501 not implemented here)".into() };
    for action in
        ["rds:DescribeDBClusters", "rds:DescribeDBInstances", "rds:DeleteDBSubnetGroup", "rds:CreateDBSubnetGroup"]
    {
        cloud.faults().fail(action, absent(), u32::MAX);
    }
    let spec = spec();
    let prepared = prepare(xacct.as_ref(), &spec, CUSTOMER).await.unwrap();
    assert!(prepared.inventory.db_cluster.is_none());
    let mut options = CreateOptions::new(SSH_KEY);
    options.targets = network_and_storage();
    let report = create(xacct.as_ref(), &prepared, &options).await.unwrap();
    assert_eq!(report.left_out, without_database(), "{report:?}");
    // A whole run stops at the database, naming the missing service.
    let prepared = prepare(xacct.as_ref(), &spec, CUSTOMER).await.unwrap();
    let err = create(xacct.as_ref(), &prepared, &CreateOptions::new(SSH_KEY)).await.unwrap_err();
    assert_eq!(err.node, Node::DbSubnetGroup, "{err}");
    assert!(err.to_string().contains("not implemented"), "{err}");
    // Status reads the rest; delete removes it and keeps the bucket.
    let st = status(xacct.as_ref(), "ml-prod", "us-west-2", CUSTOMER).await.unwrap();
    assert!(!st.healthy);
    let names = Names::new(&spec, CUSTOMER);
    let deleted = delete(xacct.as_ref(), "ml-prod", "us-west-2", CUSTOMER, &DeleteOptions::default()).await.unwrap();
    assert!(deleted.kept.iter().any(|k| k.contains(&names.bucket)), "{deleted:?}");
    assert!(!deleted.deleted.iter().any(|d| d.contains("DB subnet group")), "{deleted:?}");
    assert!(cloud.network().describe_vpcs(&cluster_filter("ml-prod")).await.unwrap().is_empty());
    // Other errors of RDS stay errors.
    let (cloud, xacct) = connected().await;
    cloud.faults().fail(
        "rds:DescribeDBClusters",
        detcloud_provider::Error::Unavailable { message: "down".into() },
        u32::MAX,
    );
    let err = prepare(xacct.as_ref(), &spec, CUSTOMER).await.unwrap_err();
    assert!(err.to_string().contains("down"), "{err}");
}
