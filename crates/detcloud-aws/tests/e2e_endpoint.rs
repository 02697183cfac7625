//! The backend against a live endpoint (a local moto server), step by step: network, compute,
//! RDS, S3, logs, SSM, KMS, quotas and metrics, then the cleanup in reverse.
//!
//! Gated: runs only with `DETCLOUD_E2E_ENDPOINT` set (for example `http://127.0.0.1:5612` after
//! `MOTO_IAM_LOAD_MANAGED_POLICIES=true python3 -m moto.server -H 127.0.0.1 -p 5612`), and says
//! loudly that it skipped otherwise. `DETCLOUD_E2E_REGION` picks the region (`us-west-2`);
//! `DETCLOUD_E2E_CAPABILITIES` (`moto` by default, `localstack`, `aws`) names the endpoint's
//! profile from `detcloud-conformance`: a service it lacks (RDS, Service Quotas, CloudWatch through
//! the SDK) is skipped by that flag and the skip recorded in `DETCLOUD_SKIP_LOG`, never passed.
//! Every step runs even when an earlier one failed; the test fails at the end with the list of
//! failed steps.

use std::future::Future;
use std::time::{Duration, SystemTime};

use detcloud_aws::{AwsCloud, AwsOptions};
use detcloud_conformance::Capabilities;
use detcloud_policy::{PolicyDocument, Principal, Statement};
use detcloud_provider::{
    tags, AssumeRoleRequest, BucketCreation, BucketEncryption, Cloud, CreateDbCluster, CreateDbInstance,
    CreateNatGateway, CreateRole, CreateSubnet, Error, Filter, MetricQuery, ModifyDbCluster, PeeringState,
    PutParameter, RestoreDbCluster, RootVolume, RouteTarget, RunInstance, Secret, SecurityRule, SendCommand,
};

const PUBLIC_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINmg/7XGzYr7804Dexk7Q9GEgvir07awrEkgabrdIRh0 detcloud-e2e";

#[derive(Default)]
struct Report {
    lines: Vec<String>,
    failed: Vec<String>,
}

impl Report {
    async fn step<T, F>(&mut self, name: &str, fut: F) -> Option<T>
    where
        F: Future<Output = Result<T, Error>>,
    {
        match fut.await {
            Ok(v) => {
                self.lines.push(format!("ok    {name}"));
                Some(v)
            }
            Err(e) => {
                self.lines.push(format!("FAIL  {name}: {e:?}"));
                self.failed.push(format!("{name}: {e}"));
                None
            }
        }
    }

    /// Steps not run because the endpoint's capability `flag` is off, recorded in the skip log.
    fn skip(&mut self, what: &str, flag: &str) {
        let line = format!("e2e_endpoint {what}: capability `{flag}` is off for this endpoint");
        self.lines.push(format!("SKIP  {line}"));
        detcloud_conformance::record_skips(&[line]);
    }

    fn check(&mut self, name: &str, ok: bool, detail: impl std::fmt::Debug) {
        if ok {
            self.lines.push(format!("ok    {name}"));
        } else {
            self.lines.push(format!("FAIL  {name}: {detail:?}"));
            self.failed.push(format!("{name}: {detail:?}"));
        }
    }
}

