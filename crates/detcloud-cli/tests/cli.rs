//! The real `detcloud` binary on the sandbox backend: the spec's flags, prompt and output; dry
//! runs; re-runs; conflicts; bad input.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

mod common;
use detcloud_fake::FakeCloud;
use detcloud_policy::{PolicyDocument, Principal, Statement};
use detcloud_provider::{Cloud, CreateRole, Tags};

struct Sandbox {
    _dir: tempfile::TempDir,
    state: PathBuf,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("sandbox.json");
        Sandbox { _dir: dir, state }
    }

    fn run(&self, args: &[&str], stdin: &str) -> (i32, String, String) {
        common::run_sandbox(&self.state, self._dir.path(), args, stdin)
    }

    fn cloud(&self) -> FakeCloud {
        FakeCloud::from_json(&std::fs::read_to_string(&self.state).unwrap()).unwrap()
    }

    fn save(&self, cloud: &FakeCloud) {
        std::fs::write(&self.state, cloud.to_json()).unwrap();
    }
}

const CREATED: &str = "\
IAM role created: arn:aws:iam::123456789012:role/det-cloud-customer-xacct-mgmt
Instance profile created: arn:aws:iam::123456789012:instance-profile/det-cloud-customer-master
Instance profile created: arn:aws:iam::123456789012:instance-profile/det-cloud-customer-agent
";

#[test]
fn help_shows_the_spec_flags_and_defaults() {
    let out = Command::cargo_bin("detcloud").unwrap().args(["connect", "aws", "--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // Compare with whitespace collapsed: clap wraps long lines to the terminal's width.
    let help = String::from_utf8(out.stdout).unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(help.contains("Global options:"), "{help}");
    for needle in [
        "-a, --account-id <ACCOUNT_ID>",
        "ID of the Determined Account to connect with (default: 544296492693)",
        "--xacct-role-name <XACCT_ROLE_NAME>",
        "to be assumed by Determined Cloud (default: det-cloud-customer-xacct-mgmt)",
        "--master-instance-profile-name <MASTER_INSTANCE_PROFILE_NAME>",
        "Name of the master instance profile (default: det-cloud-customer-master)",
        "--agent-instance-profile-name <AGENT_INSTANCE_PROFILE_NAME>",
        "Name of the agent instance profile (default: det-cloud-customer-agent)",
        "--yes",
        "--dry-run",
        "--external-id <ID>",
        "--adopt",
        "--sandbox",
        "--endpoint-url <URL>",
        "--profile <NAME>",
        "--region <REGION>",
    ] {
        assert!(help.contains(needle), "help lacks {needle:?}:\n{help}");
    }
}

#[test]
fn yes_creates_then_a_rerun_changes_nothing() {
    let sb = Sandbox::new();
    let (code, stdout, stderr) = sb.run(&["connect", "aws", "--yes"], "");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, CREATED);

    let (code, stdout, _) = sb.run(&["connect", "aws", "--yes"], "");
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        "IAM role unchanged: arn:aws:iam::123456789012:role/det-cloud-customer-xacct-mgmt\n\
         Instance profile unchanged: arn:aws:iam::123456789012:instance-profile/det-cloud-customer-master\n\
         Instance profile unchanged: arn:aws:iam::123456789012:instance-profile/det-cloud-customer-agent\n\
         No changes: your AWS account 123456789012 is already connected with Determined's AWS account 544296492693.\n"
    );
}

