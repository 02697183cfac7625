//! End-to-end: the real `detcloud` binary against an AWS-compatible endpoint (moto, started by
//! `cargo xtask e2e` / `cargo xtask ci`, or LocalStack via `cargo xtask e2e --endpoint URL`),
//! inspected with an independent AWS SDK client.
//!
//! Skipped, loudly, when `DETCLOUD_E2E_ENDPOINT` is not set. One scenario runs the steps in order,
//! because they share the endpoint's one account. The suite is re-runnable against an endpoint that
//! keeps state (LocalStack, a moto started by hand; `cargo xtask ci` runs it twice in a row on one
//! LocalStack): every name it is free to choose carries a per-run id ([`run_id`]), the spec's
//! default names are disconnected first, and each run removes what it made.

use std::path::Path;
use std::time::Duration;

mod common;
use common::serve::Served;

use assert_cmd::Command;
use aws_sdk_iam::Client;
use detcloud_policy::PolicyDocument;

const SSM: &str = "arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy";

struct Endpoint {
    url: String,
}

fn endpoint() -> Option<Endpoint> {
    match std::env::var("DETCLOUD_E2E_ENDPOINT") {
        Ok(url) if !url.is_empty() => Some(Endpoint { url }),
        _ => {
            eprintln!("SKIPPED: end-to-end tests need DETCLOUD_E2E_ENDPOINT (run `cargo xtask e2e`)");
            None
        }
    }
}

/// Five lower-case letters and digits unique to this run (clock and process id), for the names
/// of what a run creates.
fn run_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let mut n = nanos ^ (u128::from(std::process::id()) << 40);
    (0..5)
        .map(|_| {
            let c = b"abcdefghijklmnopqrstuvwxyz0123456789"[(n % 36) as usize];
            n /= 36;
            char::from(c)
        })
        .collect()
}

