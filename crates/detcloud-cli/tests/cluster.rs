//! `detcloud cluster ...` through the real binary on the sandbox: the lifecycle, JSON output,
//! bad input, and no secret in any output.

mod common;

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let sb = Sandbox { dir: tempfile::tempdir().unwrap() };
        let (code, _, stderr) = sb.run(&["connect", "aws", "--yes", "--external-id", "tenant-1"]);
        assert_eq!(code, 0, "{stderr}");
        sb
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        common::run_sandbox(&self.dir.path().join("sandbox.json"), self.dir.path(), args, "")
    }

    /// [`Sandbox::run`] with environment variables added (such as RUST_LOG).
    fn run_env(&self, args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
        let out = assert_cmd::Command::cargo_bin("detcloud")
            .unwrap()
            .arg("--sandbox")
            .arg("--sandbox-state")
            .arg(self.dir.path().join("sandbox.json"))
            .args(args)
            .env("HOME", self.dir.path())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("DETCLOUD_CONFIG")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_REGION")
            .env_remove("RUST_LOG")
            .envs(envs.iter().copied())
            .write_stdin("")
            .output()
            .unwrap();
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        (out.status.code().unwrap_or(-1), text(out.stdout), text(out.stderr))
    }

    /// The database password, read from the sandbox's own state (what AWS would hold).
    fn password(&self) -> String {
        let state: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(self.dir.path().join("sandbox.json")).unwrap()).unwrap();
        let mut found = vec![];
        find_strings_under(&state, "db-password", &mut found);
        found.into_iter().find(|s| s.len() == 32 && s.chars().all(|c| c.is_ascii_alphanumeric())).expect("a password")
    }
}

/// Every string value inside an object whose key contains `needle`.
fn find_strings_under(v: &serde_json::Value, needle: &str, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, child) in m {
                if k.contains(needle) {
                    collect(child, out);
                }
                find_strings_under(child, needle, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|c| find_strings_under(c, needle, out)),
        _ => {}
    }
}

fn collect(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Object(m) => m.values().for_each(|c| collect(c, out)),
        serde_json::Value::Array(a) => a.iter().for_each(|c| collect(c, out)),
        _ => {}
    }
}

const ROLE: [&str; 4] =
    ["--role-arn", "arn:aws:iam::123456789012:role/det-cloud-customer-xacct-mgmt", "--external-id", "tenant-1"];

#[test]
fn the_lifecycle_on_the_sandbox_as_the_cross_account_role_and_no_secret_in_any_output() {
    lifecycle(&[], &[]);
}

/// The same with every log line on (`-vvv`): the password is in no log line either.
#[test]
fn no_secret_in_the_most_verbose_logs() {
    let logs = lifecycle(&["-vvv"], &[]);
    assert!(logs.contains("TRACE") || logs.contains("DEBUG"), "-vvv logged nothing");
    assert!(logs.contains("created") && logs.contains("node=Aurora cluster"), "no per-resource log lines");
}

/// The same with `RUST_LOG=trace`: every crate's trace events, not only detcloud's.
#[test]
fn no_secret_with_rust_log_trace() {
    let logs = lifecycle(&[], &[("RUST_LOG", "trace")]);
    assert!(logs.contains("INFO"), "RUST_LOG=trace logged nothing");
}

