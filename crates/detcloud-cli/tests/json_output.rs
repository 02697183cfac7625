//! Every command's `-o json` output on the sandbox: one JSON object on stdout whose field names are
//! snake_case (docs/json-output.md), except where the value is data in someone else's format
//! (IAM policy documents, tags, the per-resource map of `cluster create`).

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/det-cloud-customer-xacct-mgmt";
const VENDOR: &str = "arn:aws:iam::544296492693:role/det-cloud-internal-global-mgmt-role";

/// Runs `detcloud --sandbox --sandbox-state DIR/sandbox.json -o json ARGS` with no settings from
/// the environment or a config file; returns the exit code and stdout.
fn json(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("detcloud")
        .unwrap()
        .arg("--sandbox")
        .arg("--sandbox-state")
        .arg(dir.join("sandbox.json"))
        .args(["-o", "json"])
        .args(args)
        .env("HOME", dir)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("DETCLOUD_CONFIG")
        .env_remove("DETCLOUD_OUTPUT")
        .env_remove("DETCLOUD_EXTERNAL_ID")
        .env_remove("DETCLOUD_ACCOUNT_ID")
        .env_remove("DETCLOUD_NAME_PREFIX")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("RUST_LOG")
        .write_stdin("")
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

/// Field names that hold data in another format, not detcloud's fields.
const DATA: [&str; 3] = ["document", "trust_policy", "tags"];

/// The paths of field names that are not snake_case.
fn not_snake(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let snake = !k.is_empty()
                    && k.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    && !k.starts_with('_');
                if !snake {
                    out.push(format!("{path}.{k}"));
                }
                if !DATA.contains(&k.as_str()) {
                    not_snake(child, &format!("{path}.{k}"), out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|c| not_snake(c, &format!("{path}[]"), out)),
        _ => {}
    }
}

#[test]
fn every_command_prints_one_json_object_with_snake_case_fields() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/policies/xacct-permissions.json");
    let policy = policy.to_str().unwrap();
    let role = ["--role-arn", ROLE_ARN, "--external-id", "tenant-1"];
    let as_vendor = |args: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = vec!["--sandbox-caller".into(), VENDOR.into()];
        v.extend(args.iter().map(|s| s.to_string()));
        v.extend(role.iter().map(|s| s.to_string()));
        v
    };
    // (arguments, exit code, top-level fields that must be there)
    let mut cases: Vec<(Vec<String>, i32, Vec<&str>)> = vec![
        (words("config show"), 0, vec!["config_file", "settings"]),
        (words("config path"), 0, vec!["path", "exists", "source"]),
        (words("connect aws --dry-run --external-id tenant-1"), 0, vec!["dry_run", "steps", "resources"]),
        (words("connect aws --yes --external-id tenant-1"), 0, vec!["customer_account_id", "changed", "warnings"]),
        (words("verify aws --external-id tenant-1"), 0, vec!["customer_account_id", "passed", "checks"]),
        (words("policy diff"), 0, vec!["differences"]),
        (words("policy export --role xacct"), 0, vec!["components"]),
        // The spec's own policy has an error finding (a write action on *): exit 6, still JSON.
        (vec!["policy".into(), "lint".into(), policy.into()], 6, vec!["findings", "errors"]),
        (
            vec![
                "policy".into(),
                "simulate".into(),
                "--policy".into(),
                policy.into(),
                "--action".into(),
                "ec2:DescribeVpcs".into(),
            ],
            0,
            vec!["decision", "allowed", "action"],
        ),
        (as_vendor(&["verify", "aws", "--repair"]), 0, vec!["customer_account_id", "repairs"]),
        (
            as_vendor(&words_ref("cluster plan ml --inbound-cidr 203.0.113.0/24")),
            0,
            vec!["name", "resources", "warnings"],
        ),
        (
            as_vendor(&words_ref("cluster create ml --inbound-cidr 203.0.113.0/24 --yes")),
            0,
            vec!["name", "created", "existing", "resources"],
        ),
        (as_vendor(&words_ref("cluster status ml")), 0, vec!["name", "healthy", "resources"]),
        (as_vendor(&words_ref("cluster list")), 0, vec!["clusters"]),
        (as_vendor(&words_ref("cluster modify ml --backup-retention-days 14 --yes")), 0, vec!["changes"]),
        (as_vendor(&words_ref("cluster backup ml")), 0, vec!["retention_days", "snapshots"]),
        (as_vendor(&words_ref("cluster restore ml --to latest")), 0, vec!["db_cluster", "endpoint"]),
        (as_vendor(&words_ref("cluster logs ml --lines 5")), 0, vec!["cluster", "lines"]),
        (as_vendor(&words_ref("cluster delete ml --yes")), 0, vec!["deleted", "kept"]),
        (words("disconnect aws --dry-run"), 0, vec!["dry_run", "to_delete", "left_alone"]),
        (words("disconnect aws --yes"), 0, vec!["dry_run", "deleted", "absent"]),
    ];
    for (args, code, fields) in cases.drain(..) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (got, stdout, stderr) = json(d, &args);
        assert_eq!(got, code, "{args:?}: {stderr}");
        let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {stdout}"));
        let object = v.as_object().unwrap_or_else(|| panic!("{args:?}: not an object: {stdout}"));
        for f in fields {
            assert!(object.contains_key(f), "{args:?}: no {f:?} in {stdout}");
        }
        // `cluster create` maps each resource's key (such as db-cluster, as in `created`) to its id.
        let mut v = v;
        if let Some(r) = v.get_mut("resources").filter(|r| r.is_object() && args.contains(&"create")) {
            *r = Value::Null;
        }
        let mut bad = vec![];
        not_snake(&v, "", &mut bad);
        assert!(bad.is_empty(), "{args:?}: field names not in snake_case: {bad:?}");
    }
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

fn words_ref(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}
