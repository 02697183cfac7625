//! RDS: Aurora lifecycle on the virtual clock, validation, deletion rules, snapshots,
//! point-in-time restore and secret handling.

mod common;

use std::time::{Duration, Instant};

use common::*;
use detcloud_provider::{Cloud, Error, Filter, ModifyDbCluster, RestoreDbCluster, Secret, Tags};

fn restore(source: &str, target: &str, time: Option<std::time::SystemTime>) -> RestoreDbCluster {
    RestoreDbCluster {
        source_id: source.into(),
        target_id: target.into(),
        restore_time: time,
        subnet_group: "db".into(),
        security_group_ids: Vec::new(),
        kms_key_id: None,
        tags: Tags::new(),
    }
}

#[tokio::test(start_paused = true)]
async fn an_eight_minute_aurora_creation_takes_milliseconds() {
    let real = Instant::now();
    let cloud = customer();
    db_network(&cloud).await;
    let db = cloud.database();
    let c = db.create_db_cluster(cluster("det-db", "db")).await.unwrap();
    assert_eq!(c.status, "creating");
    assert_eq!(c.arn, "arn:aws:rds:us-west-2:111111111111:cluster:det-db");
    assert!(c.endpoint.as_deref().unwrap().starts_with("det-db.cluster-"));
    assert!(c.endpoint.as_deref().unwrap().ends_with(".us-west-2.rds.amazonaws.com"));
    assert_eq!(c.port, Some(5432));
    assert!(c.storage_encrypted);
    assert!(c.kms_key_id.as_deref().unwrap().starts_with("arn:aws:kms:us-west-2:111111111111:key/"));
    assert_eq!((c.earliest_restorable_time, c.latest_restorable_time), (None, None));
    // An instance created at once is available 420 s after its cluster is.
    let i = db.create_db_instance(db_instance("det-db-1", "det-db")).await.unwrap();
    assert_eq!(i.status, "creating");
    let status = || async {
        let c = db.describe_db_clusters(&Filter::id("det-db")).await.unwrap().remove(0);
        let i = db.describe_db_instances(&Filter::id("det-db-1")).await.unwrap().remove(0);
        (c.status, i.status)
    };
    advance(479).await;
    assert_eq!(status().await, ("creating".into(), "creating".into()));
    advance(1).await;
    assert_eq!(status().await, ("available".into(), "creating".into()));
    advance(419).await;
    assert_eq!(status().await.1, "creating");
    advance(1).await;
    assert_eq!(status().await.1, "available");
    let c = db.describe_db_clusters(&Filter::all()).await.unwrap().remove(0);
    assert_eq!(c.member_instance_ids, ["det-db-1"]);
    // An instance added to an available cluster takes 420 s from its own creation.
    db.create_db_instance(db_instance("det-db-2", "det-db")).await.unwrap();
    advance(420).await;
    assert_eq!(db.describe_db_instances(&Filter::id("det-db-2")).await.unwrap()[0].status, "available");
    // Deleting: 60 s, then gone.
    db.delete_db_instance("det-db-2").await.unwrap();
    assert_eq!(db.describe_db_instances(&Filter::id("det-db-2")).await.unwrap()[0].status, "deleting");
    // Asking again while it is being deleted: not an error in the request, a state to wait out
    // (AWS's InvalidDBInstanceState).
    let again = db.delete_db_instance("det-db-2").await.unwrap_err();
    assert!(matches!(&again, Error::NotReady { message } if message.contains("already being deleted")), "{again:?}");
    advance(60).await;
    assert!(db.describe_db_instances(&Filter::id("det-db-2")).await.unwrap_err().is_not_found());
    assert!(real.elapsed() < Duration::from_secs(1), "virtual time: {:?} of real time", real.elapsed());
}

