//! Day-two operations on the fake, as the cross-account role (peering and DNS with the caller's
//! own credentials, as documented).

use std::sync::Arc;

use detcloud_cluster::context::{cluster_filter, Names};
use detcloud_cluster::operate::{backup, dns_record, logs, modify, modify_plan, peer, restore, unpeer};
use detcloud_cluster::{create, prepare, ClusterSpec, CreateOptions};
use detcloud_fake::FakeCloud;
use detcloud_provider::{Cloud, Filter, Tags};

mod common;

use common::{connect, vendor_session, CUSTOMER, SSH_KEY};

async fn cluster() -> (FakeCloud, Arc<dyn Cloud>, ClusterSpec) {
    let cloud = FakeCloud::new(CUSTOMER);
    let external_id = "t".repeat(8);
    connect(&cloud, Some(&external_id)).await;
    let xacct: Arc<dyn Cloud> = Arc::new(vendor_session(&cloud, CUSTOMER, Some(&external_id)).await);
    let spec = common::spec("ops");
    let prepared = prepare(xacct.as_ref(), &spec, CUSTOMER).await.unwrap();
    create(xacct.as_ref(), &prepared, &CreateOptions::new(SSH_KEY)).await.unwrap();
    (cloud, xacct, spec)
}

fn denied(cloud: &FakeCloud) -> Vec<String> {
    cloud
        .calls()
        .into_iter()
        .filter(|c| c.enforced && matches!(&c.outcome, Err(code) if code.contains("AccessDenied")))
        .map(|c| c.action.to_string())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn modify_replaces_the_master_and_changes_retention_and_cidrs() {
    let (cloud, xacct, mut spec) = cluster().await;
    let old = cloud.compute().describe_instances(&cluster_filter("ops")).await.unwrap();
    spec.master.instance_type = "m6i.xlarge".into();
    spec.database.backup_retention_days = 14;
    spec.master.inbound_cidrs = vec!["198.51.100.0/24".into()];
    spec.log_retention_days = 90;
    let prepared = prepare(xacct.as_ref(), &spec, CUSTOMER).await.unwrap();
    let planned = modify_plan(&prepared);
    assert!(planned.iter().any(|c| c.contains("m6i.xlarge")), "{planned:?}");
    assert!(planned.iter().any(|c| c.starts_with("revoke") && c.contains("203.0.113.0/24")), "{planned:?}");
    let (report, _) = modify(xacct.as_ref(), &prepared, &CreateOptions::new(SSH_KEY)).await.unwrap();
    assert!(denied(&cloud).is_empty(), "{:?}", denied(&cloud));
    assert!(report.changes.iter().any(|c| c.starts_with("launched master")), "{report:?}");
    let now: Vec<_> = cloud
        .compute()
        .describe_instances(&cluster_filter("ops"))
        .await
        .unwrap()
        .into_iter()
        .filter(|i| !i.state.is_gone())
        .collect();
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].instance_type, "m6i.xlarge");
    assert_ne!(now[0].id, old[0].id);
    assert!(now[0].public_ip.is_some(), "the elastic IP follows the new master");
    let names = Names::new(&spec, CUSTOMER);
    let b = backup(xacct.as_ref(), &names, None).await.unwrap();
    assert_eq!(b.retention_days, 14);
    let groups = cloud.network().describe_security_groups(&Filter::all()).await.unwrap();
    let rules: Vec<_> = groups.iter().flat_map(|g| g.ingress.iter()).filter_map(|r| r.cidr.clone()).collect();
    assert!(
        rules.contains(&"198.51.100.0/24".to_string()) && !rules.contains(&"203.0.113.0/24".to_string()),
        "{rules:?}"
    );
    let groups = cloud.logs().describe_log_groups("/detcloud/ops").await.unwrap();
    assert_eq!(groups[0].retention_days, Some(90));
}

