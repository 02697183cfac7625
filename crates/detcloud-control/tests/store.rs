//! The store's contract, on SQLite always and on PostgreSQL when `DETCLOUD_TEST_POSTGRES_URL`
//! names a server (`cargo xtask ci` starts one; `DETCLOUD_REQUIRE_POSTGRES=1` makes its absence
//! a failure). Each test gets a database of its own: a new file, or a new PostgreSQL database.

use std::sync::Arc;

use detcloud_control::store::{
    AccountInput, ClusterInput, ClusterStatus, Condition, Dialect, MasterEndpoint, NewEvent, Phase, ResourceState,
};
use detcloud_control::{SqlStore, Store, StoreError};
use serde_json::json;

mod common;
use common::{places, Hand};

fn account_input() -> AccountInput {
    AccountInput {
        role_arn: "arn:aws:iam::123456789012:role/determined-cloud-xacct".into(),
        external_id: "tenant-42".into(),
        regions: vec!["us-west-2".into()],
        paused: false,
    }
}

fn cluster_input(instance_type: &str) -> ClusterInput {
    ClusterInput { region: "us-west-2".into(), spec: json!({"name": "ml-demo", "master_instance_type": instance_type}) }
}

const ACCOUNT: &str = "123456789012";

#[tokio::test]
async fn accounts_are_registered_updated_listed_and_removed_with_events() {
    for place in places("accounts").await {
        let store = SqlStore::open(&place.url).await.unwrap();
        let (account, created) = store.put_account(ACCOUNT, &account_input(), "token:ops").await.unwrap();
        assert!(created);
        assert_eq!(account.regions, ["us-west-2"]);
        let (_, created) = store.put_account(ACCOUNT, &account_input(), "token:ops").await.unwrap();
        assert!(!created, "{:?}", store.dialect());
        let paused = AccountInput { paused: true, ..account_input() };
        store.put_account(ACCOUNT, &paused, "token:ops").await.unwrap();
        assert!(store.account(ACCOUNT).await.unwrap().paused);
        assert_eq!(store.accounts().await.unwrap().len(), 1);
        let events = store.events(0, 100).await.unwrap();
        let reasons: Vec<_> = events.iter().map(|e| e.reason.as_str()).collect();
        assert_eq!(reasons, ["AccountRegistered", "AccountUpdated"], "an unchanged PUT appends nothing");
        assert!(events[1].message.contains("paused"));
        assert_eq!(events[0].actor, "token:ops");

        store.put_cluster(ACCOUNT, "ml-demo", &cluster_input("m5.large"), None, "token:ops").await.unwrap();
        let e = store.delete_account(ACCOUNT, "token:ops").await.unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{e}");
        assert!(e.to_string().contains("1 cluster"), "{e}");
        assert!(matches!(store.account("000000000000").await, Err(StoreError::NotFound { .. })));
        assert!(matches!(store.delete_account("000000000000", "x").await, Err(StoreError::NotFound { .. })));
    }
}