#[tokio::test]
async fn identifiers_engines_and_subnet_groups_are_validated() {
    let cloud = customer();
    let (_, subnets) = db_network(&cloud).await;
    let db = cloud.database();
    for bad in ["", "1db", "db--x", "db-", "db_x", &"a".repeat(64)] {
        invalid_message(db.create_db_cluster(cluster(bad, "db")).await);
    }
    let mut mysql = cluster("det-db", "db");
    mysql.engine = "aurora-mysql".into();
    invalid_message(db.create_db_cluster(mysql).await);
    for days in [0, 36] {
        let mut r = cluster("det-db", "db");
        r.backup_retention_days = days;
        invalid_message(db.create_db_cluster(r).await);
    }
    let mut version = cluster("det-db", "db");
    version.engine_version = Some("9.6".into());
    invalid_message(db.create_db_cluster(version).await);
    assert!(db.create_db_cluster(cluster("det-db", "missing")).await.unwrap_err().is_not_found());

    // A subnet group needs subnets of one VPC in two zones.
    let one_zone = invalid_message(db.create_db_subnet_group("one", "d", &[subnets[0].id.clone()], &Tags::new()).await);
    assert!(one_zone.starts_with("DBSubnetGroupDoesNotCoverEnoughAZs"), "{one_zone}");
    let other = cloud.network().create_vpc("10.1.0.0/16", &Tags::new()).await.unwrap();
    let far = cloud.network().create_subnet(subnet(&other.id, "10.1.1.0/24", "us-west-2c")).await.unwrap();
    invalid_message(db.create_db_subnet_group("two", "d", &[subnets[0].id.clone(), far.id], &Tags::new()).await);
    let ids = [subnets[0].id.clone(), subnets[1].id.clone()];
    assert!(db.create_db_subnet_group("DB", "again", &ids, &Tags::new()).await.unwrap_err().is_already_exists());
    invalid_message(db.create_db_subnet_group("default", "d", &ids, &Tags::new()).await);

    // Identifiers are stored in lower case, as RDS does.
    let c = db.create_db_cluster(cluster("Det-DB", "DB")).await.unwrap();
    assert_eq!((c.id.as_str(), c.subnet_group.as_deref()), ("det-db", Some("db")));
    assert!(db.create_db_cluster(cluster("det-db", "db")).await.unwrap_err().is_already_exists());
    let mut wrong_engine = db_instance("det-db-1", "det-db");
    wrong_engine.engine = "postgres".into();
    invalid_message(db.create_db_instance(wrong_engine).await);
    let mut wrong_class = db_instance("det-db-1", "det-db");
    wrong_class.instance_class = "m5.large".into();
    invalid_message(db.create_db_instance(wrong_class).await);
    assert!(db.create_db_instance(db_instance("x", "nope")).await.unwrap_err().is_not_found());
    assert!(db.describe_db_clusters(&Filter::id("nope")).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn master_passwords_are_checked_and_never_shown() {
    let cloud = customer();
    db_network(&cloud).await;
    let db = cloud.database();
    for bad in ["short", "has space inside", "has/slash1", "has@at1234", "has\"quote1", &"x".repeat(129)] {
        let mut r = cluster("det-db", "db");
        r.master_password = Secret::new(bad);
        let message = invalid_message(db.create_db_cluster(r.clone()).await);
        assert!(!message.contains(bad), "{message}");
        assert!(!format!("{r:?}").contains(bad));
    }
    let request = cluster("det-db", "db");
    assert!(!format!("{request:?}").contains(PASSWORD));
    db.create_db_cluster(request).await.unwrap();
    let mut change = ModifyDbCluster { id: "det-db".into(), ..Default::default() };
    change.master_password = Some(Secret::new("tiny"));
    let err = db.modify_db_cluster(change).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }));
    assert!(!format!("{:?}", cloud.calls()).contains(PASSWORD));
    assert!(!format!("{cloud:?}").contains(PASSWORD));
    // The snapshot keeps it (documented): a sandbox must restore what it created.
    assert!(cloud.to_json().contains(PASSWORD));
}

#[tokio::test(start_paused = true)]
async fn deleting_a_cluster() {
    let cloud = customer();
    db_network(&cloud).await;
    let db = cloud.database();
    let mut protected = cluster("det-db", "db");
    protected.deletion_protection = true;
    db.create_db_cluster(protected).await.unwrap();
    let early = invalid_message(db.delete_db_cluster("det-db", None).await);
    assert!(early.contains("protect"), "{early}");
    advance(480).await;
    db.create_db_instance(db_instance("det-db-1", "det-db")).await.unwrap();
    invalid_message(db.delete_db_cluster("det-db", None).await);
    db.modify_db_cluster(ModifyDbCluster {
        id: "det-db".into(),
        deletion_protection: Some(false),
        ..Default::default()
    })
    .await
    .unwrap();
    let busy = invalid_message(db.delete_db_cluster("det-db", None).await);
    assert!(busy.starts_with("InvalidDBClusterStateFault"), "{busy}");
    conflict_message(db.delete_db_subnet_group("db").await);

    db.delete_db_instance("det-db-1").await.unwrap();
    // Instances being deleted do not hold the cluster.
    db.delete_db_cluster("det-db", Some("det-db-final")).await.unwrap();
    let c = db.describe_db_clusters(&Filter::id("det-db")).await.unwrap().remove(0);
    assert_eq!(c.status, "deleting");
    let snapshots = db.describe_db_cluster_snapshots("det-db").await.unwrap();
    let manual: Vec<_> = snapshots.iter().filter(|s| s.snapshot_type == "manual").collect();
    assert_eq!((manual[0].id.as_str(), manual[0].status.as_str()), ("det-db-final", "creating"));
    advance(60).await;
    assert!(db.describe_db_clusters(&Filter::id("det-db")).await.unwrap_err().is_not_found());
    let snapshots = db.describe_db_cluster_snapshots("det-db").await.unwrap();
    assert_eq!(snapshots.len(), 1, "the final snapshot outlives the cluster; the automated one does not");
    assert_eq!((snapshots[0].status.as_str(), snapshots[0].snapshot_type.as_str()), ("available", "manual"));
    assert!(db.delete_db_cluster("det-db", None).await.unwrap_err().is_not_found());
    db.delete_db_subnet_group("db").await.unwrap();
    // The identifier can be used again.
    db_network(&cloud).await;
}

