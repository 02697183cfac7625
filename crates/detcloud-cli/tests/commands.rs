//! verify, disconnect and the policy commands, through the real binary on the sandbox.

use std::path::PathBuf;

mod common;

use assert_cmd::Command;

const VENDOR: &str = "arn:aws:iam::544296492693:role/det-cloud-internal-global-mgmt-role";

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox { dir: tempfile::tempdir().unwrap() }
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("sandbox.json")
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        common::run_sandbox(&self.state(), self.dir.path(), args, "")
    }
}

#[test]
fn verify_passes_after_connect_and_fails_after_disconnect() {
    let sb = Sandbox::new();
    assert_eq!(sb.run(&["connect", "aws", "--yes", "--external-id", "tenant-1"]).0, 0);
    let (code, stdout, stderr) = sb.run(&["verify", "aws", "--external-id", "tenant-1"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("24 passed, 0 failed"), "{stdout}");

    // The self-test, run as Determined's principal.
    let (code, stdout, _) = sb.run(&[
        "verify",
        "aws",
        "--sandbox-caller",
        VENDOR,
        "--role-arn",
        "arn:aws:iam::123456789012:role/det-cloud-customer-xacct-mgmt",
        "--external-id",
        "tenant-1",
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("PASS  xacct   assume role without an external id: refused"), "{stdout}");

    // Verifying without the external id the trust requires still passes the rest; with a wrong one it fails.
    let (code, stdout, _) = sb.run(&["verify", "aws", "--external-id", "other-id", "-o", "json"]);
    assert_eq!(code, 6, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["passed"], false);

    let (code, stdout, _) = sb.run(&["disconnect", "aws", "--dry-run"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("Dry run: nothing was changed."), "{stdout}");
    let (code, _, stderr) = sb.run(&["disconnect", "aws"]);
    assert_eq!(code, 4, "EOF at the prompt declines: {stderr}");
    let (code, stdout, stderr) = sb.run(&["disconnect", "aws", "--yes"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().filter(|l| l.contains(" deleted: ")).count(), 8, "{stdout}");
    let (code, stdout, _) = sb.run(&["verify", "aws"]);
    assert_eq!(code, 6);
    assert!(stdout.contains("role det-cloud-customer-xacct-mgmt does not exist"), "{stdout}");
    let (code, stdout, _) = sb.run(&["disconnect", "aws", "--yes"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("Nothing to delete"), "{stdout}");
}

#[test]
fn policy_simulate_names_the_deciding_statement() {
    let sb = Sandbox::new();
    let policy = sb.file(
        "p.json",
        r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"Read","Effect":"Allow","Action":"s3:Get*","Resource":"*"},
            {"Sid":"NoSecrets","Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::secrets/*"},
            {"Sid":"Tagged","Effect":"Allow","Action":"ec2:RunInstances","Resource":"*",
             "Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}}]}"#,
    );
    let (code, stdout, _) = sb.run(&[
        "policy",
        "simulate",
        "--policy",
        &policy,
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::public/x",
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["decision"], "allowed");
    assert_eq!(v["statement"]["sid"], "Read");

    let (code, stdout, _) = sb.run(&[
        "policy",
        "simulate",
        "--policy",
        &policy,
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::secrets/k",
        "-o",
        "json",
    ]);
    assert_eq!(code, 6);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["decision"], "explicit_deny");
    assert_eq!(v["statement"]["sid"], "NoSecrets");

    // A repeated key is multi-valued.
    let run = |extra: &[&str]| {
        let mut args = vec!["policy", "simulate", "--policy", &policy, "--action", "ec2:RunInstances"];
        args.extend(extra);
        sb.run(&args).0
    };
    assert_eq!(run(&["--context", "aws:TagKeys=team", "--context", "aws:TagKeys=env"]), 0);
    assert_eq!(run(&["--context", "aws:TagKeys=team", "--context", "aws:TagKeys=owner"]), 6);

    let (code, _, stderr) =
        sb.run(&["policy", "simulate", "--policy", "/nonexistent.json", "--action", "s3:GetObject"]);
    assert_eq!(code, 2);
    assert!(stderr.starts_with("error: --policy: cannot read /nonexistent.json"), "{stderr}");
    let (code, _, stderr) = sb.run(&["policy", "simulate", "--policy", &policy, "--action", "GetObject"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--action: must be service:Action"), "{stderr}");
}

#[test]
fn policy_lint_tells_a_typo_from_a_real_action() {
    let sb = Sandbox::new();
    let bad = sb.file(
        "bad.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:DescribeVpc","s3:*","iam:PassRole"],"Resource":"*"}]}"#,
    );
    let (code, stdout, _) = sb.run(&["policy", "lint", &bad]);
    assert_eq!(code, 6, "{stdout}");
    assert!(stdout.contains("DC003") && stdout.to_lowercase().contains("ec2:describevpcs"), "{stdout}");
    assert!(stdout.contains("DC005") && stdout.contains("DC008"), "{stdout}");

    // The exported catalog documents lint without errors.
    let (code, stdout, _) = sb.run(&["policy", "export", "--role", "agent"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let doc = &v["components"][0]["permissions_policy"]["document"];
    assert!(doc.get("Statement").is_some(), "no agent permissions document in {v}");
    let file = sb.file("agent.json", &doc.to_string());
    let (code, stdout, _) = sb.run(&["policy", "lint", &file, "-o", "json"]);
    assert_eq!(code, 0, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["errors"], 0);
    assert!(v["findings"].as_array().unwrap().iter().any(|f| f["code"] == "DC005"), "s3:* is reported: {v}");
}

#[test]
fn policy_diff_and_export_formats() {
    let sb = Sandbox::new();
    let (code, stdout, _) = sb.run(&["policy", "diff"]);
    assert_eq!(code, 0);
    // Every action beyond the spec is listed with its reason; nothing of the spec is removed.
    for a in detcloud_connect::catalog::ADDITIONS {
        assert!(stdout.contains(&format!("+ xacct  {} on *: {}", a.action, a.reason)), "{stdout}");
    }
    assert!(!stdout.lines().any(|l| l.starts_with('-')), "{stdout}");
    for format in ["json", "cloudformation", "terraform"] {
        let (code, stdout, stderr) = sb.run(&["policy", "export", "--format", format, "--xacct-role-name", "acme-x"]);
        assert_eq!(code, 0, "{format}: {stderr}");
        assert!(stdout.contains("acme-x"), "{format}: {stdout}");
        assert!(stdout.contains("ec2:RunInstances"), "{format}");
    }
    let (code, _, stderr) = sb.run(&["policy", "export", "--customer-account-id", "12"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--customer-account-id: must be exactly 12 digits"), "{stderr}");
}

#[test]
fn new_flags_reject_bad_values_before_any_call() {
    let long_prefix = "p".repeat(40);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["connect", "aws", "--yes", "--tag", "novalue"], "--tag: must be KEY=VALUE"),
        (
            vec!["connect", "aws", "--yes", "--tag", "detcloud:x=1"],
            "--tag: \"detcloud:x\": the prefix 'detcloud:' is reserved",
        ),
        (vec!["connect", "aws", "--yes", "--tag", "a=1", "--tag", "a=2"], "--tag: key \"a\" is given twice"),
        (
            vec!["connect", "aws", "--yes", "--permissions-boundary", "arn:aws:iam::123456789012:role/x"],
            "--permissions-boundary",
        ),
        (vec!["connect", "aws", "--yes", "--path", "no-slashes"], "--path"),
        (vec!["connect", "aws", "--yes", "--name-prefix", "bad prefix"], "--name-prefix"),
        (vec!["connect", "aws", "--yes", "--name-prefix", &long_prefix], "must be 1-64 characters"),
        (vec!["verify", "aws", "--role-arn", "not-an-arn", "--external-id", "abc"], "--role-arn"),
        (vec!["verify", "aws", "--sandbox-caller", "nobody"], "--sandbox-caller"),
        (vec!["disconnect", "aws", "--yes", "-a", "1"], "--account-id"),
    ];
    for (args, needle) in cases {
        let sb = Sandbox::new();
        let (code, stdout, stderr) = sb.run(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!sb.state().exists(), "{args:?} touched the sandbox");
    }
    let out = Command::cargo_bin("detcloud")
        .unwrap()
        .args(["connect", "aws", "--yes", "--region", "us west 2"])
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--region: must be a region name"));
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = Command::cargo_bin("detcloud").unwrap().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("connect") && text.contains("cluster"), "{shell}: {text}");
    }
    let out = Command::cargo_bin("detcloud").unwrap().arg("man").output().unwrap();
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success() && page.contains(".TH detcloud"), "{page}");
}