/// Runs the whole lifecycle as the cross-account role, with `extra` flags and `envs`, checks that
/// the database password appears in no output (stdout and stderr), and returns stderr.
fn lifecycle(extra: &[&str], envs: &[(&str, &str)]) -> String {
    let sb = Sandbox::new();
    let vendor = ["--sandbox-caller", "arn:aws:iam::544296492693:role/det-cloud-internal-global-mgmt-role"];
    let with = |args: &[&str]| {
        let mut v: Vec<&str> = vendor.to_vec();
        v.extend(extra);
        v.extend(args);
        v.extend(ROLE);
        sb.run_env(&v, envs)
    };
    let mut stderrs = String::new();
    let mut outputs = String::new();
    let mut step = |args: &[&str], expect: i32| {
        let (code, stdout, stderr) = with(args);
        assert_eq!(code, expect, "{args:?}: {stdout}{stderr}");
        outputs.push_str(&stdout);
        outputs.push_str(&stderr);
        stderrs.push_str(&stderr);
        stdout
    };
    let plan = step(&["cluster", "plan", "ml", "--inbound-cidr", "203.0.113.0/24"], 0);
    assert!(plan.contains("Plan: 20 to create"), "{plan}");
    let created = step(&["cluster", "create", "ml", "--inbound-cidr", "203.0.113.0/24", "--yes"], 0);
    assert!(created.contains("Cluster ml is ready: Determined 0.32.1 answers at http://"), "{created}");
    assert!(created.contains(":8080 (20 created, 0 already there)."), "{created}");
    let password = sb.password();
    let again = step(&["cluster", "create", "ml", "--inbound-cidr", "203.0.113.0/24", "--yes", "-o", "json"], 0);
    let v: serde_json::Value = serde_json::from_str(&again).unwrap();
    assert!(v["created"].as_array().unwrap().is_empty(), "{v}");
    let status = step(&["cluster", "status", "ml", "-o", "json"], 0);
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["healthy"], true);
    assert_eq!(status["master"]["health"], "answering", "{status}");
    assert_eq!(status["master"]["version"], "0.32.1", "{status}");
    let list = step(&["cluster", "list"], 0);
    assert!(list.starts_with("ml\t"), "{list}");
    step(&["cluster", "modify", "ml", "--backup-retention-days", "14", "--yes"], 0);
    let backup = step(&["cluster", "backup", "ml", "-o", "json"], 0);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&backup).unwrap()["retention_days"], 14);
    step(&["cluster", "restore", "ml", "--to", "latest"], 0);
    // The restored database is kept beside the one the master uses.
    let status = step(&["cluster", "status", "ml", "-o", "json"], 0);
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["database"], "detcloud-ml", "{status}");
    let first = status["retained_databases"][0].as_str().unwrap_or_default().to_string();
    assert!(first.starts_with("detcloud-ml-restore-"), "{status}");
    // Restore and switch: the master moves to the restored database; the old ones are kept.
    let switched = step(&["cluster", "restore", "ml", "--to", "latest", "--switch", "--yes", "-o", "json"], 0);
    let switched: serde_json::Value = serde_json::from_str(&switched).unwrap();
    let restored = switched["to"].as_str().unwrap().to_string();
    assert!(restored.starts_with("detcloud-ml-restore-"), "{switched}");
    assert_eq!(
        (switched["from"].as_str(), switched["master"].as_str()),
        (Some("detcloud-ml"), Some("Determined 0.32.1"))
    );
    let status = step(&["cluster", "status", "ml", "-o", "json"], 0);
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["database"], restored.as_str(), "{status}");
    // Restoring to the same second again finds the first restore (one restored database); `latest`
    // moves with the clock, so a second restore a second later is a database of its own.
    let retained = if first == restored { vec!["detcloud-ml"] } else { vec!["detcloud-ml", first.as_str()] };
    assert_eq!(status["retained_databases"], serde_json::json!(retained), "{status}");
    // Not one of the cluster's databases: a usage error naming it.
    let (code, stdout, stderr) = with(&["cluster", "switch-database", "ml", "detcloud-other", "--yes"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("error: DATABASE: detcloud-other is not a database of cluster ml; its databases are"),
        "{stderr}"
    );
    // Back to its own, removing the restored ones.
    let back = step(&["cluster", "switch-database", "ml", "detcloud-ml", "--delete-old", "--yes"], 0);
    assert!(back.contains("The master of ml now uses detcloud-ml ("), "{back}");
    assert!(back.contains(&format!("deleted: Aurora cluster {restored}")), "{back}");
    assert!(back.contains(&format!("kept: final database snapshot {restored}-final-")), "{back}");
    let status = step(&["cluster", "status", "ml", "-o", "json"], 0);
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["database"], "detcloud-ml", "{status}");
    assert!(status["retained_databases"].as_array().unwrap().is_empty(), "{status}");
    step(&["cluster", "logs", "ml"], 0);
    let deleted = step(&["cluster", "delete", "ml", "--yes"], 0);
    assert!(deleted.contains("kept: checkpoint bucket"), "{deleted}");
    // Deleted (its bucket kept): the cluster is unknown to the commands that need one.
    step(&["cluster", "status", "ml"], 7);
    step(&["cluster", "backup", "ml"], 7);
    // A purge still finds what the delete kept.
    let purged = step(&["cluster", "delete", "ml", "--purge", "--yes"], 0);
    assert!(purged.contains("deleted: bucket detcloud-ml-"), "{purged}");
    // Error messages too: a refused preflight.
    step(
        &[
            "cluster",
            "create",
            "ml2",
            "--kms-key-id",
            "arn:aws:kms:us-west-2:123456789012:key/0000aaaa-0000-0000-0000-000000000000",
            "--yes",
        ],
        1,
    );

    assert!(stderrs.contains("error: no cluster ml in us-west-2 (account 123456789012)"), "{stderrs}");
    assert!(!outputs.contains(&password), "the database password reached the output");
    assert_no_credentials(&outputs);
    stderrs
}