#[tokio::test]
async fn every_service_against_a_live_endpoint() {
    let Ok(endpoint) = std::env::var("DETCLOUD_E2E_ENDPOINT") else {
        eprintln!("\n*** SKIPPED every_service_against_a_live_endpoint: set DETCLOUD_E2E_ENDPOINT (a moto server URL) to run it ***\n");
        return;
    };
    if std::env::var("AWS_ACCESS_KEY_ID").is_err() {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    }
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    let (_, caps) = Capabilities::from_env().unwrap_or_else(|e| panic!("{e}"));
    let cloud = AwsCloud::load(&AwsOptions {
        region: Some(std::env::var("DETCLOUD_E2E_REGION").unwrap_or_else(|_| "us-west-2".into())),
        endpoint_url: Some(endpoint),
        max_attempts: Some(2),
        ..Default::default()
    })
    .await;
    let mut r = Report::default();
    let region_name = std::env::var("DETCLOUD_E2E_REGION").unwrap_or_else(|_| "us-west-2".into());
    let region = region_name.as_str();
    let t = tags::managed_tags([(tags::CLUSTER.to_string(), "e2e".to_string())]);
    let suffix = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);

    let me = r.step("sts caller identity", cloud.identity().caller_identity()).await;
    let account = me.map(|m| m.account).unwrap_or_default();

    // --- Network ---
    let net = cloud.network();
    let zones = r.step("ec2 describe availability zones", net.describe_availability_zones()).await.unwrap_or_default();
    let az = |i: usize| zones.get(i).map(|z| z.name.clone()).unwrap_or_else(|| format!("{region}a"));
    let vpc = r.step("ec2 create vpc", net.create_vpc("10.42.0.0/16", &t)).await;
    let vpc_id = vpc.as_ref().map(|v| v.id.clone()).unwrap_or_default();
    if let Some(found) = r.step("ec2 describe vpcs by tag", net.describe_vpcs(&Filter::tag(tags::CLUSTER, "e2e"))).await
    {
        r.check("describe vpcs finds the new vpc", found.iter().any(|v| v.id == vpc_id && v.tags == t), &found);
    }
    let missing = net.describe_vpcs(&Filter::id("vpc-00000000000000000")).await;
    r.check("describe missing vpc is NotFound", matches!(missing, Err(Error::NotFound { .. })), &missing);
    let subnet_a = r
        .step(
            "ec2 create subnet a",
            net.create_subnet(CreateSubnet {
                vpc_id: vpc_id.clone(),
                cidr: "10.42.1.0/24".into(),
                availability_zone: az(0),
                tags: t.clone(),
            }),
        )
        .await
        .map(|s| s.id)
        .unwrap_or_default();
    let subnet_b = r
        .step(
            "ec2 create subnet b",
            net.create_subnet(CreateSubnet {
                vpc_id: vpc_id.clone(),
                cidr: "10.42.2.0/24".into(),
                availability_zone: az(1),
                tags: t.clone(),
            }),
        )
        .await
        .map(|s| s.id)
        .unwrap_or_default();
    if let Some(subnets) =
        r.step("ec2 describe subnets in vpc", net.describe_subnets(&Filter::all().in_vpc(&vpc_id))).await
    {
        r.check("two subnets in the vpc", subnets.len() == 2, &subnets);
    }
    let igw =
        r.step("ec2 create internet gateway", net.create_internet_gateway(&t)).await.map(|g| g.id).unwrap_or_default();
    r.step("ec2 attach internet gateway", net.attach_internet_gateway(&igw, &vpc_id)).await;
    if let Some(igws) = r
        .step("ec2 describe internet gateways by vpc", net.describe_internet_gateways(&Filter::all().in_vpc(&vpc_id)))
        .await
    {
        r.check("igw attached", igws.iter().any(|g| g.id == igw && g.attached_vpc_ids == [vpc_id.clone()]), &igws);
    }
    let del = net.delete_vpc(&vpc_id).await;
    r.check(
        "delete vpc with dependencies is DependencyViolation",
        matches!(del, Err(Error::DependencyViolation { .. })),
        &del,
    );
    let eip =
        r.step("ec2 allocate address", net.allocate_address(&t)).await.map(|a| a.allocation_id).unwrap_or_default();
    r.step("ec2 describe addresses", net.describe_addresses(&Filter::id(&eip))).await;
    let nat = r
        .step(
            "ec2 create nat gateway",
            net.create_nat_gateway(CreateNatGateway {
                subnet_id: subnet_a.clone(),
                allocation_id: eip.clone(),
                client_token: Some(format!("e2e-{suffix}")),
                tags: t.clone(),
            }),
        )
        .await
        .map(|n| n.id)
        .unwrap_or_default();
    r.step("ec2 describe nat gateways", net.describe_nat_gateways(&Filter::id(&nat))).await;
    let rtb =
        r.step("ec2 create route table", net.create_route_table(&vpc_id, &t)).await.map(|x| x.id).unwrap_or_default();
    r.step("ec2 create route to igw", net.create_route(&rtb, "0.0.0.0/0", &RouteTarget::InternetGateway(igw.clone())))
        .await;
    let dup = net.create_route(&rtb, "0.0.0.0/0", &RouteTarget::InternetGateway(igw.clone())).await;
    r.check("duplicate route is AlreadyExists", matches!(dup, Err(Error::AlreadyExists { .. })), &dup);
    let assoc =
        r.step("ec2 associate route table", net.associate_route_table(&rtb, &subnet_a)).await.unwrap_or_default();
    if let Some(tables) = r.step("ec2 describe route tables", net.describe_route_tables(&Filter::id(&rtb))).await {
        let ok = tables.first().is_some_and(|x| {
            x.routes.iter().any(|rt| rt.target == RouteTarget::InternetGateway(igw.clone()))
                && x.associations.iter().any(|a| a.id == assoc)
        });
        r.check("route table has the route and the association", ok, &tables);
    }
    let groups = r
        .step(
            "ec2 describe security groups (default)",
            net.describe_security_groups(&Filter::id("default").in_vpc(&vpc_id)),
        )
        .await;
    let default_sg = groups.and_then(|g| g.first().map(|g| g.id.clone())).unwrap_or_default();

    let sg = r
        .step("ec2 create security group", net.create_security_group(&vpc_id, &format!("det-e2e-{suffix}"), "e2e", &t))
        .await
        .map(|g| g.id)
        .unwrap_or_default();
    let rule = SecurityRule {
        protocol: "tcp".into(),
        from_port: 443,
        to_port: 443,
        cidr: Some("10.42.0.0/16".into()),
        source_group_id: None,
        description: Some("https".into()),
    };
    r.step("ec2 authorize ingress", net.authorize_ingress(&sg, std::slice::from_ref(&rule))).await;
    let dup = net.authorize_ingress(&sg, std::slice::from_ref(&rule)).await;
    r.check("duplicate ingress rule is AlreadyExists", matches!(dup, Err(Error::AlreadyExists { .. })), &dup);
    if let Some(found) =
        r.step("ec2 describe security groups by id", net.describe_security_groups(&Filter::id(&sg))).await
    {
        r.check("ingress rule listed", found.first().is_some_and(|g| g.ingress.contains(&rule)), &found);
    }
    r.step("ec2 revoke ingress", net.revoke_ingress(&sg, std::slice::from_ref(&rule))).await;
    let eni = r
        .step("ec2 create network interface", net.create_network_interface(&subnet_b, std::slice::from_ref(&sg), &t))
        .await
        .map(|n| n.id)
        .unwrap_or_default();
    r.step("ec2 describe network interfaces", net.describe_network_interfaces(&Filter::all().in_vpc(&vpc_id))).await;
    r.step(
        "ec2 create tags",
        net.create_tags(std::slice::from_ref(&eni), &tags::managed_tags([("extra".into(), "1".into())])),
    )
    .await;
    r.step("ec2 delete network interface", net.delete_network_interface(&eni)).await;
    r.step("ec2 delete security group", net.delete_security_group(&sg)).await;
    let peer_vpc =
        r.step("ec2 create peer vpc", net.create_vpc("10.43.0.0/16", &t)).await.map(|v| v.id).unwrap_or_default();
    let pcx = r.step("ec2 create vpc peering", net.create_vpc_peering(&vpc_id, &peer_vpc, &t)).await;
    let pcx_id = pcx.as_ref().map(|p| p.id.clone()).unwrap_or_default();
    if let Some(p) = r.step("ec2 accept vpc peering", net.accept_vpc_peering(&pcx_id)).await {
        r.check("peering active", p.state == PeeringState::Active, &p);
    }
    if let Some(found) = r
        .step("ec2 describe vpc peerings by accepter vpc", net.describe_vpc_peerings(&Filter::all().in_vpc(&peer_vpc)))
        .await
    {
        r.check("peering found from the accepter side", found.iter().any(|p| p.id == pcx_id), &found);
    }
    r.step("ec2 delete vpc peering", net.delete_vpc_peering(&pcx_id)).await;
    r.step("ec2 delete peer vpc", net.delete_vpc(&peer_vpc)).await;

    // --- Compute ---
    let compute = cloud.compute();
    let key =
        r.step("ec2 import key pair", compute.import_key_pair(&format!("det-e2e-{suffix}"), PUBLIC_KEY, &t)).await;
    r.check("key pair has a fingerprint", key.as_ref().is_some_and(|k| !k.fingerprint.is_empty()), &key);
    r.step("ec2 describe instance types", compute.describe_instance_types(&["t3.micro".into()])).await;
    let instance = r
        .step(
            "ec2 run instance",
            compute.run_instance(RunInstance {
                image_id: "ami-1e749f67".into(),
                instance_type: "t3.micro".into(),
                subnet_id: subnet_a.clone(),
                security_group_ids: vec![default_sg.clone()],
                key_name: key.as_ref().map(|k| k.name.clone()),
                instance_profile_name: None,
                user_data: Some("#!/bin/sh\necho hello\n".into()),
                imdsv2_required: true,
                root_volume: Some(RootVolume {
                    size_gib: 20,
                    volume_type: "gp3".into(),
                    encrypted: true,
                    kms_key_id: None,
                }),
                client_token: Some(format!("e2e-i-{suffix}")),
                tags: t.clone(),
            }),
        )
        .await;
    let instance_id = instance.as_ref().map(|i| i.id.clone()).unwrap_or_default();
    if let Some(found) =
        r.step("ec2 describe instances", compute.describe_instances(&Filter::tag(tags::CLUSTER, "e2e"))).await
    {
        r.check(
            "instance found with tags and imdsv2",
            found.iter().any(|i| i.id == instance_id && i.tags == t),
            &found,
        );
    }
    r.step("ec2 describe instance status", compute.describe_instance_status(std::slice::from_ref(&instance_id))).await;
    r.step("ec2 describe spot requests", compute.describe_spot_requests(&Filter::all())).await;
    let cmd = r
        .step(
            "ssm send command",
            cloud.parameters().send_command(SendCommand {
                instance_ids: vec![instance_id.clone()],
                commands: vec!["echo hello".into()],
                comment: Some("e2e".into()),
                timeout_seconds: Some(60),
            }),
        )
        .await;
    if let Some(cmd) = cmd {
        r.step("ssm get command invocation", cloud.parameters().get_command_invocation(&cmd, &instance_id)).await;
    }
    r.step("ec2 terminate instances", compute.terminate_instances(std::slice::from_ref(&instance_id))).await;
    if let Some(k) = &key {
        r.step("ec2 delete key pair", compute.delete_key_pair(&k.name)).await;
    }

    // --- RDS ---
    if caps.rds {
        let db = cloud.database();
        let group = format!("det-e2e-{suffix}");
        r.step(
            "rds create db subnet group",
            db.create_db_subnet_group(&group, "detcloud e2e", &[subnet_a.clone(), subnet_b.clone()], &t),
        )
        .await;
        r.step("rds describe db subnet groups", db.describe_db_subnet_groups(&Filter::id(&group))).await;
        let cluster_id = format!("det-e2e-{suffix}");
        let cluster = r
            .step(
                "rds create db cluster (aurora-postgresql)",
                db.create_db_cluster(CreateDbCluster {
                    id: cluster_id.clone(),
                    engine: "aurora-postgresql".into(),
                    engine_version: None,
                    database_name: Some("determined".into()),
                    master_username: "postgres".into(),
                    master_password: Secret::new("e2e-Password-123"),
                    subnet_group: group.clone(),
                    security_group_ids: vec![default_sg.clone()],
                    backup_retention_days: 7,
                    storage_encrypted: true,
                    kms_key_id: None,
                    deletion_protection: false,
                    tags: t.clone(),
                }),
            )
            .await;
        r.check("cluster engine", cluster.as_ref().is_some_and(|c| c.engine == "aurora-postgresql"), &cluster);
        r.step(
            "rds create db instance",
            db.create_db_instance(CreateDbInstance {
                id: format!("{cluster_id}-1"),
                cluster_id: cluster_id.clone(),
                instance_class: "db.t4g.medium".into(),
                engine: "aurora-postgresql".into(),
                tags: t.clone(),
            }),
        )
        .await;
        if let Some(clusters) =
            r.step("rds describe db clusters by tag", db.describe_db_clusters(&Filter::tag(tags::CLUSTER, "e2e"))).await
        {
            r.check("cluster found by tag", clusters.iter().any(|c| c.id == cluster_id), &clusters);
        }
        r.step("rds describe db instances", db.describe_db_instances(&Filter::id(format!("{cluster_id}-1")))).await;
        r.step(
            "rds modify db cluster",
            db.modify_db_cluster(ModifyDbCluster {
                id: cluster_id.clone(),
                backup_retention_days: Some(14),
                master_password: Some(Secret::new("e2e-Password-456")),
                deletion_protection: Some(false),
            }),
        )
        .await;
        r.step("rds describe db cluster snapshots", db.describe_db_cluster_snapshots(&cluster_id)).await;
        let restored = r
            .step(
                "rds restore db cluster to point in time",
                db.restore_db_cluster(RestoreDbCluster {
                    source_id: cluster_id.clone(),
                    target_id: format!("{cluster_id}-r"),
                    restore_time: None,
                    subnet_group: group.clone(),
                    security_group_ids: vec![],
                    kms_key_id: None,
                    tags: t.clone(),
                }),
            )
            .await;
        if restored.is_some() {
            r.step("rds delete restored cluster", db.delete_db_cluster(&format!("{cluster_id}-r"), None)).await;
        }
        let busy = db.delete_db_cluster(&cluster_id, None).await;
        r.check(
            "deleting a cluster with instances is InvalidInput",
            matches!(busy, Err(Error::InvalidInput { .. })),
            &busy,
        );
        r.step("rds delete db instance", db.delete_db_instance(&format!("{cluster_id}-1"))).await;
        r.step(
            "rds delete db cluster (final snapshot)",
            db.delete_db_cluster(&cluster_id, Some(&format!("{cluster_id}-final"))),
        )
        .await;
        r.step("rds delete db subnet group", db.delete_db_subnet_group(&group)).await;
    } else {
        r.skip("every RDS step", "rds");
    }

    // --- KMS ---
    let keys = cloud.keys();
    let kms_key = r.step("kms create key", keys.create_key("detcloud e2e", &t)).await;
    let kms_id = kms_key.as_ref().map(|k| k.id.clone()).unwrap_or_default();
    r.step("kms describe key", keys.describe_key(&kms_id)).await;
    r.step(
        "kms create grant",
        keys.create_grant(&kms_id, &format!("arn:aws:iam::{account}:root"), &["Encrypt".into(), "Decrypt".into()]),
    )
    .await;

    // --- S3 ---
    let s3 = cloud.storage();
    let bucket = format!("det-e2e-{suffix}");
    let created = r.step("s3 create bucket", s3.create_bucket(&bucket, region)).await;
    r.check("bucket created", created == Some(BucketCreation::Created), created);
    let again = r.step("s3 create bucket again", s3.create_bucket(&bucket, region)).await;
    // us-east-1 answers 200 for a bucket the caller already owns (S3's legacy behaviour).
    let owned_ok = again == Some(BucketCreation::AlreadyOwned) || (region == "us-east-1" && again.is_some());
    r.check("bucket already owned", owned_ok, again);
    r.lines.push(format!("      (the second create_bucket answered {again:?})"));
    r.step("s3 put bucket encryption", s3.put_bucket_encryption(&bucket, &BucketEncryption::Kms(Some(kms_id.clone()))))
        .await;
    let policy = PolicyDocument::new(vec![
        Statement::allow(["s3:GetObject"], [format!("arn:aws:s3:::{bucket}/*")]).with_sid("E2e")
    ]);
    r.step("s3 put bucket policy", s3.put_bucket_policy(&bucket, &policy)).await;
    r.step("s3 put object", s3.put_object(&bucket, "checkpoints/1", b"hello")).await;
    let del = s3.delete_bucket(&bucket).await;
    r.check(
        "delete non-empty bucket is DependencyViolation",
        matches!(del, Err(Error::DependencyViolation { .. })),
        &del,
    );
    if let Some(b) = r.step("s3 describe bucket", s3.describe_bucket(&bucket)).await {
        r.check(
            "bucket description",
            b.region == region
                && b.object_count == 1
                && b.policy.is_some()
                && matches!(b.encryption, Some(BucketEncryption::Kms(_))),
            &b,
        );
    }
    let emptied = r.step("s3 empty bucket", s3.empty_bucket(&bucket)).await;
    r.check("one object deleted", emptied == Some(1), emptied);
    r.step("s3 delete bucket", s3.delete_bucket(&bucket)).await;

    // --- Logs ---
    let logs = cloud.logs();
    let log_group = format!("/detcloud/e2e-{suffix}");
    r.step("logs create log group", logs.create_log_group(&log_group, &t)).await;
    let dup = logs.create_log_group(&log_group, &t).await;
    r.check("existing log group is AlreadyExists", matches!(dup, Err(Error::AlreadyExists { .. })), &dup);
    r.step("logs put retention policy", logs.put_retention_policy(&log_group, 30)).await;
    r.step("logs tag log group", logs.tag_log_group(&log_group, &tags::managed_tags([("extra".into(), "1".into())])))
        .await;
    if let Some(groups) = r.step("logs describe log groups", logs.describe_log_groups(&log_group)).await {
        r.check(
            "log group retention and tags",
            groups.iter().any(|g| g.retention_days == Some(30) && g.tags.get("extra").is_some_and(|v| v == "1")),
            &groups,
        );
    }
    r.step("logs delete log group", logs.delete_log_group(&log_group)).await;

    // --- SSM ---
    let ssm = cloud.parameters();
    let name = format!("/detcloud/e2e-{suffix}/db-password");
    let put = |overwrite| PutParameter {
        name: name.clone(),
        value: Secret::new("e2e-secret"),
        secure: true,
        kms_key_id: None,
        overwrite,
        description: Some("e2e".into()),
    };
    r.step("ssm put parameter (SecureString)", ssm.put_parameter(put(false))).await;
    let dup = ssm.put_parameter(put(false)).await;
    r.check("existing parameter is AlreadyExists", matches!(dup, Err(Error::AlreadyExists { .. })), &dup);
    if let Some(p) = r.step("ssm get parameter", ssm.get_parameter(&name)).await {
        r.check("parameter decrypted", p.value.expose() == "e2e-secret" && p.kind == "SecureString", &p);
    }
    r.step("ssm delete parameter", ssm.delete_parameter(&name)).await;
    let gone = ssm.get_parameter(&name).await;
    r.check("deleted parameter is NotFound", matches!(gone, Err(Error::NotFound { .. })), &gone);

    // --- Quotas and metrics ---
    if !caps.service_quotas {
        r.skip("servicequotas get L-F678F1CE", "service_quotas");
    } else if let Some(q) =
        r.step("servicequotas get L-F678F1CE", cloud.quotas().get_service_quota("vpc", "L-F678F1CE")).await
    {
        r.check("quota value", q.value > 0.0, &q);
    }
    if caps.cloudwatch_metrics {
        let dims = vec![("Cluster".to_string(), "e2e".to_string())];
        r.step("cloudwatch put metric", cloud.metrics().put_metric("Detcloud/E2e", "Probe", &dims, 1.0)).await;
        let now = SystemTime::now();
        r.step(
            "cloudwatch get metric data",
            cloud.metrics().get_metric_data(
                &[MetricQuery {
                    id: "probe".into(),
                    namespace: "Detcloud/E2e".into(),
                    metric_name: "Probe".into(),
                    dimensions: dims.clone(),
                    stat: "Sum".into(),
                    period_seconds: 60,
                }],
                now - Duration::from_secs(600),
                now + Duration::from_secs(60),
            ),
        )
        .await;
    } else {
        r.skip("cloudwatch put metric and get metric data", "cloudwatch_metrics");
    }

    // --- Assumed role: every client of the new Cloud works ---
    let role = format!("det-e2e-{suffix}");
    let trust = PolicyDocument::new(vec![Statement::trust(
        Principal::single("AWS", format!("arn:aws:iam::{account}:root")),
        "sts:AssumeRole",
    )]);
    let created = r
        .step(
            "iam create role",
            cloud.iam().create_role(CreateRole {
                name: role.clone(),
                path: "/".into(),
                trust_policy: trust,
                description: None,
                permissions_boundary: None,
                tags: t.clone(),
            }),
        )
        .await;
    if let Some(created) = created {
        let assumed = r
            .step(
                "sts assume role",
                cloud.assume_role(AssumeRoleRequest {
                    role_arn: created.arn.clone(),
                    session_name: "detcloud-e2e".into(),
                    external_id: Some("e2e".into()),
                    duration: None,
                }),
            )
            .await;
        if let Some(assumed) = assumed {
            if let Some(me) = r.step("assumed: sts caller identity", assumed.identity().caller_identity()).await {
                r.check("assumed identity is the role session", me.arn.contains(&role), &me);
            }
            r.check("assumed region", assumed.region() == region, assumed.region());
            r.step("assumed: ec2 describe vpcs", assumed.network().describe_vpcs(&Filter::id(&vpc_id))).await;
            r.step("assumed: ssm missing parameter", async {
                match assumed.parameters().get_parameter("/detcloud/none").await {
                    Err(Error::NotFound { .. }) => Ok(()),
                    other => Err(Error::invalid(format!("{other:?}"))),
                }
            })
            .await;
        }
        r.step("iam delete role", cloud.iam().delete_role(&role)).await;
    }

    // --- Network cleanup, in reverse ---
    r.step("ec2 delete nat gateway", net.delete_nat_gateway(&nat)).await;
    r.step("ec2 release address", net.release_address(&eip)).await;
    r.step("ec2 disassociate route table", net.disassociate_route_table(&assoc)).await;
    r.step("ec2 delete route table", net.delete_route_table(&rtb)).await;
    r.step("ec2 detach internet gateway", net.detach_internet_gateway(&igw, &vpc_id)).await;
    r.step("ec2 delete internet gateway", net.delete_internet_gateway(&igw)).await;
    r.step("ec2 delete subnet a", net.delete_subnet(&subnet_a)).await;
    r.step("ec2 delete subnet b", net.delete_subnet(&subnet_b)).await;
    r.step("ec2 delete vpc", net.delete_vpc(&vpc_id)).await;
    let gone = net.delete_vpc(&vpc_id).await;
    r.check("deleting a deleted vpc is NotFound", matches!(gone, Err(Error::NotFound { .. })), &gone);

    eprintln!("{}", r.lines.join("\n"));
    assert!(r.failed.is_empty(), "{} failed steps:\n{}", r.failed.len(), r.failed.join("\n"));
}