fn detcloud(ep: &Endpoint, args: &[&str], stdin: &str) -> (i32, String, String) {
    let out = Command::cargo_bin("detcloud")
        .unwrap()
        .args(args)
        .env("AWS_ENDPOINT_URL", &ep.url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/nonexistent/detcloud-e2e")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/detcloud-e2e")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .write_stdin(stdin)
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

/// An SDK client of the crate `$sdk` for the endpoint in `$region`, with the emulators' test
/// credentials, and any further settings of its config builder.
macro_rules! client {
    ($sdk:ident, $ep:expr, $region:expr $(, $setting:ident($value:expr))*) => {{
        let config = $sdk::Config::builder()
            .behavior_version($sdk::config::BehaviorVersion::latest())
            .endpoint_url(&$ep.url)
            .region($sdk::config::Region::new($region))
            .credentials_provider($sdk::config::Credentials::new("testing", "testing", None, None, "e2e"))
            $(.$setting($value))*
            .build();
        $sdk::Client::from_conf(config)
    }};
}

fn client(ep: &Endpoint) -> Client {
    client!(aws_sdk_iam, ep, "us-east-1")
}

fn ec2_client(ep: &Endpoint) -> aws_sdk_ec2::Client {
    client!(aws_sdk_ec2, ep, "us-west-2")
}

fn s3_client(ep: &Endpoint) -> aws_sdk_s3::Client {
    client!(aws_sdk_s3, ep, "us-west-2", force_path_style(true))
}

fn route53_client(ep: &Endpoint) -> aws_sdk_route53::Client {
    client!(aws_sdk_route53, ep, "us-east-1")
}

fn ssm_client(ep: &Endpoint) -> aws_sdk_ssm::Client {
    client!(aws_sdk_ssm, ep, "us-west-2")
}

fn logs_client(ep: &Endpoint) -> aws_sdk_cloudwatchlogs::Client {
    client!(aws_sdk_cloudwatchlogs, ep, "us-west-2")
}

fn kms_client(ep: &Endpoint) -> aws_sdk_kms::Client {
    client!(aws_sdk_kms, ep, "us-west-2")
}

fn decode(raw: &str) -> PolicyDocument {
    let text = if raw.trim_start().starts_with('{') {
        raw.to_string()
    } else {
        percent_encoding::percent_decode_str(raw).decode_utf8().unwrap().into_owned()
    };
    PolicyDocument::parse(&text).unwrap()
}

/// The spec's document; for the cross-account permissions, plus detcloud's recorded additions.
fn fixture(name: &str, subst: &[(&str, &str)]) -> PolicyDocument {
    let mut doc = spec_fixture(name, subst);
    let additions = detcloud_connect::catalog::ADDITIONS;
    if name == "xacct-permissions" && !additions.is_empty() {
        doc.statements.push(
            detcloud_policy::Statement::allow(additions.iter().map(|a| a.action), ["*"]).with_sid("DetcloudAdditions"),
        );
    }
    // The instance roles' recorded statements (the master's read of its password parameter).
    let account = subst.iter().find(|(k, _)| *k == "{{CUSTOMER_ACCOUNT_ID}}").map_or("", |(_, v)| *v);
    for (component, doc_name) in [
        (detcloud_connect::Component::Master, "master-permissions"),
        (detcloud_connect::Component::Agent, "agent-permissions"),
    ] {
        if name == doc_name {
            doc.statements.extend(
                detcloud_connect::catalog::ROLE_ADDITIONS
                    .iter()
                    .filter(|a| a.component == component)
                    .map(|a| a.statement(account)),
            );
        }
    }
    doc
}

fn spec_fixture(name: &str, subst: &[(&str, &str)]) -> PolicyDocument {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/policies").join(format!("{name}.json"));
    let mut text = std::fs::read_to_string(path).unwrap();
    for (k, v) in subst {
        text = text.replace(k, v);
    }
    PolicyDocument::parse(&text).unwrap()
}

async fn role_exists(iam: &Client, name: &str) -> bool {
    iam.get_role().role_name(name).send().await.is_ok()
}

/// Checks one component against the spec: role, trust, managed permissions policy, attachments,
/// instance profile.
async fn check_component(
    iam: &Client,
    account: &str,
    role: &str,
    trust: &PolicyDocument,
    permissions: &PolicyDocument,
    profile: bool,
) {
    let r = iam.get_role().role_name(role).send().await.unwrap();
    let r = r.role().unwrap();
    assert!(decode(r.assume_role_policy_document().unwrap()).semantically_eq(trust), "{role}: trust policy differs");
    assert!(
        r.tags().iter().any(|t| t.key() == "detcloud:managed-by" && t.value() == "detcloud"),
        "{role}: no ownership tag"
    );
    let inline = iam.list_role_policies().role_name(role).send().await.unwrap();
    assert!(inline.policy_names().is_empty(), "{role}: inline policies {:?}", inline.policy_names());

    let policy_arn = format!("arn:aws:iam::{account}:policy/{role}-permissions");
    let policy = iam.get_policy().policy_arn(&policy_arn).send().await.unwrap();
    let version = policy.policy().unwrap().default_version_id().unwrap().to_string();
    let doc = iam.get_policy_version().policy_arn(&policy_arn).version_id(version).send().await.unwrap();
    let doc = decode(doc.policy_version().unwrap().document().unwrap());
    assert!(doc.semantically_eq(permissions), "{role}: permissions differ:\n{doc}");

    let attached = iam.list_attached_role_policies().role_name(role).send().await.unwrap();
    let mut arns: Vec<&str> = attached.attached_policies().iter().filter_map(|p| p.policy_arn()).collect();
    arns.sort();
    let mut want = vec![policy_arn.as_str()];
    if profile {
        want.push(SSM);
    }
    want.sort();
    assert_eq!(arns, want, "{role}: attachments");

    if profile {
        let p = iam.get_instance_profile().instance_profile_name(role).send().await.unwrap();
        let p = p.instance_profile().unwrap();
        let roles: Vec<&str> = p.roles().iter().map(|r| r.role_name()).collect();
        assert_eq!(roles, [role], "{role}: instance profile roles");
        assert_eq!(p.arn(), format!("arn:aws:iam::{account}:instance-profile/{role}"));
    }
}

/// [`check_component`] against the spec's documents `{docs}-trust` and `{docs}-permissions`.
async fn check_spec_component(
    iam: &Client,
    account: &str,
    role: &str,
    docs: &str,
    names: &[(&str, &str)],
    profile: bool,
) {
    let trust = fixture(&format!("{docs}-trust"), names);
    let permissions = fixture(&format!("{docs}-permissions"), names);
    check_component(iam, account, role, &trust, &permissions, profile).await;
}

/// The default connection's three components, each against the spec: (role, documents, whether
/// it has an instance profile).
async fn check_default_connection(iam: &Client, account: &str, names: &[(&str, &str)]) {
    for (role, docs, profile) in [
        ("det-cloud-customer-xacct-mgmt", "xacct", false),
        ("det-cloud-customer-master", "master", true),
        ("det-cloud-customer-agent", "agent", true),
    ] {
        check_spec_component(iam, account, role, docs, names, profile).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_aws_against_the_endpoint() {
    let Some(ep) = endpoint() else { return };
    let run = run_id();
    let iam = client(&ep);
    // The spec's default names cannot carry a run id: a connection an earlier run left is
    // removed first, with the product's own undo.
    let (code, stdout, stderr) = detcloud(&ep, &["disconnect", "aws", "--yes"], "");
    assert_eq!(code, 0, "{stdout}{stderr}");
    // The endpoint's account (moto: 123456789012, LocalStack: 000000000000), as detcloud sees it.
    let (code, stdout, stderr) = detcloud(&ep, &["connect", "aws", "--dry-run", "-o", "json"], "");
    assert_eq!(code, 0, "{stderr}");
    let plan: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let account = plan["customer_account_id"].as_str().unwrap().to_string();
    let account = account.as_str();
    assert_eq!(account.len(), 12, "{account}");
    let names = [
        ("{{DETERMINED_ACCOUNT_ID}}", "544296492693"),
        ("{{CUSTOMER_ACCOUNT_ID}}", account),
        ("{{MASTER_INSTANCE_PROFILE_NAME}}", "det-cloud-customer-master"),
        ("{{AGENT_INSTANCE_PROFILE_NAME}}", "det-cloud-customer-agent"),
    ];

    // Declined, and end of input: nothing is created.
    for answer in ["N\n", ""] {
        let (code, stdout, _) = detcloud(&ep, &["connect", "aws"], answer);
        assert_eq!(code, 4, "{answer:?}");
        assert!(stdout.starts_with(&format!(
            "Will connect your AWS account {account} with Determined's AWS account 544296492693, proceed? (y/N)"
        )));
        assert!(!role_exists(&iam, "det-cloud-customer-xacct-mgmt").await, "{answer:?} created a role");
    }

    // Accepted: the spec's output, and exactly the spec's documents.
    let (code, stdout, stderr) = detcloud(&ep, &["connect", "aws"], "y\n");
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.ends_with(&format!(
            "(y/N)IAM role created: arn:aws:iam::{account}:role/det-cloud-customer-xacct-mgmt\n\
         Instance profile created: arn:aws:iam::{account}:instance-profile/det-cloud-customer-master\n\
         Instance profile created: arn:aws:iam::{account}:instance-profile/det-cloud-customer-agent\n"
        )),
        "{stdout}"
    );
    check_default_connection(&iam, account, &names).await;

    // A re-run changes nothing and says so.
    let (code, stdout, stderr) = detcloud(&ep, &["connect", "aws", "--yes"], "");
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("No changes"), "{stdout}");

    // Drift in what detcloud created is repaired: a widened trust policy, a removed action, a
    // detached managed policy.
    iam.update_assume_role_policy()
        .role_name("det-cloud-customer-xacct-mgmt")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .unwrap();
    let master_policy = format!("arn:aws:iam::{account}:policy/det-cloud-customer-master-permissions");
    iam.create_policy_version()
        .policy_arn(&master_policy)
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeInstances","Resource":"*"}]}"#)
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    iam.detach_role_policy().role_name("det-cloud-customer-agent").policy_arn(SSM).send().await.unwrap();
    let (code, stdout, stderr) = detcloud(&ep, &["connect", "aws", "--yes"], "");
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("IAM role updated:") && stdout.contains("trust policy differs"), "{stdout}");
    assert!(stdout.contains("permissions differ"), "{stdout}");
    assert!(stdout.contains(&format!("attached {SSM}")), "{stdout}");
    check_default_connection(&iam, account, &names).await;

    // verify: every check passes or is skipped where moto lacks the simulator; drift fails it.
    let (code, stdout, stderr) = detcloud(&ep, &["verify", "aws"], "");
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains(", 0 failed"), "{stdout}");
    iam.detach_role_policy().role_name("det-cloud-customer-master").policy_arn(SSM).send().await.unwrap();
    let (code, stdout, _) = detcloud(&ep, &["verify", "aws", "--no-simulate", "-o", "json"], "");
    assert_eq!(code, 6, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let failed: Vec<&serde_json::Value> =
        v["checks"].as_array().unwrap().iter().filter(|c| c["status"] == "fail").collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0]["detail"].as_str().unwrap().contains("AmazonSSMManagedEC2InstanceDefaultPolicy"), "{failed:?}");
    assert_eq!(detcloud(&ep, &["connect", "aws", "--yes"], "").0, 0);

    // Custom names, another Determined account, an external id; JSON output.
    let (acme_xacct, acme_master, acme_agent) =
        (format!("e2e{run}-acme-xacct"), format!("e2e{run}-acme-master"), format!("e2e{run}-acme-agent"));
    let acme = ["--xacct-role-name", &acme_xacct, "--master-instance-profile-name", &acme_master];
    let acme = [&acme[..], &["--agent-instance-profile-name", &acme_agent]].concat();
    let (code, stdout, stderr) = detcloud(
        &ep,
        &[
            "connect",
            "aws",
            "--yes",
            "-o",
            "json",
            "-a",
            "111122223333",
            "--xacct-role-name",
            &acme_xacct,
            "--master-instance-profile-name",
            &acme_master,
            "--agent-instance-profile-name",
            &acme_agent,
            "--external-id",
            "acme-tenant-7",
        ],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["resources"][1]["arn"], format!("arn:aws:iam::{account}:instance-profile/{acme_master}"));
    let custom = [
        ("{{DETERMINED_ACCOUNT_ID}}", "111122223333"),
        ("{{CUSTOMER_ACCOUNT_ID}}", account),
        ("{{MASTER_INSTANCE_PROFILE_NAME}}", acme_master.as_str()),
        ("{{AGENT_INSTANCE_PROFILE_NAME}}", acme_agent.as_str()),
    ];
    let mut trust = fixture("xacct-trust", &custom);
    for s in &mut trust.statements {
        s.condition
            .entry("StringEquals".into())
            .or_default()
            .insert("sts:ExternalId".into(), vec!["acme-tenant-7".into()]);
    }
    check_component(&iam, account, &acme_xacct, &trust, &fixture("xacct-permissions", &custom), false).await;
    check_spec_component(&iam, account, &acme_master, "master", &custom, true).await;

    // A same-named role of the customer's survives untouched, and nothing else is created.
    let theirs = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let (their_master, fresh_xacct, fresh_agent) =
        (format!("e2e{run}-their-master"), format!("e2e{run}-fresh-xacct"), format!("e2e{run}-fresh-agent"));
    iam.create_role().role_name(&their_master).assume_role_policy_document(theirs).send().await.unwrap();
    let (code, stdout, stderr) = detcloud(
        &ep,
        &[
            "connect",
            "aws",
            "--yes",
            "--xacct-role-name",
            &fresh_xacct,
            "--master-instance-profile-name",
            &their_master,
            "--agent-instance-profile-name",
            &fresh_agent,
        ],
        "",
    );
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(stderr.contains(&format!("{their_master} already exists and was not created by detcloud")), "{stderr}");
    let r = iam.get_role().role_name(&their_master).send().await.unwrap();
    let r = r.role().unwrap();
    assert!(decode(r.assume_role_policy_document().unwrap()).semantically_eq(&PolicyDocument::parse(theirs).unwrap()));
    assert!(r.tags().is_empty(), "their role was tagged");
    let attached = iam.list_attached_role_policies().role_name(&their_master).send().await.unwrap();
    assert!(attached.attached_policies().is_empty(), "a policy was attached to their role");
    assert!(
        !role_exists(&iam, &fresh_xacct).await && !role_exists(&iam, &fresh_agent).await,
        "other roles were created"
    );

    let (_, caps) = detcloud_conformance::Capabilities::from_env().unwrap_or_else(|e| panic!("{e}"));
    if !caps.rds {
        lifecycle_without_rds(&ep, account, &format!("e2e-{run}")).await;
        let why =
            "cli e2e create killed and resumed, control plane: capability `rds` is off: they need a whole cluster";
        eprintln!("SKIPPED: {why}");
        detcloud_conformance::record_skips(&[why.to_string()]);
    } else {
        let cluster = format!("e2e-{run}");
        cluster_lifecycle(&ep, account, &cluster).await;
        killed_mid_create_and_resumed(&ep, account, &format!("{cluster}-kill")).await;
        control_plane(&ep, account, &format!("{cluster}-ctl")).await;
    }

    // disconnect removes the default connection and nothing else.
    let (code, stdout, stderr) = detcloud(&ep, &["disconnect", "aws", "--yes"], "");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().filter(|l| l.contains(" deleted: ")).count(), 8, "{stdout}");
    for name in ["det-cloud-customer-xacct-mgmt", "det-cloud-customer-master", "det-cloud-customer-agent"] {
        assert!(!role_exists(&iam, name).await, "{name} survived disconnect");
    }
    assert!(role_exists(&iam, &acme_master).await && role_exists(&iam, &their_master).await);
    let (code, stdout, _) = detcloud(&ep, &["verify", "aws", "--no-simulate"], "");
    assert_eq!(code, 6, "{stdout}");

    // The run removes what it made: the custom connection, with its external id, and the role
    // standing in for the customer's.
    let undo = [&["disconnect", "aws", "--yes", "-a", "111122223333", "--external-id", "acme-tenant-7"][..], &acme[..]]
        .concat();
    let (code, stdout, stderr) = detcloud(&ep, &undo, "");
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!role_exists(&iam, &acme_master).await, "{stdout}");
    iam.delete_role().role_name(&their_master).send().await.unwrap();
}