/// No session credentials in `text`: no secret key or session token field, no STS session token
/// (the sandbox's start `FwoGZXIvYXdzE`, as AWS's do), no temporary access key id (`ASIA` and 16
/// upper-case letters or digits).
fn assert_no_credentials(text: &str) {
    let lower = text.to_lowercase();
    for field in ["secret_access_key", "secretaccesskey", "session_token", "sessiontoken"] {
        assert!(!lower.contains(field), "credentials ({field}) reached the output");
    }
    assert!(!text.contains("FwoGZXIvYXdzE"), "a session token reached the output");
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices("ASIA") {
        let key = &bytes[i + 4..(i + 20).min(bytes.len())];
        let is_key = key.len() == 16 && key.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        assert!(!is_key, "an access key id reached the output: {}", &text[i..i + 20]);
    }
}

#[test]
fn an_unknown_cluster_is_an_error_naming_it_and_changes_nothing() {
    let sb = Sandbox::new();
    let (code, _, stderr) = sb.run(&["cluster", "create", "ml", "--inbound-cidr", "203.0.113.0/24", "--yes"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, before, _) = sb.run(&["cluster", "list"]);
    assert_eq!(code, 0);
    let cases: [&[&str]; 8] = [
        &["cluster", "status", "nosuch"],
        &["cluster", "switch-database", "nosuch", "detcloud-nosuch", "--yes"],
        &["cluster", "delete", "nosuch", "--yes"],
        &["cluster", "modify", "nosuch", "--backup-retention-days", "14", "--yes"],
        &["cluster", "backup", "nosuch"],
        &["cluster", "restore", "nosuch", "--to", "latest"],
        &["cluster", "logs", "nosuch"],
        &["cluster", "peer", "nosuch", "--vpc-id", "vpc-0123456789abcdef0"],
    ];
    for args in cases {
        let (code, stdout, stderr) = sb.run(args);
        assert_eq!(code, 7, "{args:?}: {stdout}{stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        let line = stderr.lines().find(|l| l.starts_with("error: ")).unwrap_or_default();
        assert!(line.starts_with("error: no cluster nosuch in us-west-2 (account "), "{args:?}: {stderr}");
        assert!(line.ends_with(')'), "{args:?}: {stderr}");
    }
    // Scripts that delete whatever is there: exit 0, and one line that says nothing was there.
    let (code, stdout, stderr) = sb.run(&["cluster", "delete", "nosuch", "--yes", "--ignore-missing"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!stdout.contains("deleted"), "{stdout}");
    assert_eq!(stderr.lines().filter(|l| l.contains("nothing to delete (--ignore-missing)")).count(), 1, "{stderr}");
    // The existing cluster is untouched, and nothing of `nosuch` was made.
    let (code, after, _) = sb.run(&["cluster", "list"]);
    assert_eq!(code, 0);
    assert_eq!(before, after);
    let (code, _, stderr) = sb.run(&["cluster", "status", "ml"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn declining_changes_nothing() {
    let sb = Sandbox::new();
    let (code, _, stderr) = sb.run(&["cluster", "create", "ml"]);
    assert_eq!(code, 4, "{stderr}");
    let (_, stdout, _) = sb.run(&["cluster", "list"]);
    assert!(stdout.contains("No clusters"), "{stdout}");
}

#[test]
fn bad_cluster_input_is_refused_before_any_call() {
    let sb = Sandbox::new();
    let before = std::fs::read_to_string(sb.dir.path().join("sandbox.json")).unwrap();
    let spec_file = sb.dir.path().join("bad.toml");
    std::fs::write(&spec_file, "name = \"ml\"\nregion = \"us-west-2\"\nmaster_type = \"x\"\n").unwrap();
    let spec_arg = spec_file.display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["cluster", "create", "ML", "--yes"], "NAME: must be"),
        (vec!["cluster", "create", "ml", "--vpc-cidr", "10.0.0.0/8", "--yes"], "--vpc-cidr"),
        (vec!["cluster", "create", "ml", "--vpc-cidr", "8.8.0.0/16", "--yes"], "--vpc-cidr"),
        (vec!["cluster", "create", "ml", "--az-count", "7", "--yes"], "--az-count"),
        (
            vec!["cluster", "create", "ml", "--inbound-cidr", "1.2.3.4", "--yes"],
            "--inbound-cidr (master.inbound_cidrs[0])",
        ),
        (vec!["cluster", "create", "ml", "--master-instance-type", "huge", "--yes"], "--master-instance-type"),
        (vec!["cluster", "create", "ml", "--ami", "ami-1", "--yes"], "--ami: must be an AMI id"),
        (
            vec!["cluster", "create", "ml", "--backup-retention-days", "0", "--yes"],
            "--backup-retention-days: must be 1-35",
        ),
        (vec!["cluster", "create", "ml", "--log-retention-days", "2", "--yes"], "--log-retention-days"),
        (vec!["cluster", "create", "ml", "--tag", "detcloud:x=1", "--yes"], "--tag: \"detcloud:x\""),
        (vec!["cluster", "create", "--spec", &spec_arg, "--yes"], "unknown field"),
        (vec!["cluster", "create", "--spec", "/nonexistent.toml", "--yes"], "--spec: cannot read"),
        (vec!["cluster", "create", "ml", "--ssh-public-key", "/nonexistent.pub", "--yes"], "--ssh-public-key"),
        (vec!["cluster", "status", "Bad_Name"], "NAME"),
        (vec!["cluster", "restore", "ml", "--to", "yesterday"], "--to"),
        (vec!["cluster", "restore", "ml", "--to", "latest", "--delete-old"], "--switch"),
        (vec!["cluster", "switch-database", "Bad_Name", "detcloud-x", "--yes"], "NAME"),
        (vec!["cluster", "backup", "ml", "--retention-days", "99"], "--retention-days"),
        (vec!["cluster", "logs", "ml", "--lines", "0"], "--lines"),
        (vec!["cluster", "peer", "ml", "--vpc-id", "vpc-xyz"], "--vpc-id"),
        (
            vec!["cluster", "create", "ml", "--dns-zone-id", "Z 1", "--dns-name", "a.example.com", "--yes"],
            "--dns-zone-id",
        ),
        (vec!["cluster", "status", "ml", "--role-arn", "nope", "--external-id", "abc"], "--role-arn"),
        (vec!["cluster", "create", "ml", "--target", "vpcs", "--yes"], "--target: \"vpcs\" is not a resource"),
        (
            vec!["cluster", "create", "ml", "--target", "public-subnet-2", "--yes"],
            "--target: public-subnet-2: the cluster spans 2 zones",
        ),
        (
            vec![
                "cluster",
                "create",
                "ml",
                "--target",
                "bucket",
                "--dns-zone-id",
                "Z1",
                "--dns-name",
                "a.example.com",
                "--yes",
            ],
            "--dns-name: the record points at the master's address, which --target leaves out",
        ),
    ];
    for (args, needle) in cases {
        let (code, stdout, stderr) = sb.run(&args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(stderr.lines().count() <= 2, "{args:?}: {stderr}");
    }
    assert_eq!(
        std::fs::read_to_string(sb.dir.path().join("sandbox.json")).unwrap(),
        before,
        "bad input changed the sandbox"
    );
}

#[test]
fn a_targeted_create_makes_what_it_names_and_a_whole_run_completes_the_cluster() {
    let sb = Sandbox::new();
    let targets = ["--target", "nat-gateway", "--target", "bucket"];
    let (code, stdout, stderr) = sb.run(&[&["cluster", "create", "ml", "--yes"][..], &targets[..]].concat());
    assert_eq!(code, 0, "{stdout}{stderr}");
    // The plan names what is left out; the outcome says the cluster is incomplete.
    assert!(stdout.contains("warning: --target leaves out 14 of 20 resources (private-subnet-0, "), "{stdout}");
    assert!(stdout.contains("Plan: 6 to create, 0 to check."), "{stdout}");
    assert!(stdout.contains("Cluster ml is incomplete: the targeted resources are in place (6 created, 0 already there); 14 left out by --target."), "{stdout}");
    let (code, stdout, stderr) =
        sb.run(&[&["cluster", "create", "ml", "--yes", "-o", "json"][..], &targets[..]].concat());
    assert_eq!(code, 0, "{stdout}{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["created"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(v["existing"].as_array().unwrap().len(), 6, "{v}");
    assert_eq!(v["left_out"].as_array().unwrap().len(), 14, "{v}");
    assert!(v["left_out"].as_array().unwrap().contains(&serde_json::json!("db-cluster")), "{v}");
    let (code, stdout, stderr) = sb.run(&["cluster", "create", "ml", "--yes"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    // The plan checks the network it can read; the bucket reads as "create" (it is ensured).
    assert!(stdout.contains("Plan: 15 to create, 5 to check."), "{stdout}");
    assert!(stdout.contains("Cluster ml is ready: Determined 0.32.1 answers at http://"), "{stdout}");
    assert!(stdout.contains("(14 created, 6 already there)."), "{stdout}");
}