#[tokio::test]
async fn a_cluster_s_generation_moves_with_its_spec_and_if_match_guards_it() {
    for place in places("generations").await {
        let store = SqlStore::open(&place.url).await.unwrap();
        let e = store.put_cluster(ACCOUNT, "ml-demo", &cluster_input("m5.large"), None, "t").await.unwrap_err();
        assert!(matches!(e, StoreError::NotFound { .. }), "the account must exist: {e}");
        store.put_account(ACCOUNT, &account_input(), "t").await.unwrap();

        let first = store.put_cluster(ACCOUNT, "ml-demo", &cluster_input("m5.large"), Some(0), "t").await.unwrap();
        assert!(first.created && first.changed);
        assert_eq!(first.record.generation, 1);
        let same = store.put_cluster(ACCOUNT, "ml-demo", &cluster_input("m5.large"), None, "t").await.unwrap();
        assert!(!same.created && !same.changed);
        assert_eq!(same.record.generation, 1, "the same spec is not a new generation");
        let stale = store.put_cluster(ACCOUNT, "ml-demo", &cluster_input("m5.xlarge"), Some(0), "t").await;
        match stale {
            Err(StoreError::PreconditionFailed { expected: 0, current: 1, .. }) => {}
            other => panic!("{other:?}"),
        }
        let second = store.put_cluster(ACCOUNT, "ml-demo", &cluster_input("m5.xlarge"), Some(1), "t").await.unwrap();
        assert_eq!(second.record.generation, 2);
        let view = store.cluster(ACCOUNT, "ml-demo").await.unwrap();
        assert_eq!(view.record.spec["master_instance_type"], "m5.xlarge");
        assert_eq!(view.status, ClusterStatus::pending());
        let moved = ClusterInput { region: "eu-west-1".into(), ..cluster_input("m5.xlarge") };
        let e = store.put_cluster(ACCOUNT, "ml-demo", &moved, None, "t").await.unwrap_err();
        assert!(e.to_string().contains("cannot move"), "{e}");
        assert_eq!(store.cluster(ACCOUNT, "ml-demo").await.unwrap().record.generation, 2, "nothing stored");
        let reasons: Vec<_> = store.events(0, 100).await.unwrap().into_iter().map(|e| e.reason).collect();
        assert_eq!(reasons, ["AccountRegistered", "ClusterDeclared", "ClusterSpecChanged"]);
    }
}

#[tokio::test]
async fn clusters_list_in_pages_and_deletion_is_a_generation_that_only_the_lease_holder_completes() {
    for place in places("deletion").await {
        let hand = Hand::new();
        let store = SqlStore::open_with_clock(&place.url, hand.clock()).await.unwrap();
        store.put_account(ACCOUNT, &account_input(), "t").await.unwrap();
        for i in 0..5 {
            store.put_cluster(ACCOUNT, &format!("c{i}"), &cluster_input("m5.large"), None, "t").await.unwrap();
        }
        let page = store.clusters(ACCOUNT, None, 2).await.unwrap();
        assert_eq!(page.items.iter().map(|v| v.record.name.as_str()).collect::<Vec<_>>(), ["c0", "c1"]);
        assert_eq!(page.next.as_deref(), Some("c1"));
        let last = store.clusters(ACCOUNT, Some("c3"), 2).await.unwrap();
        assert_eq!(last.items.len(), 1);
        assert_eq!(last.next, None);

        let deleting = store.request_deletion(ACCOUNT, "c0", false, "t").await.unwrap();
        assert!(deleting.deletion_requested && !deleting.purge);
        assert_eq!(deleting.generation, 2);
        let again = store.request_deletion(ACCOUNT, "c0", false, "t").await.unwrap();
        assert_eq!(again.generation, 2, "asking twice is one request");
        let purge = store.request_deletion(ACCOUNT, "c0", true, "t").await.unwrap();
        assert!(purge.purge);
        assert_eq!(purge.generation, 3);
        let e = store.put_cluster(ACCOUNT, "c0", &cluster_input("m5.large"), None, "t").await.unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "no spec change while deleting: {e}");

        let lease = store.claim_leases("replica-a", 30_000, 10).await.unwrap().remove(0);
        let gone = NewEvent {
            account_id: Some(ACCOUNT.into()),
            cluster: Some("c0".into()),
            reason: "ClusterDeleted".into(),
            message: "deleted".into(),
            actor: "replica:a".into(),
        };
        let e = store.remove_cluster(&lease.fence(), "c1", gone.clone()).await.unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "c1 was not asked to go: {e}");
        hand.advance(30_001);
        let e = store.remove_cluster(&lease.fence(), "c0", gone.clone()).await.unwrap_err();
        assert!(matches!(e, StoreError::LeaseLost { .. }), "an expired lease writes nothing: {e}");
        let lease = store.claim_leases("replica-a", 30_000, 10).await.unwrap().remove(0);
        store.remove_cluster(&lease.fence(), "c0", gone).await.unwrap();
        assert!(matches!(store.cluster(ACCOUNT, "c0").await, Err(StoreError::NotFound { .. })));
        assert_eq!(store.events(0, 100).await.unwrap().last().unwrap().reason, "ClusterDeleted");
    }
}