#[tokio::test(start_paused = true)]
async fn point_in_time_restore_within_the_window() {
    let cloud = customer();
    db_network(&cloud).await;
    let db = cloud.database();
    let created = cloud.wall_clock();
    db.create_db_cluster(cluster("det-db", "db")).await.unwrap();
    invalid_message(db.restore_db_cluster(restore("det-db", "det-db-restored", None)).await);
    advance(3600).await;
    let c = db.describe_db_clusters(&Filter::id("det-db")).await.unwrap().remove(0);
    assert_eq!(c.earliest_restorable_time, Some(created));
    let latest = c.latest_restorable_time.unwrap();
    assert_eq!(latest, cloud.wall_clock() - Duration::from_secs(300));
    let automated = db.describe_db_cluster_snapshots("det-db").await.unwrap();
    assert_eq!(automated[0].snapshot_type, "automated");

    let too_late =
        invalid_message(db.restore_db_cluster(restore("det-db", "r1", Some(latest + Duration::from_secs(1)))).await);
    assert!(too_late.starts_with("InvalidRestoreFault"), "{too_late}");
    invalid_message(db.restore_db_cluster(restore("det-db", "r1", Some(created - Duration::from_secs(1)))).await);
    let restored =
        db.restore_db_cluster(restore("det-db", "r1", Some(created + Duration::from_secs(600)))).await.unwrap();
    assert_eq!((restored.id.as_str(), restored.status.as_str()), ("r1", "creating"));
    assert_eq!(restored.master_username, "postgres");
    assert!(db.restore_db_cluster(restore("det-db", "r1", None)).await.unwrap_err().is_already_exists());
    assert!(db.restore_db_cluster(restore("nope", "r2", None)).await.unwrap_err().is_not_found());
    advance(480).await;
    assert_eq!(db.describe_db_clusters(&Filter::id("r1")).await.unwrap()[0].status, "available");
}

#[tokio::test]
async fn filters_and_customer_keys() {
    let cloud = customer();
    let (vpc, _) = db_network(&cloud).await;
    let db = cloud.database();
    let key = cloud.keys().create_key("db", &Tags::new()).await.unwrap();
    let mut r = cluster("det-db", "db");
    r.kms_key_id = Some(key.id.clone());
    r.tags = tags(&[("detcloud:cluster", "c1")]);
    let c = db.create_db_cluster(r).await.unwrap();
    assert_eq!(c.kms_key_id, Some(key.arn.clone()));
    db.create_db_cluster(cluster("other", "db")).await.unwrap();
    let tagged = db.describe_db_clusters(&Filter::tag("detcloud:cluster", "c1")).await.unwrap();
    assert_eq!(tagged.len(), 1);
    assert_eq!(tagged[0].tags, tags(&[("detcloud:cluster", "c1")]));
    assert_eq!(db.describe_db_clusters(&Filter::all().in_vpc(&vpc.id)).await.unwrap().len(), 2);
    assert_eq!(db.describe_db_subnet_groups(&Filter::id("DB")).await.unwrap()[0].vpc_id, vpc.id);
    // A disabled key cannot encrypt a new cluster.
    cloud.disable_key(&key.id).unwrap();
    let mut r = cluster("third", "db");
    r.kms_key_id = Some(key.arn.clone());
    invalid_message(db.create_db_cluster(r).await);
}