/// The values of the `A` record `name` in `zone` (empty when there is none).
async fn a_record(dns: &aws_sdk_route53::Client, zone: &str, name: &str) -> Vec<String> {
    let sets = dns.list_resource_record_sets().hosted_zone_id(zone).send().await.unwrap();
    sets.resource_record_sets()
        .iter()
        .filter(|r| r.name().trim_end_matches('.') == name && r.r#type().as_str() == "A")
        .flat_map(|r| r.resource_records().iter().map(|v| v.value().to_string()))
        .collect()
}

/// `detcloud --region us-west-2 ARGS --role-arn <the cross-account role> --external-id e2e-tenant`
/// against the endpoint, with `home` as HOME and no AWS settings but the endpoint's.
fn as_role(ep: &Endpoint, home: &Path, account: &str, args: &[&str]) -> std::process::Command {
    let role = format!("arn:aws:iam::{account}:role/det-cloud-customer-xacct-mgmt");
    let mut cmd = vendor_command(ep, home, args);
    cmd.args(["--role-arn", &role, "--external-id", "e2e-tenant"]);
    cmd
}

/// [`as_role`] run to its end: exit code, stdout, stderr.
fn run_as_role(ep: &Endpoint, home: &Path, account: &str, args: &[&str]) -> (i32, String, String) {
    let out = as_role(ep, home, account, args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

/// What needs RDS, left out of a create on an endpoint without it: the database and the master,
/// whose configuration names the database.
const NEEDS_RDS: [&str; 6] =
    ["db-subnet-group", "db-cluster", "db-instance", "master", "master-address", "master-ready"];

/// The lifecycle as far as an endpoint without RDS carries it (LocalStack): `cluster create
/// --target` of everything the database does not hold up (network, NAT, security group rules,
/// key pair, bucket, log group), each node left out recorded as a skip naming the capability;
/// inspected with independent clients, re-run, status, delete keeping the bucket, purge.
async fn lifecycle_without_rds(ep: &Endpoint, account: &str, c: &str) {
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| run_as_role(ep, home.path(), account, args);
    // The customer's own key, named to the cluster: the bucket is encrypted with it.
    let kms = kms_client(ep);
    let key = kms.create_key().description(format!("customer key for {c}")).send().await.unwrap();
    let key = key.key_metadata().unwrap();
    let (key_id, key_arn) = (key.key_id().to_string(), key.arn().unwrap().to_string());
    let mut create = vec!["cluster", "create", c, "--inbound-cidr", "203.0.113.0/24", "--yes", "-o", "json"];
    create.extend(["--kms-key-id", &key_arn]);
    for t in ["public-routes", "private-routes", "security-rules", "key-pair", "bucket", "log-group"] {
        create.extend(["--target", t]);
    }
    let (code, stdout, stderr) = run(&create);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["left_out"], serde_json::json!(NEEDS_RDS), "{v}");
    assert_eq!(v["created"].as_array().unwrap().len(), 14, "{v}");
    let skipped = format!("cli e2e cluster {}: capability `rds` is off", NEEDS_RDS.join(", "));
    eprintln!("SKIPPED: {skipped}");
    detcloud_conformance::record_skips(&[skipped]);

    // Independent checks: the network's topology, the NAT route, the key, the bucket, the logs.
    let ec2 = ec2_client(ep);
    let tag = aws_sdk_ec2::types::Filter::builder().name("tag:detcloud:cluster").values(c).build();
    let vpcs = ec2.describe_vpcs().filters(tag.clone()).send().await.unwrap();
    assert_eq!(vpcs.vpcs().len(), 1);
    let vpc = vpcs.vpcs()[0].vpc_id().unwrap().to_string();
    assert_eq!(ec2.describe_subnets().filters(tag.clone()).send().await.unwrap().subnets().len(), 4);
    let nats = ec2.describe_nat_gateways().filter(tag.clone()).send().await.unwrap();
    let nat = nats.nat_gateways().iter().find(|n| n.state().is_some_and(|s| s.as_str() == "available"));
    let nat = nat.and_then(|n| n.nat_gateway_id()).expect("an available NAT gateway").to_string();
    let routes = routes_of(&ec2, &vpc).await;
    assert!(routes.iter().any(|(_, dest, target)| dest == "0.0.0.0/0" && *target == nat), "{routes:?}");
    assert!(routes.iter().any(|(_, dest, target)| dest == "0.0.0.0/0" && target.starts_with("igw-")), "{routes:?}");
    let keys = ec2.describe_key_pairs().key_names(format!("detcloud-{c}")).send().await.unwrap();
    assert_eq!(keys.key_pairs().len(), 1);
    let s3 = s3_client(ep);
    let bucket = format!("detcloud-{c}-{account}-us-west-2");
    let encryption = s3.get_bucket_encryption().bucket(&bucket).send().await.unwrap();
    let rule = encryption.server_side_encryption_configuration().and_then(|e| e.rules().first());
    let default = rule.and_then(|r| r.apply_server_side_encryption_by_default()).expect("default encryption");
    assert_eq!(default.sse_algorithm().as_str(), "aws:kms", "{default:?}");
    assert!(default.kms_master_key_id().is_some_and(|k| k.contains(&key_id)), "not the customer's key: {default:?}");
    let policy = s3.get_bucket_policy().bucket(&bucket).send().await.unwrap();
    assert!(policy.policy().unwrap_or_default().contains("aws:SecureTransport"));
    let logs = logs_client(ep);
    let groups = logs.describe_log_groups().log_group_name_prefix(format!("/detcloud/{c}")).send().await.unwrap();
    let group = groups.log_groups().iter().find(|g| g.log_group_name() == Some(&format!("/detcloud/{c}")));
    assert!(group.expect("the log group").retention_in_days().is_some(), "{groups:?}");

    // Re-run: nothing new. Status: incomplete, so unhealthy (exit 6), naming what is missing.
    let (code, stdout, stderr) = run(&create);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(v["created"].as_array().unwrap().is_empty(), "{v}");
    let (code, stdout, stderr) = run(&["cluster", "status", c]);
    assert_eq!(code, 6, "{stdout}{stderr}");
    assert!(stdout.contains("NAT gateway"), "{stdout}");

    // Delete removes everything but the bucket; purge removes that too.
    let (code, stdout, stderr) = run(&["cluster", "delete", c, "--yes"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("kept: checkpoint bucket"), "{stdout}");
    assert!(ec2.describe_vpcs().filters(tag.clone()).send().await.unwrap().vpcs().is_empty());
    let nats = ec2.describe_nat_gateways().filter(tag.clone()).send().await.unwrap();
    assert!(nats.nat_gateways().iter().all(|n| n.state().is_some_and(|s| s.as_str().starts_with("delet"))), "{nats:?}");
    let keys = ec2.describe_key_pairs().key_names(format!("detcloud-{c}")).send().await;
    assert!(keys.as_ref().map_or(true, |k| k.key_pairs().is_empty()), "the key pair survived: {keys:?}");
    purge_removes_the_kept_bucket(&run, &s3, c, &bucket).await;
    // The key is the customer's: even a purge leaves it enabled. The run removes what it made.
    let described = kms.describe_key().key_id(&key_id).send().await.unwrap();
    assert_eq!(described.key_metadata().and_then(|k| k.key_state()).map(|s| s.as_str()), Some("Enabled"));
    kms.schedule_key_deletion().key_id(&key_id).pending_window_in_days(7).send().await.unwrap();
}

/// A run of the binary: exit code, stdout, stderr.
type Ran = (i32, String, String);

/// After `cluster delete` kept the checkpoint bucket (checked), `cluster delete --purge` run
/// with `run` removes it.
async fn purge_removes_the_kept_bucket(run: &dyn Fn(&[&str]) -> Ran, s3: &aws_sdk_s3::Client, c: &str, bucket: &str) {
    assert!(s3.head_bucket().bucket(bucket).send().await.is_ok(), "the bucket was kept");
    let (code, stdout, stderr) = run(&["cluster", "delete", c, "--purge", "--yes"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let gone = s3.head_bucket().bucket(bucket).send().await.map_err(|e| e.into_service_error());
    assert!(gone.as_ref().is_err_and(|e| e.is_not_found()), "purge removes the bucket: {gone:?}");
}

/// The cluster lifecycle through the real binary, as the cross-account role, inspected with
/// independent EC2 and S3 clients.
async fn cluster_lifecycle(ep: &Endpoint, account: &str, c: &str) {
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| run_as_role(ep, home.path(), account, args);
    let ec2 = ec2_client(ep);
    let theirs = ec2.create_vpc().cidr_block("10.0.0.0/16").send().await.unwrap();
    let their_vpc = theirs.vpc().unwrap().vpc_id().unwrap().to_string();

    let (code, stdout, stderr) =
        run(&["cluster", "create", c, "--inbound-cidr", "203.0.113.0/24", "--yes", "-o", "json"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["created"].as_array().unwrap().len(), 20, "{v}");
    assert!(home.path().join(format!(".ssh/detcloud-{c}")).exists(), "the generated private key");

    // Independent checks: tags, topology, IMDSv2, encryption, the bucket policy.
    let tag = aws_sdk_ec2::types::Filter::builder().name("tag:detcloud:cluster").values(c).build();
    let vpcs = ec2.describe_vpcs().filters(tag.clone()).send().await.unwrap();
    assert_eq!(vpcs.vpcs().len(), 1);
    assert_ne!(vpcs.vpcs()[0].cidr_block(), Some("10.0.0.0/16"), "the VPC overlaps the customer's");
    let subnets = ec2.describe_subnets().filters(tag.clone()).send().await.unwrap();
    assert_eq!(subnets.subnets().len(), 4);
    let instances = ec2.describe_instances().filters(tag.clone()).send().await.unwrap();
    let master: Vec<_> = instances.reservations().iter().flat_map(|r| r.instances()).collect();
    assert_eq!(master.len(), 1);
    let imds = master[0].metadata_options().and_then(|m| m.http_tokens()).map(|t| t.as_str().to_string());
    assert_eq!(imds.as_deref(), Some("required"));
    // moto runs no commands on instances: the master is reported as not checked, never as ready.
    assert_eq!(v["master"]["readiness"]["state"], "unverified", "{v}");
    // The user data is the bootstrap: master.yaml with the bucket and the agent pools, the password
    // parameter's name, never a password.
    let master_id = master[0].instance_id().unwrap().to_string();
    let attr = ec2
        .describe_instance_attribute()
        .instance_id(&master_id)
        .attribute(aws_sdk_ec2::types::InstanceAttributeName::UserData)
        .send()
        .await
        .unwrap();
    let encoded = attr.user_data().and_then(|u| u.value()).unwrap_or_default().to_string();
    let user_data = decode_base64(&encoded);
    assert!(user_data.contains("/etc/determined/master.yaml"), "{user_data}");
    assert!(user_data.contains(&format!("detcloud-{c}-{account}-us-west-2")), "the checkpoint bucket");
    assert!(user_data.contains("pool_name: \"compute-pool\""), "{user_data}");
    assert!(user_data.contains(&format!("/detcloud/{c}/db-password")), "the password parameter's name");
    let ssm = ssm_client(ep);
    let password = ssm
        .get_parameter()
        .name(format!("/detcloud/{c}/db-password"))
        .with_decryption(true)
        .send()
        .await
        .unwrap()
        .parameter()
        .and_then(|p| p.value())
        .unwrap_or_default()
        .to_string();
    assert!(password.len() >= 16, "the generated password");
    assert!(!user_data.contains(&password), "the password is not in the user data");
    let s3 = s3_client(ep);
    let bucket = format!("detcloud-{c}-{account}-us-west-2");
    let enc = s3.get_bucket_encryption().bucket(&bucket).send().await.unwrap();
    assert!(enc.server_side_encryption_configuration().is_some());
    let policy = s3.get_bucket_policy().bucket(&bucket).send().await.unwrap();
    assert!(policy.policy().unwrap_or_default().contains("aws:SecureTransport"));

    // Re-run: nothing new, plus the master's DNS record in a zone of the vendor's (Route53).
    let dns = route53_client(ep);
    let zone = dns.create_hosted_zone().name("clusters.example.com").caller_reference(c).send().await.unwrap();
    let zone = zone.hosted_zone().unwrap().id().trim_start_matches("/hostedzone/").to_string();
    let fqdn = format!("{c}.clusters.example.com");
    let dns_args = ["--dns-zone-id", zone.as_str(), "--dns-name", fqdn.as_str()];
    let create = ["cluster", "create", c, "--inbound-cidr", "203.0.113.0/24", "--yes", "-o", "json"];
    let (code, stdout, stderr) = run(&[&create[..], &dns_args[..]].concat());
    assert_eq!(code, 0, "{stdout}{stderr}");
    let master_ip = master[0].public_ip_address().unwrap().to_string();
    assert_eq!(a_record(&dns, &zone, &fqdn).await, [master_ip], "the master's record");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // moto answers a repeated CreateDBSubnetGroup with success instead of AlreadyExists, so the
    // subnet group reads as created again there; nothing else may.
    let created: Vec<&serde_json::Value> =
        v["created"].as_array().unwrap().iter().filter(|n| *n != "db-subnet-group").collect();
    assert!(created.is_empty(), "{v}");
    let (code, stdout, stderr) = run(&["cluster", "status", c]);
    assert_eq!(code, 0, "{stdout}{stderr}");

    // modify, backup, restore, then delete (keeping the bucket), then purge.
    let (code, stdout, stderr) = run(&[
        "cluster",
        "modify",
        c,
        "--master-instance-type",
        "m6i.xlarge",
        "--backup-retention-days",
        "14",
        "--yes",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, stdout, _) = run(&["cluster", "backup", c, "-o", "json"]);
    assert_eq!(code, 0);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&stdout).unwrap()["retention_days"], 14);
    let (code, stdout, stderr) = run(&["cluster", "restore", c, "--to", "latest", "--switch", "--yes", "-o", "json"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    // The master now uses the restored database: the VPC records it, status shows it, and the
    // configuration the master was last sent names its endpoint.
    let switched: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let (restored, endpoint) = (switched["to"].as_str().unwrap(), switched["endpoint"].as_str().unwrap());
    assert!(restored.starts_with(&format!("detcloud-{c}-restore-")) && !endpoint.is_empty(), "{switched}");
    let vpc = ec2.describe_vpcs().filters(tag.clone()).send().await.unwrap();
    let recorded = vpc.vpcs()[0].tags().iter().find(|t| t.key() == Some("detcloud:database")).and_then(|t| t.value());
    assert_eq!(recorded, Some(restored));
    let (code, stdout, stderr) = run(&["cluster", "status", c, "-o", "json"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let status: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(status["database"], restored, "{status}");
    assert_eq!(status["retained_databases"], serde_json::json!([format!("detcloud-{c}")]), "{status}");
    let commands = ssm.list_commands().send().await.unwrap();
    let reconfigures: Vec<String> = commands
        .commands()
        .iter()
        .filter(|cmd| cmd.comment().is_some_and(|t| t.starts_with("detcloud: reconfigure the master")))
        .map(|cmd| format!("{:?}", cmd.parameters()))
        .collect();
    assert!(reconfigures.iter().any(|p| p.contains(endpoint)), "no reconfiguration names {endpoint}");
    // An agent as the master launches them: in a private subnet of the cluster, with the agent tag.
    let private = subnets
        .subnets()
        .iter()
        .find(|s| s.tags().iter().any(|t| t.value().is_some_and(|v| v.starts_with("private-subnet"))))
        .unwrap_or(&subnets.subnets()[0]);
    let image = master[0].image_id().unwrap().to_string();
    let agent = ec2
        .run_instances()
        .image_id(&image)
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Large)
        .min_count(1)
        .max_count(1)
        .subnet_id(private.subnet_id().unwrap())
        .tag_specifications(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::Instance)
                .tags(aws_sdk_ec2::types::Tag::builder().key("detcloud:agent-of").value(c).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let agent_id = agent.instances()[0].instance_id().unwrap().to_string();
    // No command sent to the master (after create, modify and restore) carries the password.
    let commands = ssm.list_commands().send().await.unwrap();
    for command in commands.commands() {
        let text = format!("{:?}", command.parameters());
        assert!(!text.contains(&password), "an SSM command carries the password");
    }
    peering_and_its_undo(ep, home.path(), &ec2, c).await;
    // An unknown cluster is an error naming it, unless the script says it may be missing.
    let (code, stdout, stderr) = run(&["cluster", "delete", "nosuch", "--yes"]);
    assert_eq!(code, 7, "{stdout}{stderr}");
    assert!(stderr.contains(&format!("error: no cluster nosuch in us-west-2 (account {account})")), "{stderr}");
    let (code, stdout, stderr) = run(&["cluster", "delete", "nosuch", "--yes", "--ignore-missing"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stderr.contains("nothing to delete (--ignore-missing)"), "{stderr}");
    let (code, stdout, stderr) = run(&["cluster", "delete", c, "--yes", "--dns-zone-id", &zone, "--dns-name", &fqdn]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("kept: checkpoint bucket"), "{stdout}");
    assert!(a_record(&dns, &zone, &fqdn).await.is_empty(), "delete removes the master's record");
    dns.delete_hosted_zone().id(&zone).send().await.unwrap();
    let agent_state = ec2.describe_instances().instance_ids(&agent_id).send().await.unwrap();
    let state = agent_state.reservations()[0].instances()[0].state().and_then(|s| s.name()).cloned();
    assert_eq!(state, Some(aws_sdk_ec2::types::InstanceStateName::Terminated), "delete terminates the agents");
    assert!(ec2.describe_vpcs().filters(tag.clone()).send().await.unwrap().vpcs().is_empty());
    purge_removes_the_kept_bucket(&run, &s3, c, &bucket).await;
    // The customer's VPC is untouched.
    let still = ec2.describe_vpcs().vpc_ids(&their_vpc).send().await.unwrap();
    assert_eq!(still.vpcs().len(), 1);
    ec2.delete_vpc().vpc_id(&their_vpc).send().await.unwrap();
}

/// Every route of the route tables of `vpc`: (table, destination, target), sorted.
async fn routes_of(ec2: &aws_sdk_ec2::Client, vpc: &str) -> Vec<(String, String, String)> {
    let vpc_filter = aws_sdk_ec2::types::Filter::builder().name("vpc-id").values(vpc).build();
    let tables = ec2.describe_route_tables().filters(vpc_filter).send().await.unwrap();
    let mut out = vec![];
    for t in tables.route_tables() {
        for r in t.routes() {
            let target = r.gateway_id().or(r.vpc_peering_connection_id()).or(r.nat_gateway_id()).unwrap_or("-");
            out.push((
                t.route_table_id().unwrap_or_default().to_string(),
                r.destination_cidr_block().unwrap_or_default().to_string(),
                target.to_string(),
            ));
        }
    }
    out.sort();
    out
}

/// `cluster peer` with a VPC of the customer's (their own credentials), seen in `cluster
/// status`, then `cluster unpeer`: the routes it added go, the customer's own route stays.
async fn peering_and_its_undo(ep: &Endpoint, home: &Path, ec2: &aws_sdk_ec2::Client, c: &str) {
    let own = |args: &[&str]| {
        let out = vendor_command(ep, home, args).output().unwrap();
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        (out.status.code().unwrap_or(-1), text(out.stdout), text(out.stderr))
    };
    let vpc = ec2.create_vpc().cidr_block("172.20.0.0/16").send().await.unwrap();
    let vpc = vpc.vpc().and_then(|v| v.vpc_id()).unwrap().to_string();
    let table = ec2.create_route_table().vpc_id(&vpc).send().await.unwrap();
    let table = table.route_table().and_then(|t| t.route_table_id()).unwrap().to_string();
    let igw = ec2.create_internet_gateway().send().await.unwrap();
    let igw = igw.internet_gateway().and_then(|g| g.internet_gateway_id()).unwrap().to_string();
    ec2.attach_internet_gateway().internet_gateway_id(&igw).vpc_id(&vpc).send().await.unwrap();
    ec2.create_route()
        .route_table_id(&table)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&igw)
        .send()
        .await
        .unwrap();
    let before = routes_of(ec2, &vpc).await;
    assert!(before.iter().any(|(t, d, g)| *t == table && d == "0.0.0.0/0" && *g == igw), "{before:?}");

    let (code, stdout, stderr) = own(&["cluster", "peer", c, "--vpc-id", &vpc]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let peered = routes_of(ec2, &vpc).await;
    assert!(peered.iter().any(|(_, _, g)| g.starts_with("pcx-")), "peer adds routes: {peered:?}");
    let (code, stdout, stderr) = own(&["cluster", "status", c, "-o", "json"]);
    assert!(code == 0 || code == 6, "{stdout}{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let rows: Vec<&serde_json::Value> =
        v["resources"].as_array().unwrap().iter().filter(|r| r["resource"] == "VPC peering").collect();
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!(rows[0]["detail"], format!("with {vpc}"), "{v}");

    let (code, stdout, stderr) = own(&["cluster", "unpeer", c, "--peer-vpc", &vpc]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("Removed peering pcx-"), "{stdout}");
    assert_eq!(routes_of(ec2, &vpc).await, before, "unpeer leaves the customer's routes as they were");
    let (code, stdout, stderr) = own(&["cluster", "unpeer", c, "--peer-vpc", &vpc]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("nothing to remove"), "{stdout}");
    // The customer's stand-in VPC goes with the run.
    ec2.delete_route_table().route_table_id(&table).send().await.unwrap();
    ec2.detach_internet_gateway().internet_gateway_id(&igw).vpc_id(&vpc).send().await.unwrap();
    ec2.delete_internet_gateway().internet_gateway_id(&igw).send().await.unwrap();
    ec2.delete_vpc().vpc_id(&vpc).send().await.unwrap();
}

/// `cluster create` killed (SIGKILL) at several moments, then run again: one cluster, no
/// duplicates, and delete removes it all.
async fn killed_mid_create_and_resumed(ep: &Endpoint, account: &str, c: &str) {
    let home = tempfile::tempdir().unwrap();
    let create = ["cluster", "create", c, "--inbound-cidr", "203.0.113.0/24", "--yes"];
    for after_ms in [400u64, 800, 1200, 1600, 2400, 3500] {
        let mut child = as_role(ep, home.path(), account, &create)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(after_ms));
        let _ = child.kill();
        child.wait().unwrap();
    }
    let out = as_role(ep, home.path(), account, &create).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // Counted with an independent client, checking the tags here (moto ignores some filters).
    let ec2 = ec2_client(ep);
    let ours = |tags: &[aws_sdk_ec2::types::Tag]| {
        tags.iter().any(|t| t.key() == Some("detcloud:cluster") && t.value() == Some(c))
    };
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    assert_eq!(vpcs.vpcs().iter().filter(|v| ours(v.tags())).count(), 1, "VPCs");
    let subnets = ec2.describe_subnets().send().await.unwrap();
    assert_eq!(subnets.subnets().iter().filter(|s| ours(s.tags())).count(), 4, "subnets");
    let igws = ec2.describe_internet_gateways().send().await.unwrap();
    assert_eq!(igws.internet_gateways().iter().filter(|g| ours(g.tags())).count(), 1, "internet gateways");
    let eips = ec2.describe_addresses().send().await.unwrap();
    assert_eq!(eips.addresses().iter().filter(|a| ours(a.tags())).count(), 2, "elastic IPs");
    let nats = ec2.describe_nat_gateways().send().await.unwrap();
    let live_nats = nats
        .nat_gateways()
        .iter()
        .filter(|n| ours(n.tags()) && n.state().is_some_and(|s| s.as_str() != "deleted"))
        .count();
    assert_eq!(live_nats, 1, "NAT gateways");
    let tables = ec2.describe_route_tables().send().await.unwrap();
    assert_eq!(tables.route_tables().iter().filter(|t| ours(t.tags())).count(), 2, "route tables");
    let reservations = ec2.describe_instances().send().await.unwrap();
    let live: Vec<_> = reservations
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter(|i| ours(i.tags()))
        .filter(|i| i.state().and_then(|s| s.name()).is_some_and(|n| n.as_str() != "terminated"))
        .collect();
    assert_eq!(live.len(), 1, "instances: {live:?}");

    let out = as_role(ep, home.path(), account, &["cluster", "delete", c, "--purge", "--yes"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    assert_eq!(vpcs.vpcs().iter().filter(|v| ours(v.tags())).count(), 0, "the VPC survived delete");
}

/// Standard base64 (as EC2 returns user data), decoded to text.
fn decode_base64(text: &str) -> String {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let (mut bits, mut count, mut out) = (0u32, 0u32, Vec::new());
    for v in text.bytes().filter_map(value) {
        bits = (bits << 6) | u32::from(v);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `detcloud --region us-west-2 ARGS` against the endpoint with its credentials (the vendor's
/// principal), `home` as HOME (and its `state/` as XDG_STATE_HOME), and no other AWS or detcloud
/// settings from the environment.
fn vendor_command(ep: &Endpoint, home: &Path, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("detcloud"));
    cmd.args(["--region", "us-west-2"])
        .args(args)
        .env("HOME", home)
        .env("XDG_STATE_HOME", home.join("state"))
        .env("AWS_ENDPOINT_URL", &ep.url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", "/nonexistent/detcloud-e2e")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/detcloud-e2e")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("DETCLOUD_CONFIG")
        .env_remove("DETCLOUD_DATABASE")
        .stdin(std::process::Stdio::null());
    cmd
}

/// `detcloud serve` against the endpoint through its API: a cluster declared, its first replica
/// killed (SIGKILL) mid-create and the second completing it once; drift made behind its back
/// with an independent client and repaired; bad requests refused with nothing stored; deletion
/// to 404 with nothing of the cluster left; SIGTERM ending it with exit 0.
async fn control_plane(ep: &Endpoint, account: &str, c: &str) {
    let home = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", home.path().join("control.db").display());
    let out = vendor_command(ep, home.path(), &["serve", "token", "create", "--name", "e2e", "--database", &db])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let replica = |id: &str| {
        let args = ["serve", "--listen", "127.0.0.1:0", "--interval", "2", "--lease-ttl", "5", "--replica", id];
        let mut cmd = vendor_command(ep, home.path(), &args);
        cmd.args(["--database", &db]).stderr(std::process::Stdio::null());
        Served::start(cmd)
    };
    let first = replica("r1");
    let body = format!(
        r#"{{"role_arn": "arn:aws:iam::{account}:role/det-cloud-customer-xacct-mgmt", "external_id": "e2e-tenant", "regions": ["us-west-2"]}}"#
    );
    first.json("PUT", &format!("/v1/accounts/{account}"), &token, Some(&body), 201);
    let uri = format!("/v1/accounts/{account}/clusters/{c}");
    first.json("PUT", &uri, &token, Some(r#"{"master": {"inbound_cidrs": ["203.0.113.0/24"]}}"#), 201);

    // Killed once its VPC exists: the second replica takes the account when the lease runs out.
    let ec2 = ec2_client(ep);
    let ours = |tags: &[aws_sdk_ec2::types::Tag]| {
        tags.iter().any(|t| t.key() == Some("detcloud:cluster") && t.value() == Some(c))
    };
    let started = std::time::Instant::now();
    loop {
        let vpcs = ec2.describe_vpcs().send().await.unwrap();
        if vpcs.vpcs().iter().any(|v| ours(v.tags())) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no VPC a minute after the PUT");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    first.kill();
    let second = replica("r2");
    let ready =
        second.wait_for(&uri, &token, Duration::from_secs(180), |s, v| s == 200 && v["status"]["phase"] == "Ready");
    assert_eq!(ready["status"]["observed_generation"], 1, "{ready}");
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    let vpc = vpcs.vpcs().iter().filter(|v| ours(v.tags())).collect::<Vec<_>>();
    assert_eq!(vpc.len(), 1, "VPCs");
    let vpc_id = vpc[0].vpc_id().unwrap().to_string();
    let nats = ec2.describe_nat_gateways().send().await.unwrap();
    let live =
        nats.nat_gateways().iter().filter(|n| ours(n.tags()) && n.state().is_some_and(|s| s.as_str() != "deleted"));
    assert_eq!(live.count(), 1, "NAT gateways");
    let reservations = ec2.describe_instances().send().await.unwrap();
    let instances = reservations
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter(|i| ours(i.tags()) && i.state().and_then(|s| s.name()).is_some_and(|n| n.as_str() != "terminated"));
    assert_eq!(instances.count(), 1, "instances");

    // Drift behind its back: the public default route deleted, PostgreSQL opened to the world.
    let tables = ec2.describe_route_tables().send().await.unwrap();
    let public = tables
        .route_tables()
        .iter()
        .find(|t| {
            ours(t.tags())
                && t.tags().iter().any(|g| g.key() == Some("detcloud:resource") && g.value() == Some("public-routes"))
        })
        .unwrap()
        .route_table_id()
        .unwrap()
        .to_string();
    ec2.delete_route().route_table_id(&public).destination_cidr_block("0.0.0.0/0").send().await.unwrap();
    let groups = ec2.describe_security_groups().send().await.unwrap();
    let group = groups
        .security_groups()
        .iter()
        .find(|g| g.vpc_id() == Some(vpc_id.as_str()) && g.group_name() == Some("default"))
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    ec2.authorize_security_group_ingress()
        .group_id(&group)
        .ip_protocol("tcp")
        .from_port(5432)
        .to_port(5432)
        .cidr_ip("0.0.0.0/0")
        .send()
        .await
        .unwrap();
    let events = second.wait_for("/v1/events", &token, Duration::from_secs(120), |_, v| {
        v["items"].as_array().is_some_and(|items| items.iter().any(|e| e["reason"] == "DriftRepaired"))
    });
    let repaired = events["items"].as_array().unwrap().iter().find(|e| e["reason"] == "DriftRepaired").unwrap();
    let message = repaired["message"].as_str().unwrap();
    assert!(message.contains("default route 0.0.0.0/0 missing"), "{message}");
    assert!(message.contains("inbound rule tcp 5432 from 0.0.0.0/0 is not in the spec"), "{message}");
    let tables = ec2.describe_route_tables().route_table_ids(&public).send().await.unwrap();
    let routes = tables.route_tables()[0].routes();
    assert!(routes.iter().any(|r| r.destination_cidr_block() == Some("0.0.0.0/0")), "the route is back: {routes:?}");
    let groups = ec2.describe_security_groups().group_ids(&group).send().await.unwrap();
    let open = groups.security_groups()[0]
        .ip_permissions()
        .iter()
        .any(|p| p.from_port() == Some(5432) && p.ip_ranges().iter().any(|r| r.cidr_ip() == Some("0.0.0.0/0")));
    assert!(!open, "the rule is revoked");
    // Repaired once: the next sweeps find nothing to do.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let events = second.json("GET", "/v1/events", &token, None, 200);
    let repairs = events["items"].as_array().unwrap().iter().filter(|e| e["reason"] == "DriftRepaired").count();
    assert_eq!(repairs, 1, "drift repaired again and again: {events}");

    // Bad requests store nothing.
    let before = second.json("GET", "/v1/events", &token, None, 200)["items"].as_array().unwrap().len();
    for (path, body) in [
        (uri.clone(), r#"{"agents": {"max_instances": 0}}"#),
        (format!("/v1/accounts/{account}/clusters/Bad_Name"), "{}"),
        (
            format!("/v1/accounts/{account}"),
            r#"{"role_arn": "x", "external_id": "e2e-tenant", "regions": ["us-west-2"]}"#,
        ),
    ] {
        let (status, text) = second.call("PUT", &path, Some(&token), Some(body));
        assert_eq!(status, 400, "{path}: {text}");
    }
    let after = second.json("GET", "/v1/events", &token, None, 200)["items"].as_array().unwrap().len();
    assert_eq!(before, after, "a refused request stored an event");

    // Deleted (purged) to 404, with nothing of it left.
    second.json("DELETE", &format!("{uri}?purge=true"), &token, None, 202);
    second.wait_for(&uri, &token, Duration::from_secs(180), |s, _| s == 404);
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    assert!(!vpcs.vpcs().iter().any(|v| ours(v.tags())), "the VPC survived");
    let buckets = s3_client(ep).list_buckets().send().await.unwrap();
    assert!(
        !buckets.buckets().iter().any(|b| b.name().is_some_and(|n| n.starts_with(&format!("detcloud-{c}-")))),
        "the bucket survived the purge"
    );
    second.json("DELETE", &format!("/v1/accounts/{account}"), &token, None, 204);
    assert_eq!(second.terminate().code(), Some(0));
}