fn observed(phase: Phase) -> ClusterStatus {
    ClusterStatus {
        observed_generation: 1,
        phase,
        conditions: vec![Condition {
            kind: "Ready".into(),
            status: "True".into(),
            reason: "MasterAnswers".into(),
            message: "Determined 0.32.1 answers".into(),
            since: 5,
        }],
        resources: vec![ResourceState {
            kind: "vpc".into(),
            id: "vpc-1".into(),
            state: "available".into(),
            healthy: true,
        }],
        master: Some(MasterEndpoint {
            public_ip: Some("198.51.100.7".into()),
            url: Some("http://198.51.100.7:8080".into()),
        }),
        last_reconciled: Some(6),
        last_error: None,
        next_attempt: None,
        failures: 0,
    }
}

#[tokio::test]
async fn status_reads_back_as_written_and_only_the_current_lease_may_write_it() {
    for place in places("status").await {
        let hand = Hand::new();
        let store = SqlStore::open_with_clock(&place.url, hand.clock()).await.unwrap();
        store.put_account(ACCOUNT, &account_input(), "t").await.unwrap();
        store.put_cluster(ACCOUNT, "ml-demo", &cluster_input("m5.large"), None, "t").await.unwrap();
        let a = store.claim_leases("replica-a", 10_000, 10).await.unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(store.claim_leases("replica-b", 10_000, 10).await.unwrap(), [], "held by a");
        store.put_status(&a[0].fence(), "ml-demo", &observed(Phase::Ready)).await.unwrap();
        assert_eq!(store.cluster(ACCOUNT, "ml-demo").await.unwrap().status, observed(Phase::Ready));
        let e = store.put_status(&a[0].fence(), "nope", &observed(Phase::Ready)).await.unwrap_err();
        assert!(matches!(e, StoreError::NotFound { .. }), "{e}");

        // a stops renewing; after the TTL, b takes the account over in a new epoch.
        hand.advance(10_001);
        let b = store.claim_leases("replica-b", 10_000, 10).await.unwrap();
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].epoch, a[0].epoch + 1);
        let e = store.put_status(&a[0].fence(), "ml-demo", &observed(Phase::Failed)).await.unwrap_err();
        assert!(matches!(e, StoreError::LeaseLost { .. }), "{e}");
        let stale = a[0].fence();
        let e = store.append_events(
            &stale,
            vec![NewEvent {
                account_id: Some(ACCOUNT.into()),
                cluster: None,
                reason: "X".into(),
                message: "x".into(),
                actor: "a".into(),
            }],
        );
        assert!(matches!(e.await, Err(StoreError::LeaseLost { .. })));
        assert_eq!(store.cluster(ACCOUNT, "ml-demo").await.unwrap().status.phase, Phase::Ready, "a wrote nothing");
        // a comes back: it cannot take the account while b renews.
        hand.advance(5_000);
        assert_eq!(store.claim_leases("replica-b", 10_000, 10).await.unwrap().len(), 1);
        hand.advance(6_000);
        assert_eq!(store.claim_leases("replica-a", 10_000, 10).await.unwrap(), []);
        assert_eq!(store.leases().await.unwrap().iter().map(|l| l.holder.as_str()).collect::<Vec<_>>(), ["replica-b"]);
        // b stops gracefully: a takes over at once.
        store.release_leases("replica-b").await.unwrap();
        let a2 = store.claim_leases("replica-a", 10_000, 10).await.unwrap();
        assert_eq!(a2.len(), 1);
        assert_eq!(a2[0].epoch, b[0].epoch + 1);
    }
}

