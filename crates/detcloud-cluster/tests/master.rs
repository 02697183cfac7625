//! The Determined master on the fake, as the cross-account role: create waits until the master
//! answers (at once, late, never, or not at all because its role may not read its password), the
//! password travels only through its SecureString, `modify` reconfigures the running master, and
//! `delete` removes the agents the master launched and nothing of the customer's.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use common::{connect, instance, vendor_session, CUSTOMER, SSH_KEY};
use detcloud_cluster::bootstrap::AGENT_TAG;
use detcloud_cluster::context::{cluster_filter, cluster_tags, Names, RESOURCE};
use detcloud_cluster::create::{Readiness, AGENTS_TAG, MASTER_CONFIG_TAG};
use detcloud_cluster::graph::Node;
use detcloud_cluster::operate::{keep_current, modify, Explicit};
use detcloud_cluster::{create, delete, prepare, status, ClusterSpec, CreateOptions, DeleteOptions};
use detcloud_connect::{spec_documents, Catalog, Component, ConnectOptions};
use detcloud_fake::{FakeCloud, MasterBehaviour, Timings};
use detcloud_provider::{Cloud, Error, Filter, InstanceState, Tags};

async fn connected() -> (FakeCloud, Arc<dyn Cloud>) {
    let cloud = FakeCloud::new(CUSTOMER);
    connect(&cloud, Some("tenant-1")).await;
    let xacct = vendor_session(&cloud, CUSTOMER, Some("tenant-1")).await;
    (cloud, Arc::new(xacct))
}

fn spec() -> ClusterSpec {
    common::spec("ml-demo")
}