#[test]
fn the_prompt_is_the_spec_s_and_only_y_proceeds() {
    for (answer, proceeds) in
        [("y\n", true), ("YES\n", true), ("n\n", false), ("\n", false), ("", false), ("maybe\n", false)]
    {
        let sb = Sandbox::new();
        let (code, stdout, stderr) = sb.run(&["connect", "aws"], answer);
        assert_eq!(code, if proceeds { 0 } else { 4 }, "{answer:?}: {stdout}{stderr}");
        assert!(
            stdout.starts_with(
                "Will connect your AWS account 123456789012 with Determined's AWS account 544296492693, proceed? (y/N)"
            ),
            "{stdout}"
        );
        if proceeds {
            assert_eq!(code, 0, "{answer:?}: {stderr}");
            assert!(stdout.ends_with(CREATED), "{stdout}");
        } else {
            assert_eq!(code, 4, "{answer:?}");
            assert!(stderr.contains("aborted: nothing was changed"), "{stderr}");
            let cloud = sb.cloud();
            let roles = tokio_block(async move { cloud.iam().list_roles("/").await.unwrap() });
            assert!(roles.is_empty(), "{answer:?} created {roles:?}");
        }
    }
}

fn tokio_block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

#[test]
fn dry_run_prints_every_document_and_changes_nothing() {
    let sb = Sandbox::new();
    let (code, stdout, stderr) = sb.run(&["connect", "aws", "--dry-run", "--external-id", "tenant-1"], "");
    assert_eq!(code, 0, "{stderr}");
    for needle in [
        "+ create IAM role det-cloud-customer-xacct-mgmt",
        "+ create IAM policy det-cloud-customer-master-permissions",
        "+ attach arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy -> det-cloud-customer-agent",
        "+ create instance profile det-cloud-customer-agent",
        "+ add role det-cloud-customer-agent -> det-cloud-customer-agent",
        "\"sts:ExternalId\": \"tenant-1\"",
        "\"ec2:RunInstances\"",
        "Plan: 15 to create, 0 to update, 0 unchanged.",
        "Dry run: nothing was changed.",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?}:\n{stdout}");
    }
    let cloud = sb.cloud();
    assert!(tokio_block(async move { cloud.iam().list_roles("/").await.unwrap() }).is_empty());
}

#[test]
fn json_output_lists_resources() {
    let sb = Sandbox::new();
    let (code, stdout, stderr) = sb.run(&["connect", "aws", "--yes", "--output", "json"], "");
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["changed"], true);
    assert_eq!(v["resources"][0]["arn"], "arn:aws:iam::123456789012:role/det-cloud-customer-xacct-mgmt");
    assert_eq!(v["resources"][0]["status"], "created");
    assert_eq!(v["resources"][2]["component"], "agent");
    let (_, stdout, _) = sb.run(&["connect", "aws", "--yes", "-o", "json"], "");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["changed"], false);
    assert!(v["steps"].as_array().unwrap().iter().all(|s| s["change"] == "unchanged"));
}

fn unowned_role(name: &str) -> CreateRole {
    CreateRole {
        name: name.into(),
        path: "/".into(),
        trust_policy: PolicyDocument::new(vec![Statement::trust(
            Principal::single("Service", "lambda.amazonaws.com"),
            "sts:AssumeRole",
        )]),
        description: None,
        permissions_boundary: None,
        tags: Tags::from([("team".to_string(), "data".to_string())]),
    }
}

#[test]
fn a_same_named_role_of_the_customer_is_never_touched() {
    let sb = Sandbox::new();
    let cloud = FakeCloud::new("123456789012");
    let c = cloud.clone();
    let before =
        tokio_block(async move { c.iam().create_role(unowned_role("det-cloud-customer-master")).await.unwrap() });
    sb.save(&cloud);

    let (code, stdout, stderr) = sb.run(&["connect", "aws", "--yes"], "");
    assert_eq!(code, 3, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("det-cloud-customer-master already exists and was not created by detcloud"), "{stderr}");
    let cloud = sb.cloud();
    let after = tokio_block(async move {
        let role = cloud.iam().get_role("det-cloud-customer-master").await.unwrap();
        let others = cloud.iam().list_roles("/").await.unwrap().len();
        let attached = cloud.iam().list_attached_policies("det-cloud-customer-master").await.unwrap();
        (role, others, attached)
    });
    assert_eq!(after.0, before, "the customer's role changed");
    assert_eq!(after.1, 1, "other roles were created before the refusal");
    assert!(after.2.is_empty());

    // --adopt takes it over.
    let (code, stdout, stderr) = sb.run(&["connect", "aws", "--yes", "--adopt"], "");
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("IAM role created: arn:aws:iam::123456789012:role/det-cloud-customer-xacct-mgmt"),
        "{stdout}"
    );
    let cloud = sb.cloud();
    let role = tokio_block(async move { cloud.iam().get_role("det-cloud-customer-master").await.unwrap() });
    assert_eq!(role.tags.get("detcloud:managed-by").map(String::as_str), Some("detcloud"));
    assert_eq!(role.tags.get("team").map(String::as_str), Some("data"), "adoption keeps the customer's tags");
}