#[tokio::test]
async fn replicas_share_the_accounts_up_to_their_limit_and_count_each_other() {
    for place in places("sharing").await {
        let hand = Hand::new();
        let store = SqlStore::open_with_clock(&place.url, hand.clock()).await.unwrap();
        for i in 0..10 {
            store.put_account(&format!("1000000000{i:02}"), &account_input(), "t").await.unwrap();
        }
        assert_eq!(store.heartbeat("replica-a", 15_000).await.unwrap(), 1);
        assert_eq!(store.heartbeat("replica-b", 15_000).await.unwrap(), 2);
        let a = store.claim_leases("replica-a", 15_000, 5).await.unwrap();
        let b = store.claim_leases("replica-b", 15_000, 5).await.unwrap();
        assert_eq!((a.len(), b.len()), (5, 5));
        assert!(a.iter().all(|l| b.iter().all(|m| m.account_id != l.account_id)), "no account twice");
        assert_eq!(store.claim_leases("replica-a", 15_000, 10).await.unwrap().len(), 5, "nothing left to take");
        // b dies: its heartbeat and its leases run out.
        hand.advance(10_000);
        assert_eq!(store.heartbeat("replica-a", 15_000).await.unwrap(), 2);
        store.claim_leases("replica-a", 15_000, 10).await.unwrap();
        hand.advance(6_000);
        assert_eq!(store.heartbeat("replica-a", 15_000).await.unwrap(), 1, "b is forgotten");
        assert_eq!(store.claim_leases("replica-a", 15_000, 10).await.unwrap().len(), 10);
    }
}