#[tokio::test(start_paused = true)]
async fn backup_restore_and_logs() {
    let (cloud, xacct, spec) = cluster().await;
    let names = Names::new(&spec, CUSTOMER);
    // Twenty minutes of backups (a session of the cross-account role lasts an hour).
    tokio::time::sleep(std::time::Duration::from_secs(1200)).await;
    let b = backup(xacct.as_ref(), &names, Some(21)).await.unwrap();
    assert_eq!(b.retention_days, 21);
    assert!(b.latest_restorable.is_some() && b.earliest_restorable.is_some(), "{b:?}");
    let refused = backup(xacct.as_ref(), &names, Some(40)).await;
    assert!(matches!(refused, Err(detcloud_provider::Error::InvalidInput { .. })), "{refused:?}");

    let (id, endpoint) =
        restore(xacct.as_ref(), &spec, &names, None, std::time::Duration::from_secs(3600)).await.unwrap();
    assert!(id.starts_with("detcloud-ops-restore-") && !endpoint.is_empty(), "{id} {endpoint}");
    let restored = cloud.database().describe_db_clusters(&Filter::id(&id)).await.unwrap();
    assert_eq!(restored[0].status, "available");
    assert_eq!(restored[0].member_instance_ids.len(), 1);

    // Without a handler, the fake's model of the master answers: the logs of a master that runs.
    let text = logs(xacct.as_ref(), &spec, &names, "1 hour ago", 100).await.unwrap();
    assert!(text.contains("Determined master 0.32.1 listening on :8080"), "{text}");
    cloud.set_command_handler(Arc::new(|commands: &[String]| {
        assert!(commands[0].starts_with("# detcloud: logs of the Determined master of cluster ops"), "{commands:?}");
        assert_eq!(commands[1], "since=\"$(date -u -d '1 hour ago' +%Y-%m-%dT%H:%M:%S)\"");
        assert_eq!(commands[2], "docker logs --timestamps --since \"$since\" determined-master 2>&1 | tail -n 100");
        let out = "2026-11-26T10:00:00Z master started\n2026-11-26T10:00:01Z db: {password: \"hunter2secret\"}\n";
        (0, out.to_string(), String::new())
    }));
    let text = logs(xacct.as_ref(), &spec, &names, "1 hour ago", 100).await.unwrap();
    assert!(text.contains("master started"), "{text}");
    assert!(!text.contains("hunter2secret") && text.contains("password: \"********\""), "masked: {text}");
    let refused = logs(xacct.as_ref(), &spec, &names, "'; rm -rf /", 100).await;
    assert!(matches!(refused, Err(detcloud_provider::Error::InvalidInput { .. })), "{refused:?}");
    assert!(denied(&cloud).is_empty(), "{:?}", denied(&cloud));
}

#[tokio::test(start_paused = true)]
async fn peering_with_the_customer_s_vpc_and_dns_in_the_vendor_s_zone() {
    let (cloud, _xacct, spec) = cluster().await;
    let theirs = cloud.network().create_vpc("172.20.0.0/16", &Tags::new()).await.unwrap();
    let pcx = peer(&cloud, &spec, &theirs.id).await.unwrap();
    let again = peer(&cloud, &spec, &theirs.id).await.unwrap();
    assert_eq!(pcx, again, "peering is idempotent");
    let tables = cloud.network().describe_route_tables(&Filter::all().in_vpc(&theirs.id)).await.unwrap();
    assert!(tables
        .iter()
        .any(|t| t.routes.iter().any(|r| r.target == detcloud_provider::RouteTarget::Peering(pcx.clone()))));
    let ours = cloud.network().describe_vpcs(&cluster_filter("ops")).await.unwrap()[0].cidr.clone();
    let overlapping = cloud.network().create_vpc(&ours, &Tags::new()).await.unwrap();
    let err = peer(&cloud, &spec, &overlapping.id).await.unwrap_err();
    assert!(err.to_string().contains("overlaps"), "{err}");

    let vendor = cloud.admin_of("544296492693");
    let zone = vendor.create_hosted_zone("clusters.det-cloud.net");
    dns_record(&vendor, &zone, "ops.clusters.det-cloud.net", "198.51.100.7", false).await.unwrap();
    assert_eq!(vendor.dns().list_records(&zone).await.unwrap().iter().filter(|r| r.record_type == "A").count(), 1);
    dns_record(&vendor, &zone, "ops.clusters.det-cloud.net", "198.51.100.7", true).await.unwrap();
    dns_record(&vendor, &zone, "ops.clusters.det-cloud.net", "198.51.100.7", true).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn unpeer_removes_the_connection_and_only_its_routes_and_delete_removes_peerings_first() {
    use detcloud_provider::{PeeringState, RouteTarget};
    let (cloud, xacct, spec) = cluster().await;
    let net = cloud.network();
    // The customer's VPC, with a route table of theirs holding a route of their own.
    let theirs = net.create_vpc("172.20.0.0/16", &Tags::new()).await.unwrap();
    let their_table = net.create_route_table(&theirs.id, &Tags::new()).await.unwrap();
    let their_igw = net.create_internet_gateway(&Tags::new()).await.unwrap();
    net.attach_internet_gateway(&their_igw.id, &theirs.id).await.unwrap();
    net.create_route(&their_table.id, "0.0.0.0/0", &RouteTarget::InternetGateway(their_igw.id.clone())).await.unwrap();
    let routes_of = |vpc: String| {
        let net = cloud.network();
        async move {
            let mut out: Vec<(String, String, RouteTarget)> = vec![];
            for t in net.describe_route_tables(&Filter::all().in_vpc(&vpc)).await.unwrap() {
                out.extend(t.routes.into_iter().map(|r| (t.id.clone(), r.destination_cidr, r.target)));
            }
            out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
            out
        }
    };
    let ours = net.describe_vpcs(&cluster_filter("ops")).await.unwrap()[0].id.clone();
    let (their_before, our_before) = (routes_of(theirs.id.clone()).await, routes_of(ours.clone()).await);

    let pcx = peer(&cloud, &spec, &theirs.id).await.unwrap();
    let rows = detcloud_cluster::status::peerings(&cloud, "ops").await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0].id.as_deref(), rows[0].state.as_str(), rows[0].healthy), (Some(pcx.as_str()), "active", true));
    assert_eq!(rows[0].detail.as_deref(), Some(format!("with {}", theirs.id).as_str()));

    let removed = unpeer(&cloud, &spec, &theirs.id).await.unwrap().expect("a peering to remove");
    assert_eq!(removed.peering_id, pcx);
    assert!(!removed.routes.is_empty());
    assert!(removed.routes.iter().any(|(t, _)| *t == their_table.id), "{removed:?}");
    // Both sides' routes are as they were before peering: the customer's own route is untouched.
    assert_eq!(routes_of(theirs.id.clone()).await, their_before);
    assert_eq!(routes_of(ours.clone()).await, our_before);
    let left = net.describe_vpc_peerings(&Filter::id(&pcx)).await.unwrap();
    assert!(left.iter().all(|p| p.state == PeeringState::Deleted), "{left:?}");
    assert!(detcloud_cluster::status::peerings(&cloud, "ops").await.unwrap().is_empty());
    assert_eq!(unpeer(&cloud, &spec, &theirs.id).await.unwrap(), None, "a second unpeer finds nothing");

    // Peered again, then deleted with the customer's credentials: the peering goes first, with its
    // routes, and the customer's route stays.
    let pcx = peer(&cloud, &spec, &theirs.id).await.unwrap();
    let options = detcloud_cluster::DeleteOptions { peerings: true, ..Default::default() };
    let report = detcloud_cluster::delete(&cloud, "ops", "us-west-2", CUSTOMER, &options).await.unwrap();
    assert!(
        report.deleted.first().is_some_and(|d| d.starts_with(&format!("VPC peering {pcx} with {}", theirs.id))),
        "{report:?}"
    );
    assert_eq!(routes_of(theirs.id.clone()).await, their_before);
    assert!(net.describe_vpcs(&cluster_filter("ops")).await.unwrap().is_empty());
    // As the cross-account role (the default options), a delete makes no peering call at all.
    assert!(!cloud.calls().iter().any(|c| c.enforced && c.action.contains("Peering")), "the role touched peerings");
    drop(xacct);
}