async fn create_cluster(
    xacct: &dyn Cloud,
    spec: &ClusterSpec,
    options: &CreateOptions,
) -> detcloud_cluster::CreateReport {
    let prepared = prepare(xacct, spec, CUSTOMER).await.unwrap();
    create(xacct, &prepared, options).await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn create_reports_ready_once_the_master_answers_and_status_shows_its_version() {
    let (cloud, xacct) = connected().await;
    let report = create_cluster(xacct.as_ref(), &spec(), &CreateOptions::new(SSH_KEY)).await;
    assert_eq!(report.master, Some(Readiness::Ready { version: "0.32.1".into() }));
    assert_eq!(report.ids[&Node::MasterReady], "0.32.1");
    // Every probe came with its nonce and went to the master only.
    let sends: Vec<_> = cloud.calls().into_iter().filter(|c| c.action == "ssm:SendCommand").collect();
    assert!(!sends.is_empty());
    let st = status(xacct.as_ref(), "ml-demo", "us-west-2", CUSTOMER).await.unwrap();
    assert!(st.healthy, "{st:?}");
    let m = st.master.unwrap();
    assert_eq!((m.health.as_str(), m.version.as_deref()), ("answering", Some("0.32.1")));
    assert_eq!(m.image.as_deref(), Some("determinedai/determined-master:0.32.1"));
    assert!(m.url.unwrap().ends_with(":8080"));
}

#[tokio::test(start_paused = true)]
async fn a_master_that_answers_late_is_waited_for_and_one_that_never_does_fails_with_its_logs() {
    // Late: 25 minutes after its instance runs, longer than the database takes.
    let (cloud, xacct) = connected().await;
    let mut t = Timings::aws_like();
    t.master_start = Duration::from_secs(1500);
    cloud.set_timings(t);
    let start = tokio::time::Instant::now();
    let report = create_cluster(xacct.as_ref(), &spec(), &CreateOptions::new(SSH_KEY)).await;
    assert_eq!(report.master, Some(Readiness::Ready { version: "0.32.1".into() }));
    let elapsed = start.elapsed();
    // The master launches after the Aurora cluster (480 s) and runs 30 s later.
    assert!(elapsed >= Duration::from_secs(480 + 30 + 1500), "{elapsed:?}");
    assert!(elapsed <= Duration::from_secs(480 + 30 + 1500 + 120), "polls are at most 30 s apart: {elapsed:?}");

    // Never: create fails once the readiness timeout passes, with the master's last log lines.
    let (cloud, xacct) = connected().await;
    cloud.set_master_behaviour(MasterBehaviour::Never("level=fatal msg=\"out of disk space\"".into()));
    let mut options = CreateOptions::new(SSH_KEY);
    options.ready_timeout = Duration::from_secs(600);
    let prepared = prepare(xacct.as_ref(), &spec(), CUSTOMER).await.unwrap();
    let e = create(xacct.as_ref(), &prepared, &options).await.unwrap_err();
    assert_eq!(e.node, Node::MasterReady);
    let text = e.error.to_string();
    assert!(matches!(e.error, Error::Timeout { .. }), "{text}");
    assert!(text.contains("did not answer within 600s"), "{text}");
    assert!(text.contains("out of disk space"), "the master's logs are in the error: {text}");
    // Everything else exists: a re-run, once the master recovers, completes the cluster.
    assert!(e.report.ids.contains_key(&Node::Master));
    cloud.set_master_behaviour(MasterBehaviour::Answers);
    let prepared = prepare(xacct.as_ref(), &spec(), CUSTOMER).await.unwrap();
    let report = create(xacct.as_ref(), &prepared, &options).await.unwrap();
    assert_eq!(report.master, Some(Readiness::Ready { version: "0.32.1".into() }));
    assert!(report.created.is_empty() || report.created.iter().all(|n| *n == Node::MasterReady), "{report:?}");
}

#[tokio::test(start_paused = true)]
async fn without_the_parameter_read_the_master_role_cannot_start_the_master() {
    let (cloud, xacct) = connected().await;
    // The master role as the spec alone writes it: no ssm:GetParameter.
    let options = ConnectOptions::default();
    let catalog = Catalog::new(&options, CUSTOMER);
    let master = catalog.role(Component::Master);
    let spec_only = spec_documents(&options, CUSTOMER).master_permissions;
    cloud.iam().create_policy_version(&master.policy_arn, &spec_only, true).await.unwrap();
    let mut create_options = CreateOptions::new(SSH_KEY);
    create_options.ready_timeout = Duration::from_secs(300);
    let prepared = prepare(xacct.as_ref(), &spec(), CUSTOMER).await.unwrap();
    let e = create(xacct.as_ref(), &prepared, &create_options).await.unwrap_err();
    let text = e.error.to_string();
    assert!(text.contains("is not authorized to perform: ssm:GetParameter"), "{text}");
    assert!(text.contains("/detcloud/ml-demo/db-password"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn the_password_is_only_in_its_secure_string_and_the_database() {
    let (cloud, xacct) = connected().await;
    create_cluster(xacct.as_ref(), &spec(), &CreateOptions::new(SSH_KEY)).await;
    let password = cloud.parameters().get_parameter("/detcloud/ml-demo/db-password").await.unwrap();
    let secret = password.value.expose().to_string();
    assert_eq!(secret.len(), 32);
    // The saved world holds it twice: the parameter and the database. Nowhere else: not in the
    // master's user data, not in any command's output.
    let json = cloud.to_json();
    assert_eq!(json.matches(&secret).count(), 2, "the password appears elsewhere in the world");
    for call in cloud.calls() {
        assert!(!format!("{call:?}").contains(&secret), "a call record holds the password: {}", call.action);
    }
    let world: serde_json::Value = serde_json::from_str(&json).unwrap();
    let text = world.to_string();
    assert!(text.contains("# detcloud: bootstrap of the Determined master of cluster ml-demo"), "user data is kept");
}

#[tokio::test(start_paused = true)]
async fn modify_rewrites_the_running_master_s_configuration_and_it_answers_again() {
    let (cloud, xacct) = connected().await;
    let spec = spec();
    create_cluster(xacct.as_ref(), &spec, &CreateOptions::new(SSH_KEY)).await;
    let master =
        || async {
            cloud.compute().describe_instances(&cluster_filter("ml-demo")).await.unwrap().into_iter().find(|i| {
                i.tags.get(RESOURCE).map(String::as_str) == Some("master") && i.state == InstanceState::Running
            })
        };
    let before = master().await.unwrap();
    // Only the maximum of agents is given; the compute type the spec below names is not.
    let mut wanted = spec.clone();
    wanted.agents.max_instances = 12;
    wanted.agents.instance_type = "m6i.large".into();
    let mut prepared = prepare(xacct.as_ref(), &wanted, CUSTOMER).await.unwrap();
    keep_current(&mut prepared, &Explicit { max_agents: true, ..Explicit::default() });
    assert_eq!(prepared.spec.agents.instance_type, "g4dn.xlarge", "not given: kept");
    assert_eq!(prepared.spec.agents.max_instances, 12);
    let plan = detcloud_cluster::operate::modify_plan(&prepared);
    assert!(plan.iter().any(|c| c.contains("0 to 12 each")), "{plan:?}");
    let (report, _) = modify(xacct.as_ref(), &prepared, &CreateOptions::new(String::new())).await.unwrap();
    assert!(report.changes.iter().any(|c| c == "rewrote the master's configuration and restarted it"), "{report:?}");
    assert!(report.changes.iter().any(|c| c == "the master answers: Determined 0.32.1"), "{report:?}");
    let after = master().await.unwrap();
    assert_eq!(after.id, before.id, "the same master, reconfigured in place");
    assert_ne!(after.tags.get(MASTER_CONFIG_TAG), before.tags.get(MASTER_CONFIG_TAG));
    assert!(after.tags[AGENTS_TAG].contains("max=12") && after.tags[AGENTS_TAG].contains("compute=g4dn.xlarge"));
    // The bootstrap the master now runs (kept by the fake) names the new maximum.
    assert!(cloud.to_json().contains("max_instances: 12"));
    // A second modify with nothing new changes nothing on the master.
    let mut again = prepare(xacct.as_ref(), &spec, CUSTOMER).await.unwrap();
    keep_current(&mut again, &Explicit::default());
    let (report, _) = modify(xacct.as_ref(), &again, &CreateOptions::new(String::new())).await.unwrap();
    assert!(!report.changes.iter().any(|c| c.starts_with("rewrote")), "{report:?}");
    let _ = Names::new(&spec, CUSTOMER);
}

#[tokio::test(start_paused = true)]
async fn delete_terminates_the_agents_the_master_launched_and_cancels_their_spot_requests() {
    let (cloud, xacct) = connected().await;
    let report = create_cluster(xacct.as_ref(), &spec(), &CreateOptions::new(SSH_KEY)).await;
    let private = report.ids[&Node::PrivateSubnet(0)].clone();
    // What the master launches, tagged as its configuration says: its tag, and detcloud's.
    let mut agent_tags = cluster_tags(&spec());
    agent_tags.insert(AGENT_TAG.into(), "ml-demo".into());
    agent_tags.insert(RESOURCE.into(), "agent".into());
    let admin = &cloud;
    let on_demand = admin.compute().run_instance(instance(&private, "g4dn.xlarge", &agent_tags)).await.unwrap();
    // A spot agent tagged only with the master's tag, with its request.
    let mut only_master_tag = Tags::new();
    only_master_tag.insert(AGENT_TAG.into(), "ml-demo".into());
    let (request, spot) = admin.request_spot_instance(instance(&private, "t3.large", &only_master_tag));
    // The customer's own instance elsewhere, and one tagged for another cluster.
    let theirs_vpc = admin.network().create_vpc("10.200.0.0/16", &Tags::new()).await.unwrap();
    let theirs_subnet = admin
        .network()
        .create_subnet(detcloud_provider::CreateSubnet {
            vpc_id: theirs_vpc.id.clone(),
            cidr: "10.200.1.0/24".into(),
            availability_zone: "us-west-2a".into(),
            tags: Tags::new(),
        })
        .await
        .unwrap();
    let theirs = admin.compute().run_instance(instance(&theirs_subnet.id, "t3.micro", &Tags::new())).await.unwrap();
    let mut other_tags = Tags::new();
    other_tags.insert(AGENT_TAG.into(), "ml-other".into());
    let other = admin.compute().run_instance(instance(&theirs_subnet.id, "t3.micro", &other_tags)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(120)).await;

    // Status lists the agents with their checks.
    let st = status(xacct.as_ref(), "ml-demo", "us-west-2", CUSTOMER).await.unwrap();
    let agents: Vec<_> = st.resources.iter().filter(|r| r.resource == "agent instance").collect();
    assert_eq!(agents.len(), 1, "the agent with detcloud's tags is in the cluster's status: {agents:?}");
    assert!(agents[0].healthy && agents[0].detail.as_deref().unwrap().contains("status checks: system ok"));

    let deleted = delete(xacct.as_ref(), "ml-demo", "us-west-2", CUSTOMER, &DeleteOptions::default()).await.unwrap();
    let all = cloud.compute().describe_instances(&Filter::all()).await.unwrap();
    let state = |id: &str| all.iter().find(|i| i.id == id).map(|i| i.state);
    assert_eq!(state(&on_demand.id), Some(InstanceState::Terminated));
    assert_eq!(state(&spot.id), Some(InstanceState::Terminated));
    assert_eq!(state(&theirs.id), Some(InstanceState::Running), "the customer's instance is untouched");
    assert_eq!(state(&other.id), Some(InstanceState::Running), "another cluster's agent is untouched");
    assert!(deleted.deleted.iter().any(|d| d.contains(&on_demand.id) && d.contains(&spot.id)), "{deleted:?}");
    assert!(deleted.deleted.iter().any(|d| d == &format!("spot requests {}", request.id)), "{deleted:?}");
    let requests = cloud.compute().describe_spot_requests(&Filter::id(&request.id)).await.unwrap();
    assert_eq!(requests[0].state, "cancelled");
    assert!(cloud.network().describe_vpcs(&cluster_filter("ml-demo")).await.unwrap().is_empty());
}

/// The cluster `ml-demo`, created, with its database restored beside the running one: the
/// restored cluster's id and endpoint.
async fn restored(xacct: &dyn Cloud) -> (String, String) {
    create_cluster(xacct, &spec(), &CreateOptions::new(SSH_KEY)).await;
    let names = Names::new(&spec(), CUSTOMER);
    detcloud_cluster::operate::restore(xacct, &spec(), &names, None, Duration::from_secs(3600)).await.unwrap()
}

/// The cluster as `cluster switch-database` reads it: every value the current one.
async fn current(xacct: &dyn Cloud) -> detcloud_cluster::Prepared {
    let mut p = prepare(xacct, &spec(), CUSTOMER).await.unwrap();
    keep_current(&mut p, &Explicit::default());
    p
}

/// The `db.host` of the configuration the master of `ml-demo` runs now.
async fn db_host(cloud: &FakeCloud) -> String {
    let instances = cloud.compute().describe_instances(&cluster_filter("ml-demo")).await.unwrap();
    let master = instances
        .iter()
        .find(|i| i.tags.get(RESOURCE).map(String::as_str) == Some("master") && i.state == InstanceState::Running);
    cloud.master_db_host(&master.expect("a running master").id).expect("the master runs detcloud's bootstrap")
}

#[tokio::test(start_paused = true)]
async fn switch_database_points_the_master_at_a_restored_database_keeps_the_old_and_switches_back() {
    use detcloud_cluster::operate::{switch_database, switch_plan};
    let (cloud, xacct) = connected().await;
    let (restored, endpoint) = restored(xacct.as_ref()).await;
    let own = prepare(xacct.as_ref(), &spec(), CUSTOMER).await.unwrap().inventory.db_cluster.unwrap().endpoint.unwrap();
    assert!(db_host(&cloud).await == own, "the master starts on its own database");

    let p = current(xacct.as_ref()).await;
    let steps = switch_plan(&p, &restored, false, Duration::from_secs(1200)).unwrap();
    assert!(steps[0].starts_with(&format!("record {restored} as the master's database")), "{steps:?}");
    assert!(steps[1].ends_with(&format!("-> {endpoint}")), "{steps:?}");
    assert!(
        steps.iter().any(|s| s.starts_with("if it does not answer: point it back at detcloud-ml-demo")),
        "{steps:?}"
    );
    assert!(steps.last().unwrap().starts_with("keep detcloud-ml-demo "), "{steps:?}");
    let report =
        switch_database(xacct.as_ref(), &p, &restored, false, &CreateOptions::new(String::new())).await.unwrap();
    assert!(report.switched, "{report:?}");
    assert_eq!((report.from.as_str(), report.master.as_str()), ("detcloud-ml-demo", "Determined 0.32.1"));
    assert_eq!(report.retained, vec!["detcloud-ml-demo".to_string()]);
    assert!(db_host(&cloud).await == endpoint, "the master's configuration names the restored database");
    assert!(db_host(&cloud).await != own);

    // Status shows which database is live; the old one is kept, not judged.
    let st = status(xacct.as_ref(), "ml-demo", "us-west-2", CUSTOMER).await.unwrap();
    assert!(st.healthy, "{st:?}");
    assert_eq!(st.database.as_deref(), Some(restored.as_str()));
    assert_eq!(st.retained_databases, vec!["detcloud-ml-demo".to_string()]);
    assert_eq!(st.master.unwrap().health, "answering");
    // A later modify keeps the restored database: nothing is rewritten.
    let again = current(xacct.as_ref()).await;
    assert_eq!(again.names.db_cluster, restored);
    let (report, _) = modify(xacct.as_ref(), &again, &CreateOptions::new(String::new())).await.unwrap();
    assert!(!report.changes.iter().any(|c| c.starts_with("rewrote")), "{report:?}");
    assert!(db_host(&cloud).await == endpoint);

    // Back to the own database, deleting the restored one (its final snapshot is kept).
    let report = switch_database(xacct.as_ref(), &again, "detcloud-ml-demo", true, &CreateOptions::new(String::new()))
        .await
        .unwrap();
    assert_eq!((report.from.as_str(), report.to.as_str()), (restored.as_str(), "detcloud-ml-demo"));
    assert!(report.deleted.iter().any(|d| d == &format!("Aurora cluster {restored}")), "{report:?}");
    assert!(
        report.kept.iter().any(|k| k.starts_with(&format!("final database snapshot {restored}-final-"))),
        "{report:?}"
    );
    assert!(db_host(&cloud).await == own);
    let gone = cloud.database().describe_db_clusters(&Filter::id(&restored)).await;
    assert!(gone.as_ref().is_ok_and(Vec::is_empty) || gone.as_ref().is_err_and(Error::is_not_found), "{gone:?}");
    let st = status(xacct.as_ref(), "ml-demo", "us-west-2", CUSTOMER).await.unwrap();
    assert_eq!(st.database.as_deref(), Some("detcloud-ml-demo"));
    assert!(st.retained_databases.is_empty() && st.healthy, "{st:?}");
}

#[tokio::test(start_paused = true)]
async fn a_switch_to_a_database_the_master_cannot_use_rolls_back_to_the_old_one() {
    use detcloud_cluster::operate::switch_database;
    let (cloud, xacct) = connected().await;
    let (restored, endpoint) = restored(xacct.as_ref()).await;
    // The restored database no longer takes the password the master has.
    cloud
        .database()
        .modify_db_cluster(detcloud_provider::ModifyDbCluster {
            id: restored.clone(),
            master_password: Some(detcloud_provider::Secret::new("Another-password-0123456789")),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut options = CreateOptions::new(String::new());
    options.ready_timeout = Duration::from_secs(900);
    let p = current(xacct.as_ref()).await;
    let err = switch_database(xacct.as_ref(), &p, &restored, true, &options).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&format!("the master did not come up on {restored}")), "{text}");
    assert!(text.contains("pointed back at detcloud-ml-demo and answers there"), "{text}");
    assert!(!text.contains("Another-password"), "no secret in the error: {text}");
    assert!(db_host(&cloud).await != endpoint, "the master is back on its own database");
    let st = status(xacct.as_ref(), "ml-demo", "us-west-2", CUSTOMER).await.unwrap();
    assert!(st.healthy, "{st:?}");
    assert_eq!(st.database.as_deref(), Some("detcloud-ml-demo"));
    assert_eq!(st.retained_databases, vec![restored.clone()], "--delete-old deletes nothing after a rollback");
    assert_eq!(st.master.unwrap().health, "answering");
}

#[tokio::test(start_paused = true)]
async fn a_switch_stopped_by_a_fault_at_any_step_leaves_a_working_master_and_a_rerun_completes_it() {
    use detcloud_cluster::operate::switch_database;
    let (cloud, xacct) = connected().await;
    let (restored, endpoint) = restored(xacct.as_ref()).await;
    // Every action a switch calls, learnt from one switch and back.
    let p = current(xacct.as_ref()).await;
    cloud.clear_calls();
    switch_database(xacct.as_ref(), &p, &restored, false, &CreateOptions::new(String::new())).await.unwrap();
    let back = current(xacct.as_ref()).await;
    switch_database(xacct.as_ref(), &back, "detcloud-ml-demo", false, &CreateOptions::new(String::new()))
        .await
        .unwrap();
    let actions: BTreeSet<String> = cloud.calls().into_iter().map(|c| c.action.to_string()).collect();
    eprintln!("a switch and back call {} actions: {actions:?}", actions.len());
    for action in ["ec2:CreateTags", "ssm:SendCommand", "ssm:GetCommandInvocation", "rds:DescribeDBClusters"] {
        assert!(actions.contains(action), "{action} not called: {actions:?}");
    }
    for action in &actions {
        for times in [1, 3] {
            // A fresh session: the switches take longer than a role session lasts.
            let xacct: Arc<dyn Cloud> = Arc::new(vendor_session(&cloud, CUSTOMER, Some("tenant-1")).await);
            let p = current(xacct.as_ref()).await;
            cloud.faults().clear();
            let denied = Error::AccessDenied { action: Some(action.clone()), message: "denied (injected)".into() };
            cloud.faults().fail(action, denied, times);
            let outcome =
                switch_database(xacct.as_ref(), &p, &restored, false, &CreateOptions::new(String::new())).await;
            cloud.faults().clear();
            // Whatever happened, the master answers on the database the cluster records.
            let st = status(xacct.as_ref(), "ml-demo", "us-west-2", CUSTOMER).await.unwrap();
            let live = st.database.clone().unwrap();
            let on = if live == restored {
                endpoint.clone()
            } else {
                p.inventory.db_cluster.clone().unwrap().endpoint.unwrap()
            };
            if outcome.is_ok() {
                assert_eq!(live, restored, "{action} x{times}");
            }
            if st.master.as_ref().is_some_and(|m| m.health == "answering") && db_host(&cloud).await == on {
                // Consistent already.
            } else {
                // A run stopped between recording and restarting: a re-run converges on the record.
                let p = current(xacct.as_ref()).await;
                switch_database(xacct.as_ref(), &p, &live, false, &CreateOptions::new(String::new())).await.unwrap();
                assert!(db_host(&cloud).await == on, "{action} x{times}: the master runs on {live}");
            }
            // A re-run with no fault completes the switch; then back, for the next fault.
            let p = current(xacct.as_ref()).await;
            let options = CreateOptions::new(String::new());
            let done = switch_database(xacct.as_ref(), &p, &restored, false, &options).await;
            assert_eq!(done.unwrap().master, "Determined 0.32.1", "{action} x{times}");
            assert!(db_host(&cloud).await == endpoint, "{action} x{times}");
            let p = current(xacct.as_ref()).await;
            switch_database(xacct.as_ref(), &p, "detcloud-ml-demo", false, &CreateOptions::new(String::new()))
                .await
                .unwrap();
        }
    }
}
