//! The README's "Walkthrough" still works: every `$ detcloud ...` line in its code blocks runs on a
//! fresh sandbox with exit code 0, and every output line it shows (other than `...`) is still
//! printed, once ids, addresses and times are masked.

use std::collections::HashMap;
use std::path::Path;

use assert_cmd::Command;

/// One command of the walkthrough and the output lines shown under it.
#[derive(Debug)]
struct Step {
    line: String,
    shown: Vec<String>,
}

/// The `$ ` lines of the code blocks of the README's "## Walkthrough" section, with their output.
fn walkthrough(readme: &str) -> Vec<Step> {
    let start = readme.find("\n## Walkthrough\n").expect("the README has a Walkthrough section");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    let section = &rest[..end];
    let mut steps: Vec<Step> = vec![];
    let mut in_block = false;
    for line in section.lines() {
        if line.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            steps.push(Step { line: command.to_string(), shown: vec![] });
        } else if let Some(step) = steps.last_mut() {
            if line.trim() != "..." {
                step.shown.push(line.to_string());
            }
        }
    }
    steps
}

/// Masks what differs between runs: alphanumeric runs of 8 or more with a digit (resource ids,
/// timestamps), dotted addresses, the home directory; trailing spaces are dropped.
fn mask(line: &str, home: &str) -> String {
    let line = line.replace(home, "/home/you");
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let mut j = i;
        if chars[i].is_ascii_digit() {
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                j += 1;
            }
            if chars[i..j].iter().filter(|c| **c == '.').count() >= 3 {
                out.push_str("<ip>");
                i = j;
                continue;
            }
            j = i;
        }
        while j < chars.len() && (chars[j].is_ascii_lowercase() || chars[j].is_ascii_digit()) {
            j += 1;
        }
        if j > i {
            let run = &chars[i..j];
            if run.len() >= 8 && run.iter().any(char::is_ascii_digit) {
                out.push_str("<id>");
            } else {
                out.extend(run);
            }
            i = j;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out.trim_end().to_string()
}

#[test]
fn the_readme_walkthrough_runs_and_prints_what_it_shows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let steps = walkthrough(&readme);
    let home = tempfile::tempdir().unwrap();
    let home_text = home.path().display().to_string();
    let mut env: HashMap<String, String> = HashMap::new();
    let mut ran = 0;
    for step in &steps {
        let words: Vec<&str> = step.line.split_whitespace().collect();
        assert!(!step.line.contains(['"', '\'', '|', '>', '<']), "keep walkthrough commands plain: {}", step.line);
        match words.as_slice() {
            ["cargo", "install", "--path", path] => {
                assert!(root.join(path).join("Cargo.toml").exists(), "{}: no such crate", step.line);
            }
            ["export", assignment] => {
                let (k, v) = assignment.split_once('=').expect("export NAME=VALUE");
                // The sandbox file goes into this test's own directory.
                let v = v.replace("/tmp/", &format!("{home_text}/"));
                env.insert(k.to_string(), v);
            }
            ["detcloud", args @ ..] => {
                let mut cmd = Command::cargo_bin("detcloud").unwrap();
                cmd.args(args).env("HOME", home.path());
                for var in ["XDG_CONFIG_HOME", "DETCLOUD_CONFIG", "AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_REGION"] {
                    cmd.env_remove(var);
                }
                cmd.env_remove("DETCLOUD_SANDBOX_STATE").env_remove("RUST_LOG").env_remove("DETCLOUD_OUTPUT");
                cmd.envs(&env);
                let out = cmd.write_stdin("").output().unwrap();
                let stdout = String::from_utf8(out.stdout).unwrap();
                let stderr = String::from_utf8(out.stderr).unwrap();
                assert_eq!(out.status.code(), Some(0), "{}: {stdout}{stderr}", step.line);
                let printed: Vec<String> = stdout.lines().chain(stderr.lines()).map(|l| mask(l, &home_text)).collect();
                for shown in &step.shown {
                    let shown = mask(shown, "/home/you");
                    assert!(
                        printed.contains(&shown),
                        "{}: the README shows {shown:?}, which it no longer prints:\n{}",
                        step.line,
                        printed.join("\n")
                    );
                }
                ran += 1;
            }
            _ => panic!("the walkthrough may only run detcloud, cargo install and export: {}", step.line),
        }
    }
    assert!(ran >= 6, "the walkthrough lost its commands ({ran} found)");
    assert!(env.contains_key("DETCLOUD_SANDBOX_STATE"), "the walkthrough must keep its own sandbox file");
}

#[test]
fn masking_keeps_words_and_hides_ids() {
    assert_eq!(mask("created: vpc-9bcf12533ac86034b  ", "/h"), "created: vpc-<id>");
    assert_eq!(
        mask("answers at http://3.162.235.63:8080 (20 created)", "/h"),
        "answers at http://<ip>:8080 (20 created)"
    );
    assert_eq!(mask("key /h/.ssh/detcloud-ml-demo", "/h"), "key /home/you/.ssh/detcloud-ml-demo");
    assert_ne!(mask("IAM role created", "/h"), mask("IAM role deleted", "/h"));
}