#[tokio::test(start_paused = true)]
async fn modify_changes_only_what_was_given() {
    let (cloud, xacct, _) = cluster().await;
    // Only the backup retention is given; everything else keeps the cluster's current values.
    let mut spec = ClusterSpec::new("ops", "us-west-2");
    spec.database.backup_retention_days = 9;
    let mut prepared = prepare(xacct.as_ref(), &spec, CUSTOMER).await.unwrap();
    detcloud_cluster::operate::keep_current(
        &mut prepared,
        &detcloud_cluster::operate::Explicit { backup_retention: true, ..Default::default() },
    );
    assert_eq!(prepared.spec.master.inbound_cidrs, ["203.0.113.0/24"]);
    let planned = modify_plan(&prepared);
    assert!(!planned.iter().any(|c| c.starts_with("revoke") || c.starts_with("replace")), "{planned:?}");
    let before = cloud.compute().describe_instances(&cluster_filter("ops")).await.unwrap();
    modify(xacct.as_ref(), &prepared, &CreateOptions::new(SSH_KEY)).await.unwrap();
    let after = cloud.compute().describe_instances(&cluster_filter("ops")).await.unwrap();
    assert_eq!(before.iter().map(|i| &i.id).collect::<Vec<_>>(), after.iter().map(|i| &i.id).collect::<Vec<_>>());
    let names = Names::new(&spec, CUSTOMER);
    assert_eq!(backup(xacct.as_ref(), &names, None).await.unwrap().retention_days, 9);
}

#[tokio::test(start_paused = true)]
async fn delete_removes_restored_databases_too_keeping_their_snapshots() {
    let (cloud, xacct, spec) = cluster().await;
    let names = Names::new(&spec, CUSTOMER);
    tokio::time::sleep(std::time::Duration::from_secs(600)).await;
    let (restored, _) =
        restore(xacct.as_ref(), &spec, &names, None, std::time::Duration::from_secs(3600)).await.unwrap();
    let report = detcloud_cluster::delete(
        xacct.as_ref(),
        "ops",
        "us-west-2",
        CUSTOMER,
        &detcloud_cluster::DeleteOptions::default(),
    )
    .await
    .unwrap();
    assert!(report.kept.iter().filter(|k| k.contains("final database snapshot")).count() == 2, "{report:?}");
    // Gone: an empty answer or NotFound, never any other error.
    match cloud.database().describe_db_clusters(&Filter::id(&restored)).await {
        Ok(found) => assert!(found.is_empty(), "{found:?}"),
        Err(e) => assert!(e.is_not_found(), "{e:?}"),
    }
    assert!(cloud.network().describe_vpcs(&cluster_filter("ops")).await.unwrap().is_empty());
}