#[test]
fn drift_is_repaired_and_reported() {
    let sb = Sandbox::new();
    assert_eq!(sb.run(&["connect", "aws", "--yes"], "").0, 0);
    let cloud = sb.cloud();
    let c = cloud.clone();
    tokio_block(async move {
        let wide = PolicyDocument::new(vec![Statement::trust(Principal::Any, "sts:AssumeRole")]);
        c.iam().update_trust_policy("det-cloud-customer-xacct-mgmt", &wide).await.unwrap();
    });
    sb.save(&cloud);
    let (code, stdout, stderr) = sb.run(&["connect", "aws", "--yes"], "");
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("IAM role updated: arn:aws:iam::123456789012:role/det-cloud-customer-xacct-mgmt\n"),
        "{stdout}"
    );
    assert!(stdout.contains("trust policy differs from the catalog"), "{stdout}");
    assert!(stdout.contains("Instance profile unchanged"), "{stdout}");
    let (_, stdout, _) = sb.run(&["connect", "aws", "--yes"], "");
    assert!(stdout.contains("No changes"), "{stdout}");
}

/// Each bad input: exit code 2, one line on stderr naming the flag, nothing on stdout, no state.
#[test]
fn bad_input_is_refused_before_any_call() {
    let long = "a".repeat(65);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["-a", "12345"], "--account-id: must be exactly 12 digits"),
        (vec!["--account-id", "54429649269x"], "--account-id"),
        (vec!["--account-id", ""], "--account-id"),
        (vec!["--xacct-role-name", "bad name"], "--xacct-role-name: may contain only"),
        (vec!["--xacct-role-name", &long], "--xacct-role-name: must be 1-64 characters"),
        (vec!["--master-instance-profile-name", "x/y"], "--master-instance-profile-name"),
        (
            vec!["--agent-instance-profile-name", "det-cloud-customer-master"],
            "--agent-instance-profile-name: must differ",
        ),
        (vec!["--master-instance-profile-name", "DET-CLOUD-CUSTOMER-XACCT-MGMT"], "must differ from --xacct-role-name"),
        (vec!["--external-id", "x"], "--external-id"),
        (vec!["--external-id", "has space"], "--external-id"),
        (vec!["--agent-instance-profile-name", "ağent"], "--agent-instance-profile-name"),
    ];
    for (args, needle) in cases {
        let sb = Sandbox::new();
        let mut full = vec!["connect", "aws", "--yes"];
        full.extend(&args);
        let (code, stdout, stderr) = sb.run(&full, "");
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: ") && stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!Path::new(&sb.state).exists(), "{args:?} touched the sandbox");
    }
}

#[test]
fn endpoint_url_must_be_a_url() {
    let out = Command::cargo_bin("detcloud")
        .unwrap()
        .args(["connect", "aws", "--yes", "--endpoint-url", "localhost:5000"])
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--endpoint-url: must be an http://"));
}

#[test]
fn a_corrupt_state_file_is_reported_not_overwritten() {
    let sb = Sandbox::new();
    std::fs::write(&sb.state, "{ not json").unwrap();
    let (code, _, stderr) = sb.run(&["connect", "aws", "--yes"], "");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is not a detcloud sandbox state file"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&sb.state).unwrap(), "{ not json");
}