#[tokio::test]
async fn concurrent_claims_from_separate_pools_never_share_an_account() {
    for place in places("contention").await {
        let first = SqlStore::open(&place.url).await.unwrap();
        for i in 0..40 {
            first.put_account(&format!("2000000000{i:02}"), &account_input(), "t").await.unwrap();
        }
        // Four replicas, each with its own connection pool (as four processes would be), claim
        // at the same moment, again and again.
        let mut stores = vec![Arc::new(first)];
        for _ in 1..4 {
            stores.push(Arc::new(SqlStore::open(&place.url).await.unwrap()));
        }
        let mut tasks = Vec::new();
        for (i, store) in stores.iter().enumerate() {
            let store = Arc::clone(store);
            tasks.push(tokio::spawn(async move {
                let me = format!("replica-{i}");
                let mut held = Vec::new();
                for _ in 0..5 {
                    held = store.claim_leases(&me, 60_000, 10).await.unwrap();
                }
                held.into_iter().map(|l| l.account_id).collect::<Vec<_>>()
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            let held = task.await.unwrap();
            assert!(held.len() <= 10);
            all.extend(held);
        }
        let mut unique = all.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), all.len(), "an account was leased twice");
        assert_eq!(all.len(), 40, "every account is held once the claims settle");
    }
}

#[tokio::test]
async fn concurrent_writers_on_one_account_lose_nothing() {
    for place in places("writers").await {
        let a = Arc::new(SqlStore::open(&place.url).await.unwrap());
        let b = Arc::new(SqlStore::open(&place.url).await.unwrap());
        a.put_account(ACCOUNT, &account_input(), "t").await.unwrap();
        let mut tasks = Vec::new();
        for (i, store) in [a.clone(), b.clone(), a.clone(), b.clone()].into_iter().enumerate() {
            tasks.push(tokio::spawn(async move {
                for j in 0..10 {
                    store
                        .put_cluster(ACCOUNT, &format!("w{i}-{j}"), &cluster_input("m5.large"), None, "t")
                        .await
                        .unwrap();
                    // Read, then write the same record: the read-then-write transaction must wait
                    // for the other writers instead of failing.
                    store
                        .put_cluster(ACCOUNT, "shared", &cluster_input(&format!("m5.{i}x{j}")), None, "t")
                        .await
                        .unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let page = a.clusters(ACCOUNT, None, 100).await.unwrap();
        assert_eq!(page.items.len(), 41);
        let shared = a.cluster(ACCOUNT, "shared").await.unwrap();
        let changes =
            a.events(0, 1000).await.unwrap().iter().filter(|e| e.cluster.as_deref() == Some("shared")).count();
        assert_eq!(shared.record.generation as usize, changes, "one generation per recorded change");
    }
}

#[tokio::test]
async fn tokens_are_stored_as_hashes_named_once_and_revocable() {
    for place in places("tokens").await {
        let store = SqlStore::open(&place.url).await.unwrap();
        let token = detcloud_control::token::generate().unwrap();
        let hash = detcloud_control::token::hash(&token);
        store.create_token("ci", &hash).await.unwrap();
        let e = store.create_token("ci", "other").await.unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{e}");
        assert_eq!(store.authenticate(&hash).await.unwrap().as_deref(), Some("ci"));
        assert_eq!(store.authenticate(&detcloud_control::token::hash("dct_guess")).await.unwrap(), None);
        let listed = store.tokens().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].last_used_at.is_some());
        store.revoke_token("ci").await.unwrap();
        assert_eq!(store.authenticate(&hash).await.unwrap(), None);
        assert!(matches!(store.revoke_token("ci").await, Err(StoreError::NotFound { .. })));
        let everything = format!("{:?}", store.events(0, 100).await.unwrap());
        assert!(!everything.contains(&token) && !everything.contains(&hash), "no secret in the event log");
    }
}

#[tokio::test]
async fn a_store_reopens_at_its_version_and_refuses_a_newer_schema() {
    for place in places("schema").await {
        let store = SqlStore::open(&place.url).await.unwrap();
        let version = store.schema_version().await.unwrap();
        assert!(version >= 1);
        store.put_account(ACCOUNT, &account_input(), "t").await.unwrap();
        store.close().await;
        let again = SqlStore::open(&place.url).await.unwrap();
        assert_eq!(again.schema_version().await.unwrap(), version, "reopening migrates nothing");
        assert_eq!(again.accounts().await.unwrap().len(), 1, "the data survives");
        // A newer detcloud migrated this database.
        sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'from the future', 0)")
            .bind(version + 1)
            .execute(&raw_pool(&place.url).await)
            .await
            .unwrap();
        let e = SqlStore::open(&place.url).await.unwrap_err();
        assert!(matches!(e, StoreError::SchemaTooNew { .. }), "{e}");
        let text = e.to_string();
        assert!(text.contains(&format!("version {}", version + 1)) && text.contains("upgrade detcloud"), "{text}");
    }
}

async fn raw_pool(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let url = if url.starts_with("sqlite://") { format!("{url}?mode=rw") } else { url.to_string() };
    sqlx::AnyPool::connect(&url).await.unwrap()
}

#[tokio::test]
async fn a_sqlite_store_is_a_wal_file_and_bad_urls_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nested").join("control.db");
    let store = SqlStore::open(file.to_str().unwrap()).await.unwrap();
    assert_eq!(store.dialect(), Dialect::Sqlite);
    assert_eq!(store.location(), file.display().to_string());
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&raw_pool(&format!("sqlite://{}", file.display())).await)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let e = SqlStore::open("mysql://localhost/x").await.unwrap_err().to_string();
    assert!(e.starts_with("--database: unsupported scheme mysql://"), "{e}");
    let e = SqlStore::open("postgres://nobody:hunter2@127.0.0.1:1/none").await.unwrap_err().to_string();
    assert!(!e.contains("hunter2"), "no password in errors: {e}");
    assert!(e.contains("postgres://nobody@127.0.0.1:1/none"), "{e}");
}
