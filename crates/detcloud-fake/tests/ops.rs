//! KMS, CloudWatch Logs, SSM parameters and Run Command, Service Quotas, CloudWatch metrics and
//! Route53.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::*;
use detcloud_provider::{Cloud, Error, MetricQuery, PutParameter, RecordSet, Secret, SendCommand, Tags};

fn param(name: &str, value: &str) -> PutParameter {
    PutParameter {
        name: name.into(),
        value: Secret::new(value),
        secure: false,
        kms_key_id: None,
        overwrite: false,
        description: None,
    }
}

fn record(name: &str, kind: &str, values: &[&str]) -> RecordSet {
    RecordSet {
        name: name.into(),
        record_type: kind.into(),
        ttl: 60,
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

fn cpu(id: &str, instance_id: &str) -> MetricQuery {
    MetricQuery {
        id: id.into(),
        namespace: "AWS/EC2".into(),
        metric_name: "CPUUtilization".into(),
        dimensions: vec![("InstanceId".into(), instance_id.into())],
        stat: "Average".into(),
        period_seconds: 60,
    }
}

#[tokio::test]
async fn kms_keys_aliases_and_grants() {
    let cloud = customer();
    let kms = cloud.keys();
    let key = kms.create_key("checkpoints", &tags(&[("k", "v")])).await.unwrap();
    assert_eq!(key.id.len(), 36);
    assert_eq!(key.arn, format!("arn:aws:kms:us-west-2:111111111111:key/{}", key.id));
    assert_eq!((key.state.as_str(), key.manager.as_str(), key.is_usable()), ("Enabled", "CUSTOMER", true));
    assert_eq!(kms.describe_key(&key.arn).await.unwrap(), key);
    cloud.create_alias("alias/det-ckpt", &key.id).unwrap();
    assert!(cloud.create_alias("alias/det-ckpt", &key.id).unwrap_err().is_already_exists());
    invalid_message(cloud.create_alias("alias/aws/mine", &key.id));
    assert_eq!(kms.describe_key("alias/det-ckpt").await.unwrap(), key);
    assert!(kms.describe_key("alias/missing").await.unwrap_err().is_not_found());
    assert!(kms.describe_key("0b1c2d3e-0000-4000-8000-000000000000").await.unwrap_err().is_not_found());

    // AWS managed keys exist in every account and region.
    let ebs = kms.describe_key("alias/aws/ebs").await.unwrap();
    assert_eq!((ebs.manager.as_str(), ebs.state.as_str()), ("AWS", "Enabled"));
    assert_eq!(kms.describe_key(&ebs.id).await.unwrap(), ebs);
    for alias in ["alias/aws/rds", "alias/aws/s3", "alias/aws/ssm"] {
        assert_ne!(kms.describe_key(alias).await.unwrap().id, ebs.id);
    }
    let eu = cloud.with_region("eu-west-1");
    assert_ne!(eu.keys().describe_key("alias/aws/ebs").await.unwrap().id, ebs.id);
    assert!(eu.keys().describe_key(&key.id).await.unwrap_err().is_not_found(), "keys are regional");

    let grant = kms
        .create_grant(&key.id, "arn:aws:iam::111111111111:role/agent", &["Decrypt".into(), "GenerateDataKey".into()])
        .await
        .unwrap();
    assert_eq!(grant.len(), 64);
    invalid_message(kms.create_grant(&key.id, "arn:aws:iam::111111111111:role/agent", &["Fly".into()]).await);
    cloud.disable_key("alias/det-ckpt").unwrap();
    let disabled = kms.describe_key(&key.id).await.unwrap();
    assert_eq!(disabled.state, "Disabled");
    assert!(!disabled.is_usable());
    invalid_message(kms.create_grant(&key.id, "arn:aws:iam::111111111111:role/agent", &["Decrypt".into()]).await);
    invalid_message(cloud.disable_key("alias/aws/ebs"));
}

#[tokio::test]
async fn log_groups() {
    let cloud = customer();
    let logs = cloud.logs();
    logs.create_log_group("/detcloud/c1/master", &tags(&[("detcloud:cluster", "c1")])).await.unwrap();
    assert!(logs.create_log_group("/detcloud/c1/master", &Tags::new()).await.unwrap_err().is_already_exists());
    logs.create_log_group("/detcloud/c1/agents", &Tags::new()).await.unwrap();
    logs.create_log_group("/other", &Tags::new()).await.unwrap();
    invalid_message(logs.create_log_group("bad name!", &Tags::new()).await);
    for days in detcloud_fake::RETENTION_DAYS {
        logs.put_retention_policy("/detcloud/c1/master", *days).await.unwrap();
    }
    for days in [0, 2, 10, 366, 4000] {
        invalid_message(logs.put_retention_policy("/detcloud/c1/master", days).await);
    }
    logs.put_retention_policy("/detcloud/c1/master", 30).await.unwrap();
    logs.tag_log_group("/detcloud/c1/agents", &tags(&[("a", "b")])).await.unwrap();
    let groups = logs.describe_log_groups("/detcloud/").await.unwrap();
    let summary: Vec<(&str, Option<u32>, usize)> =
        groups.iter().map(|g| (g.name.as_str(), g.retention_days, g.tags.len())).collect();
    assert_eq!(summary, [("/detcloud/c1/agents", None, 1), ("/detcloud/c1/master", Some(30), 1)]);
    logs.delete_log_group("/other").await.unwrap();
    assert!(logs.delete_log_group("/other").await.unwrap_err().is_not_found());
    assert!(logs.put_retention_policy("/other", 7).await.unwrap_err().is_not_found());
    assert_eq!(logs.describe_log_groups("").await.unwrap().len(), 2);
}

#[tokio::test]
async fn parameters_have_versions_and_secrets_stay_secret() {
    let cloud = customer();
    let ssm = cloud.parameters();
    assert_eq!(ssm.put_parameter(param("/detcloud/c1/endpoint", "db.example")).await.unwrap(), 1);
    assert!(ssm.put_parameter(param("/detcloud/c1/endpoint", "other")).await.unwrap_err().is_already_exists());
    let mut again = param("/detcloud/c1/endpoint", "db2.example");
    again.overwrite = true;
    assert_eq!(ssm.put_parameter(again).await.unwrap(), 2);
    let p = ssm.get_parameter("/detcloud/c1/endpoint").await.unwrap();
    assert_eq!((p.value.expose(), p.kind.as_str(), p.version), ("db2.example", "String", 2));

    let mut secret = param("/detcloud/c1/db-password", "hunter2-hunter2");
    secret.secure = true;
    ssm.put_parameter(secret.clone()).await.unwrap();
    let p = ssm.get_parameter("/detcloud/c1/db-password").await.unwrap();
    assert_eq!((p.value.expose(), p.kind.as_str()), ("hunter2-hunter2", "SecureString"));
    assert!(!format!("{p:?}").contains("hunter2"));
    let err = ssm.put_parameter(secret.clone()).await.unwrap_err();
    assert!(!err.to_string().contains("hunter2"));
    secret.kms_key_id = Some("alias/missing".into());
    secret.overwrite = true;
    invalid_message(ssm.put_parameter(secret).await);
    for bad in ["", "no/leading/slash", "/aws/reserved", "ssm-x", "/bad name"] {
        invalid_message(ssm.put_parameter(param(bad, "v")).await);
    }
    invalid_message(ssm.put_parameter(param("/too/long", &"x".repeat(4097))).await);
    assert!(!format!("{:?}", cloud.calls()).contains("hunter2"));
    ssm.delete_parameter("/detcloud/c1/endpoint").await.unwrap();
    assert!(ssm.get_parameter("/detcloud/c1/endpoint").await.unwrap_err().is_not_found());
    assert!(ssm.delete_parameter("/detcloud/c1/endpoint").await.unwrap_err().is_not_found());
}

#[tokio::test(start_paused = true)]
async fn commands_run_on_running_instances() {
    let cloud = customer();
    let (_, subnets) = network(&cloud).await;
    let i = cloud.compute().run_instance(instance(&subnets[0].id)).await.unwrap();
    let send = |commands: &[&str], ids: Vec<String>| SendCommand {
        instance_ids: ids,
        commands: commands.iter().map(|c| c.to_string()).collect(),
        comment: Some("detcloud".into()),
        timeout_seconds: None,
    };
    let ssm = cloud.parameters();
    // SSM's InvalidInstanceId (not running, or no agent registered yet) is a not-yet.
    let pending = ssm.send_command(send(&["uptime"], vec![i.id.clone()])).await;
    assert!(
        matches!(&pending, Err(Error::NotReady { message }) if message.starts_with("InvalidInstanceId")),
        "{pending:?}"
    );
    let unknown = ssm.send_command(send(&["uptime"], vec!["i-0123456789abcdef0".into()])).await;
    assert!(matches!(unknown, Err(Error::NotReady { .. })), "{unknown:?}");
    advance(30).await;

    let id = ssm.send_command(send(&["systemctl start det-agent", "echo ready"], vec![i.id.clone()])).await.unwrap();
    assert!(is_not_ready(&ssm.get_command_invocation(&id, &i.id).await), "InvocationDoesNotExist right after sending");
    advance(1).await;
    let running = ssm.get_command_invocation(&id, &i.id).await.unwrap();
    assert_eq!(running.status, "InProgress");
    assert!(!running.is_finished());
    advance(1).await;
    let done = ssm.get_command_invocation(&id, &i.id).await.unwrap();
    assert_eq!((done.status.as_str(), done.exit_code), ("Success", Some(0)));
    // Only `echo` prints: other commands (which may carry secrets) are never echoed.
    assert_eq!(done.stdout, "ready\n");
    assert!(ssm.get_command_invocation("nope", &i.id).await.unwrap_err().is_not_found());

    cloud.set_command_handler(Arc::new(|commands: &[String]| (3, String::new(), format!("{} failed", commands[0]))));
    let id = ssm.send_command(send(&["false"], vec![i.id.clone()])).await.unwrap();
    advance(2).await;
    let failed = ssm.get_command_invocation(&id, &i.id).await.unwrap();
    assert_eq!((failed.status.as_str(), failed.exit_code, failed.stderr.as_str()), ("Failed", Some(3), "false failed"));

    // SSM keeps a command's history for 30 days.
    advance(30 * 24 * 3600 - 3).await;
    assert_eq!(ssm.get_command_invocation(&id, &i.id).await.unwrap().status, "Failed");
    advance(1).await;
    assert!(ssm.get_command_invocation(&id, &i.id).await.unwrap_err().is_not_found());
    // The world keeps it until the next command is sent, which forgets every command due.
    assert!(cloud.to_json().contains(&id));
    let next = ssm.send_command(send(&["true"], vec![i.id.clone()])).await.unwrap();
    let saved = cloud.to_json();
    assert!(!saved.contains(&id) && saved.contains(&next), "{saved}");
}

#[tokio::test]
async fn service_quotas() {
    let cloud = customer();
    let q = cloud.quotas();
    let vpcs = q.get_service_quota("vpc", "L-F678F1CE").await.unwrap();
    assert_eq!((vpcs.value, vpcs.name.as_str()), (5.0, "VPCs per Region"));
    for (service, code, value) in [
        ("vpc", "L-A4707A72", 5.0),
        ("vpc", "L-FE5A380F", 5.0),
        ("ec2", "L-0263D0A3", 5.0),
        ("ec2", "L-1216C47A", 64.0),
        ("ec2", "L-DB2E81BA", 8.0),
        ("ec2", "L-417A185B", 0.0),
    ] {
        assert_eq!(q.get_service_quota(service, code).await.unwrap().value, value, "{code}");
    }
    assert!(q.get_service_quota("ec2", "L-00000000").await.unwrap_err().is_not_found());
    cloud.set_quota("ec2", "L-DB2E81BA", 96.0);
    assert_eq!(q.get_service_quota("ec2", "L-DB2E81BA").await.unwrap().value, 96.0);
    assert_eq!(
        cloud.with_region("eu-west-1").quotas().get_service_quota("ec2", "L-DB2E81BA").await.unwrap().value,
        8.0
    );
}

#[tokio::test(start_paused = true)]
async fn metrics_put_and_read_back() {
    let cloud = customer();
    cloud.set_wall_clock(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let start = cloud.wall_clock();
    let m = cloud.metrics();
    let dims = vec![("Cluster".to_string(), "c1".to_string())];
    m.put_metric("detcloud", "QueueDepth", &dims, 4.0).await.unwrap();
    m.put_metric("detcloud", "QueueDepth", &dims, 8.0).await.unwrap();
    advance(60).await;
    m.put_metric("detcloud", "QueueDepth", &dims, 1.0).await.unwrap();
    m.put_metric("detcloud", "QueueDepth", &[], 100.0).await.unwrap();
    invalid_message(m.put_metric("AWS/EC2", "CPUUtilization", &[], 1.0).await);
    let query = |stat: &str| MetricQuery {
        id: "q".into(),
        namespace: "detcloud".into(),
        metric_name: "QueueDepth".into(),
        dimensions: dims.clone(),
        stat: stat.into(),
        period_seconds: 60,
    };
    let end = start + Duration::from_secs(300);
    let average = m.get_metric_data(&[query("Average")], start, end).await.unwrap();
    assert_eq!(average[0].points, [(start, 6.0), (start + Duration::from_secs(60), 1.0)]);
    let maximum = m.get_metric_data(&[query("Maximum")], start, end).await.unwrap();
    assert_eq!(maximum[0].points[0].1, 8.0);
    let mut bad = query("Average");
    bad.period_seconds = 90;
    invalid_message(m.get_metric_data(&[bad], start, end).await);
    let mut bad = query("Average");
    bad.id = "Upper".into();
    invalid_message(m.get_metric_data(&[bad], start, end).await);
    invalid_message(m.get_metric_data(&[query("Average")], end, start).await);

    // A running instance reports CPU utilization.
    let (_, subnets) = network(&cloud).await;
    let i = cloud.compute().run_instance(instance(&subnets[0].id)).await.unwrap();
    let now = cloud.wall_clock();
    let series = m.get_metric_data(&[cpu("cpu", &i.id)], now - Duration::from_secs(300), now).await.unwrap();
    assert!(series[0].points.is_empty(), "pending instances report nothing");
    advance(30).await;
    let now = cloud.wall_clock();
    let series = m.get_metric_data(&[cpu("cpu", &i.id)], now - Duration::from_secs(300), now).await.unwrap();
    assert_eq!(series[0].points.len(), 5);
    assert!(series[0].points.iter().all(|p| p.1 == detcloud_fake::SYNTHETIC_CPU));
}

#[tokio::test]
async fn route53_records() {
    let cloud = customer();
    let zone = cloud.create_hosted_zone("det.example.com");
    assert!(zone.starts_with('Z'));
    let dns = cloud.dns();
    let apex = dns.list_records(&zone).await.unwrap();
    assert_eq!(apex.iter().map(|r| r.record_type.as_str()).collect::<Vec<_>>(), ["NS", "SOA"]);
    dns.upsert_record(&zone, &record("c1.det.example.com", "A", &["10.0.1.4"])).await.unwrap();
    dns.upsert_record(&format!("/hostedzone/{zone}"), &record("c1.det.example.com.", "A", &["10.0.1.5"]))
        .await
        .unwrap();
    let records = dns.list_records(&zone).await.unwrap();
    let c1: Vec<&RecordSet> = records.iter().filter(|r| r.name == "c1.det.example.com.").collect();
    assert_eq!(c1.len(), 1);
    assert_eq!(c1[0].values, ["10.0.1.5"]);
    invalid_message(dns.upsert_record(&zone, &record("c1.other.com", "A", &["10.0.1.4"])).await);
    invalid_message(dns.upsert_record(&zone, &record("c2.det.example.com", "A", &["not-an-ip"])).await);
    invalid_message(dns.delete_record(&zone, &record("c1.det.example.com", "A", &["10.0.1.4"])).await);
    dns.delete_record(&zone, &record("c1.det.example.com", "A", &["10.0.1.5"])).await.unwrap();
    let missing = dns.delete_record(&zone, &record("c1.det.example.com", "A", &["10.0.1.5"])).await.unwrap_err();
    assert!(missing.is_not_found());
    assert!(dns.list_records("Z0000000000000000000").await.unwrap_err().is_not_found());
    assert!(dns
        .upsert_record("Z0000000000000000000", &record("a.b", "A", &["1.2.3.4"]))
        .await
        .unwrap_err()
        .is_not_found());
    assert!(matches!(dns.list_records(&zone).await, Ok(r) if r.len() == 2));
    let err = cloud.admin_of("222222222222").dns().list_records(&zone).await.unwrap_err();
    assert_eq!(err, Error::not_found("hosted zone", &zone));
}
